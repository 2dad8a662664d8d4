// Container cgroups on a fake cgroup tree (plain directories and files the
// test writes; nothing under /sys is touched): creating and reusing a scope,
// enabling controllers in pod.slice, removal, and the freeze handshake with
// cgroup.events. The kernel side is covered for real by test/vm.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createContainerCgroup, isFrozen, removeContainerCgroup, setFrozen } from "../../../pkg/cgroup/index.ts";
import { logLevel, setLogLevel } from "../../../pkg/output/index.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-cgroup-"));
const level = logLevel();
beforeAll(() => setLogLevel("error")); // the warnings these failures cause are the expected ones
afterAll(() => {
  setLogLevel(level);
  rmSync(tmp, { recursive: true, force: true });
});
let n = 0;
const fresh = () => {
  const d = join(tmp, `root${n++}`);
  mkdirSync(d);
  return d;
};
const ID = "0123456789abcdef".repeat(4);
/** a delegated root whose pod.slice is `slice` */
const ok = (slice: string) => ({ ok: true as const, parent: slice, root: join(slice, ".."), own: join(slice, "..", "own") });

describe("createContainerCgroup", () => {
  test("makes pod.slice and pod-<id>.scope under the delegated root and returns the scope's path", () => {
    const root = fresh();
    const dir = createContainerCgroup(ID, ok(join(root, "pod.slice")));
    expect(dir).toBe(join(root, "pod.slice", `pod-${ID}.scope`));
    expect(existsSync(dir!)).toBe(true);
  });

  test("offers pod.slice's controllers to the containers (the real file takes one +name per write)", () => {
    const slice = join(fresh(), "pod.slice");
    mkdirSync(slice);
    writeFileSync(join(slice, "cgroup.controllers"), "cpu memory pids\n");
    writeFileSync(join(slice, "cgroup.subtree_control"), "memory\n");
    createContainerCgroup(ID, ok(slice));
    expect(readFileSync(join(slice, "cgroup.subtree_control"), "utf8")).toBe("+pids"); // a plain file keeps the last write
  });

  test("a scope left behind by a container nobody saw end is reused, thawed", () => {
    const slice = join(fresh(), "pod.slice");
    const scope = join(slice, `pod-${ID}.scope`);
    mkdirSync(scope, { recursive: true });
    writeFileSync(join(scope, "cgroup.freeze"), "1\n");
    expect(createContainerCgroup(ID, ok(slice))).toBe(scope);
    expect(isFrozen(scope)).toBe(false);
  });

  test("no cgroup where the host offers none, or where the directory cannot be made", () => {
    expect(createContainerCgroup(ID, { ok: false, reason: "hybrid", hint: "" })).toBeUndefined();
    const file = join(fresh(), "not-a-dir");
    writeFileSync(file, "");
    expect(createContainerCgroup(ID, ok(join(file, "pod.slice")))).toBeUndefined();
  });
});

describe("removeContainerCgroup", () => {
  test("removes the scope; a missing one or none at all is fine", () => {
    const dir = createContainerCgroup(ID, ok(join(fresh(), "pod.slice")))!;
    removeContainerCgroup(dir);
    expect(existsSync(dir)).toBe(false);
    removeContainerCgroup(dir);
    removeContainerCgroup(undefined);
  });

  test("never throws: a directory that cannot be removed is only warned about", () => {
    const dir = join(fresh(), "busy");
    mkdirSync(dir);
    writeFileSync(join(dir, "something"), "");
    expect(() => removeContainerCgroup(dir)).not.toThrow();
    expect(existsSync(dir)).toBe(true);
  });
});

describe("setFrozen", () => {
  test("writes cgroup.freeze and returns once cgroup.events agrees", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "cgroup.events"), "populated 1\nfrozen 0\n");
    const done = setFrozen(dir, true, 2000);
    setTimeout(() => writeFileSync(join(dir, "cgroup.events"), "populated 1\nfrozen 1\n"), 30);
    await done;
    expect(readFileSync(join(dir, "cgroup.freeze"), "utf8")).toBe("1");
    expect(isFrozen(dir)).toBe(true);
    await setFrozen(dir, false, 50).catch(() => {});
    expect(isFrozen(dir)).toBe(false);
  });

  test("a freeze the kernel never completes is undone and reported", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "cgroup.events"), "populated 1\nfrozen 0\n");
    const e = await setFrozen(dir, true, 100).then(
      () => undefined,
      (x: Error) => x,
    );
    expect(e?.message).toContain(`freezing ${dir}: cgroup.events still does not say "frozen 1"`);
    expect(isFrozen(dir)).toBe(false);
  });

  test("a cgroup that is gone", async () => {
    const gone = join(tmp, "no-such-scope");
    expect(isFrozen(gone)).toBe(false);
    await expect(setFrozen(gone, true, 100)).rejects.toThrow(`freezing ${gone}: writing cgroup.freeze: ENOENT`);
  });
});
