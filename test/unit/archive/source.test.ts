import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { archiveSource, indexTar } from "../../../pkg/archive/_source.ts";
import { tarBytes } from "../layer/_tar.ts";

const dir = mkdtempSync(join(tmpdir(), "pod-archive-src-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, b: Uint8Array) => {
  const p = join(dir, name);
  writeFileSync(p, b);
  return p;
};

const tar = tarBytes([
  { path: "manifest.json", data: "[1]" },
  { path: "./blobs/", type: "Directory" },
  { path: "blobs/layer.tar", data: "x".repeat(1000) },
  { path: "link", type: "SymbolicLink", linkpath: "/etc/passwd" },
  { path: "y".repeat(120) + "/long", data: "long", pax: { path: "y".repeat(120) + "/long" } },
]);

describe("reading an archive in place", () => {
  test("regular files by byte range; directories and symlinks name nothing", () => {
    const idx = indexTar(write("a.tar", tar));
    expect([...idx.keys()].sort()).toEqual(["blobs/layer.tar", "manifest.json", "y".repeat(120) + "/long"]);
    const r = idx.get("blobs/layer.tar")!;
    expect(tar.subarray(r.start, r.start + r.length).toString()).toBe("x".repeat(1000));
  });

  test("a gzip archive is inflated first; names are looked up as written or with ./", async () => {
    const src = await archiveSource(write("a.tar.gz", gzipSync(tar)), dir);
    expect(src.bytes("./manifest.json").toString()).toBe("[1]");
    expect(src.has("link")).toBe(false);
    expect(src.blob("blobs/layer.tar").size).toBe(1000);
  });

  test("a truncated or damaged archive is refused", () => {
    expect(() => indexTar(write("cut.tar", tar.subarray(0, 1200)))).toThrow(/truncated/);
    const bad = Buffer.from(tar);
    bad[148] = 0x41;
    expect(() => indexTar(write("bad.tar", bad))).toThrow(/not a tar archive/);
    expect(() => indexTar(write("junk", Buffer.from("hello".repeat(300))))).toThrow(/supported image formats/);
  });
});
