// The sync bytes, stages and flags exist on both sides of the native boundary: keep them equal.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Sync, SpawnFlag, Stage } from "../../../pkg/native/protocol.ts";

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
test("stages match core.c", () => {
  expect(define("STAGE_UNSHARE")).toBe(Stage.Unshare);
  expect(define("STAGE_SINGLE_MAP")).toBe(Stage.SingleMap);
  expect(define("STAGE_SYNC")).toBe(Stage.Sync);
  expect(define("STAGE_SETID")).toBe(Stage.SetId);
  expect(define("STAGE_CHDIR")).toBe(Stage.Chdir);
  expect(define("STAGE_EXEC")).toBe(Stage.Exec);
});
test("spawn flags match core.c", () => {
  expect(define("SPAWN_NEWNS")).toBe(SpawnFlag.NewMountNs);
  expect(define("SPAWN_SETSID")).toBe(SpawnFlag.NewSession);
});
test("core.c has no #include: the target may have no C headers", () => {
  expect(c).not.toMatch(/^#include/m);
});
