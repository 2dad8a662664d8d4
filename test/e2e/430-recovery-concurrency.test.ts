// Daemonless means no one is left to tidy up: a monitor killed with -9, a
// runtime dir wiped as by a reboot, a recorded pid now used by another
// process, and several pod processes at once on the same containers (run -d
// ×10, one name claimed twice, rm -f racing start, renames racing). After
// each, ps -a and inspect must tell the truth and nothing may be left behind.
import { describe } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, recordCall, HEX64, type PodResult } from "./helpers.ts";
import {
  useLifecycle,
  runD,
  create,
  track,
  inspect,
  inspectFmt,
  statusOf,
  psStatus,
  until,
  untilStatus,
  monitorOf,
  monitorsOf,
  killUnlistedMonitors,
  alive,
  recordDir,
  leftoversOf,
  recordedIds,
} from "./lifecycle-helpers.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("430-recovery-concurrency");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

/** Runs pod in the background (argv, no shell) and collects its result like runPod, for the log a failure prints. */
async function background(args: string[]): Promise<PodResult> {
  const t0 = performance.now();
  const p: Subprocess<"ignore", "pipe", "pipe"> = pod().spawn(args);
  const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  const r: PodResult = { code, stdout, stderr, ms: performance.now() - t0, args };
  recordCall(r);
  return r;
}

/** Kills the monitor with SIGKILL and waits for the container's process to die of it. */
async function killMonitor(id: string): Promise<{ mon: number; pid: number }> {
  const pid = Number(await inspectFmt(id, "{{.State.Pid}}"));
  const mon = await monitorOf(id);
  process.kill(mon, "SIGKILL");
  await until(`the monitor ${mon} to die`, () => !alive(mon), 5_000);
  await until(`the container's process ${pid} to die with its monitor (death signal)`, () => !alive(pid), 5_000);
  return { mon, pid };
}

/** The file system type of "/" in a new container (overlay, or what pod fell back to). */
async function rootFsType(): Promise<string> {
  const r = await runPod(["run", "--rm", "alpine", "awk", '$2 == "/" { print $3 }', "/proc/mounts"]);
  expectExit(r, 0);
  return r.stdout.trim();
}

describe("recovery", () => {
  A("a monitor killed with -9 takes its container down; ps -a shows it exited and start works again", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sh", "-c", "echo before-kill; exec sleep 1000"]);
    await until("the first line in the log", async () => (await runPod(["logs", name])).stdout.includes("before-kill"));
    await killMonitor(id);
    expect(await psStatus(name)).toMatch(/^Exited /);
    const c = await inspect(name);
    expect(c.State.Status).toBe("exited");
    expect(c.State.Running).toBe(false);
    // nobody is left to wait for: wait answers, and promptly
    const w = await runPod(["wait", name], { timeoutMs: 15_000 });
    expectExit(w, 0);
    expect(w.stdout.trim()).toMatch(/^-?\d+$/);
    expectPodError(await runPod(["exec", name, "true"]), name);
    // the log the monitor wrote is still there
    expect((await runPod(["logs", name])).stdout).toContain("before-kill");

    const s = await runPod(["start", name]);
    expectExit(s, 0);
    expect(await statusOf(name)).toBe("running");
    expect(monitorsOf(id).length, "one new monitor").toBe(1);
    expectExit(await runPod(["exec", name, "true"]), 0);
    await until("the second run in the log", async () => (await runPod(["logs", name])).stdout.split("before-kill").length === 3);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
  });

  A("after a reboot (monitor gone, $XDG_RUNTIME_DIR/pod wiped) ps shows exited, and start, exec, rm work", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    await killMonitor(id);
    rmSync(join(pod().runtimeDir, "pod"), { recursive: true, force: true });
    expect(await psStatus(name)).toMatch(/^Exited /);
    expect(await statusOf(name)).toBe("exited");
    expectExit(await runPod(["ps", "-a"]), 0);
    expectExit(await runPod(["start", name]), 0);
    expect(await statusOf(name)).toBe("running");
    const e = await runPod(["exec", name, "echo", "exec-ok"]);
    expectExit(e, 0);
    assertOutput(e.stdout, "exec-ok\n", "exec after the restart");
    expectExit(await runPod(["rm", "-f", name]), 0);
    expect(leftoversOf(id)).toEqual([]);
  });

  A("a recorded pid that now belongs to another process does not make the container running, and is never signalled", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    await killMonitor(id);
    // an unrelated process of ours takes the recorded pid's place (as after a reboot, pids are reused)
    const other = Bun.spawn(["/bin/sleep", "60"], { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    try {
      const file = join(recordDir(id), "container.json");
      const rec = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      expect(typeof rec.pid, `container.json records the container's pid: ${JSON.stringify(rec)}`).toBe("number");
      rec.pid = other.pid;
      rec.state = "running";
      writeFileSync(file, JSON.stringify(rec, null, 2));
      expect(await statusOf(name)).toBe("exited");
      expect(await psStatus(name)).toMatch(/^Exited /);
      expectPodError(await runPod(["kill", name]), name);
      expectExit(await runPod(["stop", "-t", "0", name]), 0);
      expectExit(await runPod(["rm", name]), 0);
      await sleep(200);
      expect(alive(other.pid), "the unrelated process was not signalled").toBe(true);
      expect(other.exitCode).toBe(null);
      expect(leftoversOf(id)).toEqual([]);
    } finally {
      other.kill("SIGKILL");
      await other.exited;
    }
  });

  A("the container's process killed from outside: the monitor records 137", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    process.kill(pid, "SIGKILL");
    await untilStatus(name, "exited");
    assertOutput((await runPod(["wait", name])).stdout, "137\n", "wait");
    expect(await psStatus(name)).toMatch(/^Exited \(137\) /);
    await until("the monitor to end", () => monitorsOf(id).length === 0, 5_000);
  });

  A("rm -f of a container whose monitor was killed removes every trace", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    await killMonitor(id);
    const r = await runPod(["rm", "-f", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${id}\n`, "rm -f");
    expect(leftoversOf(id)).toEqual([]);
  });
});

describe("concurrency", () => {
  A("10 run -d at once: all succeed with 10 distinct IDs and names; 10 rm -f at once leave nothing", async () => {
    const results = await Promise.all(Array.from({ length: 10 }, () => background(["run", "-d", "alpine", "sleep", "1000"])));
    const ids = results.map((r) => r.stdout.trim());
    ids.forEach((id) => track(id));
    for (const r of results) expectExit(r, 0);
    for (const id of ids) expect(id).toMatch(HEX64);
    expect(new Set(ids).size).toBe(10);
    const ps = await runPod(["ps", "--no-trunc", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
    expectExit(ps, 0);
    const rows = lines(ps.stdout).map((l) => l.split(" "));
    expect(rows.map((r) => r[0]).sort()).toEqual([...ids].sort());
    expect(new Set(rows.map((r) => r[1])).size, "distinct generated names").toBe(10);
    for (const r of rows) expect(r[2]).toBe("Up");
    for (const id of ids) expect(monitorsOf(id).length, `monitors of ${id.slice(0, 12)}`).toBe(1);

    const rms = await Promise.all(ids.map((id) => background(["rm", "-f", id])));
    for (const r of rms) expectExit(r, 0);
    expect(lines((await runPod(["ps", "-a", "-q"])).stdout)).toEqual([]);
    await until("every monitor to end", () => ids.every((id) => monitorsOf(id).length === 0), 10_000);
    expect(ids.flatMap((id) => leftoversOf(id))).toEqual([]);
  });

  A("two run --name X at once: exactly one wins, the other exits 125 (three rounds)", async () => {
    for (let round = 0; round < 3; round++) {
      const name = track(safeName("same"));
      const n0 = recordedIds().length;
      const [a, b] = await Promise.all([background(["run", "-d", "--name", name, "alpine", "sleep", "1000"]), background(["run", "-d", "--name", name, "alpine", "sleep", "1000"])]);
      const codes = [a.code, b.code].sort();
      expect(codes, `round ${round}: exit codes`).toEqual([0, 125]);
      const [win, lose] = a.code === 0 ? [a, b] : [b, a];
      expectPodError(lose, "already in use");
      assertOutput(lose.stdout, "", "stdout of the loser");
      const rows = lines((await runPod(["ps", "-a", "--no-trunc", "--filter", `name=^${name}$`, "--format", "{{.ID}}"])).stdout);
      expect(rows, `round ${round}: one container named ${name}`).toEqual([win.stdout.trim()]);
      expect(await statusOf(name)).toBe("running");
      expect(recordedIds().length, "no half-made second container").toBe(n0 + 1);
      expectExit(await runPod(["rm", "-f", name]), 0);
    }
  });

  A("three starts of one created container at once: it runs once, is recorded as running, and rm -f ends it", async () => {
    const problems: string[] = [];
    try {
      for (let round = 0; round < 2; round++) {
        const name = safeName("c");
        const id = await create(name, ["alpine", "sleep", "1000"]);
        const rs = await Promise.all([0, 1, 2].map(() => background(["start", name])));
        for (const r of rs) if (r.code !== 0) problems.push(`round ${round}: start exited ${r.code}: ${r.stderr.trim().split("\n")[0]}`);
        await sleep(300);
        const status = await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}");
        if (status !== "running 0") problems.push(`round ${round}: inspect says "${status}" after the starts`);
        const mons = monitorsOf(id);
        if (mons.length !== 1) problems.push(`round ${round}: ${mons.length} monitors run for the container`);
        expectExit(await runPod(["rm", "-f", name]), 0);
        await until("the monitors to end", () => monitorsOf(id).length === 0, 2_000).catch(() => {
          problems.push(`round ${round}: after rm -f, monitors still run: ${monitorsOf(id).join(" ")}`);
        });
      }
    } finally {
      await killUnlistedMonitors();
    }
    expect(problems, "what concurrent starts did").toEqual([]);
  });

  A("concurrent stop and wait on one container agree on one exit code", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const waits = [0, 1, 2].map(() => background(["wait", name]));
    await sleep(200);
    const stops = await Promise.all([0, 1, 2].map(() => background(["stop", "-t", "0", name])));
    for (const s of stops) expectExit(s, 0);
    for (const w of await Promise.all(waits)) {
      expectExit(w, 0);
      assertOutput(w.stdout, "137\n", "wait");
    }
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
  });

  A("ps -a and inspect never fail while containers come and go", async () => {
    let stop = false;
    const errors: string[] = [];
    const ids: string[] = [];
    const watcher = (async () => {
      let n = 0;
      while (!stop || n < 3) {
        n++;
        const r = await runPod(["ps", "-a", "--format", "json"]);
        if (r.code !== 0) errors.push(`ps -a exited ${r.code}: ${r.stderr.trim()}`);
        else {
          try {
            JSON.parse(r.stdout);
          } catch {
            errors.push(`ps -a --format json printed no JSON: ${r.stdout.slice(0, 200)}`);
          }
        }
      }
    })();
    const churn = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        const name = track(safeName(`churn${i}`));
        const r = await background(["run", "-d", "--name", name, "alpine", "sh", "-c", "sleep 0.2"]);
        ids.push(r.stdout.trim());
        const w = await background(["wait", name]);
        const rm = await background(["rm", "-f", name]);
        return [r, w, rm];
      }),
    );
    stop = true;
    await watcher;
    for (const [r, w, rm] of churn) {
      expectExit(r!, 0);
      expectExit(w!, 0);
      expectExit(rm!, 0);
    }
    expect(errors).toEqual([]);
    expect(ids.flatMap((id) => leftoversOf(id))).toEqual([]);
  });

  A("two renames to the same name at once: at most one container holds it", async () => {
    for (let round = 0; round < 4; round++) {
      const a = safeName("a");
      const b = safeName("b");
      const target = track(safeName("t"));
      const ids = [track(await create(a, ["alpine", "true"])), track(await create(b, ["alpine", "true"]))];
      const rs = await Promise.all([background(["rename", a, target]), background(["rename", b, target])]);
      expect(rs.filter((r) => r.code === 0).length, `round ${round}: renames that succeeded`).toBe(1);
      const names = lines((await runPod(["ps", "-a", "--format", "{{.Names}}"])).stdout);
      expect(names.filter((n) => n === target).length, `round ${round}: containers named ${target} in ${JSON.stringify(names)}`).toBe(1);
      expectExit(await runPod(["rm", "-f", ...ids]), 0);
    }
  });

  A("rm -f racing start: afterwards the container is either gone or listed, never half there, and nothing leaks", async () => {
    const problems: string[] = [];
    const before = await rootFsType();
    try {
      for (let round = 0; round < 8; round++) {
        const name = safeName("race");
        const id = await create(name, ["alpine", "sleep", "1000"]);
        const starting = background(["start", name]);
        await sleep(round * 15);
        const removed = await background(["rm", "-f", name]);
        const started = await starting;
        expect([0, 125], `round ${round}: exit of rm -f (stderr: ${removed.stderr.trim()})`).toContain(removed.code);
        // the state must be readable and consistent
        const ps = await runPod(["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}"]);
        expectExit(ps, 0);
        const row = lines(ps.stdout).find((l) => l.startsWith(id));
        const ins = await runPod(["inspect", "--type", "container", "--format", "{{.State.Status}}", id]);
        if (row) {
          expectExit(ins, 0);
          expect(["running", "exited"], `round ${round}: a listed container is running or exited`).toContain(ins.stdout.trim());
        } else {
          expectExit(ins, 125);
          await until(`round ${round}: the removed container's monitor to end`, () => monitorsOf(id).length === 0, 5_000).catch(() => {
            problems.push(`round ${round}: ${name} is not listed, but its monitor runs on (start exited ${started.code}, rm -f exited ${removed.code})`);
          });
        }
        if (started.code !== 0 && started.code !== 125) problems.push(`round ${round}: start exited ${started.code}: ${started.stderr.trim().split("\n")[0]}`);
        if (started.code === 125 && !/no such container|no container with name/i.test(started.stderr))
          problems.push(`round ${round}: start failed with an error that does not say the container is gone: ${started.stderr.trim().split("\n")[0]}`);
        expectExit(await runPod(["rm", "-f", "-i", name]), 0);
        const left = leftoversOf(id);
        if (left.length) problems.push(`round ${round}: after rm -f: ${left.join("; ")}`);
      }
    } finally {
      problems.push(...(await killUnlistedMonitors()));
    }
    // a start that lost its files to rm -f must not switch every later container to another root filesystem driver
    const after = await rootFsType();
    if (after !== before) problems.push(`the root filesystem of a new container changed from ${before} to ${after} after the race`);
    expect(problems, "inconsistencies after rm -f raced start").toEqual([]);
  });
});
