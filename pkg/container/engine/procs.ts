// `pod top`: the processes of a running container, from /proc, which every
// user may read. A process belongs to the container when it is in the pid
// namespace of the container's PID 1 (or, where that link cannot be read,
// descends from PID 1). PIDs are shown as the container sees them (the last
// NSpid of /proc/PID/status), users by the container's own /etc/passwd after
// mapping host ids back through PID 1's uid_map. The descriptors and their
// output follow podman's (containers/psgo): Go-style durations, %CPU with
// three decimals, "?" for no terminal.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { ContainerStateInvalid, UsageError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { formatTable, log } from "../../output/index.ts";
import { CAPABILITIES, capabilityNames } from "../../runtime/index.ts";
import { FsView, idNames, parseIdMap } from "../fs/view.ts";
import { containerLayout } from "../fs/files.ts";
import type { ContainerRecord } from "../record/records.ts";
import { isAlive } from "../record/state.ts";

export type Proc = {
  hostPid: number;
  hostPpid: number;
  /** pid and process group as the container sees them */
  pid: number;
  pgid: number;
  state: string;
  comm: string;
  args: string[];
  /** host ids: real, effective */
  uid: [number, number];
  gid: [number, number];
  ttyNr: number;
  cpuTicks: number;
  startTicks: number;
  nice: number;
  vszKiB: number;
  rssKiB: number;
  caps: Record<"amb" | "inh" | "prm" | "eff" | "bnd", bigint>;
  seccomp: number;
};

const CLK_TCK = 100;

function read(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function statusField(status: string, key: string): string {
  const m = new RegExp(`^${key}:\\s*(.*)$`, "m").exec(status);
  return m ? m[1]!.trim() : "";
}

/** One process from /proc/PID/{stat,status,cmdline}; undefined when it is gone. */
export function readProc(hostPid: number, procRoot = "/proc"): Proc | undefined {
  const stat = read(`${procRoot}/${hostPid}/stat`);
  const status = read(`${procRoot}/${hostPid}/status`);
  if (!stat || !status) return undefined;
  const close = stat.lastIndexOf(")");
  const f = stat.slice(close + 2).split(" ");
  const ns = (key: string) => statusField(status, key).split(/\s+/).map(Number);
  const cap = (key: string) => BigInt(`0x${statusField(status, key) || "0"}`);
  const cmdline = read(`${procRoot}/${hostPid}/cmdline`) ?? "";
  return {
    hostPid,
    hostPpid: Number(f[1]),
    pid: ns("NSpid").at(-1) ?? hostPid,
    pgid: ns("NSpgid").at(-1) ?? Number(f[2]),
    state: f[0] ?? "?",
    comm: stat.slice(stat.indexOf("(") + 1, close),
    args: cmdline.split("\0").filter((a, i, all) => a !== "" || i < all.length - 1),
    uid: ns("Uid").slice(0, 2) as [number, number],
    gid: ns("Gid").slice(0, 2) as [number, number],
    ttyNr: Number(f[4]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    startTicks: Number(f[19]),
    nice: Number(f[16]),
    vszKiB: Math.floor(Number(f[20]) / 1024),
    rssKiB: Number(statusField(status, "VmRSS").split(/\s+/)[0] || 0),
    caps: { amb: cap("CapAmb"), inh: cap("CapInh"), prm: cap("CapPrm"), eff: cap("CapEff"), bnd: cap("CapBnd") },
    seccomp: Number(statusField(status, "Seccomp") || 0),
  };
}

function pidNamespace(hostPid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${hostPid}/ns/pid`);
  } catch {
    return undefined;
  }
}

/** The processes of the container whose PID 1 has host pid `pid1`, by pid inside the container. */
export function containerProcesses(pid1: number): Proc[] {
  const all = new Map<number, Proc>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProc(Number(name));
    if (p) all.set(p.hostPid, p);
  }
  const ns = pidNamespace(pid1);
  const inContainer = (p: Proc): boolean => {
    if (ns !== undefined && pidNamespace(p.hostPid) === ns) return true;
    for (let q: Proc | undefined = p, hops = 0; q && hops < 4096; q = all.get(q.hostPpid), hops++) if (q.hostPid === pid1) return true;
    return false;
  };
  return [...all.values()].filter(inContainer).sort((a, b) => a.pid - b.pid);
}

/** Go's time.Duration String(): "0s", "850ms", "1.5s", "2m3.25s", "1h0m0s". */
export function goDuration(ns: number): string {
  if (ns === 0) return "0s";
  const neg = ns < 0 ? "-" : "";
  ns = Math.abs(Math.round(ns));
  const frac = (v: number, unit: number, digits: number) => (v / unit).toFixed(digits).replace(/\.?0+$/, "");
  if (ns < 1e3) return `${neg}${ns}ns`;
  if (ns < 1e6) return `${neg}${frac(ns, 1e3, 3)}µs`;
  if (ns < 1e9) return `${neg}${frac(ns, 1e6, 6)}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  const s = frac(ns % 6e10, 1e9, 9);
  return `${neg}${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/** The terminal name of a tty_nr: "pts/0", "tty1", or "?" for none. */
export function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return "?";
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  return "?";
}

function capsText(bits: bigint): string {
  if (bits === 0n) return "none";
  const all = (1n << BigInt(CAPABILITIES.length)) - 1n;
  if ((bits & all) === all) return "full";
  return capabilityNames(bits).map((n) => n.replace(/^CAP_/, "")).join(",");
}

/** What the descriptors need besides the process itself. */
export type TopContext = {
  now: { uptimeSec: number; bootEpochMs: number };
  byHostPid: Map<number, Proc>;
  uidIn: (hostId: number) => number | undefined;
  gidIn: (hostId: number) => number | undefined;
  users: Map<number, string>;
  groups: Map<number, string>;
  hostUsers: Map<number, string>;
  hostGroups: Map<number, string>;
};

type Descriptor = { header: string; code?: string; value: (p: Proc, c: TopContext) => string };

const named = (id: number | undefined, names: Map<number, string>) => (id === undefined ? "65534" : (names.get(id) ?? String(id)));
const elapsedSec = (p: Proc, c: TopContext) => Math.max(0, c.now.uptimeSec - p.startTicks / CLK_TCK);

/** podman's descriptors (psgo), by name; `code` is the ps(1) AIX format code. */
export const DESCRIPTORS: Record<string, Descriptor> = {
  args: { header: "COMMAND", code: "%a", value: (p) => (p.args.length ? p.args.join(" ") : `[${p.comm}]`) },
  capamb: { header: "AMBIENT CAPS", value: (p) => capsText(p.caps.amb) },
  capbnd: { header: "BOUNDING CAPS", value: (p) => capsText(p.caps.bnd) },
  capeff: { header: "EFFECTIVE CAPS", value: (p) => capsText(p.caps.eff) },
  capinh: { header: "INHERITED CAPS", value: (p) => capsText(p.caps.inh) },
  capprm: { header: "PERMITTED CAPS", value: (p) => capsText(p.caps.prm) },
  comm: { header: "COMMAND", code: "%c", value: (p) => p.comm },
  etime: { header: "ELAPSED", code: "%t", value: (p, c) => goDuration(elapsedSec(p, c) * 1e9) },
  group: { header: "GROUP", code: "%G", value: (p, c) => named(c.gidIn(p.gid[1]), c.groups) },
  hgroup: { header: "HGROUP", value: (p, c) => named(p.gid[1], c.hostGroups) },
  hpid: { header: "HPID", value: (p) => String(p.hostPid) },
  huser: { header: "HUSER", value: (p, c) => named(p.uid[1], c.hostUsers) },
  nice: { header: "NI", code: "%n", value: (p) => String(p.nice) },
  pcpu: {
    header: "%CPU",
    code: "%C",
    value: (p, c) => {
      const e = elapsedSec(p, c);
      return (e > 0 ? ((p.cpuTicks / CLK_TCK) / e) * 100 : 0).toFixed(3);
    },
  },
  pgid: { header: "PGID", code: "%r", value: (p) => String(p.pgid) },
  pid: { header: "PID", code: "%p", value: (p) => String(p.pid) },
  ppid: { header: "PPID", code: "%P", value: (p, c) => String(c.byHostPid.get(p.hostPpid)?.pid ?? 0) },
  rgroup: { header: "RGROUP", code: "%g", value: (p, c) => named(c.gidIn(p.gid[0]), c.groups) },
  rss: { header: "RSS", value: (p) => String(p.rssKiB) },
  ruser: { header: "RUSER", code: "%u", value: (p, c) => named(c.uidIn(p.uid[0]), c.users) },
  seccomp: { header: "SECCOMP", value: (p) => ["disabled", "strict", "filter"][p.seccomp] ?? String(p.seccomp) },
  state: { header: "STATE", value: (p) => p.state },
  stime: { header: "STIME", value: (p, c) => new Date(c.now.bootEpochMs + (p.startTicks / CLK_TCK) * 1000).toISOString().replace("T", " ").replace("Z", " +0000 UTC") },
  time: { header: "TIME", code: "%x", value: (p) => goDuration(Math.floor(p.cpuTicks / CLK_TCK) * 1e9) },
  tty: { header: "TTY", code: "%y", value: (p) => ttyName(p.ttyNr) },
  user: { header: "USER", code: "%U", value: (p, c) => named(c.uidIn(p.uid[1]), c.users) },
  vsz: { header: "VSZ", code: "%z", value: (p) => String(p.vszKiB) },
};

export const DEFAULT_DESCRIPTORS = ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"];

/**
 * Descriptor arguments as podman takes them: names or AIX codes, given as
 * separate arguments or comma-separated. Throws a UsageError naming the
 * valid ones for anything else.
 */
export function parseDescriptors(args: string[]): string[] {
  const words = args.flatMap((a) => a.split(/[\s,]+/)).filter(Boolean);
  if (!words.length) return DEFAULT_DESCRIPTORS;
  return words.map((w) => {
    if (DESCRIPTORS[w]) return w;
    const byCode = Object.entries(DESCRIPTORS).find(([, d]) => d.code === w);
    if (byCode) return byCode[0];
    throw new UsageError(`unknown descriptor "${w}"`, { hint: `valid descriptors: ${Object.keys(DESCRIPTORS).join(", ")} (or ps codes like %p %U %a)` });
  });
}

function systemClock(): TopContext["now"] {
  const uptimeSec = Number((read("/proc/uptime") ?? "0").split(" ")[0]);
  const btime = Number(/^btime (\d+)$/m.exec(read("/proc/stat") ?? "")?.[1] ?? 0);
  return { uptimeSec, bootEpochMs: btime ? btime * 1000 : Date.now() - uptimeSec * 1000 };
}

/** The table `pod top` prints for the container whose PID 1 has host pid `pid1`. */
export function topTable(pid1: number, descriptors: string[], view: FsView | undefined, onNameError: (e: unknown) => void): string {
  const procs = containerProcesses(pid1);
  const ctx: TopContext = {
    now: systemClock(),
    byHostPid: new Map(procs.map((p) => [p.hostPid, p])),
    uidIn: parseIdMap(read(`/proc/${pid1}/uid_map`)),
    gidIn: parseIdMap(read(`/proc/${pid1}/gid_map`)),
    users: idNames(view?.readText("/etc/passwd", onNameError)),
    groups: idNames(view?.readText("/etc/group", onNameError)),
    hostUsers: idNames(read("/etc/passwd")),
    hostGroups: idNames(read("/etc/group")),
  };
  const cols = descriptors.map((d) => ({ header: DESCRIPTORS[d]!.header, value: (p: Proc) => DESCRIPTORS[d]!.value(p, ctx) }));
  return formatTable(cols, procs);
}

/** `pod top CONTAINER [DESCRIPTORS...]`: the table, or a ContainerStateInvalid when it is not running. */
export function topContainer(paths: Paths, rec: ContainerRecord, descriptorArgs: string[]): string {
  const descriptors = parseDescriptors(descriptorArgs);
  if (!isAlive(rec)) throw new ContainerStateInvalid("top can only be used on running containers", { hint: `pod start ${rec.name}` });
  const why = (e: unknown) => log.debug(`names from the /etc/passwd and /etc/group of ${rec.name}: ${(e as Error).message}; showing ids`);
  let view: FsView | undefined;
  try {
    view = FsView.of(containerLayout(paths, rec));
  } catch (e) {
    why(e);
  }
  return topTable(rec.pid!, descriptors, view, why);
}
