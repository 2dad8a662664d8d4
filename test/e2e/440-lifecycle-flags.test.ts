// The lifecycle flags podman users type (issue #5): --cidfile on run/create
// and on stop/kill/restart/rm, --filter on start/stop/restart/rm (ps's
// filters, one implementation), ps --sort and --size, logs --until,
// restart --running, rm --time and --depend. Semantics, output and exit
// codes follow podman's documentation and source (4.x/5.x).
import { describe } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, recordCall, POD, HEX64 } from "./helpers.ts";
import { useLifecycle, runD, create, track, inspectFmt, statusOf, untilStatus, until } from "./lifecycle-helpers.ts";
import { LiveProcess } from "../fixtures/live.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("440-lifecycle-flags");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

/** A path for a cid file in the suite's temp dir (not created). */
const cidPath = (tag: string) => join(pod().tmp, `${safeName(tag)}.cid`);

/** Full IDs of every container, `ps -a -q --no-trunc`. */
async function allIds(): Promise<string[]> {
  const r = await runPod(["ps", "-a", "-q", "--no-trunc"]);
  expectExit(r, 0);
  return lines(r.stdout);
}

/** `ps -a --filter name=PREFIX ARGS --format {{.Names}}`: this test's containers only. */
async function psNames(prefix: string, args: string[] = []): Promise<string[]> {
  const r = await runPod(["ps", "-a", "--filter", `name=^${prefix}`, ...args, "--format", "{{.Names}}"]);
  expectExit(r, 0);
  return lines(r.stdout);
}

/** A container that exits 0 on SIGTERM (PID 1 needs a trap for that). */
const termable = ["alpine", "sh", "-c", 'trap "exit 0" TERM; while :; do sleep 0.1; done'];

describe("--cidfile", () => {
  A("create --cidfile writes the full ID (as printed, no newline); stop, kill, restart and rm read it", async () => {
    const file = cidPath("c");
    const name = safeName("c");
    track(name);
    const r = await runPod(["create", "--cidfile", file, "--name", name, ...termable]);
    expectExit(r, 0);
    const id = r.stdout.trim();
    expect(id).toMatch(HEX64);
    assertOutput(readFileSync(file, "utf8"), id, "the cid file");
    expectExit(await runPod(["start", name]), 0);

    const restart = await runPod(["restart", "-t", "5", "--cidfile", file]);
    expectExit(restart, 0);
    assertOutput(restart.stdout, `${id}\n`, "restart --cidfile prints the ID it read");
    expect(await statusOf(name)).toBe("running");

    const kill = await runPod(["kill", "-s", "TERM", "--cidfile", file]);
    expectExit(kill, 0);
    assertOutput(kill.stdout, `${id}\n`, "kill --cidfile");
    await untilStatus(name, "exited");

    expectExit(await runPod(["start", name]), 0);
    const stop = await runPod(["stop", "--cidfile", file]);
    expectExit(stop, 0);
    assertOutput(stop.stdout, `${id}\n`, "stop --cidfile");
    expect(await statusOf(name)).toBe("exited");

    const rm = await runPod(["rm", "--cidfile", file]);
    expectExit(rm, 0);
    assertOutput(rm.stdout, `${id}\n`, "rm --cidfile");
    expect(await allIds()).not.toContain(id);
    expect(existsSync(file), "the cid file is removed along with the container").toBe(false);
  });

  A("run -d --cidfile: the file holds the ID run printed; rm -f by name removes the file too", async () => {
    const file = cidPath("d");
    const name = safeName("d");
    const id = await runD(name, ["--cidfile", file, "alpine", "sleep", "1000"]);
    assertOutput(readFileSync(file, "utf8"), id, "the cid file");
    expectExit(await runPod(["rm", "-f", name]), 0);
    expect(existsSync(file)).toBe(false);
  });

  A("run --rm --cidfile in the foreground: the file goes when the container does", async () => {
    const file = cidPath("fg");
    const r = await runPod(["run", "--rm", "--cidfile", file, "alpine", "sh", "-c", "echo hi"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "hi\n", "stdout");
    expect(existsSync(file)).toBe(false);
  });

  A("a cid file that exists: 125, the file untouched, no container made", async () => {
    const file = cidPath("taken");
    writeFileSync(file, "keep me\n");
    const before = await allIds();
    for (const verb of ["run", "create"]) {
      const name = safeName("t");
      track(name);
      const r = await runPod([verb, ...(verb === "run" ? ["-d"] : []), "--cidfile", file, "--name", name, "alpine", "true"]);
      expectPodError(r, "container id file exists", file);
      assertOutput(r.stdout, "", `stdout of ${verb}`);
      expect(r.stderr, "a hint line").toMatch(/\nHint: .*delete/);
    }
    assertOutput(readFileSync(file, "utf8"), "keep me\n", "the existing file");
    expect(await allIds()).toEqual(before);
  });

  A("a cid file in a directory that does not exist: 125, no container made", async () => {
    const before = await allIds();
    const r = await runPod(["create", "--cidfile", join(pod().tmp, "no-such-dir", "x.cid"), "alpine", "true"]);
    expectPodError(r, "no-such-dir");
    expect(await allIds()).toEqual(before);
  });

  A("a missing cid file: 125 (reading CIDFile); stop -i and rm -i skip it", async () => {
    const gone = cidPath("gone");
    for (const verb of ["stop", "kill", "restart", "rm"]) {
      const r = await runPod([verb, "--cidfile", gone]);
      expectPodError(r, "reading CIDFile", gone);
      assertOutput(r.stdout, "", `stdout of ${verb}`);
    }
    for (const verb of ["stop", "rm"]) {
      const r = await runPod([verb, "-i", "--cidfile", gone]);
      expectExit(r, 0);
      assertOutput(r.stdout, "", `stdout of ${verb} -i`);
    }
  });

  A("--cidfile with names, --all or --latest is refused (125), and start has no --cidfile (podman)", async () => {
    const file = cidPath("x");
    writeFileSync(file, "0".repeat(64));
    expectPodError(await runPod(["stop", "--cidfile", file, "somename"]), "no arguments are needed with --latest or --cidfile");
    expectPodError(await runPod(["rm", "-a", "--cidfile", file]), "--all, --latest, and --cidfile cannot be used together");
    expectPodError(await runPod(["kill", "-l", "--cidfile", file]), "--all, --latest, and --cidfile cannot be used together");
    expectPodError(await runPod(["start", "--cidfile", file]), "unknown flag: --cidfile");
  });

  A("container prune removes the cid files of the containers it removes", async () => {
    const file = cidPath("p");
    const name = safeName("p");
    const id = await runD(name, ["--cidfile", file, "alpine", "true"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["container", "prune", "-f"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toContain(id);
    expect(existsSync(file)).toBe(false);
  });
});

describe("--filter on start, stop, restart, rm", () => {
  A("stop --filter stops what matches and prints full IDs; the rest keeps running", async () => {
    const p = safeName("f");
    const ida = await runD(`${p}-a`, termable);
    const idb = await runD(`${p}-b`, termable);
    const other = await runD(safeName("other"), termable);
    const r = await runPod(["stop", "-t", "5", "--filter", `name=^${p}-`]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([ida, idb].sort());
    expect(await statusOf(ida)).toBe("exited");
    expect(await statusOf(idb)).toBe("exited");
    expect(await statusOf(other)).toBe("running");
  });

  A("filters of one key are alternatives, of different keys all must match (ps and rm agree)", async () => {
    const p = safeName("g");
    await runD(`${p}-up`, ["alpine", "sleep", "1000"]);
    const ex = await runD(`${p}-ex`, ["alpine", "sh", "-c", "exit 3"]);
    const cr = await create(`${p}-cr`, ["alpine", "true"]);
    expectExit(await runPod(["wait", ex]), 0);
    const both = ["--filter", `name=^${p}-`, "--filter", "status=exited", "--filter", "status=created"];
    expect((await psNames(p, both.slice(2))).sort()).toEqual([`${p}-cr`, `${p}-ex`]);
    expect(await psNames(p, ["--filter", "exited=3"])).toEqual([`${p}-ex`]);
    const r = await runPod(["rm", ...both]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([cr, ex].sort());
    expect(await psNames(p)).toEqual([`${p}-up`]);
  });

  A("start --filter starts what matches; restart --filter restarts it (new process)", async () => {
    const p = safeName("s");
    const id = await create(`${p}-a`, ["alpine", "sleep", "1000"]);
    await create(safeName("not-me"), ["alpine", "sleep", "1000"]);
    const s = await runPod(["start", "--filter", `name=^${p}-`]);
    expectExit(s, 0);
    assertOutput(s.stdout, `${id}\n`, "start --filter");
    expect(await psNames(p, ["--filter", "status=running"])).toEqual([`${p}-a`]);
    const pid = await inspectFmt(id, "{{.State.Pid}}");
    const r = await runPod(["restart", "-t", "0", "--filter", `id=${id.slice(0, 12)}`]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${id}\n`, "restart --filter");
    expect(await statusOf(id)).toBe("running");
    expect(await inspectFmt(id, "{{.State.Pid}}")).not.toBe(pid);
  });

  A("before= and since= name a container; a filter matching nothing does nothing and succeeds", async () => {
    const p = safeName("b");
    await create(`${p}-1`, ["alpine", "true"]);
    await sleep(20);
    await create(`${p}-2`, ["alpine", "true"]);
    await sleep(20);
    await create(`${p}-3`, ["alpine", "true"]);
    expect(await psNames(p, ["--filter", `before=${p}-2`])).toEqual([`${p}-1`]);
    expect(await psNames(p, ["--filter", `since=${p}-2`])).toEqual([`${p}-3`]);
    const r = await runPod(["rm", "--filter", `name=^${p}-none$`]);
    expectExit(r, 0);
    assertOutput(r.stdout, "", "rm of nothing");
  });

  A("bad filters and --filter with names: 125 with a hint, nothing done", async () => {
    const name = safeName("k");
    await runD(name, ["alpine", "sleep", "1000"]);
    const bad = await runPod(["stop", "--filter", "colour=red"]);
    expectPodError(bad, "colour is an invalid filter");
    expect(bad.stderr).toMatch(/\nHint: .*name/);
    expectPodError(await runPod(["rm", "-f", "--filter", "status=sleepy"]), "sleepy");
    expectPodError(await runPod(["stop", "--filter", `name=${name}`, name]), "--filter takes no arguments");
    expectPodError(await runPod(["ps", "--filter", "before=no-such-container"]), "no-such-container");
    expect(await statusOf(name)).toBe("running");
  });
});

describe("ps --sort and --size", () => {
  A("--sort names / created / status / command order ascending, after -a and filters", async () => {
    const p = safeName("o");
    await create(`${p}-b`, ["alpine", "sleep", "2"]);
    await sleep(20);
    await runD(`${p}-c`, ["alpine", "sleep", "1000"]);
    await sleep(20);
    await create(`${p}-a`, ["alpine", "echo", "x"]);
    expect(await psNames(p)).toEqual([`${p}-a`, `${p}-c`, `${p}-b`]);
    expect(await psNames(p, ["--sort", "names"])).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
    expect(await psNames(p, ["--sort", "created"])).toEqual([`${p}-b`, `${p}-c`, `${p}-a`]);
    expect(await psNames(p, ["--sort", "status"])).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
    // by the command's text: "echo x" < "sleep 1000" < "sleep 2"
    expect(await psNames(p, ["--sort", "command"])).toEqual([`${p}-a`, `${p}-c`, `${p}-b`]);
    expect(await psNames(p, ["--sort", "runningfor"])).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
    // -n picks the newest two, then --sort orders them
    expect(await psNames(p, ["-n", "2", "--sort", "names"])).toEqual([`${p}-a`, `${p}-c`]);
  });

  A("--sort with a key podman does not have: 125 listing the keys", async () => {
    const r = await runPod(["ps", "--sort", "colour"]);
    expectPodError(r, "colour", "names", "runningfor");
    assertOutput(r.stdout, "", "stdout");
  });

  A("--size: a SIZE column \"RW (virtual IMAGE)\"; RW counts what the container wrote; JSON has rwSize and rootFsSize", async () => {
    const name = safeName("z");
    await runD(name, ["alpine", "sh", "-c", "head -c 300000 /dev/zero > /big; sleep 1000"]);
    await until("the container to write /big", async () => (await runPod(["exec", name, "test", "-s", "/big"])).code === 0);
    await until("/big to be complete", async () => (await runPod(["exec", name, "stat", "-c", "%s", "/big"])).stdout.trim() === "300000");
    const t = await runPod(["ps", "--size", "--filter", `name=^${name}$`]);
    expectExit(t, 0);
    const [header, row] = lines(t.stdout);
    expect(header!.trim().split(/\s{2,}/)).toEqual(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", "SIZE"]);
    expect(row).toMatch(/\s(3\d\d|30\d)kB \(virtual \d+(\.\d+)?MB\)$/);
    const j = await runPod(["ps", "-s", "--format", "json", "--filter", `name=^${name}$`]);
    expectExit(j, 0);
    const [c] = JSON.parse(j.stdout) as { Size: { rwSize: number; rootFsSize: number } }[];
    expect(c!.Size.rwSize).toBeGreaterThanOrEqual(300_000);
    expect(c!.Size.rootFsSize).toBeGreaterThan(1_000_000);
    const f = await runPod(["ps", "-s", "--format", "{{.Names}} {{.Size}}", "--filter", `name=^${name}$`]);
    expectExit(f, 0);
    expect(f.stdout).toMatch(new RegExp(`^${name} \\d+kB \\(virtual [\\d.]+MB\\)\\n$`));
    const plain = await runPod(["ps", "--format", "json", "--filter", `name=^${name}$`]);
    expect(Object.keys((JSON.parse(plain.stdout) as object[])[0]!)).not.toContain("Size");
  });

  A("-q with --size is refused (podman: quiet conflicts with size)", async () => {
    expectPodError(await runPod(["ps", "-q", "--size"]), "quiet conflicts with size");
  });
});

describe("logs --until", () => {
  A("--until: a time between two lines keeps the first; a past time nothing; a duration (from now) everything", async () => {
    const name = safeName("u");
    await runD(name, ["alpine", "sh", "-c", "echo early; sleep 1.5; echo late"]);
    expectExit(await runPod(["wait", name]), 0);
    const stamped = lines((await runPod(["logs", "-t", name])).stdout).map((l) => Date.parse(l.split(" ")[0]!));
    const mid = new Date((stamped[0]! + stamped[1]!) / 2).toISOString();
    assertOutput((await runPod(["logs", "--until", mid, name])).stdout, "early\n", `--until ${mid}`);
    assertOutput((await runPod(["logs", "--since", mid, "--until", "10m", name])).stdout, "late\n", `--since ${mid} --until 10m`);
    assertOutput((await runPod(["logs", "--until", "2000-01-01", name])).stdout, "", "--until 2000-01-01");
    assertOutput((await runPod(["logs", "--until", "10m", name])).stdout, "early\nlate\n", "--until 10m");
    const unix = String(Math.ceil(stamped[1]! / 1000) + 60);
    assertOutput((await runPod(["logs", "--until", unix, name])).stdout, "early\nlate\n", `--until ${unix}`);
    assertOutput((await runPod(["logs", "--tail", "1", "--until", mid, name])).stdout, "", "--tail 1 then --until");
  });

  A("logs -f --until stops following at that time, exit 0", async () => {
    const name = safeName("uf");
    await runD(name, ["alpine", "sh", "-c", "while :; do echo tick; sleep 0.2; done"]);
    await until(`${name} to log`, async () => (await runPod(["logs", name])).stdout.includes("tick"));
    const f = new LiveProcess([POD, "logs", "-f", "--until", "2s", name], { env: pod().env, cwd: pod().home });
    const r = await f.finish(15_000);
    recordCall({ code: r.code, stdout: r.stdout, stderr: r.stderr, ms: r.ms, args: ["logs", "-f", "--until", "2s", name] });
    expect(r.code, "exit status of logs -f --until").toBe(0);
    expect(r.ms).toBeGreaterThan(1_500);
    expect(r.ms).toBeLessThan(8_000);
    expect(lines(r.stdout).every((l) => l === "tick")).toBe(true);
    expect(await statusOf(name)).toBe("running");
  });

  A("--until with something that is not a time is refused with 125", async () => {
    const name = safeName("ub");
    await runD(name, ["alpine", "true"]);
    expectPodError(await runPod(["logs", "--until", "tomorrow-ish", name]), "tomorrow-ish");
  });
});

describe("restart --running, rm --time and --depend", () => {
  A("restart --running restarts every running container and nothing else; it takes no names", async () => {
    const up = await runD(safeName("up"), ["alpine", "sleep", "1000"]);
    const ex = await runD(safeName("ex"), ["alpine", "true"]);
    expectExit(await runPod(["wait", ex]), 0);
    const pid = await inspectFmt(up, "{{.State.Pid}}");
    const r = await runPod(["restart", "-t", "0", "--running"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${up}\n`, "restart --running");
    expect(await statusOf(up)).toBe("running");
    expect(await inspectFmt(up, "{{.State.Pid}}")).not.toBe(pid);
    expect(await statusOf(ex)).toBe("exited");
    expectPodError(await runPod(["restart", "--running", up]), "--running");
  });

  A("rm --time needs --force (125); rm -f -t N sends the stop signal and waits up to N seconds", async () => {
    const soft = safeName("soft");
    await runD(soft, termable);
    expectPodError(await runPod(["rm", "-t", "3", soft]), "--force option must be specified to use the --time option");
    expect(await statusOf(soft)).toBe("running");
    // ends on TERM: rm returns long before the 30 s
    const r = await runPod(["rm", "-f", "-t", "30", soft]);
    expectExit(r, 0);
    expect(r.ms).toBeLessThan(10_000);
    // PID 1 without a trap ignores TERM: rm waits the 2 s, then kills
    const hard = safeName("hard");
    const id = await runD(hard, ["alpine", "sleep", "1000"]);
    const k = await runPod(["rm", "-f", "-t", "2", hard]);
    expectExit(k, 0);
    assertOutput(k.stdout, `${id}\n`, "rm -f -t 2");
    expect(k.ms).toBeGreaterThan(1_500);
    expect(await allIds()).not.toContain(id);
    expectPodError(await runPod(["rm", "-f", "-t", "soon", safeName("x")]), "soon");
  });

  A("rm --depend removes the container (pod containers have no dependants)", async () => {
    const name = safeName("dep");
    const id = await create(name, ["alpine", "true"]);
    const r = await runPod(["rm", "--depend", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${id}\n`, "rm --depend");
  });
});
