// Where a store keeps its runtime state: the default store in
// $XDG_RUNTIME_DIR/pod, any other --root in a sibling named after it, so
// resetting one store never removes another's sockets and pids.
import { describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolvePaths, storeTag } from "../../../pkg/config/paths.ts";

const xdg = mkdtempSync(join(tmpdir(), "pod-paths-"));
const env = { HOME: "/home/u", XDG_RUNTIME_DIR: xdg };

describe("runroot per store", () => {
  test("the default store uses $XDG_RUNTIME_DIR/pod", () => {
    expect(resolvePaths({}, env)).toEqual({ root: "/home/u/.local/share/pod", runroot: join(xdg, "pod") });
    expect(resolvePaths({ root: "/home/u/.local/share/pod/" }, env).runroot).toBe(join(xdg, "pod"));
  });

  test("another root gets a sibling runroot of its own, stable for the same path", () => {
    const a = resolvePaths({ root: "/data/a" }, env).runroot;
    const b = resolvePaths({ root: "/data/b" }, env).runroot;
    expect(a).toBe(join(xdg, `pod-${storeTag("/data/a")}`));
    expect(a).not.toBe(b);
    expect(resolvePaths({ root: "/data/a/" }, env).runroot).toBe(a);
    expect(resolvePaths({}, { ...env, POD_ROOT: "/data/a" }).runroot).toBe(a);
    expect(a.startsWith(join(xdg, "pod") + "/"), "not inside the default store's runroot").toBe(false);
  });

  test("an explicit --runroot or POD_RUNROOT is used as given", () => {
    expect(resolvePaths({ root: "/data/a", runroot: "/run/x" }, env).runroot).toBe("/run/x");
    expect(resolvePaths({ root: "/data/a" }, { ...env, POD_RUNROOT: "/run/y" }).runroot).toBe("/run/y");
  });
});
