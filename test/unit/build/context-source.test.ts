import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { classifyContext, openBuildContext, parseGitContext, sniffBytes, unpackContext } from "../../../pkg/build/context-source.ts";
import { FdSink, TarWriter } from "../../../pkg/layer/index.ts";
import { PodError } from "../../../pkg/errors.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "ctx-src-test-"));
  dirs.push(d);
  return d;
};

type E = { name: string; type?: string; body?: string; link?: string; mode?: number };
function tarOf(path: string, entries: E[]): string {
  const fd = openSync(path, "w");
  const sink = new FdSink(fd);
  const w = new TarWriter(sink);
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const type = e.type ?? "0";
    w.header({ name: e.name, type, mode: e.mode ?? (type === "5" ? 0o755 : 0o644), uid: 0, gid: 0, size: type === "0" ? body.length : 0, mtime: 1_700_000_000, linkname: e.link });
    if (type === "0") {
      w.body(body);
      w.pad(body.length);
    }
  }
  w.finish();
  closeSync(fd);
  return path;
}

async function unpackError(entries: E[]): Promise<{ err: PodError; dest: string }> {
  const d = scratch();
  const dest = join(d, "ctx");
  mkdirSync(dest);
  const err = await unpackContext(tarOf(join(d, "a.tar"), entries), dest, "build context on stdin").then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(PodError);
  return { err, dest };
}

describe("classifyContext", () => {
  test("- is stdin, plain paths are directories", () => {
    expect(classifyContext("-")).toEqual({ kind: "stdin" });
    expect(classifyContext(".")).toEqual({ kind: "dir", path: "." });
    expect(classifyContext("some/dir#x")).toEqual({ kind: "dir", path: "some/dir#x" });
    expect(classifyContext("github.com/a/b")).toEqual({ kind: "dir", path: "github.com/a/b" });
  });

  test("http(s) URLs are downloads unless they end in .git", () => {
    expect(classifyContext("http://127.0.0.1:8080/ctx.tar.gz")).toEqual({ kind: "url", url: "http://127.0.0.1:8080/ctx.tar.gz" });
    expect(classifyContext("HTTPS://example.com/Containerfile")).toEqual({ kind: "url", url: "HTTPS://example.com/Containerfile" });
    expect(classifyContext("https://example.com/a/repo.git")).toEqual({ kind: "git", repo: "https://example.com/a/repo.git" });
    expect(classifyContext("https://example.com/a/repo.git#v1:docker")).toEqual({ kind: "git", repo: "https://example.com/a/repo.git", ref: "v1", subdir: "docker" });
    expect(classifyContext("https://example.com/a/repo.github.io/x").kind).toBe("url");
  });

  test("git:// and git@ are git, with podman's #ref:subdir fragment", () => {
    expect(classifyContext("git://127.0.0.1:9418/repo")).toEqual({ kind: "git", repo: "git://127.0.0.1:9418/repo" });
    expect(classifyContext("git://h/repo#main")).toEqual({ kind: "git", repo: "git://h/repo", ref: "main" });
    expect(classifyContext("git@github.com:o/r.git#:sub/dir/")).toEqual({ kind: "git", repo: "git@github.com:o/r.git", subdir: "sub/dir" });
    expect(classifyContext("git@github.com:o/r")).toEqual({ kind: "git", repo: "git@github.com:o/r" });
  });
});

describe("parseGitContext", () => {
  test("empty ref and subdir mean the default branch and the top", () => {
    expect(parseGitContext("git://h/r#")).toEqual({ repo: "git://h/r" });
    expect(parseGitContext("git://h/r#:")).toEqual({ repo: "git://h/r" });
    expect(parseGitContext("git://h/r#dev:.")).toEqual({ repo: "git://h/r", ref: "dev" });
    expect(parseGitContext("git://h/r#dev:a/./b/../c")).toEqual({ repo: "git://h/r", ref: "dev", subdir: "a/c" });
  });

  test("a subdir outside the repository and an option-like ref are refused", () => {
    expect(() => parseGitContext("git://h/r#main:../x")).toThrow(/is not inside the repository/);
    expect(() => parseGitContext("git://h/r#main:/etc")).toThrow(/is not inside the repository/);
    expect(() => parseGitContext("git://h/r#--upload-pack=x")).toThrow(/is not a branch or tag name/);
  });
});

describe("sniffBytes", () => {
  const block = (magic: string) => {
    const b = Buffer.alloc(512);
    b.write("file.txt", 0);
    b.write(magic, 257);
    return b;
  };
  test("compressed and ustar archives are tars; text is a Containerfile", () => {
    expect(sniffBytes(gzipSync("x"))).toBe("tar");
    expect(sniffBytes(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0]))).toBe("tar");
    expect(sniffBytes(block("ustar"))).toBe("tar");
    expect(sniffBytes(Buffer.from("FROM alpine\nRUN true\n"))).toBe("text");
    expect(sniffBytes(Buffer.from(""))).toBe("empty");
    expect(sniffBytes(Buffer.from([1, 2, 0, 3]))).toBe("binary");
    expect(sniffBytes(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))).toBe("xz");
    expect(sniffBytes(Buffer.from("BZh91AY"))).toBe("bzip2");
  });

  test("a v7 header without magic is told by its checksum", () => {
    const b = block("");
    b.write("0000644\0", 100);
    b.write("0", 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
    b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    expect(sniffBytes(b)).toBe("tar");
    b[0] = 0x41; // checksum no longer matches
    expect(sniffBytes(b)).toBe("binary");
  });
});

describe("unpackContext", () => {
  test("files, directories, symlinks and hard links land in the directory with their modes", async () => {
    const d = scratch();
    const dest = join(d, "ctx");
    mkdirSync(dest);
    const tar = tarOf(join(d, "a.tar"), [
      { name: "./", type: "5" },
      { name: "./Containerfile", body: "FROM alpine\n" },
      { name: "./sub/deep/x.sh", body: "echo\n", mode: 0o755 },
      { name: "./ro/", type: "5", mode: 0o555 },
      { name: "./ro/f", body: "ro", mode: 0o444 },
      { name: "./link", type: "2", link: "/etc/passwd" },
      { name: "./hard", type: "1", link: "./Containerfile" },
      { name: "./a/../b", body: "b" },
      { name: "./fifo", type: "6" },
    ]);
    const warnings: string[] = [];
    await unpackContext(tar, dest, "ctx", (w) => warnings.push(w));
    expect(readFileSync(join(dest, "Containerfile"), "utf8")).toBe("FROM alpine\n");
    expect(statSync(join(dest, "sub/deep/x.sh")).mode & 0o777).toBe(0o755);
    expect(statSync(join(dest, "ro")).mode & 0o777).toBe(0o555);
    expect(statSync(join(dest, "ro/f")).mode & 0o777).toBe(0o444);
    expect(readlinkSync(join(dest, "link"))).toBe("/etc/passwd");
    expect(statSync(join(dest, "hard")).ino).toBe(statSync(join(dest, "Containerfile")).ino);
    expect(readFileSync(join(dest, "b"), "utf8")).toBe("b");
    expect(existsSync(join(dest, "fifo"))).toBe(false);
    expect(warnings).toEqual(['ctx: skipping "./fifo": a fifo has no place in a build context']);
    expect(statSync(join(dest, "Containerfile")).mtimeMs).toBe(1_700_000_000_000);
  });

  test("entries that escape the directory are refused", async () => {
    for (const [entries, why] of [
      [[{ name: "../evil", body: "x" }], "leaves the context directory"],
      [[{ name: "a/../../evil", body: "x" }], "leaves the context directory"],
      [[{ name: "/etc/evil", body: "x" }], "has an absolute name"],
      [[{ name: "out", type: "2", link: ".." }, { name: "out/evil", body: "x" }], "goes through a symlink"],
      [[{ name: "d", type: "5" }, { name: "d", type: "2", link: "/tmp" }, { name: "d/evil", body: "x" }], "goes through a symlink"],
      [[{ name: "h", type: "1", link: "../../etc/passwd" }], "leaves the context directory"],
      [[{ name: "h", type: "1", link: "missing" }], "which is not a file before it in the archive"],
    ] as [E[], string][]) {
      const { err, dest } = await unpackError(entries);
      expect(err.message).toContain(why);
      expect(err.exit).toBe(125);
      expect(existsSync(join(dest, "..", "evil"))).toBe(false);
    }
  });

  test("a file entry replaces a symlink instead of writing through it", async () => {
    const d = scratch();
    const dest = join(d, "ctx");
    mkdirSync(dest);
    writeFileSync(join(d, "victim"), "keep");
    await unpackContext(tarOf(join(d, "a.tar"), [{ name: "f", type: "2", link: "../victim" }, { name: "f", body: "new" }]), dest, "ctx");
    expect(readFileSync(join(d, "victim"), "utf8")).toBe("keep");
    expect(lstatSync(join(dest, "f")).isFile()).toBe(true);
  });

  test("a directory's mode is not applied through a symlink that later took its place", async () => {
    const d = scratch();
    const dest = join(d, "ctx");
    mkdirSync(dest);
    mkdirSync(join(d, "victim"), { mode: 0o755 });
    await unpackContext(tarOf(join(d, "a.tar"), [{ name: "x/", type: "5", mode: 0o777 }, { name: "x", type: "2", link: "../victim" }]), dest, "ctx");
    expect(statSync(join(d, "victim")).mode & 0o777).toBe(0o755);
  });
});

describe("openBuildContext", () => {
  const stdin = (bytes: Uint8Array) => () => (async function* () {
    yield bytes;
  })();

  test("a tar on stdin becomes a temp directory that cleanup removes, read-only parts too", async () => {
    const d = scratch();
    const tar = readFileSync(tarOf(join(d, "a.tar"), [{ name: "ro/", type: "5", mode: 0o555 }, { name: "ro/f", body: "hi" }, { name: "Containerfile", body: "FROM x\n" }]));
    const ctx = await openBuildContext("-", { stdin: stdin(gzipSync(tar)), tmpdir: d });
    expect(ctx.containerfileText).toBeUndefined();
    expect(readFileSync(join(ctx.dir, "ro/f"), "utf8")).toBe("hi");
    ctx.cleanup();
    expect(readdirSync(d)).toEqual(["a.tar"]);
  });

  test("text on stdin is the Containerfile, with an empty context", async () => {
    const d = scratch();
    const ctx = await openBuildContext("-", { stdin: stdin(Buffer.from("FROM alpine\n")), tmpdir: d });
    expect(ctx.containerfileText).toBe("FROM alpine\n");
    expect(readdirSync(ctx.dir)).toEqual([]);
    ctx.cleanup();
    expect(readdirSync(d)).toEqual([]);
  });

  test("a hostile or unreadable stdin leaves nothing behind", async () => {
    const d = scratch();
    const evil = readFileSync(tarOf(join(scratch(), "e.tar"), [{ name: "../evil", body: "x" }]));
    for (const [bytes, why] of [
      [evil, "leaves the context directory"],
      [Buffer.alloc(0), "is empty"],
      [Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]), "xz-compressed"],
      [Buffer.from([7, 0, 7]), "neither a tar archive nor a Containerfile"],
    ] as [Uint8Array, string][]) {
      await expect(openBuildContext("-", { stdin: stdin(bytes), tmpdir: d })).rejects.toThrow(why);
      expect(readdirSync(d)).toEqual([]);
    }
  });

  test("a local directory is used in place; anything else there is refused", async () => {
    const d = scratch();
    const ctx = await openBuildContext(d);
    expect(ctx.dir).toBe(d);
    ctx.cleanup();
    expect(existsSync(d)).toBe(true);
    writeFileSync(join(d, "file"), "");
    await expect(openBuildContext(join(d, "file"))).rejects.toThrow("is not a directory");
  });
});
