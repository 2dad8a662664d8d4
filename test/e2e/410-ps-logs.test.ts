// pod ps (columns, -a, -q, --no-trunc, -n, -l, filters, formats, the Status
// text) and pod logs (streams kept apart, after the monitor is gone, --tail,
// -t, --since, -f). Expected outputs are podman 4.3.1's (runc, overlay) on
// the project's machines.
import { describe } from "bun:test";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, recordCall, POD } from "./helpers.ts";
import { useLifecycle, runD, create, inspectFmt, psStatus, until, monitorsOf } from "./lifecycle-helpers.ts";
import { LiveProcess } from "../fixtures/live.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("410-ps-logs");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const IMAGE = "docker.io/library/alpine:latest";
const RFC3339 = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?(Z|[+-]\\d\\d:\\d\\d)";

/** `pod ps ARGS... --format {{.Names}}` as a list. */
async function psNames(args: string[]): Promise<string[]> {
  const r = await runPod(["ps", ...args, "--format", "{{.Names}}"]);
  expectExit(r, 0);
  return lines(r.stdout);
}

/** Three containers made in this order: running, exited (status 2), created. */
async function threeStates(): Promise<{ up: string; ex: string; cr: string; ids: Record<string, string> }> {
  const up = safeName("up");
  const ex = safeName("ex");
  const cr = safeName("cr");
  const ids: Record<string, string> = {};
  ids[up] = await runD(up, ["alpine", "sleep", "1000"]);
  ids[ex] = await runD(ex, ["alpine", "sh", "-c", "exit 2"]);
  expectExit(await runPod(["wait", ex]), 0);
  ids[cr] = await create(cr, ["alpine", "true"]);
  return { up, ex, cr, ids };
}

/** Waits until the container is gone and so is its monitor: what is left is the log file. */
async function untilMonitorGone(id: string): Promise<void> {
  await until(`the monitor of ${id.slice(0, 12)} to end`, () => monitorsOf(id).length === 0, 10_000);
}

describe("pod ps", () => {
  A("the table: podman's columns, one row per container, short ID, image, command, created, status, name", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["ps"]);
    expectExit(r, 0);
    const [header, ...rows] = lines(r.stdout);
    expect(header!.trim().split(/\s{2,}/)).toEqual(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    expect(rows.length).toBe(1);
    const row = rows[0]!;
    // columns line up with the header
    for (const col of ["IMAGE", "COMMAND", "CREATED", "STATUS", "NAMES"]) {
      const at = header!.indexOf(col);
      expect(row.slice(at).startsWith(" "), `a value starts under ${col} in:\n${header}\n${row}`).toBe(false);
    }
    expect(row.startsWith(`${id.slice(0, 12)}  `)).toBe(true);
    expect(row).toContain(IMAGE);
    expect(row).toContain("sleep 1000");
    expect(row).toMatch(/(Less than a second|\d+ seconds?) ago/);
    expect(row).toMatch(/Up (Less than a second|\d+ seconds?)/);
    expect(row.trimEnd().endsWith(name)).toBe(true);
  });

  A("ps lists running containers, ps -a every container, newest first", async () => {
    const { up, ex, cr } = await threeStates();
    expect(await psNames([])).toEqual([up]);
    expect(await psNames(["-a"])).toEqual([cr, ex, up]);
  });

  A("Status reads Up …, Exited (N) … ago, Created", async () => {
    const { up, ex, cr } = await threeStates();
    await sleep(1100);
    expect(await psStatus(up)).toMatch(/^Up (1 second|\d+ seconds)( ago)?$/);
    expect(await psStatus(ex)).toMatch(/^Exited \(2\) (1 second|\d+ seconds) ago$/);
    expect(await psStatus(cr)).toBe("Created");
  });

  A("a container that ends by itself turns from Up to Exited without anyone waiting on it", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "sleep 0.5; exit 9"]);
    expect(await psStatus(name)).toMatch(/^Up /);
    await until(`${name} to show Exited (9)`, async () => /^Exited \(9\) /.test(await psStatus(name)));
  });

  A("-q prints short IDs, --no-trunc full IDs and the whole command", async () => {
    const name = safeName("c");
    const long = "echo a b c d e f g h i j k l m n o p q r s t; sleep 1000";
    const id = await runD(name, ["alpine", "sh", "-c", long]);
    const q = await runPod(["ps", "-q"]);
    expectExit(q, 0);
    assertOutput(q.stdout, `${id.slice(0, 12)}\n`, "ps -q");
    const qn = await runPod(["ps", "-q", "--no-trunc"]);
    assertOutput(qn.stdout, `${id}\n`, "ps -q --no-trunc");
    const full = await runPod(["ps", "--no-trunc"]);
    expectExit(full, 0);
    expect(full.stdout).toContain(id);
    expect(full.stdout).toContain(`sh -c ${long}`);
    const short = await runPod(["ps"]);
    expect(short.stdout, "the command column is cut without --no-trunc").not.toContain(`sh -c ${long}`);
  });

  A("-l and -n N show the latest containers of any state, with or without -a (podman)", async () => {
    const { up, ex, cr } = await threeStates();
    expect(await psNames(["-a", "-l"])).toEqual([cr]);
    expect(await psNames(["-a", "-n", "2"])).toEqual([cr, ex]);
    expect(await psNames(["-l"]), "ps -l: the latest container, all states").toEqual([cr]);
    expect(await psNames(["-n", "2"]), "ps -n 2: the last 2 created, all states").toEqual([cr, ex]);
    expect(await psNames(["-a", "-n", "10"])).toEqual([cr, ex, up]);
  });

  A("--filter name= (a regular expression), status=, ancestor=, id=", async () => {
    const { up, ex, cr, ids } = await threeStates();
    expect(await psNames(["-a", "--filter", `name=^${ex}$`])).toEqual([ex]);
    expect(await psNames(["-a", "--filter", `name=${up.slice(0, 6)}`]).then((n) => n.includes(up))).toBe(true);
    expect(await psNames(["-a", "--filter", "status=running"])).toEqual([up]);
    expect(await psNames(["-a", "--filter", "status=exited"])).toEqual([ex]);
    expect(await psNames(["-a", "--filter", "status=created"])).toEqual([cr]);
    expect(await psNames(["-a", "--filter", "ancestor=alpine"])).toEqual([cr, ex, up]);
    expect(await psNames(["-a", "--filter", `ancestor=${IMAGE}`])).toEqual([cr, ex, up]);
    expect(await psNames(["-a", "--filter", "ancestor=no-such-image"])).toEqual([]);
    expect(await psNames(["-a", "--filter", `id=${ids[ex]!.slice(0, 10)}`])).toEqual([ex]);
    expect(await psNames(["-a", "--filter", `id=${ids[up]}`])).toEqual([up]);
    // without -a: a status filter picks from every container (podman), other filters from running ones
    expect(await psNames(["--filter", "status=exited"])).toEqual([ex]);
    expect(await psNames(["--filter", `name=^${cr}$`])).toEqual([]);
    expect(await psNames(["--filter", "ancestor=alpine"])).toEqual([up]);
  });

  A("an unknown filter key is refused with 125", async () => {
    const r = await runPod(["ps", "--filter", "bogus=1"]);
    expectPodError(r, "bogus");
    assertOutput(r.stdout, "", "stdout");
  });

  A("an unknown status in a filter is refused with 125 (podman: unknown container state)", async () => {
    const r = await runPod(["ps", "-a", "--filter", "status=sleepy"]);
    expectPodError(r, "sleepy");
  });

  A("--format json: an array of podman's fields; [] when nothing matches", async () => {
    const { up, ex, ids } = await threeStates();
    const r = await runPod(["ps", "-a", "--format", "json"]);
    expectExit(r, 0);
    const all = JSON.parse(r.stdout) as Record<string, unknown>[];
    expect(all.length).toBe(3);
    const byName = (n: string) => all.find((c) => Array.isArray(c.Names) && (c.Names as string[]).includes(n));
    const u = byName(up)!;
    expect(u, `an object for ${up}`).toBeDefined();
    expect(u.Id).toBe(ids[up]);
    expect(u.Image).toBe(IMAGE);
    expect(u.Command).toEqual(["sleep", "1000"]);
    expect(u.State).toBe("running");
    expect(String(u.Status)).toMatch(/^Up /);
    const e = byName(ex)!;
    expect(e.State).toBe("exited");
    expect(e.ExitCode).toBe(2);
    const none = await runPod(["ps", "--filter", "name=^no-such-container$", "--format", "json"]);
    expectExit(none, 0);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  A("--format with a Go template, and `table` for the default table", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["ps", "--format", "{{.ID}}|{{.Names}}|{{.Image}}"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${id.slice(0, 12)}|${name}|${IMAGE}\n`, "ps --format");
    const t = await runPod(["ps", "--format", "table"]);
    expectExit(t, 0);
    expect(lines(t.stdout)[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
    expect(t.stdout).toContain(name);
  });

  A("a template naming a field ps does not have is an error (125), not <no value>", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["ps", "--format", "{{.NoSuchField}}"]);
    expectPodError(r, "NoSuchField");
  });
});

describe("pod logs", () => {
  A("stdout lines go to stdout and stderr lines to stderr, each in order", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; done"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, "out1\nout2\nout3\n", "stdout of logs");
    assertOutput(r.stderr, "err1\nerr2\nerr3\n", "stderr of logs");
  });

  A("the log outlives the monitor: after the container exited, logs still prints everything", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sh", "-c", "seq 1 2000; echo done"]);
    await untilMonitorGone(id);
    expect(await inspectFmt(name, "{{.State.Status}}")).toBe("exited");
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    const l = r.stdout.split("\n");
    expect(l.length).toBe(2002);
    expect(l[0]).toBe("1");
    expect(l[1999]).toBe("2000");
    expect(l[2000]).toBe("done");
  });

  A("a last line without a newline is kept as it was written", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "printf 'line1\\nno-newline'"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, "line1\nno-newline", "stdout of logs");
  });

  A("--tail N: the last N lines; --tail 0 none; more than there are: all", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done"]);
    expectExit(await runPod(["wait", name]), 0);
    assertOutput((await runPod(["logs", "--tail", "2", name])).stdout, "line4\nline5\n", "logs --tail 2");
    assertOutput((await runPod(["logs", "--tail=1", name])).stdout, "line5\n", "logs --tail=1");
    const zero = await runPod(["logs", "--tail", "0", name]);
    expectExit(zero, 0);
    assertOutput(zero.stdout, "", "logs --tail 0");
    assertOutput((await runPod(["logs", "--tail", "100", name])).stdout, "line1\nline2\nline3\nline4\nline5\n", "logs --tail 100");
  });

  A("-t prefixes every line with its RFC 3339 time, in order, within the container's run", async () => {
    const name = safeName("c");
    const t0 = Date.now();
    await runD(name, ["alpine", "sh", "-c", "echo first; sleep 1; echo second; echo to-err >&2"]);
    expectExit(await runPod(["wait", name]), 0);
    const t1 = Date.now();
    const r = await runPod(["logs", "-t", name]);
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out.length).toBe(2);
    const re = new RegExp(`^(${RFC3339}) (.*)$`);
    const parsed = out.map((l) => {
      const m = re.exec(l);
      if (!m) throw new Error(`not "TIME text": ${JSON.stringify(l)}`);
      return { t: Date.parse(m[1]!), text: m[m.length - 1] };
    });
    expect(parsed.map((p) => p.text)).toEqual(["first", "second"]);
    // each line is stamped when the monitor reads it: later for the line written after the sleep (how much later depends on the machine's load)
    expect(parsed[1]!.t, "the line after the sleep has a later time").toBeGreaterThan(parsed[0]!.t);
    for (const p of parsed) {
      expect(p.t).toBeGreaterThanOrEqual(t0 - 1000);
      expect(p.t).toBeLessThanOrEqual(t1 + 1000);
    }
    expect(r.stderr).toMatch(new RegExp(`^${RFC3339} to-err\\n$`));
  });

  A("--since: a future time prints nothing, a past one everything, a time between two lines the later one", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "echo early; sleep 1.5; echo late"]);
    expectExit(await runPod(["wait", name]), 0);
    const future = await runPod(["logs", "--since", "2099-01-01T00:00:00Z", name]);
    expectExit(future, 0);
    assertOutput(future.stdout, "", "logs --since a future time");
    assertOutput((await runPod(["logs", "--since", "2000-01-01T00:00:00Z", name])).stdout, "early\nlate\n", "--since 2000-01-01");
    assertOutput((await runPod(["logs", "--since", "10m", name])).stdout, "early\nlate\n", "--since 10m");
    const unix = String(Math.floor(Date.now() / 1000) - 600);
    assertOutput((await runPod(["logs", "--since", unix, name])).stdout, "early\nlate\n", `--since ${unix} (Unix seconds)`);
    // between the two lines: half-way from early's time to late's
    const stamped = lines((await runPod(["logs", "-t", name])).stdout).map((l) => Date.parse(l.split(" ")[0]!));
    const mid = new Date((stamped[0]! + stamped[1]!) / 2).toISOString();
    assertOutput((await runPod(["logs", "--since", mid, name])).stdout, "late\n", `--since ${mid}`);
  });

  A("--since with something that is not a time is refused with 125", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "true"]);
    expectPodError(await runPod(["logs", "--since", "yesterday-ish", name]), "yesterday-ish");
  });

  A("logs -f follows a running container and ends when it exits", async () => {
    const name = safeName("c");
    // the container waits for a file that exec creates, so "two" comes only after "one" was followed
    await runD(name, ["alpine", "sh", "-c", "echo one; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo two; echo err-two >&2; exit 3"]);
    const f = new LiveProcess([POD, "logs", "-f", name], { env: pod().env, cwd: pod().home });
    await f.waitForStdout("one\n", 15_000);
    await sleep(300);
    expect(f.running, "logs -f is still following").toBe(true);
    expect(f.stdout).toBe("one\n");
    expectExit(await runPod(["exec", name, "touch", "/tmp/go"]), 0);
    const r = await f.finish(15_000);
    recordCall({ code: r.code, stdout: r.stdout, stderr: r.stderr, ms: r.ms, args: ["logs", "-f", name] });
    expect(r.code, "exit status of logs -f").toBe(0);
    expect(r.stdout).toBe("one\ntwo\n");
    expect(r.stderr).toBe("err-two\n");
  });

  A("logs -f of an exited container prints the log and returns at once", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "echo a; echo b"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["logs", "-f", name], { timeoutMs: 10_000 });
    expectExit(r, 0);
    assertOutput(r.stdout, "a\nb\n", "logs -f");
    expect(r.ms).toBeLessThan(5_000);
  });

  A("logs -f loses nothing of a burst printed just before the exit", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "sleep 0.3; seq 1 20000"]);
    const r = await runPod(["logs", "-f", name], { timeoutMs: 30_000 });
    expectExit(r, 0);
    const l = lines(r.stdout);
    expect(l.length).toBe(20000);
    expect(l[19999]).toBe("20000");
  });

  A("each start appends to the log; a created container's log is empty", async () => {
    const name = safeName("c");
    await create(name, ["alpine", "echo", "hello"]);
    const empty = await runPod(["logs", name]);
    expectExit(empty, 0);
    assertOutput(empty.stdout, "", "logs of a created container");
    expectExit(await runPod(["start", name]), 0);
    expectExit(await runPod(["wait", name]), 0);
    expectExit(await runPod(["start", name]), 0);
    expectExit(await runPod(["wait", name]), 0);
    assertOutput((await runPod(["logs", name])).stdout, "hello\nhello\n", "logs after two starts");
  });

  A("a -t container's output is logged as one stream on stdout", async () => {
    const name = safeName("c");
    await runD(name, ["-t", "alpine", "sh", "-c", "echo tty-out; echo tty-err >&2"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, "tty-out\ntty-err\n", "logs of a -t container");
    assertOutput(r.stderr, "", "stderr");
  });
});
