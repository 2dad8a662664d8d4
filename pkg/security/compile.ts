// A seccomp profile → one classic BPF program for this host, as libseccomp
// would build it for podman (containers/common pkg/seccomp): the rules whose
// includes/excludes hold for the container's capabilities, the host's
// architecture and kernel; each syscall name resolved per architecture the
// profile's archMap gives the native one (x86_64 also runs x86 and x32
// code), names an architecture lacks skipped; argument comparisons on all 64
// bits. Where several rules match one call, the most restrictive action wins
// (the kernel's own order between filters); libseccomp leaves that case
// undefined.
import { Assembler, BPF, RET, SECCOMP_DATA, encode, type Insn } from "./bpf.ts";
import type { Action, ArgCheck, Filter, Profile, Rule } from "./profile.ts";
import { SYSCALL_TABLES } from "./syscalls.generated.ts";

type Table = keyof typeof SYSCALL_TABLES;

/** SCMP_ARCH_* pod can filter for: its syscall table, AUDIT_ARCH_* value, and the GOARCH name profiles' includes.arches use. */
const ARCHES: Record<string, { table: Table; audit: number; goarch: string }> = {
  SCMP_ARCH_X86_64: { table: "x86_64", audit: 0xc000003e, goarch: "amd64" },
  SCMP_ARCH_X86: { table: "x86", audit: 0x40000003, goarch: "386" },
  SCMP_ARCH_X32: { table: "x32", audit: 0xc000003e, goarch: "amd64" },
  SCMP_ARCH_AARCH64: { table: "aarch64", audit: 0xc00000b7, goarch: "arm64" },
};

/** x32 syscalls run with x86_64's AUDIT_ARCH and this bit set in the number. */
export const X32_SYSCALL_BIT = 0x40000000;

export type Target = {
  /** the host: SCMP_ARCH_X86_64 or SCMP_ARCH_AARCH64 */
  arch: string;
  /** the container's (bounding) capabilities by name, CAP_SYS_ADMIN … */
  caps: ReadonlySet<string>;
  /** the running kernel's release, e.g. "6.1.0-18-amd64" */
  kernel: string;
};

export function hostArch(nodeArch: string = process.arch): string {
  if (nodeArch === "x64") return "SCMP_ARCH_X86_64";
  if (nodeArch === "arm64") return "SCMP_ARCH_AARCH64";
  throw new Error(`pod's seccomp filter knows no syscall table for ${nodeArch}`);
}

const PRECEDENCE: Record<Action, number> = {
  SCMP_ACT_KILL_PROCESS: 0,
  SCMP_ACT_KILL: 1,
  SCMP_ACT_KILL_THREAD: 1,
  SCMP_ACT_TRAP: 2,
  SCMP_ACT_ERRNO: 3,
  SCMP_ACT_TRACE: 4,
  SCMP_ACT_LOG: 5,
  SCMP_ACT_ALLOW: 6,
};

const EPERM = 1;

function retOf(action: Action, errnoRet: number | undefined): number {
  switch (action) {
    case "SCMP_ACT_KILL_PROCESS":
      return RET.KILL_PROCESS;
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return RET.KILL_THREAD;
    case "SCMP_ACT_TRAP":
      return RET.TRAP;
    case "SCMP_ACT_ERRNO":
      return (RET.ERRNO | ((errnoRet ?? EPERM) & 0xffff)) >>> 0;
    case "SCMP_ACT_TRACE":
      return (RET.TRACE | ((errnoRet ?? 0) & 0xffff)) >>> 0;
    case "SCMP_ACT_LOG":
      return RET.LOG;
    case "SCMP_ACT_ALLOW":
      return RET.ALLOW;
  }
}

function kernelAtLeast(running: string, min: string): boolean {
  const a = running.split(/[.-]/).map((p) => parseInt(p, 10));
  const b = min.split(".").map((p) => parseInt(p, 10));
  for (let i = 0; i < b.length; i++) {
    const x = Number.isNaN(a[i]!) || a[i] === undefined ? 0 : a[i]!;
    if (x !== b[i]) return x > b[i]!;
  }
  return true;
}

/** containers/common's rule filter: every included cap present, no excluded cap, the arch (GOARCH) listed or not, the kernel new enough or not. */
function applies(r: Rule, goarch: string, t: Target): boolean {
  const ex: Filter = r.excludes;
  const inc: Filter = r.includes;
  if (ex.arches.includes(goarch)) return false;
  if (ex.caps.some((c) => t.caps.has(c))) return false;
  if (ex.minKernel && kernelAtLeast(t.kernel, ex.minKernel)) return false;
  if (inc.arches.length && !inc.arches.includes(goarch)) return false;
  if (inc.caps.some((c) => !t.caps.has(c))) return false;
  if (inc.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
  return true;
}

/** The architectures of the filter: the native one first, then what the profile lets it run that pod has tables for. */
export function filterArches(p: Profile, native: string): string[] {
  const entry = p.archMap.find((a) => a.architecture === native);
  const listed = entry ? entry.subArchitectures : p.architectures;
  const family = (a: string) => ARCHES[a] && (ARCHES[a]!.audit === ARCHES[native]!.audit || (native === "SCMP_ARCH_X86_64" && a === "SCMP_ARCH_X86"));
  return [native, ...listed.filter((a) => a !== native && family(a))].filter((a, i, all) => all.indexOf(a) === i);
}

type Entry = { ret: number; rank: number; args: ArgCheck[] };

const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
const lo = (v: bigint) => Number(v & 0xffffffffn);

/** Jumps to `fail` unless the argument check holds; falls through when it does. */
function emitCheck(a: Assembler, c: ArgCheck, fail: string): void {
  const H = SECCOMP_DATA.argHigh(c.index);
  const L = SECCOMP_DATA.argLow(c.index);
  const pass = a.label("pass");
  switch (c.op) {
    case "SCMP_CMP_EQ":
      a.load(H), a.jump(BPF.JEQ_K, hi(c.value), 0, fail);
      a.load(L), a.jump(BPF.JEQ_K, lo(c.value), 0, fail);
      break;
    case "SCMP_CMP_NE":
      a.load(H), a.jump(BPF.JEQ_K, hi(c.value), 0, pass);
      a.load(L), a.jump(BPF.JEQ_K, lo(c.value), fail, 0);
      break;
    case "SCMP_CMP_MASKED_EQ":
      a.load(H), a.and(hi(c.value)), a.jump(BPF.JEQ_K, hi(c.valueTwo), 0, fail);
      a.load(L), a.and(lo(c.value)), a.jump(BPF.JEQ_K, lo(c.valueTwo), 0, fail);
      break;
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE":
      a.load(H), a.jump(BPF.JGT_K, hi(c.value), pass, 0), a.jump(BPF.JEQ_K, hi(c.value), 0, fail);
      a.load(L), a.jump(c.op === "SCMP_CMP_GT" ? BPF.JGT_K : BPF.JGE_K, lo(c.value), 0, fail);
      break;
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE":
      a.load(H), a.jump(BPF.JGT_K, hi(c.value), fail, 0), a.jump(BPF.JEQ_K, hi(c.value), 0, pass);
      a.load(L), a.jump(c.op === "SCMP_CMP_LT" ? BPF.JGE_K : BPF.JGT_K, lo(c.value), fail, 0);
      break;
  }
  a.place(pass);
}

/** The per-syscall checks of one architecture; A holds the syscall number on entry, and every path returns. */
function emitArch(a: Assembler, byNr: Map<number, Entry[]>, defaultRet: number): void {
  for (const [nr, entries] of [...byNr].sort(([x], [y]) => x - y)) {
    entries.sort((x, y) => x.rank - y.rank || Number(x.args.length === 0) - Number(y.args.length === 0));
    if (entries[0]!.args.length === 0) {
      // the common case, one unconditional action: two instructions, no long jumps
      a.jump(BPF.JEQ_K, nr, 0, 1);
      a.ret(entries[0]!.ret);
      continue;
    }
    const body = a.label("sys");
    const skip = a.label("next");
    a.jump(BPF.JEQ_K, nr, body, 0);
    a.ja(skip);
    a.place(body);
    let closed = false;
    for (const e of entries) {
      if (e.args.length === 0) {
        a.ret(e.ret);
        closed = true;
        break;
      }
      const fail = a.label("fail");
      for (const c of e.args) emitCheck(a, c, fail);
      a.ret(e.ret);
      a.place(fail);
    }
    if (!closed) a.ret(defaultRet);
    a.place(skip);
    // the argument checks replaced A: load the number again for the rest of the chain
    a.load(SECCOMP_DATA.nr);
  }
  a.ret(defaultRet);
}

export type Compiled = { program: Insn[]; bytes: Uint8Array; arches: string[]; skipped: string[] };

/** Compiles a parsed profile for the target; `skipped` lists the names no architecture of the filter has. */
export function compileProfile(p: Profile, t: Target): Compiled {
  if (!ARCHES[t.arch]) throw new Error(`pod's seccomp filter knows no syscall table for ${t.arch}`);
  const goarch = ARCHES[t.arch]!.goarch;
  const arches = filterArches(p, t.arch);
  const defaultRet = retOf(p.defaultAction, p.defaultErrnoRet);
  const active = p.rules.filter((r) => applies(r, goarch, t));
  const known = new Set<string>();
  const perArch = new Map<string, Map<number, Entry[]>>();
  for (const arch of arches) {
    const table = SYSCALL_TABLES[ARCHES[arch]!.table];
    const byNr = new Map<number, Entry[]>();
    for (const r of active) {
      const entry: Entry = { ret: retOf(r.action, r.errnoRet), rank: PRECEDENCE[r.action], args: r.args };
      for (const name of r.names) {
        const nr = table[name];
        if (nr === undefined) continue;
        known.add(name);
        byNr.set(nr, [...(byNr.get(nr) ?? []), entry]);
      }
    }
    perArch.set(arch, byNr);
  }
  const a = new Assembler();
  a.load(SECCOMP_DATA.arch);
  const audits = [...new Set(arches.map((x) => ARCHES[x]!.audit))];
  const blocks = new Map(audits.map((au) => [au, a.label("arch")]));
  for (const au of audits) {
    a.jump(BPF.JEQ_K, au, 0, 1);
    a.ja(blocks.get(au)!);
  }
  // an architecture the filter does not cover: libseccomp's bad-arch action
  a.ret(RET.KILL_PROCESS);
  const x32 = arches.includes("SCMP_ARCH_X32") ? a.label("x32") : undefined;
  for (const au of audits) {
    a.place(blocks.get(au)!);
    a.load(SECCOMP_DATA.nr);
    const native = arches.find((x) => ARCHES[x]!.audit === au && x !== "SCMP_ARCH_X32")!;
    if (ARCHES[native]!.table === "x86_64") {
      // x32 numbers carry a bit of their own under x86_64's AUDIT_ARCH: never let them reach the x86_64 rules
      a.jump(BPF.JGE_K, X32_SYSCALL_BIT, 0, 1);
      if (x32) a.ja(x32);
      else a.ret(RET.KILL_PROCESS);
    }
    emitArch(a, perArch.get(native)!, defaultRet);
  }
  if (x32) {
    a.place(x32);
    emitArch(a, perArch.get("SCMP_ARCH_X32")!, defaultRet);
  }
  const program = a.assemble();
  const skipped = [...new Set(active.flatMap((r) => r.names))].filter((n) => !known.has(n)).sort();
  return { program, bytes: encode(program), arches, skipped };
}
