// Resource limits as podman takes them (run/create/update flags, its units,
// validation and messages) and as cgroup v2 files receive them (crun's
// conversions: --cpu-shares to cpu.weight, --blkio-weight to io.weight,
// --memory-swap to memory.swap.max). Pure: no file system here; index.ts
// applies the files to a container's own cgroup.
import { UsageError } from "../errors.ts";

/** The flags as typed (strings: validation happens here, with podman's messages). */
export type LimitFlags = {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  oomKillDisable?: boolean;
  oomScoreAdj?: string;
  cpus?: string;
  cpuShares?: string;
  cpuQuota?: string;
  cpuPeriod?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  deviceReadBps?: string[];
  deviceWriteBps?: string[];
  deviceReadIops?: string[];
  deviceWriteIops?: string[];
  cgroups?: string;
  cgroupParent?: string;
  cgroupConf?: string[];
};

export type ThrottleKind = "rbps" | "wbps" | "riops" | "wiops";
export type Throttle = { kind: ThrottleKind; path: string; major: number; minor: number; rate: number };
export type CgroupsMode = "enabled" | "disabled" | "no-conmon" | "split";

/**
 * What a container record keeps (RunOptions.resources), in podman's
 * HostConfig units: bytes, CFS microseconds, nano-CPUs, shares.
 */
export type Resources = {
  memory?: number;
  /** memory + swap in bytes; -1 unlimited swap. podman's default with --memory alone: twice the memory */
  memorySwap?: number;
  /** whether --memory-swap was given (an implicit swap is dropped where the kernel has no swap accounting) */
  memorySwapSet?: boolean;
  memoryReservation?: number;
  oomScoreAdj?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  /** -1 unlimited */
  pidsLimit?: number;
  /** the limit is podman's default (2048, where pids is delegated), not the user's */
  pidsDefault?: boolean;
  blkioWeight?: number;
  throttle?: Throttle[];
  /** --cgroup-conf KEY=VALUE: cgroup files written as given */
  unified?: Record<string, string>;
  cgroups?: CgroupsMode;
  cgroupParent?: string;
};

/** podman's default --pids-limit on cgroup v2 with the pids controller (containers.conf pids_limit). */
export const DEFAULT_PIDS_LIMIT = 2048;
/** The CFS period podman gives --cpus (util.CoresToPeriodAndQuota). */
export const DEFAULT_CPU_PERIOD = 100_000;

const units: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** go-units RAMInBytes: a number with an optional b, k, m, g, t, p unit (powers of 1024). */
export function ramInBytes(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v.trim());
  const n = m ? Math.floor(Number(m[1]) * (m[2] ? units[m[2].toLowerCase()]! : 1)) : NaN;
  return Number.isSafeInteger(n) ? n : undefined;
}

function bytesFlag(v: string): number {
  const n = ramInBytes(v);
  if (n === undefined) throw new UsageError(`invalid value for memory: invalid size: '${v}'`, { hint: "give a number with an optional unit b, k, m or g (e.g. 512m)" });
  return n;
}

/** A Go integer flag: pflag's message for anything else. */
function intFlag(flag: string, v: string, min = -(2 ** 53), max = 2 ** 53): number {
  const n = Number(v);
  if (!/^[-+]?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
    const why = /^[-+]?\d+$/.test(v.trim()) ? "value out of range" : "invalid syntax";
    throw new UsageError(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": ${why}`, { hint: `--${flag} takes a whole number` });
  }
  if (n < min || n > max) throw new UsageError(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseUint: parsing "${v}": invalid syntax`, { hint: `--${flag} takes a whole number of at least ${min}` });
  return n;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function cpuList(what: "cpus" | "mems", v: string): string {
  const ok = CPU_LIST.test(v) && v.split(",").every((r) => { const [a, b] = r.split("-").map(Number); return b === undefined || a! <= b; });
  if (!ok) throw new UsageError(`invalid value ${v} for cpuset ${what}`, { hint: `--cpuset-${what} takes a list such as 0-2,4` });
  return v;
}

/** --device-read-bps PATH:RATE and friends; `stat` gives the device's numbers (index.ts passes the real one). */
function throttles(kind: ThrottleKind, values: string[], stat: DeviceStat): Throttle[] {
  const bps = kind.endsWith("bps");
  return values.map((v) => {
    const i = v.lastIndexOf(":");
    if (i <= 0) throw new UsageError(`bad format for device path: ${v}`, { hint: `give PATH:RATE, e.g. /dev/sda:${bps ? "1mb" : "1000"}` });
    const path = v.slice(0, i);
    const text = v.slice(i + 1);
    const rate = bps ? ramInBytes(text) : /^\d+$/.test(text) ? Number(text) : undefined;
    if (rate === undefined || rate <= 0)
      throw new UsageError(
        bps
          ? `invalid rate for device: ${v}. The correct format is <device-path>:<number>[<unit>]. Number must be a positive integer. Unit is optional and can be kb, mb, or gb`
          : `invalid rate for device: ${v}. The correct format is <device-path>:<number>. Number must be a positive integer`,
        { hint: `e.g. /dev/sda:${bps ? "1mb" : "1000"}` },
      );
    const dev = stat(path);
    if (!dev) throw new UsageError(`${path}: not a block device`, { hint: "give the path of a block device of the host, such as /dev/sda" });
    return { kind, path, rate, ...dev };
  });
}

export type DeviceStat = (path: string) => { major: number; minor: number } | undefined;

/** Everything the limit flags say, checked with podman's messages; an empty object when none was given. */
export function parseLimits(f: LimitFlags, stat: DeviceStat = () => undefined): Resources {
  const r: Resources = {};
  if (f.cgroups !== undefined) {
    if (!["enabled", "disabled", "no-conmon", "split"].includes(f.cgroups))
      throw new UsageError(`invalid cgroup mode "${f.cgroups}"`, { hint: "--cgroups takes enabled, disabled, no-conmon or split" });
    if (f.cgroups !== "enabled") r.cgroups = f.cgroups as CgroupsMode;
  }
  if (f.cgroupParent !== undefined && f.cgroupParent !== "") {
    if (r.cgroups === "split") throw new UsageError("cannot use --cgroup-parent with --cgroups=split", { hint: "split puts the container below pod's own cgroup: drop one of them" });
    if (f.cgroupParent.split("/").includes("..")) throw new UsageError(`invalid --cgroup-parent ${f.cgroupParent}: ".." is not allowed`, { hint: "give a cgroup path such as /user.slice/… or a name below your delegated subtree" });
    r.cgroupParent = f.cgroupParent;
  }
  if (f.memory !== undefined) {
    const m = bytesFlag(f.memory);
    if (m > 0) {
      r.memory = m;
      if (f.memorySwap === undefined) r.memorySwap = 2 * m;
    }
  }
  if (f.memoryReservation !== undefined) r.memoryReservation = bytesFlag(f.memoryReservation);
  if (f.memorySwap !== undefined) {
    r.memorySwap = f.memorySwap === "-1" ? -1 : bytesFlag(f.memorySwap);
    r.memorySwapSet = true;
    if (r.memory === undefined) throw new UsageError("you should always set a memory limit when using a memoryswap limit, see usage", { hint: "add --memory, e.g. --memory 512m --memory-swap 1g" });
    if (r.memorySwap !== -1 && r.memorySwap < r.memory) throw new UsageError("minimum memoryswap limit should be larger than memory limit, see usage", { hint: "--memory-swap is memory plus swap: give at least the --memory value (-1: unlimited swap)" });
  }
  if (r.memory !== undefined && r.memoryReservation !== undefined && r.memory < r.memoryReservation)
    throw new UsageError("minimum memory limit cannot be less than memory reservation limit, see usage", { hint: "give --memory-reservation below --memory" });
  if (f.memorySwappiness !== undefined) {
    const s = intFlag("memory-swappiness", f.memorySwappiness);
    if (s > 100 || s < -1) throw new UsageError(`invalid value: ${s}, valid memory swappiness range is 0-100`, { hint: "give 0 to 100" });
    if (s >= 0)
      throw new UsageError("--memory-swappiness: cgroup v2 has no memory.swappiness, so it cannot be set per container", {
        hint: "drop --memory-swappiness (podman supports it only as root on cgroup v1)",
      });
  }
  if (f.oomKillDisable)
    throw new UsageError("--oom-kill-disable: cgroup v2 cannot turn the OOM killer off for a cgroup", { hint: "drop --oom-kill-disable; --oom-score-adj -1000 keeps the first process away from the OOM killer (as root)" });
  if (f.oomScoreAdj !== undefined) {
    const a = intFlag("oom-score-adj", f.oomScoreAdj);
    if (a < -1000 || a > 1000) throw new UsageError(`invalid --oom-score-adj ${a}: it must be between -1000 and 1000`, { hint: "give -1000 to 1000" });
    if (a !== 0) r.oomScoreAdj = a;
  }
  cpuLimits(f, r);
  if (f.pidsLimit !== undefined) {
    const p = intFlag("pids-limit", f.pidsLimit);
    r.pidsLimit = p <= 0 ? -1 : p;
  }
  if (f.blkioWeight !== undefined) {
    const w = intFlag("blkio-weight", f.blkioWeight, 0, 65535);
    if (w !== 0 && (w > 1000 || w < 10)) throw new UsageError("range of blkio weight is from 10 to 1000", { hint: "give 10 to 1000" });
    if (w) r.blkioWeight = w;
  }
  const t = [
    ...throttles("rbps", f.deviceReadBps ?? [], stat),
    ...throttles("wbps", f.deviceWriteBps ?? [], stat),
    ...throttles("riops", f.deviceReadIops ?? [], stat),
    ...throttles("wiops", f.deviceWriteIops ?? [], stat),
  ];
  if (t.length) r.throttle = t;
  if (f.cgroupConf?.length) r.unified = cgroupConf(f.cgroupConf);
  if (r.cgroups === "disabled") {
    const flag = requestedControllers(r)[0]?.flag;
    if (flag) throw new UsageError(`${flag} needs the container's own cgroup, and --cgroups=disabled gives it none`, { hint: `drop ${flag} or --cgroups=disabled` });
  }
  return r;
}

function cpuLimits(f: LimitFlags, r: Resources): void {
  if (f.cpus !== undefined) {
    const c = Number(f.cpus);
    if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)\s*$/.test(f.cpus) || !Number.isFinite(c))
      throw new UsageError(`invalid argument "${f.cpus}" for "--cpus" flag: strconv.ParseFloat: parsing "${f.cpus}": invalid syntax`, { hint: "--cpus takes a number of CPUs, e.g. 1.5" });
    if (c < 0) throw new UsageError(`invalid --cpus ${f.cpus}: it cannot be negative`, { hint: "give a number of CPUs, e.g. 0.5" });
    if (c > 0) {
      if (f.cpuPeriod !== undefined) throw new UsageError("--cpu-period and --cpus cannot be set together", { hint: "--cpus sets the CFS period and quota itself" });
      if (f.cpuQuota !== undefined) throw new UsageError("--cpu-quota and --cpus cannot be set together", { hint: "--cpus sets the CFS period and quota itself" });
      r.nanoCpus = Math.round(c * 1e9);
      r.cpuPeriod = DEFAULT_CPU_PERIOD;
      r.cpuQuota = Math.round(c * DEFAULT_CPU_PERIOD);
    }
  }
  if (f.cpuShares !== undefined) {
    const s = intFlag("cpu-shares", f.cpuShares, 0);
    if (s > 0) r.cpuShares = s;
  }
  if (f.cpuPeriod !== undefined) {
    const p = intFlag("cpu-period", f.cpuPeriod, 0);
    if (p > 0) {
      if (p < 1000 || p > 1_000_000) throw new UsageError("CPU cfs period cannot be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)", { hint: "give --cpu-period in microseconds, 1000 to 1000000" });
      r.cpuPeriod = p;
    }
  }
  if (f.cpuQuota !== undefined) {
    const q = intFlag("cpu-quota", f.cpuQuota);
    if (q > 0) {
      if (q < 1000) throw new UsageError("CPU cfs quota cannot be less than 1ms (i.e. 1000)", { hint: "give --cpu-quota in microseconds, at least 1000" });
      r.cpuQuota = q;
    }
  }
  if (f.cpusetCpus) r.cpusetCpus = cpuList("cpus", f.cpusetCpus);
  if (f.cpusetMems) r.cpusetMems = cpuList("mems", f.cpusetMems);
}

function cgroupConf(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf("=");
    const key = i > 0 ? v.slice(0, i) : "";
    if (!key) throw new UsageError(`--cgroup-conf must be formatted KEY=VALUE: ${v}`, { hint: "e.g. --cgroup-conf memory.high=1073741824" });
    if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key) || key.startsWith("cgroup."))
      throw new UsageError(`--cgroup-conf ${key}: not a controller's file of the container's cgroup`, { hint: "give a cgroup v2 interface file such as memory.high or cpu.weight" });
    out[key] = v.slice(i + 1);
  }
  return out;
}

const throttleFlag = (k: ThrottleKind) => `--device-${{ rbps: "read-bps", wbps: "write-bps", riops: "read-iops", wiops: "write-iops" }[k]}`;

/** Whether any limit was asked for (the default pids limit does not count). */
export const hasLimits = (r: Resources | undefined): boolean => requestedControllers(r ?? {}).length > 0;

/** The controllers the limits need, each with the first flag that needs it (for the refusal's message). */
export function requestedControllers(r: Resources): { controller: string; flag: string }[] {
  const need: [string, string, boolean][] = [
    ["memory", "--memory", r.memory !== undefined],
    ["memory", "--memory-reservation", r.memoryReservation !== undefined],
    ["memory", "--memory-swap", !!r.memorySwapSet && r.memorySwap !== -1],
    ["cpu", "--cpus", r.nanoCpus !== undefined],
    ["cpu", "--cpu-shares", r.cpuShares !== undefined],
    ["cpu", "--cpu-quota", r.cpuQuota !== undefined && r.nanoCpus === undefined],
    ["cpu", "--cpu-period", r.cpuPeriod !== undefined && r.nanoCpus === undefined],
    ["cpuset", "--cpuset-cpus", r.cpusetCpus !== undefined],
    ["cpuset", "--cpuset-mems", r.cpusetMems !== undefined],
    ["pids", "--pids-limit", r.pidsLimit !== undefined && r.pidsLimit > 0 && !r.pidsDefault],
    ["io", "--blkio-weight", r.blkioWeight !== undefined],
    ...(r.throttle ?? []).map((t): [string, string, boolean] => ["io", throttleFlag(t.kind), true]),
    ...Object.keys(r.unified ?? {}).map((k): [string, string, boolean] => [k.split(".")[0]!, `--cgroup-conf ${k}`, true]),
  ];
  const seen = new Set<string>();
  const out: { controller: string; flag: string }[] = [];
  for (const [controller, flag, on] of need) {
    if (!on || seen.has(controller)) continue;
    seen.add(controller);
    out.push({ controller, flag });
  }
  return out;
}

/** crun's --cpu-shares to cpu.weight (the OCI cgroup v2 conversion): 2..262144 onto 1..10000. */
export function sharesToWeight(shares: number): number {
  if (shares <= 2) return 1;
  if (shares >= 262_144) return 10_000;
  return 1 + Math.floor(((shares - 2) * 9999) / 262_142);
}

/** crun's --blkio-weight (10..1000) to io.weight (1..10000). */
export const blkioToIoWeight = (w: number): number => 1 + Math.floor(((w - 10) * 9999) / 990);

export type CgroupWrite = { file: string; value: string; flag: string; optional?: boolean };

/**
 * The files the limits become in the container's cgroup, in order. `has`
 * says which interface files the cgroup offers (io.bfq.weight, memory.swap.max
 * are there only with BFQ and swap accounting).
 */
export function limitWrites(r: Resources, has: (file: string) => boolean): CgroupWrite[] {
  const w: CgroupWrite[] = [];
  if (r.memoryReservation !== undefined) w.push({ file: "memory.low", value: String(r.memoryReservation), flag: "--memory-reservation" });
  if (r.memory !== undefined) w.push({ file: "memory.max", value: String(r.memory), flag: "--memory" });
  if (r.memory !== undefined && r.memorySwap !== undefined && (has("memory.swap.max") || r.memorySwapSet))
    w.push({ file: "memory.swap.max", value: r.memorySwap === -1 ? "max" : String(r.memorySwap - r.memory), flag: "--memory-swap", optional: !r.memorySwapSet });
  if (r.cpuShares !== undefined) w.push({ file: "cpu.weight", value: String(sharesToWeight(r.cpuShares)), flag: "--cpu-shares" });
  if (r.cpuQuota !== undefined || r.cpuPeriod !== undefined)
    w.push({ file: "cpu.max", value: `${r.cpuQuota ?? "max"} ${r.cpuPeriod ?? DEFAULT_CPU_PERIOD}`, flag: r.nanoCpus !== undefined ? "--cpus" : r.cpuQuota !== undefined ? "--cpu-quota" : "--cpu-period" });
  // cpuset.mems before cpus, as crun: a cpuset needs both to take tasks
  if (r.cpusetMems !== undefined) w.push({ file: "cpuset.mems", value: r.cpusetMems, flag: "--cpuset-mems" });
  if (r.cpusetCpus !== undefined) w.push({ file: "cpuset.cpus", value: r.cpusetCpus, flag: "--cpuset-cpus" });
  if (r.pidsLimit !== undefined) w.push({ file: "pids.max", value: r.pidsLimit > 0 ? String(r.pidsLimit) : "max", flag: "--pids-limit" });
  if (r.blkioWeight !== undefined)
    w.push(has("io.bfq.weight") ? { file: "io.bfq.weight", value: `default ${r.blkioWeight}`, flag: "--blkio-weight" } : { file: "io.weight", value: `default ${blkioToIoWeight(r.blkioWeight)}`, flag: "--blkio-weight" });
  const byDevice = new Map<string, { kv: string[]; flag: string }>();
  for (const t of r.throttle ?? []) {
    const key = `${t.major}:${t.minor}`;
    const d = byDevice.get(key) ?? { kv: [], flag: throttleFlag(t.kind) };
    d.kv.push(`${t.kind}=${t.rate}`);
    byDevice.set(key, d);
  }
  for (const [dev, d] of byDevice) w.push({ file: "io.max", value: `${dev} ${d.kv.join(" ")}`, flag: d.flag });
  for (const [k, v] of Object.entries(r.unified ?? {})) w.push({ file: k, value: v, flag: `--cgroup-conf ${k}` });
  return w;
}

/** The Resources a `pod update` gives: the old ones with the flags given replaced (validated the same way). */
export function mergeLimits(old: Resources, next: Resources, given: LimitFlags): Resources {
  const r: Resources = { ...old };
  if (given.memory !== undefined) {
    r.memory = next.memory;
    if (given.memorySwap === undefined && !old.memorySwapSet) r.memorySwap = next.memory !== undefined ? 2 * next.memory : undefined;
  }
  if (given.memorySwap !== undefined) Object.assign(r, { memorySwap: next.memorySwap, memorySwapSet: true });
  if (given.memoryReservation !== undefined) r.memoryReservation = next.memoryReservation;
  if (given.cpus !== undefined) Object.assign(r, { nanoCpus: next.nanoCpus, cpuQuota: next.cpuQuota, cpuPeriod: next.cpuPeriod });
  if (given.cpuShares !== undefined) r.cpuShares = next.cpuShares;
  if (given.cpuQuota !== undefined) Object.assign(r, { cpuQuota: next.cpuQuota, nanoCpus: undefined });
  if (given.cpuPeriod !== undefined) Object.assign(r, { cpuPeriod: next.cpuPeriod, nanoCpus: undefined });
  if (given.cpusetCpus !== undefined) r.cpusetCpus = next.cpusetCpus;
  if (given.cpusetMems !== undefined) r.cpusetMems = next.cpusetMems;
  if (given.pidsLimit !== undefined) Object.assign(r, { pidsLimit: next.pidsLimit, pidsDefault: undefined });
  if (given.blkioWeight !== undefined) r.blkioWeight = next.blkioWeight;
  if (next.throttle) r.throttle = [...(old.throttle ?? []).filter((t) => !next.throttle!.some((n) => n.kind === t.kind && n.major === t.major && n.minor === t.minor)), ...next.throttle];
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Resources;
}
