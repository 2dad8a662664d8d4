// Healthchecks (issue 16): the monitor runs them on its own timer; podman's
// states (starting → healthy → unhealthy after `retries` failures), the last
// results in inspect's State.Health, ps's STATUS and --filter health=,
// `pod healthcheck run`'s exit codes, --health-on-failure, a hung check
// killed at its timeout, the start period, health_status events.
import { describe } from "bun:test";
import { useSuite, requires, runPod, expect, expectExit, expectPodError, lines, safeName } from "./helpers.ts";
import { useLifecycle, runD, create, inspectFmt, until } from "./lifecycle-helpers.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("630-healthcheck");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

type Health = { Status: string; FailingStreak: number; Log: { ExitCode: number; Output: string }[] };
const health = async (ctr: string): Promise<Health> => JSON.parse(await inspectFmt(ctr, "{{json .State.Health}}"));

describe("healthchecks", () => {
  A("starting, then healthy, then unhealthy after --health-retries failures in a row; ps and inspect show it; healthcheck run exits 0 or 1", async () => {
    const name = safeName("h");
    await runD(name, ["--health-cmd", "test ! -e /tmp/bad && echo fine", "--health-interval", "1s", "--health-retries", "2", "alpine", "sleep", "1000"]);
    expect((await health(name)).Status).toBe("starting");
    expect(await inspectFmt(name, "{{.Config.Healthcheck.Retries}} {{.Config.Healthcheck.Interval}}")).toBe("2 1000000000");
    await until("healthy", async () => (await health(name)).Status === "healthy", 10_000);
    const ok = await health(name);
    expect(ok.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: "fine\n" });
    const ps = await runPod(["ps", "--filter", `name=^${name}$`, "--format", "{{.Status}}"]);
    expect(ps.stdout).toMatch(/^Up .* \(healthy\)\n$/);
    expectExit(await runPod(["healthcheck", "run", name]), 0);
    expectExit(await runPod(["exec", name, "touch", "/tmp/bad"]), 0);
    await until("one failure counted", async () => (await health(name)).FailingStreak >= 1, 10_000);
    expect((await health(name)).Status, "one failure of two is not unhealthy yet").not.toBe("unhealthy");
    await until("unhealthy", async () => (await health(name)).Status === "unhealthy", 10_000);
    const bad = await health(name);
    expect(bad.FailingStreak).toBeGreaterThanOrEqual(2);
    expect(bad.Log.length).toBeLessThanOrEqual(5);
    const r = await runPod(["healthcheck", "run", name]);
    expectExit(r, 1);
    expect(r.stdout).toBe("unhealthy\n");
    expect(lines((await runPod(["ps", "--filter", "health=unhealthy", "--format", "{{.Names}}"])).stdout)).toContain(name);
    expect(lines((await runPod(["ps", "--filter", "health=healthy", "--format", "{{.Names}}"])).stdout)).not.toContain(name);
    const ev = await runPod(["events", "--stream=false", "--format", "{{.Status}} {{.Name}}"]);
    expect(ev.stdout).toContain(`health_status ${name}`);
    // it recovers as soon as a check passes
    expectExit(await runPod(["exec", name, "rm", "/tmp/bad"]), 0);
    await until("healthy again", async () => (await health(name)).Status === "healthy", 10_000);
    expect((await health(name)).FailingStreak).toBe(0);
  });

  A("--health-on-failure=restart starts an unhealthy container again; a hung check is killed at --health-timeout; failures in the start period do not count", async () => {
    const r = safeName("r");
    await runD(r, ["--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1", "--health-on-failure", "restart", "alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(r, "{{.State.Pid}}"));
    await until("a restart by the healthcheck", async () => {
      const p = Number(await inspectFmt(r, "{{.State.Pid}}"));
      return p > 0 && p !== pid;
    }, 15_000);
    expectExit(await runPod(["rm", "-f", "-t", "0", r]), 0);

    const hung = safeName("t");
    await runD(hung, ["--health-cmd", "sleep 30", "--health-timeout", "1s", "--health-interval", "1s", "--health-retries", "1", "alpine", "sleep", "1000"]);
    await until("unhealthy by timeout", async () => (await health(hung)).Status === "unhealthy", 15_000);
    const h = await health(hung);
    expect(h.Log.at(-1)!.Output).toContain("timed out");
    expect(h.Log.at(-1)!.ExitCode).not.toBe(0);
    const procs = await runPod(["top", hung]);
    expect(procs.stdout, "the hung check's process is gone").not.toContain("sleep 30");

    const sp = safeName("sp");
    await runD(sp, ["--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1", "--health-start-period", "60s", "alpine", "sleep", "1000"]);
    await until("two checks", async () => (await health(sp)).Log.length >= 2, 15_000);
    const s = await health(sp);
    expect(s.Status).toBe("starting");
    expect(s.FailingStreak).toBe(0);
  });

  A("healthcheck run without a healthcheck or on a stopped container is exit 125; bad --health-* values are refused", async () => {
    const plain = safeName("p");
    await runD(plain, ["alpine", "sleep", "1000"]);
    expectPodError(await runPod(["healthcheck", "run", plain]), "has no defined healthcheck");
    expect(await inspectFmt(plain, "{{json .State.Health}}")).toBe("null");
    const stopped = safeName("s");
    await create(stopped, ["--health-cmd", "true", "alpine", "sleep", "1000"]);
    expectPodError(await runPod(["healthcheck", "run", stopped]), "not running");
    expectPodError(await runPod(["create", "--health-cmd", "true", "--health-retries", "0", "alpine", "true"]), "greater than 0");
    expectPodError(await runPod(["create", "--health-cmd", "true", "--health-on-failure", "explode", "alpine", "true"]), "--health-on-failure");
    expectPodError(await runPod(["create", "--health-cmd", "true", "--no-healthcheck", "alpine", "true"]), "conflict");
    expectPodError(await runPod(["create", "--health-cmd", "true", "--health-interval", "soon", "alpine", "true"]), "not a duration");
    expectPodError(await runPod(["create", "--health-interval", "5s", "alpine", "true"]), "need a healthcheck");
    await sleep(10);
  });
});
