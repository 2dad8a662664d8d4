// What `pod stats` reads of a container's own cgroup: cpu.stat (core, always
// there), memory.current/max, pids.current and io.stat (there when those
// controllers are enabled for it). Read on demand: no daemon polls.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type CgroupStats = {
  /** cpu.stat usage_usec */
  cpuUsec: number;
  /** memory.current, bytes (undefined without the memory controller) */
  memUsage?: number;
  /** memory.max, bytes; undefined when "max" or absent */
  memLimit?: number;
  /** pids.current, else the number of processes in cgroup.procs */
  pids: number;
  /** io.stat rbytes and wbytes summed over the devices */
  blockRead: number;
  blockWrite: number;
};

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** key value lines (cpu.stat) as numbers */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/** io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N …" per device, summed. */
export function parseIoStat(text: string): { rbytes: number; wbytes: number } {
  let rbytes = 0;
  let wbytes = 0;
  for (const m of text.matchAll(/\brbytes=(\d+)/g)) rbytes += Number(m[1]);
  for (const m of text.matchAll(/\bwbytes=(\d+)/g)) wbytes += Number(m[1]);
  return { rbytes, wbytes };
}

/** The cgroup's numbers now; undefined when the cgroup is gone. */
export function readStats(dir: string): CgroupStats | undefined {
  const cpu = read(join(dir, "cpu.stat"));
  if (cpu === undefined) return undefined;
  const num = (f: string) => {
    const t = read(join(dir, f))?.trim();
    return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
  };
  const procs = read(join(dir, "cgroup.procs")) ?? "";
  const io = parseIoStat(read(join(dir, "io.stat")) ?? "");
  return {
    cpuUsec: parseFlatKeyed(cpu).usage_usec ?? 0,
    memUsage: num("memory.current"),
    memLimit: num("memory.max"),
    pids: num("pids.current") ?? procs.split("\n").filter(Boolean).length,
    blockRead: io.rbytes,
    blockWrite: io.wbytes,
  };
}
