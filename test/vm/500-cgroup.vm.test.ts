// Container cgroups and pause/unpause for real: runs inside the VM that
// test/vm/run.sh boots (a pure cgroup v2 hierarchy with user@1000.service
// delegated to the test user, as systemd sets it up), where these hybrid CI
// hosts cannot. Each container gets `…/pod.slice/pod-<id>.scope`; pause
// freezes it (a counter the container writes to its log stops), unpause
// thaws it, rm -f ends a paused container, and the scope goes when the
// container ends. Kept small: under TCG every pod call is several times slower.
import { describe } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { POD, useSuite, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, HEX64 } from "../e2e/helpers.ts";
import { sleep } from "../fixtures/proc.ts";
import { made, support, useVmSuite, V } from "./vm-suite.ts";

useSuite("500-cgroup");

useVmSuite();

/** Prints 1, 2, 3, … five times a second. */
const COUNTER = ["sh", "-c", "i=0; while :; do i=$((i+1)); echo $i; sleep 0.2; done"];

async function runD(name: string, argv: string[]): Promise<string> {
  made.push(name);
  const r = await runPod(["run", "-d", "--name", name, "busybox", ...argv]);
  expectExit(r, 0);
  expect(r.stdout.trim()).toMatch(HEX64);
  return r.stdout.trim();
}

async function inspectState(name: string): Promise<{ Status: string; Running: boolean; Paused: boolean; Pid: number }> {
  const r = await runPod(["inspect", name]);
  expectExit(r, 0);
  return (JSON.parse(r.stdout) as { State: { Status: string; Running: boolean; Paused: boolean; Pid: number } }[])[0]!.State;
}

/** The last number the counter wrote to the container's log. */
async function lastCount(name: string): Promise<number> {
  const r = await runPod(["logs", name]);
  expectExit(r, 0);
  return Number(lines(r.stdout).at(-1) ?? 0);
}

/** The cgroup a host process is in, as an absolute path under /sys/fs/cgroup. */
function cgroupOfPid(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"));
  return join("/sys/fs/cgroup", line!.slice(3));
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe("container cgroups", () => {
  V("a container runs in pod.slice/pod-<id>.scope of the delegated subtree, sees it as its cgroup root, and the scope goes when it ends", async () => {
    if (!support.ok) return;
    const r = await runPod(["run", "--rm", "busybox", "cat", "/proc/self/cgroup"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "0::/\n", "/proc/self/cgroup inside the container (its own cgroup namespace)");

    const name = safeName("c");
    const id = await runD(name, ["sleep", "1000"]);
    const { Pid } = await inspectState(name);
    const scope = cgroupOfPid(Pid);
    assertOutput(scope, join(support.parent, `pod-${id}.scope`), "the container's cgroup");
    expect(readFileSync(join(scope, "cgroup.procs"), "utf8").split("\n")).toContain(String(Pid));
    // exec joins the container's cgroup too, like docker exec (nsenter would not)
    const ex = await runPod(["exec", name, "cat", "/proc/self/cgroup"]);
    expectExit(ex, 0);
    assertOutput(ex.stdout, "0::/\n", "/proc/self/cgroup of an exec'd process");
    expectExit(await runPod(["exec", "-d", name, "sleep", "600"]), 0);
    await until("the exec'd sleep to show in the scope", () => readFileSync(join(scope, "cgroup.procs"), "utf8").trim().split("\n").length >= 2, 10_000);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    await until(`${scope} to be removed after the container stopped`, () => !existsSync(scope), 10_000);
    const left = existsSync(support.parent) ? readdirSync(support.parent).filter((n) => n.startsWith("pod-") && n !== "pod-monitors.scope") : [];
    expect(left, `scopes left in ${support.parent}`).toEqual([]);
  });
});

describe("monitors", () => {
  V("a detached container's monitor lives in pod.slice/pod-monitors.scope, so ending the cgroup it was started from ends neither, and its --restart policy goes on", async () => {
    if (!support.ok) return;
    const vmCgroup = process.env.VM_RUN_CGROUP;
    if (!vmCgroup) throw new Error("VM_RUN_CGROUP is not set: this test runs inside test/vm/run.sh's VM");
    // A terminal's scope, as systemd makes one per window: pod is started from inside it, then the scope is killed.
    const term = join(vmCgroup, "app.slice", `term-${process.pid}.scope`);
    mkdirSync(term);
    const name = safeName("c");
    made.push(name);
    const script = `echo $$ > ${term}/cgroup.procs && exec "$0" run -d --restart always --name ${name} busybox sleep 1000`;
    const r = Bun.spawnSync(["sh", "-c", script, POD], { env: pod().env, stdout: "pipe", stderr: "pipe" });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    const rec = JSON.parse((await runPod(["inspect", name])).stdout)[0] as { State: { Pid: number } };
    const monitorPid = Number(readFileSync(`/proc/${rec.State.Pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    assertOutput(cgroupOfPid(monitorPid), join(support.parent, "pod-monitors.scope"), "the monitor's cgroup");
    writeFileSync(join(term, "cgroup.kill"), "1");
    await until(`${term} to empty`, () => readFileSync(join(term, "cgroup.events"), "utf8").includes("populated 0"), 10_000);
    rmdirSync(term);
    expect((await inspectState(name)).Status, "the container after its starter's cgroup was killed").toBe("running");
    // the session that started it is gone: its policy still starts it again
    process.kill(rec.State.Pid, "SIGKILL");
    await until("the policy to start it again", async () => {
      const st = await inspectState(name);
      return st.Status === "running" && st.Pid !== rec.State.Pid;
    }, 20_000);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
  });
});

describe("pause and unpause", () => {
  V("pause freezes the container (its counter stops), ps and inspect say paused; unpause resumes it", async () => {
    if (!support.ok) return;
    const name = safeName("c");
    const id = await runD(name, COUNTER);
    await until("the counter to reach 3", async () => (await lastCount(name)) >= 3);

    const p = await runPod(["pause", name]);
    expectExit(p, 0);
    assertOutput(p.stdout, `${name}\n`, "pause prints the name as typed");
    const st = await inspectState(name);
    expect({ Status: st.Status, Running: st.Running, Paused: st.Paused }).toEqual({ Status: "paused", Running: false, Paused: true });
    expect(st.Pid).toBeGreaterThan(0);
    expect(readFileSync(join(cgroupOfPid(st.Pid), "cgroup.events"), "utf8")).toContain("frozen 1");

    const ps = await runPod(["ps", "-a", "--filter", "status=paused", "--format", "{{.Names}} {{.Status}}"]);
    expectExit(ps, 0);
    assertOutput(ps.stdout, `${name} Paused\n`, "ps -a --filter status=paused");
    const running = await runPod(["ps", "-q"]);
    expect(lines(running.stdout), "plain ps lists running containers only, as podman").not.toContain(id.slice(0, 12));

    const c1 = await lastCount(name);
    await sleep(1500);
    expect(await lastCount(name), "the counter while paused").toBe(c1);

    expectPodError(await runPod(["pause", name]), `"${id}" is already paused`);
    expectPodError(await runPod(["stop", name]), "can only stop created or running containers", "is in state paused");
    expectPodError(await runPod(["rm", name]), "as it is paused");
    expectPodError(await runPod(["exec", name, "true"]), "can only create exec sessions on running containers", "is paused");
    expectPodError(await runPod(["attach", "--no-stdin", name]), "is paused");
    expectPodError(await runPod(["start", name]), "is paused");
    expect((await inspectState(name)).Status).toBe("paused");

    const u = await runPod(["unpause", id.slice(0, 12)]);
    expectExit(u, 0);
    assertOutput(u.stdout, `${id.slice(0, 12)}\n`, "unpause prints the ID as typed");
    expect((await inspectState(name)).Status).toBe("running");
    await until("the counter to move on after unpause", async () => (await lastCount(name)) > c1 + 2);
    expectPodError(await runPod(["unpause", name]), `"${id}" is not paused`);
  });

  V("pause --all and unpause --all act on the running and the paused containers", async () => {
    if (!support.ok) return;
    const a = await runD(safeName("a"), ["sleep", "1000"]);
    const b = await runD(safeName("b"), ["sleep", "1000"]);
    const p = await runPod(["pause", "--all"]);
    expectExit(p, 0);
    expect(lines(p.stdout).sort()).toEqual([a, b].sort());
    const ps = await runPod(["ps", "-a", "-q", "--no-trunc", "--filter", "status=paused"]);
    expect(lines(ps.stdout).sort()).toEqual([a, b].sort());
    const stopAll = await runPod(["stop", "-a", "-t", "0"]);
    expectExit(stopAll, 0);
    assertOutput(stopAll.stdout, "", "stop -a passes over paused containers, as podman");
    const u = await runPod(["unpause", "--all"]);
    expectExit(u, 0);
    expect(lines(u.stdout).sort()).toEqual([a, b].sort());
    expect(lines((await runPod(["ps", "-q", "--no-trunc"])).stdout).sort()).toEqual([a, b].sort());
  });

  V("rm -f ends a paused container (SIGKILL reaches frozen tasks) and its cgroup goes with it", async () => {
    if (!support.ok) return;
    const name = safeName("c");
    const id = await runD(name, COUNTER);
    const { Pid } = await inspectState(name);
    const scope = cgroupOfPid(Pid);
    expectExit(await runPod(["pause", name]), 0);
    const r = await runPod(["rm", "-f", name], { timeoutMs: 30_000 });
    expectExit(r, 0);
    assertOutput(r.stdout, `${id}\n`, "stdout of rm -f");
    made.splice(made.indexOf(name), 1);
    expect(lines((await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout)).not.toContain(id);
    await until(`${scope} to be removed`, () => !existsSync(scope), 10_000);
  });
});
