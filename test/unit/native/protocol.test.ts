// The sync bytes, stages and flags exist on both sides of the native boundary: keep them equal.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
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

test("the sealed exec stub patches the status fd into its three mov edi, imm32 (0xbf) instructions", () => {
  const code = /exec_stub_code\[\] = \{([^}]*)\}/.exec(c)?.[1];
  const at = /exec_stub_fd_at\[3\] = \{([^}]*)\}/.exec(c)?.[1];
  expect(code && at).toBeTruthy();
  const bytes = code!.split(",").map((b) => b.trim()).filter(Boolean).map(Number);
  expect(bytes.length).toBe(121);
  for (const off of at!.split(",").map(Number)) {
    expect(bytes[off - 1]).toBe(0xbf);
    expect(bytes.slice(off, off + 4)).toEqual([0, 0, 0, 0]);
  }
  // ends in exit_group: mov eax, 231; syscall
  expect(bytes.slice(-7)).toEqual([0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05]);
});
