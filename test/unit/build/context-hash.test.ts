import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { contextRelative, type HashCache, hashSources, matchElement } from "../../../pkg/build/context-hash.ts";
import { createMatcher, readPatterns } from "../../../pkg/build/ignore.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function context(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "pod-build-ctx-"));
  dirs.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}
const none = createMatcher([]);

describe("hashSources", () => {
  test("mtimes do not change the digest, bytes and modes do", async () => {
    const dir = context({ "a.txt": "one", "src/b.txt": "two" });
    const first = await hashSources(dir, none, ["a.txt", "src"]);
    utimesSync(join(dir, "a.txt"), new Date(1), new Date(1));
    expect((await hashSources(dir, none, ["a.txt", "src"])).digest).toBe(first.digest);
    writeFileSync(join(dir, "src/b.txt"), "TWO");
    const changed = await hashSources(dir, none, ["a.txt", "src"]);
    expect(changed.digest).not.toBe(first.digest);
    chmodSync(join(dir, "a.txt"), 0o700);
    expect((await hashSources(dir, none, ["a.txt", "src"])).digest).not.toBe(changed.digest);
  });

  test("--chown and --chmod are part of the key", async () => {
    const dir = context({ "a": "x" });
    const plain = await hashSources(dir, none, ["a"]);
    const owned = await hashSources(dir, none, ["a"], { uid: 1000, gid: 1000 });
    expect(owned.digest).not.toBe(plain.digest);
    expect(owned.files[0]!).toMatchObject({ uid: 1000, gid: 1000 });
    expect(plain.files[0]!).toMatchObject({ uid: 0, gid: 0, dest: "a", type: "file" });
    expect((await hashSources(dir, none, ["a"], undefined, { chmod: 0o600 })).files[0]!.mode).toBe(0o600);
  });

  test("a directory source stands for its contents; globs select within one element", async () => {
    const dir = context({ "src/x.go": "1", "src/sub/y.go": "2", "a1.txt": "a", "a2.txt": "b", "b.txt": "c" });
    const tree = await hashSources(dir, none, ["src/"]);
    expect(tree.files.map((f) => [f.rel, f.dest, f.type])).toEqual([
      ["src", ".", "dir"],
      ["src/sub", "sub", "dir"],
      ["src/sub/y.go", "sub/y.go", "file"],
      ["src/x.go", "x.go", "file"],
    ]);
    const globbed = await hashSources(dir, none, ["a?.txt", "/s*/*.go"]);
    expect(globbed.files.map((f) => f.rel)).toEqual(["a1.txt", "a2.txt", "src/x.go"]);
    expect(globbed.files[0]!.sha256).toBe(new Bun.CryptoHasher("sha256").update("a").digest("hex"));
    expect(matchElement("[!a]*", "b.txt")).toBe(true);
    expect(matchElement("[!a]*", "a.txt")).toBe(false);
  });

  test("the ignore file decides what exists", async () => {
    const dir = context({ "keep/a": "1", "keep/b.log": "2", "build/out": "3", "build/keep.txt": "4" });
    const m = createMatcher(readPatterns("*.log\n**/*.log\nbuild\n!build/keep.txt\n"));
    const r = await hashSources(dir, m, ["."]);
    expect(r.files.map((f) => f.rel)).toEqual(["", "build/keep.txt", "keep", "keep/a"]);
    await expect(hashSources(dir, m, ["build/out"])).rejects.toThrow(`checking on sources under "${dir}": copier: stat: "/build/out": no such file or directory`);
  });

  test("missing sources, escapes and symlinks", async () => {
    const dir = context({ "real/f": "x" });
    symlinkSync("real", join(dir, "link"));
    symlinkSync("/real/f", join(dir, "abs"));
    symlinkSync("../../etc/passwd", join(dir, "out"));
    await expect(hashSources(dir, none, ["nope*"])).rejects.toThrow('copier: stat: "/nope*": no such file or directory');
    expect(() => contextRelative("../x")).toThrow("forbidden path outside the build context: ../x");
    await expect(hashSources(dir, none, ["a/../../x"])).rejects.toThrow("forbidden path outside the build context");
    // A named symlink is followed inside the context; an absolute target means the context's root.
    const viaLink = await hashSources(dir, none, ["link/f", "abs"]);
    expect(viaLink.files.map((f) => [f.rel, f.abs, f.dest])).toEqual([["link/f", join(dir, "real/f"), "f"], ["abs", join(dir, "real/f"), "abs"]]);
    // Outside targets are clamped to the context, where /etc/passwd does not exist.
    await expect(hashSources(dir, none, ["out"])).rejects.toThrow("no such file or directory");
    // Inside a copied directory, links stay links.
    const all = await hashSources(dir, none, ["."]);
    expect(all.files.find((f) => f.rel === "link")).toMatchObject({ type: "symlink", linkTarget: "real" });
  });

  test("a large file is streamed, and the cache skips unchanged files", async () => {
    const dir = context({});
    const big = new Uint8Array(3 << 20).fill(7);
    writeFileSync(join(dir, "big"), big);
    const cache: HashCache = new Map();
    const r = await hashSources(dir, none, ["big"], undefined, { cache });
    expect(r.files[0]!.sha256).toBe(new Bun.CryptoHasher("sha256").update(big).digest("hex"));
    expect(cache.size).toBe(1);
    cache.get(join(dir, "big"))!.sha256 = "f".repeat(64);
    expect((await hashSources(dir, none, ["big"], undefined, { cache })).files[0]!.sha256).toBe("f".repeat(64));
  });
});
