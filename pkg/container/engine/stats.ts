// `pod stats`: podman's ContainerStats of each container, read from its own
// cgroup (pkg/cgroup/stats.ts) and its network namespace's /proc/PID/net/dev
// at the moment of asking; CPU % is over the time since the previous sample
// (the first one: since the start), as podman computes it.
import { readFileSync } from "node:fs";
import { ContainerStateInvalid, PodError } from "../../errors.ts";
import { cgroupSupport, readStats } from "../../cgroup/index.ts";
import type { ContainerRecord } from "../record/records.ts";
import { statusOf } from "../record/state.ts";

/** podman's define.ContainerStats fields (those pod can fill). */
export type ContainerStats = {
  ContainerID: string;
  Name: string;
  /** percent of one CPU since the previous sample */
  CPU: number;
  /** CPU time used, nanoseconds */
  CPUNano: number;
  /** percent of one CPU since the start */
  AvgCPU: number;
  MemUsage: number;
  MemLimit: number;
  MemPerc: number;
  NetInput: number;
  NetOutput: number;
  BlockInput: number;
  BlockOutput: number;
  PIDs: number;
  /** when the sample was taken (ms), for the next CPU % */
  at: number;
};

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/** MemTotal of /proc/meminfo: the limit podman shows for a container without one. */
function hostMemory(): number {
  const m = /^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo"));
  return m ? Number(m[1]) * 1024 : 0;
}

/** /proc/net/dev: received and sent bytes over the interfaces but lo. */
export function parseNetDev(text: string): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const [name, rest] = line.split(":");
    if (!rest || name!.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

const zero = (rec: ContainerRecord, at: number): ContainerStats => ({
  ContainerID: rec.id, Name: rec.name, CPU: 0, CPUNano: 0, AvgCPU: 0, MemUsage: 0, MemLimit: 0, MemPerc: 0, NetInput: 0, NetOutput: 0, BlockInput: 0, BlockOutput: 0, PIDs: 0, at,
});

/**
 * One sample of a container's statistics; `prev` is its previous sample.
 * A container that is not running gives zeros where `all` (stats -a) asks
 * for it, else an error, as one without a cgroup of its own does.
 */
export function sampleStats(rec: ContainerRecord, prev: ContainerStats | undefined, all: boolean, now = Date.now()): ContainerStats {
  const s = statusOf(rec);
  if (s !== "running" && s !== "paused") {
    if (all) return zero(rec, now);
    throw new ContainerStateInvalid(`cannot get statistics of container ${rec.name}: it is ${s}`, { hint: `pod start ${rec.name}, or pod stats -a to list it with zeros` });
  }
  const cg = rec.cgroup ? readStats(rec.cgroup) : undefined;
  if (!cg) {
    const support = cgroupSupport();
    const why = rec.config?.opts.resources?.cgroups === "disabled" ? "it runs with --cgroups=disabled" : support.ok ? "it was started without one" : support.reason;
    throw new PodError(`cannot get statistics of container ${rec.name}: it has no cgroup of its own (${why})`, {
      hint: support.ok ? `pod restart ${rec.name} gives it one` : support.hint,
    });
  }
  const cpuNano = cg.cpuUsec * 1000;
  const started = rec.startedAt ? Date.parse(rec.startedAt) : now;
  const upNano = Math.max(1, (now - started) * 1e6);
  const avg = (cpuNano / upNano) * 100;
  const cpu = prev && prev.ContainerID === rec.id && now > prev.at ? ((cpuNano - prev.CPUNano) / ((now - prev.at) * 1e6)) * 100 : avg;
  const limit = cg.memLimit ?? hostMemory();
  const mem = cg.memUsage ?? 0;
  const net = rec.pid ? parseNetDev(read(`/proc/${rec.pid}/net/dev`)) : { rx: 0, tx: 0 };
  return {
    ContainerID: rec.id,
    Name: rec.name,
    CPU: Math.max(0, cpu),
    CPUNano: cpuNano,
    AvgCPU: avg,
    MemUsage: mem,
    MemLimit: limit,
    MemPerc: limit ? (mem / limit) * 100 : 0,
    NetInput: net.rx,
    NetOutput: net.tx,
    BlockInput: cg.blockRead,
    BlockOutput: cg.blockWrite,
    PIDs: cg.pids,
    at: now,
  };
}

const decimal = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const binary = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

/** go-units HumanSize / BytesSize: four significant digits, no space ("1.245MB", "32MiB"). */
export function goUnitsSize(bytes: number, base: 1000 | 1024 = 1000): string {
  const abbrs = base === 1000 ? decimal : binary;
  let v = bytes;
  let i = 0;
  while (v >= base && i < abbrs.length - 1) {
    v /= base;
    i++;
  }
  return `${Number(v.toPrecision(4))}${abbrs[i]}`;
}

/** Go's time.Duration String for nanoseconds: "0s", "850µs", "17.466ms", "1m2.5s". */
export function goDuration(ns: number): string {
  const n = Math.round(ns);
  if (n === 0) return "0s";
  const trim = (x: number, digits: number) => x.toFixed(digits).replace(/\.?0+$/, "");
  if (n < 1000) return `${n}ns`;
  if (n < 1e6) return `${trim(n / 1e3, 3)}µs`;
  if (n < 1e9) return `${trim(n / 1e6, 6)}ms`;
  const h = Math.floor(n / 3.6e12);
  const m = Math.floor((n % 3.6e12) / 6e10);
  const s = trim((n % 6e10) / 1e9, 9);
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

const percent = (f: number) => `${f.toFixed(2)}%`;

/** The template view: podman's report fields (`{{.CPUPerc}}`, `{{.MemUsage}}` …) over the raw ones. */
export function statsView(s: ContainerStats, noTrunc = false) {
  return {
    ...s,
    ID: noTrunc ? s.ContainerID : s.ContainerID.slice(0, 12),
    CPUPerc: percent(s.CPU),
    AVGCPU: percent(s.AvgCPU),
    MemUsage: `${goUnitsSize(s.MemUsage)} / ${goUnitsSize(s.MemLimit)}`,
    MemUsageBytes: `${goUnitsSize(s.MemUsage, 1024)} / ${goUnitsSize(s.MemLimit, 1024)}`,
    MemPerc: percent(s.MemPerc),
    NetIO: `${goUnitsSize(s.NetInput)} / ${goUnitsSize(s.NetOutput)}`,
    BlockIO: `${goUnitsSize(s.BlockInput)} / ${goUnitsSize(s.BlockOutput)}`,
    PIDS: String(s.PIDs),
    UpTime: goDuration(s.CPUNano),
  };
}

/** podman's `stats --format json` objects. */
export function statsJson(s: ContainerStats, noTrunc = false) {
  const v = statsView(s, noTrunc);
  return { id: v.ID, name: v.Name, cpu_time: v.UpTime, cpu_percent: v.CPUPerc, avg_cpu: v.AVGCPU, mem_usage: v.MemUsage, mem_percent: v.MemPerc, net_io: v.NetIO, block_io: v.BlockIO, pids: v.PIDS };
}
