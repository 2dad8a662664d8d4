// Crash consistency: pull, run -d, rm -f and rmi -f killed with SIGKILL at
// many points, and afterwards `system check` finds no damage (only the
// leftovers a killed process may leave, which --repair sweeps), every listed
// container runs or starts, and no monitor serves a container ps does not list.
import { describe } from "bun:test";
import { useSuite, requires, runPod, pod, expect, expectExit, lines, recordCall, type PodResult } from "./helpers.ts";
import { useLifecycle, track, suiteMonitors, until, alive } from "./lifecycle-helpers.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("490-crash-consistency");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

async function killedAfter(args: string[], ms: number): Promise<PodResult> {
  const t0 = performance.now();
  const p = pod().spawn(args);
  await sleep(ms);
  p.kill("SIGKILL");
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const r: PodResult = { code, stdout, stderr, ms: performance.now() - t0, args: [...args, `(SIGKILL after ${ms} ms)`] };
  recordCall(r);
  return r;
}

/** Lines of `system check` that a killed process may leave and --repair sweeps; anything else is damage. */
const SWEEPABLE = /^(Leftover temporary file|Leftover job file|Stale lock file) /;

describe("kill -9 at random points", () => {
  A("after pull, run -d, rm -f and rmi -f killed mid-way, system check finds no damage and every container runs or starts", async () => {
    let n = 0;
    const name = () => track(`crash-${process.pid.toString(36)}-${n++}`);
    const delays = [10, 30, 50, 80, 120, 200];
    for (const ms of delays) {
      // a pull killed mid-way (the image removed first, so there is work to kill)
      await runPod(["rmi", "-f", "alpine"]);
      await killedAfter(["pull", "alpine"], ms * 2);
      expectExit(await runPod(["pull", "-q", "alpine"]), 0);
      // run -d killed
      await killedAfter(["run", "-d", "--name", name(), "alpine", "sleep", "1000"], ms);
      // rm -f of a running container killed
      const victim = name();
      expectExit(await runPod(["run", "-d", "--name", victim, "alpine", "sleep", "1000"]), 0);
      await killedAfter(["rm", "-f", victim], ms);
      // rmi -f of an image a running container uses, killed
      const user = name();
      expectExit(await runPod(["run", "-d", "--name", user, "alpine", "sleep", "1000"]), 0);
      await killedAfter(["rmi", "-f", "alpine"], ms);
      expectExit(await runPod(["pull", "-q", "alpine"]), 0);
    }
    await sleep(500); // daemonized starters finish what they began

    const check = await runPod(["system", "check"]);
    const damage = lines(check.stdout + check.stderr).filter((l) => !SWEEPABLE.test(l) && !/^(Error|Hint): /.test(l));
    expect(damage, "system check finds no damage, only leftovers of killed processes").toEqual([]);
    expectExit(await runPod(["system", "check", "--repair"]), 0);
    expectExit(await runPod(["system", "check"]), 0);

    const listed = new Set(lines((await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout));
    const unlisted = suiteMonitors().filter((m) => !listed.has(m.argv[m.argv.length - 1]!));
    expect(unlisted.map((m) => `${m.pid} ${m.argv.join(" ")}`), "no monitor serves a container ps -a does not list").toEqual([]);
    for (const id of listed) {
      const status = (await runPod(["inspect", "--format", "{{.State.Status}}", id])).stdout.trim();
      if (status !== "running") {
        const s = await runPod(["start", id]);
        expectExit(s, 0);
      }
      const e = await runPod(["exec", id, "true"]);
      expectExit(e, 0);
    }
    const pids = [...listed].map(async (id) => Number((await runPod(["inspect", "--format", "{{.State.Pid}}", id])).stdout.trim()));
    const all = await Promise.all(pids);
    expectExit(await runPod(["rm", "-af"]), 0);
    for (const pid of all) await until(`container process ${pid} to end after rm -af`, () => !alive(pid), 5_000);
    expect(suiteMonitors().map((m) => m.pid), "no monitor left after rm -af").toEqual([]);
  }, 300_000);
});
