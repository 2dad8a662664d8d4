// Resource limit flags on a host that cannot enforce them (these CI hosts
// have hybrid cgroups): every limit refuses to make the container, with one
// line naming the flag and the hybrid host, a hint, exit 125, and nothing
// left behind; values podman rejects are rejected with its words first; and
// runs without limit flags (or with --cgroups=disabled, or --pids-limit -1,
// which ask for no limit) are unchanged and quiet. The limits themselves
// are enforced and checked in test/vm/510-limits.vm.test.ts.
import { describe, test } from "bun:test";
import { useSuite, requires, runPod, expect, expectExit, expectPodError, assertOutput, lines, safeName } from "./helpers.ts";
import { useLifecycle, track, inspectFmt } from "./lifecycle-helpers.ts";
import { readFileSync } from "node:fs";

useSuite("640-limits");
useLifecycle();

/** v1 lines beside "0::" in /proc/self/cgroup: a hybrid host (pod reads it the same way) */
const hybrid = readFileSync("/proc/self/cgroup", "utf8").split("\n").some((l) => /^\d+:/.test(l) && !l.startsWith("0::"));
const A = requires("subuid", "alpine-fixture");
/** The refusals need a hybrid host (the CI hosts); elsewhere they skip saying why. */
const H: typeof A = !hybrid
  ? (name, fn, ms) => {
      void fn;
      void ms;
      console.log(`skip: "${name}": this host's cgroups are not hybrid: limits may be enforced here, see test/vm`);
      test.skip(`${name} (skipped: the host enforces limits)`, () => {});
    }
  : A;

const LIMITS: [string, string][] = [
  ["--memory", "32m"],
  ["-m", "1g"],
  ["--memory-reservation", "16m"],
  ["--cpus", "0.5"],
  ["--cpu-shares", "512"],
  ["-c", "512"],
  ["--cpu-quota", "50000"],
  ["--cpu-period", "50000"],
  ["--cpuset-cpus", "0"],
  ["--cpuset-mems", "0"],
  ["--pids-limit", "10"],
  ["--blkio-weight", "300"],
  ["--cgroup-conf", "memory.high=64m"],
];

async function psNames(): Promise<string[]> {
  const r = await runPod(["ps", "-a", "--format", "{{.Names}}"]);
  expectExit(r, 0);
  return lines(r.stdout);
}

describe("limits this host cannot enforce", () => {
  H("each limit flag: run and create refuse with the flag, the hybrid host and a hint; no container is made", async () => {
    for (const [flag, value] of LIMITS) {
      const name = track(safeName("lim"));
      const long = flag === "-m" ? "--memory" : flag === "-c" ? "--cpu-shares" : flag;
      for (const verb of ["run", "create"]) {
        const r = await runPod([verb, ...(verb === "run" ? ["--rm"] : []), "--name", name, flag, value, "alpine", "true"]);
        expectPodError(r, `cannot enforce ${long}`, "hybrid");
        const err = lines(r.stderr);
        expect(err, `${verb} ${flag} ${value}: stderr is the error line and the hint`).toHaveLength(2);
        expect(err[1]).toMatch(/^Hint: .*systemd\.unified_cgroup_hierarchy=1.*run without /);
        expect(r.stdout, `${verb} ${flag}: stdout`).toBe("");
      }
      expect(await psNames(), `after ${flag} ${value}`).not.toContain(name);
    }
  });

  H("a device throttle refuses the same way (io)", async () => {
    const r = await runPod(["run", "--rm", "--device-read-bps", "/dev/loop0:1mb", "alpine", "true"]);
    // a host without /dev/loop0 says so first: either way the container does not run
    if (r.stderr.includes("not a block device")) expectPodError(r, "/dev/loop0: not a block device");
    else expectPodError(r, "cannot enforce --device-read-bps", "hybrid");
  });
});

describe("values podman rejects", () => {
  A("bad sizes, numbers and combinations, with podman's messages", async () => {
    const cases: [string[], string][] = [
      [["--memory", "lots"], "invalid value for memory: invalid size: 'lots'"],
      [["--memory-swap", "64m"], "you should always set a memory limit when using a memoryswap limit, see usage"],
      [["--memory", "64m", "--memory-swap", "32m"], "minimum memoryswap limit should be larger than memory limit, see usage"],
      [["--memory", "32m", "--memory-reservation", "64m"], "minimum memory limit cannot be less than memory reservation limit, see usage"],
      [["--memory-swappiness", "101"], "invalid value: 101, valid memory swappiness range is 0-100"],
      [["--memory-swappiness", "50"], "cgroup v2 has no memory.swappiness"],
      [["--oom-kill-disable"], "cgroup v2 cannot turn the OOM killer off"],
      [["--oom-score-adj", "2000"], "between -1000 and 1000"],
      [["--cpus", "two"], `invalid argument "two" for "--cpus" flag`],
      [["--cpus", "1", "--cpu-quota", "50000"], "--cpu-quota and --cpus cannot be set together"],
      [["--cpu-period", "10"], "CPU cfs period cannot be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)"],
      [["--cpu-quota", "10"], "CPU cfs quota cannot be less than 1ms (i.e. 1000)"],
      [["--cpuset-cpus", "0-x"], "invalid value 0-x for cpuset cpus"],
      [["--blkio-weight", "5"], "range of blkio weight is from 10 to 1000"],
      [["--pids-limit", "many"], `invalid argument "many" for "--pids-limit" flag`],
      [["--device-write-bps", "/dev/null"], "bad format for device path: /dev/null"],
      [["--device-write-iops", "/dev/null:fast"], "invalid rate for device: /dev/null:fast"],
      [["--cgroups", "sometimes"], `invalid cgroup mode "sometimes"`],
      [["--cgroups", "disabled", "--memory", "32m"], "--memory needs the container's own cgroup, and --cgroups=disabled gives it none"],
      [["--cgroup-conf", "memory.high"], "--cgroup-conf must be formatted KEY=VALUE"],
    ];
    for (const [args, message] of cases) {
      const r = await runPod(["run", "--rm", ...args, "alpine", "true"]);
      expectPodError(r, message);
      expect(r.stdout, args.join(" ")).toBe("");
    }
  });
});

describe("runs that ask for no limit", () => {
  A("without limit flags, with --cgroups=disabled, and with --pids-limit -1: the run is quiet and works; inspect shows podman's HostConfig fields", async () => {
    for (const extra of [[], ["--cgroups=disabled"], ["--pids-limit", "-1"], ["--cgroups", "no-conmon"]]) {
      const r = await runPod(["run", "--rm", ...extra, "alpine", "echo", "ok"]);
      expectExit(r, 0);
      assertOutput(r.stdout, "ok\n", `stdout with ${extra.join(" ") || "no flags"}`);
      assertOutput(r.stderr, "", `stderr with ${extra.join(" ") || "no flags"}`);
    }
    const name = track(safeName("c"));
    const c = await runPod(["create", "--name", name, "--cgroups", "disabled", "--pids-limit", "-1", "alpine", "true"]);
    expectExit(c, 0);
    const host = JSON.parse(await inspectFmt(name, "{{json .HostConfig}}")) as Record<string, unknown>;
    expect(host).toMatchObject({ Cgroups: "disabled", CgroupManager: "cgroupfs", Memory: 0, MemorySwap: 0, NanoCpus: 0, CpuShares: 0, CpuQuota: 0, CpuPeriod: 0, PidsLimit: -1, BlkioWeight: 0, CpusetCpus: "", OomScoreAdj: 0 });
    expect(await inspectFmt(name, "{{.State.OOMKilled}}")).toBe("false");
  });

  A("--oom-score-adj raises the container's OOM score (no cgroup needed) and inspect records it", async () => {
    const r = await runPod(["run", "--rm", "--oom-score-adj", "500", "alpine", "cat", "/proc/self/oom_score_adj"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "500\n", "oom_score_adj inside the container");
    const name = track(safeName("c"));
    expectExit(await runPod(["create", "--name", name, "--oom-score-adj", "300", "alpine", "true"]), 0);
    expect(await inspectFmt(name, "{{.HostConfig.OomScoreAdj}}")).toBe("300");
  });
});

describe("stats and update where containers have no cgroup", () => {
  H("stats of a running container says why there are no numbers; stats -a --no-stream of none prints the header; update refuses a limit", async () => {
    const head = await runPod(["stats", "--no-stream", "-a", "--format", "table {{.ID}}\t{{.Name}}\t{{.MemUsage}}"]);
    expectExit(head, 0);
    expect(lines(head.stdout)[0]).toMatch(/^ID +NAME +MEM USAGE \/ LIMIT$/);
    const name = track(safeName("c"));
    expectExit(await runPod(["run", "-d", "--name", name, "alpine", "sleep", "1000"]), 0);
    expectPodError(await runPod(["stats", "--no-stream", name]), `cannot get statistics of container ${name}: it has no cgroup of its own`, "hybrid");
    expectPodError(await runPod(["update", "--memory", "64m", name]), "cannot enforce --memory", "hybrid");
    expectPodError(await runPod(["stats", "-a", name]), "--all, --latest and containers cannot be used together");
  });
});
