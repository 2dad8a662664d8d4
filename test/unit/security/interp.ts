// A small classic-BPF interpreter for seccomp programs, so the tests run the
// compiled filter on syscalls instead of reading its instructions.
import type { Insn } from "../../../pkg/security/bpf.ts";

export type SeccompData = { nr: number; arch: number; args?: bigint[] };

function word(d: SeccompData, off: number): number {
  if (off === 0) return d.nr >>> 0;
  if (off === 4) return d.arch >>> 0;
  if (off >= 16 && off < 64 && off % 4 === 0) {
    const a = d.args?.[(off - 16) >> 3] ?? 0n;
    return Number(off % 8 === 0 ? a & 0xffffffffn : (a >> 32n) & 0xffffffffn);
  }
  throw new Error(`load at offset ${off}`);
}

/** Runs prog on d and returns the SECCOMP_RET_* value; throws on anything seccomp would refuse. */
export function run(prog: Insn[], d: SeccompData): number {
  let A = 0;
  for (let pc = 0, steps = 0; pc < prog.length; steps++) {
    if (steps > 100000) throw new Error("no return");
    const i = prog[pc]!;
    const cls = i.code & 0x07;
    if (cls === 0x00 /* LD */) {
      if (i.code !== 0x20) throw new Error(`ld code ${i.code}`);
      A = word(d, i.k);
      pc++;
    } else if (cls === 0x04 /* ALU */) {
      if (i.code !== 0x54) throw new Error(`alu code ${i.code}`);
      A = (A & i.k) >>> 0;
      pc++;
    } else if (cls === 0x05 /* JMP */) {
      const op = i.code & 0xf0;
      if (op === 0x00) {
        pc += 1 + i.k;
        continue;
      }
      const k = i.k >>> 0;
      const t = op === 0x10 ? A === k : op === 0x20 ? A > k : op === 0x30 ? A >= k : op === 0x40 ? (A & k) !== 0 : undefined;
      if (t === undefined) throw new Error(`jmp code ${i.code}`);
      pc += 1 + (t ? i.jt : i.jf);
    } else if (cls === 0x06 /* RET */) {
      return i.k >>> 0;
    } else throw new Error(`code ${i.code}`);
  }
  throw new Error("fell off the end");
}
