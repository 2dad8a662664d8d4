// Resource limits for real: runs inside the VM that test/vm/run.sh boots (a
// pure cgroup v2 hierarchy, user@1000.service delegated with cpu, cpuset, io,
// memory and pids), where these hybrid CI hosts cannot. A memory limit
// OOM-kills (exit 137, State.OOMKilled, the oom event); a pids limit refuses
// a fork; a CPU quota throttles; each flag lands in its cgroup v2 file
// (crun's cpu.weight mapping), visible inside at /sys/fs/cgroup; update
// changes a running container's files; stats reads them; kill leaves none
// of a hundred forked children; a controller that is not delegated is
// refused. Kept small: under TCG every pod call is several times slower.
import { describe } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, HEX64 } from "../e2e/helpers.ts";
import { sleep } from "../fixtures/proc.ts";
import { made, support, useVmSuite, V } from "./vm-suite.ts";

useSuite("510-limits");

useVmSuite();

async function runD(name: string, args: string[]): Promise<string> {
  made.push(name);
  const r = await runPod(["run", "-d", "--name", name, ...args]);
  expectExit(r, 0);
  expect(r.stdout.trim()).toMatch(HEX64);
  return r.stdout.trim();
}

async function inspect(name: string): Promise<{ State: { Pid: number; OOMKilled: boolean; ExitCode: number; Status: string }; HostConfig: Record<string, unknown> }> {
  const r = await runPod(["inspect", name]);
  expectExit(r, 0);
  return JSON.parse(r.stdout)[0];
}

/** The cgroup a host process is in, as an absolute path under /sys/fs/cgroup. */
function cgroupOfPid(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"));
  return join("/sys/fs/cgroup", line!.slice(3));
}

const file = (dir: string, name: string) => readFileSync(join(dir, name), "utf8").trim();

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

describe("memory", () => {
  V("a container past its --memory is OOM-killed: exit 137, State.OOMKilled, ps and the oom event say so", async () => {
    if (!support.ok) return;
    const name = safeName("oom");
    made.push(name);
    const r = await runPod(["run", "--name", name, "--memory", "16m", "--memory-swap", "16m", "busybox", "sh", "-c", "cat /sys/fs/cgroup/memory.max; x=aaaaaaaaaaaaaaaa; while :; do x=$x$x; done"], { timeoutMs: 120_000 });
    expect(r.code, `run's exit status (stderr: ${r.stderr})`).toBe(137);
    assertOutput(lines(r.stdout)[0] ?? "", "16777216", "memory.max inside the container");
    const st = await inspect(name);
    expect({ OOMKilled: st.State.OOMKilled, ExitCode: st.State.ExitCode }).toEqual({ OOMKilled: true, ExitCode: 137 });
    expect(st.HostConfig).toMatchObject({ Memory: 16 * 2 ** 20, MemorySwap: 16 * 2 ** 20 });
    const ps = await runPod(["ps", "-a", "--filter", `name=${name}`, "--format", "{{.Status}}"]);
    expect(ps.stdout).toMatch(/^Exited \(137\) /);
    const ev = await runPod(["events", "--stream=false", "--filter", `container=${name}`, "--filter", "event=oom", "--format", "{{.Status}} {{.Name}}"]);
    expectExit(ev, 0);
    assertOutput(ev.stdout, `oom ${name}\n`, "the oom event");
  });
});

describe("limits in the cgroup files", () => {
  V("each flag lands in its file (cpu.weight as crun maps --cpu-shares), inside too; update changes them live; stats reads them; the default pids limit is 2048", async () => {
    if (!support.ok) return;
    const name = safeName("lim");
    await runD(name, ["--cpu-shares", "512", "--cpus", "0.5", "--pids-limit", "50", "--cpuset-cpus", "0", "--memory", "64m", "--memory-reservation", "32m", "--cgroup-conf", "memory.high=50m", "busybox", "sleep", "1000"]);
    const st = await inspect(name);
    const scope = cgroupOfPid(st.State.Pid);
    expect(scope.startsWith(support.parent + "/pod-")).toBe(true);
    expect(Object.fromEntries(["cpu.weight", "cpu.max", "pids.max", "cpuset.cpus", "memory.max", "memory.low", "memory.high"].map((f) => [f, file(scope, f)]))).toEqual({
      "cpu.weight": "20",
      "cpu.max": "50000 100000",
      "pids.max": "50",
      "cpuset.cpus": "0",
      "memory.max": String(64 * 2 ** 20),
      "memory.low": String(32 * 2 ** 20),
      "memory.high": String(50 * 2 ** 20),
    });
    expect(st.HostConfig).toMatchObject({ NanoCpus: 500_000_000, CpuShares: 512, CpuQuota: 50_000, CpuPeriod: 100_000, PidsLimit: 50, CpusetCpus: "0", Memory: 64 * 2 ** 20, MemoryReservation: 32 * 2 ** 20, MemorySwap: 128 * 2 ** 20, CgroupConf: { "memory.high": "50m" } });
    // exec joins the container's cgroup: its own /sys/fs/cgroup shows the limits
    const ex = await runPod(["exec", name, "sh", "-c", "cat /sys/fs/cgroup/cpuset.cpus.effective /sys/fs/cgroup/pids.max"]);
    expectExit(ex, 0);
    assertOutput(ex.stdout, "0\n50\n", "cpuset.cpus.effective and pids.max inside");

    const up = await runPod(["update", "--memory", "128m", "--pids-limit", "60", name]);
    expectExit(up, 0);
    expect(up.stdout.trim()).toMatch(HEX64);
    expect([file(scope, "memory.max"), file(scope, "pids.max")]).toEqual([String(128 * 2 ** 20), "60"]);
    expect((await inspect(name)).HostConfig).toMatchObject({ Memory: 128 * 2 ** 20, PidsLimit: 60 });

    const s = await runPod(["stats", "--no-stream", "--format", "{{.Name}} {{.PIDS}} {{.MemUsage}}", name]);
    expectExit(s, 0);
    assertOutput(s.stdout, new RegExp(`^${name} ${file(scope, "pids.current")} \\S+ / 134.2MB\\n$`), "stats --no-stream");
    const j = await runPod(["stats", "--no-stream", "--format", "json", name]);
    expectExit(j, 0);
    expect(JSON.parse(j.stdout)[0]).toMatchObject({ name, pids: "1", mem_usage: expect.stringMatching(/ \/ 134.2MB$/), cpu_percent: expect.stringMatching(/^\d+\.\d\d%$/) });
    const table = await runPod(["stats", "--no-stream", "-a"]);
    expectExit(table, 0);
    expect(lines(table.stdout)[0]).toMatch(/^ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET IO +BLOCK IO +PIDS +CPU TIME +AVG CPU %$/);

    // no --pids-limit: podman's default where pids is delegated
    const d = safeName("def");
    await runD(d, ["busybox", "sleep", "1000"]);
    const ds = await inspect(d);
    expect([file(cgroupOfPid(ds.State.Pid), "pids.max"), ds.HostConfig.PidsLimit]).toEqual(["2048", 2048]);
  });

  V("a pids limit refuses a fork; a CPU quota throttles (nr_throttled grows)", async () => {
    if (!support.ok) return;
    const r = await runPod(["run", "--rm", "--pids-limit", "4", "busybox", "sh", "-c", "for i in 1 2 3 4 5 6; do sleep 30 & done; echo done"], { timeoutMs: 120_000 });
    expect(r.stderr, "the shell's refused fork").toMatch(/can't fork|Resource temporarily unavailable/);

    const name = safeName("cpu");
    await runD(name, ["--cpus", "0.1", "busybox", "sh", "-c", "while :; do :; done"]);
    const scope = cgroupOfPid((await inspect(name)).State.Pid);
    expect(file(scope, "cpu.max")).toBe("10000 100000");
    await until("cpu.stat nr_throttled to grow", () => Number(/nr_throttled (\d+)/.exec(file(scope, "cpu.stat"))?.[1] ?? 0) > 0);
  });

  V("a controller that is not delegated is refused with its name; --cgroups=disabled runs without a cgroup", async () => {
    if (!support.ok) return;
    const r = await runPod(["run", "--rm", "--cgroup-conf", "hugetlb.2MB.max=0", "busybox", "true"]);
    expectPodError(r, "cannot enforce --cgroup-conf hugetlb.2MB.max: the hugetlb controller is not delegated to you", "Delegate=");
    const name = safeName("nocg");
    await runD(name, ["--cgroups=disabled", "busybox", "sleep", "1000"]);
    const pid = (await inspect(name)).State.Pid;
    expect(cgroupOfPid(pid).startsWith(support.parent + "/pod-")).toBe(false);
    expectPodError(await runPod(["stats", "--no-stream", name]), "it has no cgroup of its own (it runs with --cgroups=disabled)");
  });
});

describe("kill", () => {
  V("kill of a container that forked a hundred children (outside its PID namespace's reach: --pid host) leaves none", async () => {
    if (!support.ok) return;
    const name = safeName("fork");
    await runD(name, ["--pid", "host", "busybox", "sh", "-c", "i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); done; wait"]);
    const scope = cgroupOfPid((await inspect(name)).State.Pid);
    await until("101 processes in the scope", () => readFileSync(join(scope, "cgroup.procs"), "utf8").trim().split("\n").length >= 101, 60_000);
    const pids = readFileSync(join(scope, "cgroup.procs"), "utf8").trim().split("\n").map(Number);
    expectExit(await runPod(["kill", name]), 0);
    const alive = (p: number) => existsSync(`/proc/${p}`) && !/\) Z /.test(readFileSync(`/proc/${p}/stat`, "utf8"));
    await until("every forked child to be gone", () => pids.every((p) => { try { return !alive(p); } catch { return true; } }), 20_000);
    await until(`${scope} to be removed`, () => !existsSync(scope), 20_000);
  });
});
