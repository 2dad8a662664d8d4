// Classic BPF as seccomp runs it (linux/filter.h, linux/seccomp.h): the
// instruction encoding, an assembler with labels, and the return values.
// A filter reads struct seccomp_data: nr at 0, arch at 4, the instruction
// pointer at 8, args[i] at 16 + 8i (low word first on little-endian hosts).

export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  JSET_K: 0x45,
  RET_K: 0x06,
} as const;

export const BPF_MAXINSNS = 4096;

export const SECCOMP_DATA = { nr: 0, arch: 4, argLow: (i: number) => 16 + 8 * i, argHigh: (i: number) => 20 + 8 * i } as const;

/** SECCOMP_RET_* (the action in the high 16 bits, data in the low 16). */
export const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  USER_NOTIF: 0x7fc00000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

export type Insn = { code: number; jt: number; jf: number; k: number };

/** A jump target: a label name, or how many instructions to skip (0: the next one). */
type Target = string | number;
type Pending =
  | { kind: "insn"; insn: Insn }
  | { kind: "jump"; code: number; k: number; jt: Target; jf: Target }
  | { kind: "ja"; to: string }
  | { kind: "label"; name: string };

/**
 * Builds a program with symbolic jumps. Conditional jumps reach at most 255
 * instructions ahead (8-bit offsets); callers keep their blocks short and use
 * `ja` (32-bit) for the long ones, and `assemble` refuses anything else.
 */
export class Assembler {
  private items: Pending[] = [];
  private counter = 0;

  label(prefix = "L"): string {
    return `${prefix}${this.counter++}`;
  }
  place(name: string): void {
    this.items.push({ kind: "label", name });
  }
  load(offset: number): void {
    this.items.push({ kind: "insn", insn: { code: BPF.LD_W_ABS, jt: 0, jf: 0, k: offset } });
  }
  and(k: number): void {
    this.items.push({ kind: "insn", insn: { code: BPF.ALU_AND_K, jt: 0, jf: 0, k: k >>> 0 } });
  }
  ret(k: number): void {
    this.items.push({ kind: "insn", insn: { code: BPF.RET_K, jt: 0, jf: 0, k: k >>> 0 } });
  }
  jump(code: number, k: number, jt: Target, jf: Target): void {
    this.items.push({ kind: "jump", code, k: k >>> 0, jt, jf });
  }
  ja(to: string): void {
    this.items.push({ kind: "ja", to });
  }

  assemble(): Insn[] {
    const at = new Map<string, number>();
    let pc = 0;
    for (const it of this.items) {
      if (it.kind === "label") at.set(it.name, pc);
      else pc++;
    }
    const out: Insn[] = [];
    const offset = (from: number, t: Target, long: boolean): number => {
      if (typeof t === "number") return t;
      const to = at.get(t);
      if (to === undefined) throw new Error(`seccomp filter: label ${t} never placed`);
      const d = to - from - 1;
      if (d < 0 || (!long && d > 255)) throw new Error(`seccomp filter: jump of ${d} from ${from} to ${t} out of range`);
      return d;
    };
    for (const it of this.items) {
      if (it.kind === "label") continue;
      const here = out.length;
      if (it.kind === "insn") out.push(it.insn);
      else if (it.kind === "ja") out.push({ code: BPF.JA, jt: 0, jf: 0, k: offset(here, it.to, true) });
      else out.push({ code: it.code, jt: offset(here, it.jt, false), jf: offset(here, it.jf, false), k: it.k });
    }
    if (out.length > BPF_MAXINSNS) throw new Error(`seccomp filter: ${out.length} instructions, more than the kernel's ${BPF_MAXINSNS}`);
    return out;
  }
}

/** struct sock_filter[] in host byte order (little-endian: x86_64, aarch64). */
export function encode(prog: Insn[]): Uint8Array {
  const buf = new Uint8Array(prog.length * 8);
  const v = new DataView(buf.buffer);
  prog.forEach((p, i) => {
    v.setUint16(i * 8, p.code, true);
    v.setUint8(i * 8 + 2, p.jt);
    v.setUint8(i * 8 + 3, p.jf);
    v.setUint32(i * 8 + 4, p.k >>> 0, true);
  });
  return buf;
}

export function decode(buf: Uint8Array): Insn[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Insn[] = [];
  for (let i = 0; i + 8 <= buf.length; i += 8) out.push({ code: v.getUint16(i, true), jt: v.getUint8(i + 2), jf: v.getUint8(i + 3), k: v.getUint32(i + 4, true) });
  return out;
}
