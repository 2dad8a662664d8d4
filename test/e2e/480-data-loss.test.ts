// The data-loss and lost-container bugs of issue 18, each tried as the
// hostile user who found it: an image removed from under a container, a
// `run -d` killed in its first milliseconds, a reset that forgets running
// processes or another store's state, containers half made by a failed run
// or a full disk. Every test here failed before the fix.
import { describe } from "bun:test";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName, recordCall, type PodResult } from "./helpers.ts";
import { useLifecycle, runD, create, track, inspectFmt, statusOf, psStatus, until, monitorsOf, suiteMonitors, alive, recordDir, leftoversOf } from "./lifecycle-helpers.ts";
import { makeTempDir, removeDir, sleep } from "../fixtures/proc.ts";

useSuite("480-data-loss");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const D = requires("subuid", "alpine-fixture", "small-disk");

/** IDs of every container directory in the default store. */
function containerDirs(root = join(pod().storage, "containers")): string[] {
  try {
    return readdirSync(root).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

async function allNames(): Promise<string[]> {
  const r = await runPod(["ps", "-a", "--format", "{{.Names}}"]);
  expectExit(r, 0);
  return lines(r.stdout);
}

describe("1. an image a container uses", () => {
  A("rmi without -f refuses with exit 2 and the container keeps its files; rmi -f removes the container first", async () => {
    const name = safeName("u");
    const id = await runD(name, ["alpine", "sleep", "600"]);
    const r = await runPod(["rmi", "alpine"]);
    expectExit(r, 2);
    expect(r.stderr).toMatch(/^Error: .*image is in use by a container.*\n/);
    expect(r.stderr).toContain(name);
    expect(r.stderr).toMatch(/\nHint: .*rmi -f/);
    expect(r.stdout, "nothing was deleted").not.toContain("Deleted");
    const ls = await runPod(["exec", name, "ls", "/bin/busybox", "/etc/alpine-release"]);
    expectExit(ls, 0);
    expect((await runPod(["images", "--format", "{{.Repository}}"])).stdout).toContain("alpine");
    // the same by ID, and among -a
    const imgId = await inspectFmt(name, "{{.Image}}");
    expectExit(await runPod(["rmi", imgId]), 2);
    expectExit(await runPod(["rmi", "-a"]), 2);
    expectExit(await runPod(["exec", name, "true"]), 0);

    const f = await runPod(["rmi", "-f", "alpine"]);
    expectExit(f, 0);
    expect(f.stdout).toContain("Deleted");
    expect(await allNames()).not.toContain(name);
    await until("the container's monitor to end", () => monitorsOf(id).length === 0, 10_000);
    expect(leftoversOf(id)).toEqual([]);
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  });

  A("a stopped container keeps its image through rmi and system prune -a; start works afterwards", async () => {
    const name = safeName("s");
    await create(name, ["alpine", "cat", "/etc/alpine-release"]);
    expectExit(await runPod(["rmi", "alpine"]), 2);
    // system prune removes the stopped container, and only then may the image go: use a running one to pin it
    const pin = safeName("pin");
    await runD(pin, ["alpine", "sleep", "600"]);
    expectExit(await runPod(["system", "prune", "-a", "-f"]), 0);
    expect(await allNames()).toContain(pin);
    expect((await runPod(["images", "-q"])).stdout.trim()).not.toBe("");
    expectExit(await runPod(["exec", pin, "cat", "/etc/alpine-release"]), 0);
    expectExit(await runPod(["stop", "-t", "0", pin]), 0);
    expectExit(await runPod(["start", pin]), 0);
    expect(await statusOf(pin)).toBe("running");
  });
});

/** Starts `pod run -d` and kills it with SIGKILL after `ms`. */
async function killedRun(name: string, ms: number): Promise<PodResult> {
  const t0 = performance.now();
  const p = pod().spawn(["run", "-d", "--name", name, "alpine", "sleep", "1000"]);
  await sleep(ms);
  p.kill("SIGKILL");
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const r: PodResult = { code, stdout, stderr, ms: performance.now() - t0, args: ["run", "-d", "--name", name, "(killed after " + ms + " ms)"] };
  recordCall(r);
  return r;
}

describe("2. run -d killed with -9", () => {
  A("whatever moment it dies, ps tells the truth, start starts no second instance, and rm -f leaves no process", async () => {
    // pod's own start (compile cache warm) takes ~30-60 ms here: kill around and inside that window
    const delays = [20, 35, 45, 55, 65, 80, 100, 150];
    let caughtRunning = 0;
    for (const ms of delays) {
      const name = track(safeName("k"));
      await killedRun(name, ms);
      await sleep(300); // a daemonized child may still be starting the container
      const names = await allNames();
      const id = names.includes(name) ? await inspectFmt(name, "{{.Id}}") : undefined;
      // a monitor that serves a container ps -a does not list is the bug
      const listed = new Set(lines((await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout));
      const unlisted = suiteMonitors().filter((m) => !listed.has(m.argv[m.argv.length - 1]!));
      expect(unlisted.map((m) => m.pid), `monitors of containers ps -a does not list (killed after ${ms} ms)`).toEqual([]);
      if (!id) continue;
      const running = monitorsOf(id).length === 1;
      const status = await psStatus(name);
      if (running) {
        caughtRunning++;
        expect(status, `a container whose monitor runs is Up (killed after ${ms} ms)`).toMatch(/^Up /);
        expect(await statusOf(name)).toBe("running");
        expectExit(await runPod(["exec", name, "true"]), 0);
        const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
        expect(alive(pid)).toBe(true);
        expectExit(await runPod(["start", name]), 0);
        expect(monitorsOf(id).length, "start did not launch a second instance").toBe(1);
        const mon = monitorsOf(id)[0]!;
        expectExit(await runPod(["rm", "-f", name]), 0);
        await until("the container's process to end", () => !alive(pid), 5_000);
        await until("its monitor to end", () => !alive(mon), 5_000);
      } else {
        expect(status, `no monitor: the container never ran (killed after ${ms} ms)`).toBe("Created");
        expectExit(await runPod(["rm", "-f", name]), 0);
      }
      expect(leftoversOf(id)).toEqual([]);
    }
    expect(caughtRunning, "at least one kill landed after the container started").toBeGreaterThan(0);
  }, 240_000);

  A("a monitor killed with -9 ends its container with SIGKILL: Exited (137), not -1", async () => {
    const name = safeName("m");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const mon = monitorsOf(id)[0]!;
    process.kill(mon, "SIGKILL");
    await until("the container to die with its monitor", () => !alive(pid), 5_000);
    expect(await psStatus(name)).toMatch(/^Exited \(137\) /);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("137");
  });

  A("a monitor killed right after the container ended still tells its exit code", async () => {
    const name = safeName("e");
    const id = await runD(name, ["alpine", "sh", "-c", "trap 'exit 7' USR1; while :; do sleep 0.05; done"]);
    const mon = monitorsOf(id)[0]!;
    // stop the monitor (SIGSTOP) so it cannot record; the container ends; then it dies unrecorded
    process.kill(mon, "SIGSTOP");
    try {
      expectExit(await runPod(["kill", "-s", "USR1", name]), 0);
      await sleep(500);
    } finally {
      process.kill(mon, "SIGKILL");
    }
    await until("the monitor to die", () => !alive(mon), 5_000);
    // the monitor reaps its child only when it runs: a stopped one never wrote the code, so 137 or 7 are both "known"
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toMatch(/^(7|137)$/);
    expect(await psStatus(name)).not.toContain("(-1)");
  });
});

describe("3. system reset", () => {
  A("reset -f stops every container of the store first: no process outlives it", async () => {
    const other = makeTempDir("pod-480-reset");
    try {
      const g = ["--root", join(other, "root")];
      expectExit(await runPod([...g, "pull", "-q", "alpine"]), 0);
      const r = await runPod([...g, "run", "-d", "alpine", "sleep", "1000"]);
      expectExit(r, 0);
      const id = r.stdout.trim();
      const pid = Number((await runPod([...g, "inspect", "--format", "{{.State.Pid}}", id])).stdout.trim());
      expect(alive(pid)).toBe(true);
      const mons = monitorsOf(id);
      expect(mons.length).toBe(1);
      expectExit(await runPod([...g, "system", "reset", "-f"]), 0);
      await until("the container's process to end", () => !alive(pid), 5_000);
      await until("its monitor to end", () => !alive(mons[0]!), 5_000);
      expect(existsSync(join(other, "root")), "the store is gone").toBe(false);
    } finally {
      removeDir(other);
    }
  });

  A("--root OTHER system reset -f leaves the default store's runtime state alone", async () => {
    const name = safeName("d");
    await runD(name, ["alpine", "sleep", "1000"]);
    const other = makeTempDir("pod-480-other");
    try {
      const g = ["--root", join(other, "root")];
      expectExit(await runPod([...g, "pull", "-q", "alpine"]), 0);
      const info = await runPod([...g, "info", "--format", "{{.Store.RunRoot}}"]);
      expectExit(info, 0);
      const defaultRunroot = (await runPod(["info", "--format", "{{.Store.RunRoot}}"])).stdout.trim();
      expect(info.stdout.trim(), "another store has a runroot of its own").not.toBe(defaultRunroot);
      expectExit(await runPod([...g, "system", "reset", "-f"]), 0);
      expect(existsSync(defaultRunroot), `${defaultRunroot} survives`).toBe(true);
      expect(await psStatus(name)).toMatch(/^Up /);
      const e = await runPod(["exec", name, "echo", "still-here"]);
      expectExit(e, 0);
      expect(e.stdout).toBe("still-here\n");
      const logs = await runPod(["logs", name]);
      expectExit(logs, 0);
    } finally {
      removeDir(other);
    }
  });
});

describe("4. runs that fail before the container starts", () => {
  A("-v of a missing path, -w relative: run, run -d and create exit 125 and leave no container", async () => {
    const before = await allNames();
    const cases: [string[], number, string][] = [
      [["run", "--name", safeName("v"), "-v", "/nonexistent-pod-480:/x", "alpine", "true"], 125, "/nonexistent-pod-480"],
      [["run", "-d", "--name", safeName("v"), "-v", "/nonexistent-pod-480:/x", "alpine", "true"], 125, "/nonexistent-pod-480"],
      [["create", "--name", safeName("v"), "-v", "/nonexistent-pod-480:/x", "alpine", "true"], 125, "/nonexistent-pod-480"],
      [["run", "--name", safeName("w"), "-w", "relative", "alpine", "pwd"], 125, "relative"],
      [["create", "--name", safeName("w"), "-w", "relative", "alpine", "pwd"], 125, "relative"],
    ];
    for (const [args, code, mention] of cases) {
      const r = await runPod(args);
      expectExit(r, code);
      expectPodError(r, mention);
      expect(await allNames(), `${args.join(" ")} left no container`).toEqual(before);
    }
    // the name is free for a retry
    const retry = safeName("retry");
    expect((await runPod(["run", "--name", retry, "-v", "/nonexistent-pod-480:/x", "alpine", "true"])).code).toBe(125);
    await create(retry, ["alpine", "true"]);
  });

  A("a -v file in a directory closed to the user says permission denied, not 'create it first'", async () => {
    const base = makeTempDir("pod-480-closed");
    try {
      const closed = join(base, "closed");
      mkdirSync(closed);
      writeFileSync(join(closed, "secret"), "x");
      chmodSync(closed, 0o000);
      const r2 = await runPod(["run", "--rm", "-v", `${join(closed, "secret")}:/s`, "alpine", "true"]);
      expectExit(r2, 125);
      expectPodError(r2, "permission denied");
      expect(r2.stderr).not.toContain("mkdir -p");
      chmodSync(closed, 0o700);
    } finally {
      removeDir(base);
    }
  });
});

describe("5. half-written state", () => {
  A("rm -af and container prune remove a container directory whose record is unreadable, saying so", async () => {
    const id1 = "1".repeat(48) + "0123456789abcdef";
    const id2 = "2".repeat(48) + "0123456789abcdef";
    for (const [id, content] of [
      [id1, '{"id": "' + "1".repeat(20)],
      [id2, null],
    ] as const) {
      mkdirSync(join(recordDir(id), "upper"), { recursive: true });
      if (content !== null) writeFileSync(join(recordDir(id), "container.json"), content);
    }
    const p = await runPod(["container", "prune", "-f"]);
    expectExit(p, 0);
    expect(p.stderr).toContain(id1.slice(0, 12));
    expect(existsSync(recordDir(id1))).toBe(false);
    expect(existsSync(recordDir(id2))).toBe(false);

    mkdirSync(join(recordDir(id1), "upper"), { recursive: true });
    writeFileSync(join(recordDir(id1), "container.json"), "{");
    const r = await runPod(["rm", "-af"]);
    expectExit(r, 0);
    expect(r.stderr).toMatch(/unreadable/);
    expect(existsSync(recordDir(id1))).toBe(false);
  });

  D("a full disk: create fails with one line and a hint, and leaves no container directory", async () => {
    const disk = process.env.POD_TEST_SMALL_DISK!;
    const root = join(disk, `store-${process.pid}`);
    const g = ["--root", root];
    const filler = join(disk, `filler-${process.pid}`);
    try {
      expectExit(await runPod([...g, "pull", "-q", "alpine"]), 0);
      // fill what is left of the disk
      const chunk = Buffer.alloc(1 << 20, 1);
      const fd = openSync(filler, "w");
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full
      }
      for (let small = 4096; small >= 1; small = Math.floor(small / 2)) {
        try {
          for (;;) writeSync(fd, Buffer.alloc(small, 1));
        } catch {
          // this size no longer fits
        }
      }
      closeSync(fd);
      const r = await runPod([...g, "create", "--name", safeName("full"), "alpine", "true"]);
      expect(r.code).toBe(125);
      expect(r.stderr).not.toContain("bug in pod");
      expect(r.stderr).toMatch(/no space left|disk .* is full/i);
      expect(containerDirs(join(root, "containers")), "no directory without a record").toEqual([]);
      rmSync(filler, { force: true });
      const ps = await runPod([...g, "ps", "-a", "-q"]);
      expectExit(ps, 0);
      expect(ps.stdout.trim()).toBe("");
      const ok = await runPod([...g, "create", "alpine", "true"]);
      expectExit(ok, 0);
      expectExit(await runPod([...g, "rm", "-af"]), 0);
      expect(containerDirs(join(root, "containers"))).toEqual([]);
    } finally {
      rmSync(filler, { force: true });
      await runPod([...g, "system", "reset", "-f"]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
