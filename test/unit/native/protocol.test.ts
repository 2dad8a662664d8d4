// The sync bytes, stages and flags exist on both sides of the native boundary: keep them equal.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Sync, SpawnFlag, Stage, PlanField } from "../../../pkg/native/protocol.ts";

const c = readFileSync(join(import.meta.dir, "../../../pkg/native/core.c"), "utf8");
const define = (name: string) => {
  const m = new RegExp(`#define ${name}\\s+(0x[0-9a-f]+|\\d+)`).exec(c);
  if (!m) throw new Error(`${name} not defined in core.c`);
  return Number(m[1]);
};

test("sync bytes match core.c", () => {
  expect(define("SYNC_USERMAP_PLS")).toBe(Sync.UsermapPls);
  expect(define("SYNC_USERMAP_ACK")).toBe(Sync.UsermapAck);
  expect(define("SYNC_USERMAP_FAIL")).toBe(Sync.UsermapFail);
});
const snake = (k: string) => k.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();

test("stages match core.c", () => {
  for (const [k, v] of Object.entries(Stage)) expect([k, define(`STAGE_${snake(k)}`)]).toEqual([k, v]);
});
test("plan header indexes match core.c", () => {
  for (const [k, v] of Object.entries(PlanField)) {
    const name = k === "RootKind" ? "ROOT_KIND" : k === "NewNet" ? "NEW_NET" : k === "NoNewPrivs" ? "NO_NEW_PRIVS" : snake(k);
    expect([k, define(`P_${name}`)]).toEqual([k, v]);
  }
});
test("spawn flags match core.c", () => {
  expect(define("SPAWN_NEWNS")).toBe(SpawnFlag.NewMountNs);
  expect(define("SPAWN_SETSID")).toBe(SpawnFlag.NewSession);
});
test("core.c has no #include: the target may have no C headers", () => {
  expect(c).not.toMatch(/^#include/m);
});

/** The exec stubs of core.c as bytes, with their fd slots: aarch64 first, then x86_64. */
function stubs(): { arch: string; machine: number; code: number[]; fdAt: number[] }[] {
  const codes = [...c.matchAll(/exec_stub_code\[\] = \{([^}]*)\}/g)].map((m) => m[1]!.split(",").map((b) => b.trim()).filter(Boolean).map(Number));
  const slots = [...c.matchAll(/exec_stub_fd_at\[\] = \{([^}]*)\}/g)].map((m) => m[1]!.split(",").map(Number));
  expect([codes.length, slots.length]).toEqual([2, 2]);
  return [
    { arch: "aarch64", machine: 0xb7, code: codes[0]!, fdAt: slots[0]! },
    { arch: "x86_64", machine: 0x3e, code: codes[1]!, fdAt: slots[1]! },
  ];
}

/** The ELF file sealed_exec_stub writes: one PT_LOAD of the whole file at 0x400000, the code at 120. */
function stubElf(code: number[], machine: number, fdAt: number[], fd: number): Uint8Array {
  const total = 120 + code.length;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  v.setUint16(16, 2, true), v.setUint16(18, machine, true), v.setUint32(20, 1, true);
  v.setBigUint64(24, 0x400000n + 120n, true), v.setBigUint64(32, 64n, true);
  v.setUint16(52, 64, true), v.setUint16(54, 56, true), v.setUint16(56, 1, true);
  v.setUint32(64, 1, true), v.setUint32(68, 5, true);
  v.setBigUint64(80, 0x400000n, true), v.setBigUint64(88, 0x400000n, true);
  v.setBigUint64(96, BigInt(total), true), v.setBigUint64(104, BigInt(total), true), v.setBigUint64(112, 0x1000n, true);
  b.set(code, 120);
  for (const o of fdAt) v.setUint32(120 + o, fd, true);
  return b;
}

test("the sealed exec stubs leave zeroed slots for the status fd (x86_64: mov edi, imm32; aarch64: ldr's literal)", () => {
  const [a64, x86] = stubs();
  expect(x86!.code.length).toBe(121);
  for (const off of x86!.fdAt) {
    expect(x86!.code[off - 1]).toBe(0xbf);
    expect(x86!.code.slice(off, off + 4)).toEqual([0, 0, 0, 0]);
  }
  expect(a64!.fdAt).toEqual([a64!.code.length - 4]);
  expect(a64!.code.slice(-4)).toEqual([0, 0, 0, 0]);
});

describe("the sealed exec stub, run", () => {
  // x86_64 natively; aarch64 under qemu-user where it is installed (apt-get install qemu-user-static)
  for (const s of stubs()) {
    const runner = s.arch === "x86_64" ? (process.arch === "x64" ? [] : undefined) : Bun.which("qemu-aarch64-static") ? ["qemu-aarch64-static"] : undefined;
    test.skipIf(runner === undefined)(`${s.arch}: execs argv[0] with argv[1..], reports a failed exec on the fd, and exits 127 without it (${s.arch === "x86_64" ? "skipped on other hosts" : "skipped without qemu-aarch64-static"})`, () => {
      const dir = mkdtempSync(join(tmpdir(), "pod-stub-"));
      try {
        const run = (target: string, args: string[], withFd: boolean) => {
          const fd = 9;
          const stub = join(dir, "stub");
          writeFileSync(stub, stubElf(s.code, s.machine, s.fdAt, fd), { mode: 0o755 });
          const report = join(dir, "report");
          writeFileSync(report, "");
          // the shell holds the report file open as fd 9 (not close-on-exec), as the native core holds its status pipe
          const argv = runner!.length ? [...runner!, "-0", target, stub, ...args] : [stub, ...args];
          const quoted = argv.map((a) => `'${a}'`).join(" ");
          const script = runner!.length ? `exec ${quoted}` : `exec -a '${target}' ${quoted}`;
          const p = Bun.spawnSync(["bash", "-c", withFd ? `${script} 9>>'${report}'` : script], { stdout: "pipe", stderr: "pipe" });
          return { code: p.exitCode, out: p.stdout.toString(), report: [...readFileSync(report)] };
        };
        expect(run("/bin/sh", ["sh", "-c", "echo ran:$0", "zero"], true)).toEqual({ code: 0, out: "ran:zero\n", report: [] });
        expect(run("/no/such/file", ["x"], true)).toEqual({ code: 125, out: "", report: [6, 2] });
        expect(run("/bin/true", ["true"], false)).toEqual({ code: 127, out: "", report: [] });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
