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
