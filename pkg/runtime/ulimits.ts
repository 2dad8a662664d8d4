// --ulimit NAME=SOFT[:HARD] as podman reads it (docker's go-units
// ParseUlimit: -1 is unlimited, HARD defaults to SOFT), `host` for the limits
// pod itself has (what a container gets without --ulimit). The native core
// sets them with prlimit(2) before the container's ids change; without
// privilege a hard limit can only go down, so a raise is refused up front
// against the caller's own limits (/proc/self/limits).
import { PodError, UsageError } from "../errors.ts";

/** RLIMIT_* numbers (asm-generic, x86_64 and aarch64), by podman's names. */
export const RLIMITS: Record<string, number> = {
  cpu: 0, fsize: 1, data: 2, stack: 3, core: 4, rss: 5, nproc: 6, nofile: 7, memlock: 8, as: 9, locks: 10, sigpending: 11, msgqueue: 12, nice: 13, rtprio: 14, rttime: 15,
};
const NAMES = Object.fromEntries(Object.entries(RLIMITS).map(([k, v]) => [v, k]));
export const RLIM_INFINITY = (1n << 64n) - 1n;

export type Ulimit = { name: string; resource: number; soft: bigint; hard: bigint };

const limitValue = (s: string, arg: string): bigint => {
  if (!/^-?\d+$/.test(s)) throw new UsageError(`invalid ulimit argument: ${arg}`, { hint: "use --ulimit NAME=SOFT[:HARD], e.g. --ulimit nofile=1024:2048 (-1: unlimited)" });
  const n = BigInt(s);
  if (n === -1n) return RLIM_INFINITY;
  if (n < 0n || n > RLIM_INFINITY) throw new UsageError(`invalid ulimit argument: ${arg}`, { hint: "limits are whole numbers, or -1 for unlimited" });
  return n;
};

/** The --ulimit values; `host` alone means no change. Later values of a name win. */
export function parseUlimits(values: string[]): Ulimit[] {
  const out = new Map<string, Ulimit>();
  for (const v of values) {
    if (v === "host") {
      if (values.length > 1) throw new UsageError("--ulimit host cannot be combined with other --ulimit values", { hint: "use --ulimit host alone" });
      continue;
    }
    const m = /^([a-z]+)=([^:]+)(?::(.+))?$/.exec(v);
    if (!m) throw new UsageError(`invalid ulimit argument: ${v}`, { hint: "use --ulimit NAME=SOFT[:HARD], e.g. --ulimit nofile=1024:2048" });
    const resource = RLIMITS[m[1]!];
    if (resource === undefined) throw new UsageError(`invalid ulimit type: ${m[1]}`, { hint: `the types are ${Object.keys(RLIMITS).join(", ")}` });
    const soft = limitValue(m[2]!, v);
    const hard = m[3] !== undefined ? limitValue(m[3], v) : soft;
    if (soft > hard) throw new UsageError(`ulimit soft limit must be less than or equal to hard limit: ${m[2]} > ${m[3]}`, { hint: `e.g. --ulimit ${m[1]}=${m[3]}:${m[3]}` });
    out.set(m[1]!, { name: m[1]!, resource, soft, hard });
  }
  return [...out.values()];
}

/** The hard limits of /proc/self/limits, by resource number (rows are in RLIMIT order). */
export function ownHardLimits(procLimits: string): Map<number, bigint> {
  const rows = procLimits.split("\n").slice(1).filter((l) => l.trim());
  const out = new Map<number, bigint>();
  rows.forEach((row, i) => {
    const cols = row.slice(26).trim().split(/\s+/);
    const hard = cols[1];
    if (hard !== undefined && NAMES[i] !== undefined) out.set(i, hard === "unlimited" ? RLIM_INFINITY : /^\d+$/.test(hard) ? BigInt(hard) : RLIM_INFINITY);
  });
  return out;
}

/** Without privilege no hard limit may go above the caller's own: refused with the reason, not left to fail at start. */
export function checkUlimits(limits: Ulimit[], own: Map<number, bigint>, privileged: boolean): void {
  if (privileged) return;
  for (const l of limits) {
    const mine = own.get(l.resource);
    if (mine === undefined || l.hard <= mine) continue;
    const show = (n: bigint) => (n === RLIM_INFINITY ? "unlimited" : String(n));
    throw new PodError(`--ulimit ${l.name}: the hard limit ${show(l.hard)} is above your own (${show(mine)}), which a rootless container cannot raise`, {
      hint: `lower it to at most ${show(mine)}, or raise your own limit (/etc/security/limits.conf) and log in again`,
    });
  }
}

/** The plan's form: decimal strings for the native core. */
export const rlimitsOf = (limits: Ulimit[]) => limits.map((l) => ({ resource: l.resource, soft: l.soft.toString(), hard: l.hard.toString() }));
