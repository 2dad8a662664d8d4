// The limit flags as podman validates them and the cgroup v2 files they become
// (crun's conversions), pure: no file system.
import { describe, expect, test } from "bun:test";
import { blkioToIoWeight, limitWrites, mergeLimits, parseLimits, ramInBytes, requestedControllers, sharesToWeight } from "../../../pkg/cgroup/limits.ts";

const files = (r: ReturnType<typeof parseLimits>, has: string[] = []) => Object.fromEntries(limitWrites(r, (f) => has.includes(f)).map((w) => [w.file, w.value]));

describe("parseLimits", () => {
  test("sizes as go-units RAMInBytes reads them; --memory alone gives twice the memory as memory+swap, as podman", () => {
    expect(ramInBytes("32m")).toBe(32 * 2 ** 20);
    expect(ramInBytes("1.5g")).toBe(1.5 * 2 ** 30);
    expect(ramInBytes("100")).toBe(100);
    expect(ramInBytes("lots")).toBeUndefined();
    expect(parseLimits({ memory: "32m" })).toEqual({ memory: 32 * 2 ** 20, memorySwap: 64 * 2 ** 20 });
    expect(parseLimits({ memory: "32m", memorySwap: "-1" })).toEqual({ memory: 32 * 2 ** 20, memorySwap: -1, memorySwapSet: true });
  });

  test("--cpus becomes podman's NanoCpus and a quota per 100000 µs period", () => {
    expect(parseLimits({ cpus: "0.5" })).toEqual({ nanoCpus: 500_000_000, cpuPeriod: 100_000, cpuQuota: 50_000 });
    expect(parseLimits({ cpus: "0" })).toEqual({});
  });

  test("--pids-limit 0 and -1 are unlimited; none given is no field (the default is added at create)", () => {
    expect(parseLimits({ pidsLimit: "-1" }).pidsLimit).toBe(-1);
    expect(parseLimits({ pidsLimit: "0" }).pidsLimit).toBe(-1);
    expect(parseLimits({ pidsLimit: "50" }).pidsLimit).toBe(50);
    expect(parseLimits({})).toEqual({});
  });

  test("podman's refusals", () => {
    expect(() => parseLimits({ memorySwap: "1g" })).toThrow("you should always set a memory limit");
    expect(() => parseLimits({ cpus: "1", cpuPeriod: "1000" })).toThrow("--cpu-period and --cpus cannot be set together");
    expect(() => parseLimits({ blkioWeight: "1001" })).toThrow("range of blkio weight is from 10 to 1000");
    expect(() => parseLimits({ cpusetCpus: "3-1" })).toThrow("invalid value 3-1 for cpuset cpus");
    expect(() => parseLimits({ cgroups: "split", cgroupParent: "x" })).toThrow("cannot use --cgroup-parent with --cgroups=split");
    expect(parseLimits({ cgroupConf: ["hugetlb.2MB.max=0"] }).unified).toEqual({ "hugetlb.2MB.max": "0" });
    expect(() => parseLimits({ cgroupConf: ["cgroup.procs=1"] })).toThrow("not a controller's file");
    expect(() => parseLimits({ cgroupParent: "../up" })).toThrow('".." is not allowed');
  });

  test("device throttles need a block device", () => {
    const stat = (p: string) => (p === "/dev/sda" ? { major: 8, minor: 0 } : undefined);
    expect(parseLimits({ deviceReadBps: ["/dev/sda:1mb"], deviceWriteIops: ["/dev/sda:100"] }, stat).throttle).toEqual([
      { kind: "rbps", path: "/dev/sda", major: 8, minor: 0, rate: 2 ** 20 },
      { kind: "wiops", path: "/dev/sda", major: 8, minor: 0, rate: 100 },
    ]);
    expect(() => parseLimits({ deviceReadBps: ["/dev/null:1mb"] }, stat)).toThrow("/dev/null: not a block device");
  });
});

describe("cgroup v2 files", () => {
  test("--cpu-shares to cpu.weight as crun maps it (1024 is 39, 2 is 1, 262144 is 10000)", () => {
    expect(sharesToWeight(1024)).toBe(39);
    expect(sharesToWeight(512)).toBe(20);
    expect(sharesToWeight(2)).toBe(1);
    expect(sharesToWeight(262_144)).toBe(10_000);
    expect(blkioToIoWeight(10)).toBe(1);
    expect(blkioToIoWeight(1000)).toBe(10_000);
  });

  test("memory, swap, cpu, cpuset, pids and io files", () => {
    const r = parseLimits({ memory: "32m", memoryReservation: "16m", cpuShares: "1024", cpuQuota: "20000", cpusetCpus: "0", pidsLimit: "-1", blkioWeight: "500" });
    expect(files(r, ["memory.swap.max"])).toEqual({
      "memory.low": String(16 * 2 ** 20),
      "memory.max": String(32 * 2 ** 20),
      "memory.swap.max": String(32 * 2 ** 20),
      "cpu.weight": "39",
      "cpu.max": "20000 100000",
      "cpuset.cpus": "0",
      "pids.max": "max",
      "io.weight": `default ${blkioToIoWeight(500)}`,
    });
    // without swap accounting an implicit swap limit is left out; BFQ takes the blkio weight as it is
    expect(files(parseLimits({ memory: "32m", blkioWeight: "500" }), ["io.bfq.weight"])).toEqual({ "memory.max": String(32 * 2 ** 20), "io.bfq.weight": "default 500" });
    const dev = parseLimits({ deviceReadBps: ["/dev/sda:1k"], deviceWriteBps: ["/dev/sda:2k"] }, () => ({ major: 8, minor: 0 }));
    expect(files(dev)).toEqual({ "io.max": "8:0 rbps=1024 wbps=2048" });
  });

  test("the controllers each flag needs; the default pids limit and unlimited values need none", () => {
    expect(requestedControllers(parseLimits({ memory: "1g", cpus: "1", pidsLimit: "5", cgroupConf: ["io.weight=100"] })).map((q) => `${q.controller} ${q.flag}`)).toEqual([
      "memory --memory",
      "cpu --cpus",
      "pids --pids-limit",
      "io --cgroup-conf io.weight",
    ]);
    expect(requestedControllers({ pidsLimit: 2048, pidsDefault: true })).toEqual([]);
    expect(requestedControllers(parseLimits({ pidsLimit: "-1", memory: "0", cpus: "0" }))).toEqual([]);
  });

  test("pod update replaces only the limits it is given", () => {
    const old = parseLimits({ memory: "32m", cpus: "1" });
    const given = { memory: "64m" };
    expect(mergeLimits(old, parseLimits(given), given)).toEqual({ memory: 64 * 2 ** 20, memorySwap: 128 * 2 ** 20, nanoCpus: 1e9, cpuPeriod: 100_000, cpuQuota: 100_000 });
  });
});
