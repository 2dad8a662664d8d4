// pod run and signals: what is sent to `pod run` reaches the command (podman's
// --sig-proxy default), a command killed by signal N makes pod exit 128+N, and
// with --init a small init is PID 1 that forwards signals and reaps orphans.
import { beforeAll, describe } from "bun:test";
import { useSuite, requires, runPod, pod, expect, expectExit, lines, missing, walk, recordCall, onSuiteEnd, POD, SETUP_TIMEOUT, type PodResult } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { LiveProcess, findByArgv, killByArgv, stopAllLive, uniqueSeconds, type LiveResult } from "../fixtures/live.ts";

useSuite("130-run-signals");

const A = requires("subuid", "alpine-fixture");

let reg: Registry;

beforeAll(async () => {
  onSuiteEnd(() => stopAllLive());
  if (missing("alpine-fixture")) return;
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "alpine");
  expectExit(await runPod(["pull", "-q", "alpine"]), 0);
}, SETUP_TIMEOUT);

/** Starts `pod run --rm ARGS...` in the background, as the suite's user. */
function start(args: string[]): LiveProcess {
  return new LiveProcess([POD, "run", "--rm", ...args], { env: pod().env, cwd: pod().home });
}

/** Waits for the exit and puts the call into the log a failing test prints. */
async function finish(p: LiveProcess, args: string[], timeoutMs = 20_000): Promise<LiveResult> {
  const r = await p.finish(timeoutMs);
  recordCall({ code: r.code, stdout: r.stdout, stderr: r.stderr, ms: r.ms, args: ["run", "--rm", ...args] } satisfies PodResult);
  return r;
}

/** Expects pod to have exited with `code` (not to have been killed itself). */
function expectCode(r: LiveResult, code: number, what: string): void {
  if (r.code !== code) {
    throw new Error(`${what}: expected pod to exit ${code}, got ${r.code}${r.signal ? ` (pod itself died of ${r.signal})` : ""}\n  stdout: ${JSON.stringify(r.stdout)}\n  stderr: ${JSON.stringify(r.stderr)}`);
  }
}

const TRAP_LOOP = (sig: string, code: number) => `trap "exit ${code}" ${sig}; echo ready; while :; do sleep 0.1; done`;

const storageSnapshot = () => new Set([...walk(pod().storage).entries, ...walk(pod().runtimeDir).entries].map((e) => e.path));

describe("signals sent to pod run", () => {
  A("SIGTERM reaches the command: its trap exits 42, and so does pod", async () => {
    const args = ["alpine", "sh", "-c", TRAP_LOOP("TERM", 42)];
    const p = start(args);
    await p.waitForStdout("ready\n");
    p.signal("SIGTERM");
    expectCode(await finish(p, args), 42, "after SIGTERM");
  });

  A("a signal that comes the moment the command has started is forwarded, not fatal to pod (10 tries)", async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const args = ["alpine", "sh", "-c", TRAP_LOOP("USR1", 45)];
      const p = start(args);
      await p.waitForStdout("ready\n");
      p.signal("SIGUSR1");
      const r = await finish(p, args);
      outcomes.push(r.signal ? `pod died of ${r.signal}` : `exit ${r.code}`);
    }
    expect(outcomes.filter((o) => o !== "exit 45"), `outcomes: ${outcomes.join(", ")}`).toEqual([]);
  });

  A("--rm still removes the container when it ended through a forwarded signal", async () => {
    expectExit(await runPod(["run", "--rm", "alpine", "true"]), 0);
    const before = storageSnapshot();
    const args = ["alpine", "sh", "-c", TRAP_LOOP("TERM", 42)];
    const p = start(args);
    await p.waitForStdout("ready\n");
    p.signal("SIGTERM");
    expectCode(await finish(p, args), 42, "after SIGTERM");
    expect([...storageSnapshot()].filter((x) => !before.has(x)), "paths left behind").toEqual([]);
  });

  A("SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 are forwarded too", async () => {
    const cases: [NodeJS.Signals, string, number][] = [
      ["SIGINT", "INT", 43],
      ["SIGHUP", "HUP", 44],
      ["SIGUSR1", "USR1", 45],
      ["SIGUSR2", "USR2", 46],
    ];
    for (const [sig, name, code] of cases) {
      const args = ["alpine", "sh", "-c", TRAP_LOOP(name, code)];
      const p = start(args);
      await p.waitForStdout("ready\n");
      p.signal(sig);
      expectCode(await finish(p, args), code, `after ${sig}`);
    }
  });

  A("a command killed by SIGKILL makes pod exit 137", async () => {
    const marker = ["sleep", uniqueSeconds()];
    const args = ["alpine", ...marker];
    const p = start(args);
    try {
      const pid = await findByArgv(marker);
      process.kill(pid, "SIGKILL");
      expectCode(await finish(p, args), 137, "after SIGKILL to the container's process");
    } finally {
      killByArgv(marker);
    }
  });

  A("when PID 1 ends, its background children end with it and pod returns at once", async () => {
    const t0 = performance.now();
    const r = await runPod(["run", "--rm", "alpine", "sh", "-c", "sleep 1000 & echo started"], { timeoutMs: 20_000 });
    expectExit(r, 0);
    expect(r.stdout).toBe("started\n");
    expect(performance.now() - t0, "ms until pod returned").toBeLessThan(10_000);
  });
});

describe("--init", () => {
  A("PID 1 is pod's init, not the command", async () => {
    const r = await runPod(["run", "--rm", "--init", "alpine", "sh", "-c", "echo $$; ps -o pid,comm"]);
    expectExit(r, 0);
    const [shPid, , ...rows] = lines(r.stdout);
    expect(shPid).not.toBe("1");
    const pid1 = rows.map((l) => l.trim().split(/\s+/)).find(([pid]) => pid === "1");
    expect(pid1, `a PID 1 in ${JSON.stringify(rows)}`).toBeDefined();
    expect(pid1![1]).not.toBe("sh");
    expect(pid1![1]).not.toBe("ps");
  });

  A("reaps orphaned zombies", async () => {
    const r = await runPod(["run", "--rm", "--init", "alpine", "sh", "-c", 'sh -c "sleep 0.2 &"; sleep 1; ps -o stat,comm']);
    expectExit(r, 0);
    const rows = lines(r.stdout).slice(1);
    expect(rows.filter((l) => l.trim().startsWith("Z")), `zombies in:\n${r.stdout}`).toEqual([]);
  });

  A("passes the command's exit status through", async () => {
    expect((await runPod(["run", "--rm", "--init", "alpine", "sh", "-c", "exit 5"])).code).toBe(5);
    expectExit(await runPod(["run", "--rm", "--init", "alpine", "true"]), 0);
  });

  A("a command killed by a signal gives 128+N (it is not PID 1, so it can kill itself)", async () => {
    expect((await runPod(["run", "--rm", "--init", "alpine", "sh", "-c", "kill -KILL $$; echo survived"])).code).toBe(137);
    expect((await runPod(["run", "--rm", "--init", "alpine", "sh", "-c", "kill -TERM $$; echo survived"])).code).toBe(143);
  });

  A("SIGTERM to pod run reaches the command through init: a trap exits 42", async () => {
    const args = ["--init", "alpine", "sh", "-c", TRAP_LOOP("TERM", 42)];
    const p = start(args);
    await p.waitForStdout("ready\n");
    p.signal("SIGTERM");
    expectCode(await finish(p, args), 42, "after SIGTERM");
  });

  A("SIGTERM to pod run kills a command without a handler: 143", async () => {
    const marker = ["sleep", uniqueSeconds()];
    const args = ["--init", "alpine", ...marker];
    const p = start(args);
    try {
      await findByArgv(marker);
      p.signal("SIGTERM");
      expectCode(await finish(p, args), 143, "after SIGTERM");
    } finally {
      killByArgv(marker);
    }
  });
});
