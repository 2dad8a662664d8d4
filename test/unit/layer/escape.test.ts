// Hostile layers: nothing may be written, linked, chmod'ed or timed outside
// the layer directory, whatever order of symlinks, hardlinks and ".." is tried.
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { extractLayer } from "../../../pkg/layer/index.ts";
import { Scratch, tarBytes, type RawEntry } from "./_tar.ts";

const scratch = new Scratch();
afterAll(() => scratch.cleanup());
const outside = join(scratch.root, "outside");
const victim = join(outside, "victim");

beforeEach(() => {
  rmSync(outside, { recursive: true, force: true });
  mkdirSync(outside, { mode: 0o700 });
  writeFileSync(victim, "safe", { mode: 0o600 });
});

function outsideUntouched(): void {
  expect(readdirSync(outside)).toEqual(["victim"]);
  expect(readFileSync(victim, "utf8")).toBe("safe");
  expect(lstatSync(victim).nlink).toBe(1);
  expect(lstatSync(victim).mode & 0o7777).toBe(0o600);
  expect(lstatSync(outside).mode & 0o7777).toBe(0o700);
  expect(existsSync(join(scratch.root, "x"))).toBe(false);
}

async function run(entries: RawEntry[]): Promise<{ dest: string; error?: Error }> {
  const dest = scratch.dest();
  const blob = scratch.blob(tarBytes(entries));
  const error = await extractLayer(blob, dest, { digest: "sha256:feed" }).then(
    () => undefined,
    (e: Error) => e,
  );
  return { dest, error };
}

describe("entries that would escape are refused", () => {
  const refused: [string, RawEntry[], string][] = [
    ["a ../ name", [{ path: "../x", data: "pwn" }], 'layer sha256:feed: entry "../x" escapes the layer root'],
    ["a name climbing back out", [{ path: "a/../../x", data: "pwn" }], 'entry "a/../../x" escapes the layer root'],
    [
      "a file through a symlinked parent",
      [
        { path: "l", type: "SymbolicLink", linkpath: outside },
        { path: "l/victim", data: "pwn" },
      ],
      'entry "l/victim": parent "l" is a symlink, refusing to follow it',
    ],
    [
      "a file through a relative symlink deeper down",
      [
        { path: "a/b/", type: "Directory" },
        { path: "a/b/up", type: "SymbolicLink", linkpath: "../../../outside" },
        { path: "a/b/up/new/file", data: "pwn" },
      ],
      'entry "a/b/up/new/file": parent "a/b/up" is a symlink',
    ],
    [
      "a directory that was checked, then replaced by a symlink",
      [
        { path: "etc/", type: "Directory" },
        { path: "etc/ok", data: "fine" },
        { path: "etc", type: "SymbolicLink", linkpath: outside },
        { path: "etc/victim", data: "pwn" },
      ],
      'entry "etc/victim": parent "etc" is a symlink',
    ],
    ["a hardlink to the host's /etc/passwd", [{ path: "pw", type: "Link", linkpath: "/etc/passwd" }], 'hardlink target "/etc/passwd" is not an earlier entry of this layer'],
    ["a hardlink climbing out", [{ path: "pw", type: "Link", linkpath: "../outside/victim" }], 'hardlink target "../outside/victim" escapes the layer root'],
    [
      "a hardlink through a symlinked directory",
      [
        { path: "d", type: "SymbolicLink", linkpath: outside },
        { path: "h", type: "Link", linkpath: "d/victim" },
      ],
      'hardlink target "d/victim" is not an earlier entry of this layer',
    ],
    ["a whiteout of ..", [{ path: "a/.wh...", data: "" }], 'entry "a/.wh...": malformed whiteout'],
    ["a path longer than PATH_MAX", [{ path: "p", data: "", pax: { path: "a/".repeat(2100) + "f" } }], "path is longer than 4096 bytes"],
    ["a name longer than NAME_MAX", [{ path: "p", data: "", pax: { path: "n".repeat(300) } }], "a name is longer than 255 bytes"],
    ["the root as a symlink", [{ path: "./", type: "SymbolicLink", linkpath: outside }], "the layer root can only be a directory"],
  ];
  for (const [what, entries, message] of refused) {
    test(what, async () => {
      const { error } = await run(entries);
      expect(error?.constructor.name).toBe("PodError");
      expect(error?.message).toContain(message);
      outsideUntouched();
    });
  }
});

describe("entries that look dangerous but stay inside", () => {
  test("absolute names land under the layer root", async () => {
    const { dest, error } = await run([{ path: `${outside}/victim`, data: "inside" }]);
    expect(error).toBeUndefined();
    expect(readFileSync(join(dest, outside, "victim"), "utf8")).toBe("inside");
    outsideUntouched();
  });

  test("a file over a symlink replaces the symlink instead of writing through it", async () => {
    const { dest, error } = await run([
      { path: "f", type: "SymbolicLink", linkpath: victim },
      { path: "f", data: "new", mode: 0o777 },
    ]);
    expect(error).toBeUndefined();
    expect(lstatSync(join(dest, "f")).isFile()).toBe(true);
    expect(readFileSync(join(dest, "f"), "utf8")).toBe("new");
    outsideUntouched();
  });

  test("a directory entry over a symlink replaces it; its mode never reaches the target", async () => {
    const { dest, error } = await run([
      { path: "d", type: "SymbolicLink", linkpath: outside },
      { path: "d/", type: "Directory", mode: 0o777 },
      { path: "d/victim", data: "inside" },
    ]);
    expect(error).toBeUndefined();
    expect(lstatSync(join(dest, "d")).isDirectory()).toBe(true);
    expect(readFileSync(join(dest, "d/victim"), "utf8")).toBe("inside");
    outsideUntouched();
  });

  test("a directory replaced by a symlink drops its pending mode and times", async () => {
    const { dest, error } = await run([
      { path: "d/", type: "Directory", mode: 0o777 },
      { path: "d", type: "SymbolicLink", linkpath: outside },
    ]);
    expect(error).toBeUndefined();
    expect(readlinkSync(join(dest, "d"))).toBe(outside);
    outsideUntouched();
  });

  test("a hardlink to a symlink links the symlink, not what it points at", async () => {
    const { dest, error } = await run([
      { path: "s", type: "SymbolicLink", linkpath: victim },
      { path: "h", type: "Link", linkpath: "s" },
      { path: "h", data: "replaced" },
    ]);
    expect(error).toBeUndefined();
    expect(readlinkSync(join(dest, "s"))).toBe(victim);
    expect(readFileSync(join(dest, "h"), "utf8")).toBe("replaced");
    outsideUntouched();
  });

  test("symlink targets are stored verbatim, never resolved", async () => {
    const { dest, error } = await run([{ path: "up", type: "SymbolicLink", linkpath: "../../../../etc/shadow" }]);
    expect(error).toBeUndefined();
    expect(readlinkSync(join(dest, "up"))).toBe("../../../../etc/shadow");
  });
});
