import { afterAll, describe, expect, test } from "bun:test";
import { lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { create as tarCreate } from "tar";
import { extractLayer, detectCompression } from "../../../pkg/layer/index.ts";
import { lgetxattr } from "../../../pkg/native/libc.ts";
import { compress, Scratch, tarBytes, type Packing } from "./_tar.ts";

const scratch = new Scratch();
afterAll(() => scratch.cleanup());
const isRoot = process.geteuid?.() === 0;

function sha256sum(path: string): string {
  const r = Bun.spawnSync(["sha256sum", path]);
  return `sha256:${r.stdout.toString().split(" ")[0]}`;
}

async function extract(tar: Uint8Array, packing: Packing = "none") {
  const warnings: string[] = [];
  const dest = scratch.dest();
  const r = await extractLayer(scratch.blob(compress(tar, packing)), dest, { onWarning: (w) => warnings.push(w) });
  return { dest, warnings, ...r };
}

describe("extractLayer on a tree written by node-tar", () => {
  const src = join(scratch.root, "src");
  mkdirSync(join(src, "etc/conf.d"), { recursive: true });
  writeFileSync(join(src, "etc/conf.d/a.conf"), "a=1\n");
  writeFileSync(join(src, "etc/big"), randomBytes(300_000));
  writeFileSync(join(src, "etc/empty"), "");
  symlinkSync("conf.d/a.conf", join(src, "etc/link"));
  utimesSync(join(src, "etc/conf.d/a.conf"), new Date("2010-01-01T00:00:00Z"), new Date("2010-01-01T00:00:00Z"));
  const tarPath = join(scratch.root, "tree.tar");

  for (const packing of ["none", "gzip", "zstd"] as const) {
    test(`${packing}: contents, diffID equals sha256sum of the tar`, async () => {
      await tarCreate({ file: tarPath, cwd: src, portable: true }, ["etc"]);
      const tar = readFileSync(tarPath);
      const blob = scratch.blob(compress(tar, packing));
      expect(detectCompression(blob)).toBe(packing);
      const dest = scratch.dest();
      const r = await extractLayer(blob, dest);
      expect(r.diffID).toBe(sha256sum(tarPath));
      expect(r.size).toBe(tar.length);
      expect(r.entries).toBe(6);
      expect(readFileSync(join(dest, "etc/conf.d/a.conf"), "utf8")).toBe("a=1\n");
      expect(readFileSync(join(dest, "etc/big")).equals(readFileSync(join(src, "etc/big")))).toBe(true);
      expect(readFileSync(join(dest, "etc/empty")).length).toBe(0);
      expect(readlinkSync(join(dest, "etc/link"))).toBe("conf.d/a.conf");
      expect(lstatSync(join(dest, "etc/conf.d/a.conf")).mtime.toISOString()).toBe("2010-01-01T00:00:00.000Z");
    });
  }
});

describe("extractLayer metadata", () => {
  test("modes with setuid and sticky bits, mtimes of files, dirs and symlinks", async () => {
    const old = new Date("1999-12-31T23:59:59Z");
    const { dest } = await extract(
      tarBytes([
        { path: "usr/", type: "Directory", mode: 0o755, mtime: old },
        { path: "usr/bin/", type: "Directory", mode: 0o755, mtime: old },
        { path: "usr/bin/su", data: "#!", mode: 0o4755, mtime: old },
        { path: "usr/bin/ro", data: "x", mode: 0o444 },
        { path: "usr/bin/open", data: "x", mode: 0o777 },
        { path: "tmp/", type: "Directory", mode: 0o1777, mtime: old },
        { path: "tmp/sh", type: "SymbolicLink", linkpath: "/bin/sh", mtime: old },
      ]),
    );
    const mode = (p: string) => lstatSync(join(dest, p)).mode & 0o7777;
    expect(mode("usr/bin/su")).toBe(0o4755);
    expect(mode("usr/bin/ro")).toBe(0o444);
    expect(mode("usr/bin/open")).toBe(0o777);
    expect(mode("tmp")).toBe(0o1777);
    for (const p of ["usr", "usr/bin", "usr/bin/su", "tmp", "tmp/sh"]) expect(lstatSync(join(dest, p)).mtime).toEqual(old);
  });

  test("owners follow the header when root, stay ours otherwise", async () => {
    const { dest } = await extract(
      tarBytes([
        { path: "d/", type: "Directory", uid: 1000, gid: 1001 },
        { path: "d/f", data: "x", uid: 1000, gid: 1001 },
        { path: "d/l", type: "SymbolicLink", linkpath: "f", uid: 1002, gid: 1003 },
      ]),
    );
    const owner = (p: string) => {
      const st = lstatSync(join(dest, p));
      return [st.uid, st.gid];
    };
    const me = [process.geteuid!(), process.getegid!()];
    expect(owner("d")).toEqual(isRoot ? [1000, 1001] : me);
    expect(owner("d/f")).toEqual(isRoot ? [1000, 1001] : me);
    expect(owner("d/l")).toEqual(isRoot ? [1002, 1003] : me);
  });

  test("PAX xattrs: user.* kept byte for byte, selinux and overlay's own dropped", async () => {
    const value = Uint8Array.from([0, 10, 0xff, 61, 32, 0x0a, 7]);
    const { dest, warnings } = await extract(
      tarBytes([
        {
          path: "f",
          data: "x",
          pax: {
            "SCHILY.xattr.user.pod-test": value,
            "SCHILY.xattr.security.selinux": "system_u:object_r:bin_t:s0",
            "SCHILY.xattr.user.overlay.opaque": "y",
          },
        },
        { path: "d/", type: "Directory", pax: { "SCHILY.xattr.user.dir": "v" } },
      ]),
    );
    expect(lgetxattr(join(dest, "f"), "user.pod-test")).toEqual(value);
    expect(lgetxattr(join(dest, "f"), "user.overlay.opaque")).toBeUndefined();
    expect(lgetxattr(join(dest, "d"), "user.dir")).toEqual(Buffer.from("v"));
    expect(warnings).toEqual(['skipping xattr user.overlay.opaque on "f": reserved for overlay']);
  });

  test("hardlinks share the inode of an earlier entry", async () => {
    const { dest } = await extract(
      tarBytes([
        { path: "bin/busybox", data: "BB", mode: 0o755 },
        { path: "bin/sh", type: "Link", linkpath: "bin/busybox" },
        { path: "bin/ls", type: "Link", linkpath: "/bin/busybox" },
      ]),
    );
    const ino = lstatSync(join(dest, "bin/busybox")).ino;
    expect(lstatSync(join(dest, "bin/sh")).ino).toBe(ino);
    expect(lstatSync(join(dest, "bin/ls")).ino).toBe(ino);
    expect(lstatSync(join(dest, "bin/busybox")).nlink).toBe(3);
  });

  test("long names from PAX and GNU headers, devices skipped with a warning, fifos made", async () => {
    const deep = `${"d".repeat(120)}/${"e".repeat(120)}/file`;
    const { dest, warnings, entries } = await extract(
      tarBytes([
        { path: "short-pax", data: "1", pax: { path: deep } },
        { path: "short-gnu", data: "2", gnuLongName: `${deep}2` },
        { path: `${"p".repeat(90)}/${"q".repeat(50)}`, data: "3" },
        { path: "dev/sda", type: "BlockDevice", devmaj: 8, devmin: 0 },
        { path: "dev/null", type: "CharacterDevice", devmaj: 1, devmin: 3 },
        { path: "run/fifo", type: "FIFO", mode: 0o600 },
      ]),
    );
    expect(entries).toBe(6);
    expect(readFileSync(join(dest, `${"p".repeat(90)}/${"q".repeat(50)}`), "utf8")).toBe("3");
    expect(readFileSync(join(dest, deep), "utf8")).toBe("1");
    expect(readFileSync(join(dest, `${deep}2`), "utf8")).toBe("2");
    expect(warnings).toEqual([
      "skipping device node dev/sda: device nodes cannot be created rootless",
      "skipping device node dev/null: device nodes cannot be created rootless",
    ]);
    expect(() => lstatSync(join(dest, "dev/sda"))).toThrow();
    expect(lstatSync(join(dest, "run/fifo")).isFIFO()).toBe(true);
    expect(lstatSync(join(dest, "run/fifo")).mode & 0o7777).toBe(0o600);
  });

  test("a repeated name: the later entry wins, whatever the types", async () => {
    const { dest } = await extract(
      tarBytes([
        { path: "x", data: "one" },
        { path: "x", data: "two" },
        { path: "d/", type: "Directory" },
        { path: "d/child", data: "c" },
        { path: "d", data: "now a file" },
        { path: "f", data: "file" },
        { path: "f/", type: "Directory", mode: 0o700 },
        { path: "s", type: "SymbolicLink", linkpath: "x" },
        { path: "s", type: "SymbolicLink", linkpath: "f" },
      ]),
    );
    expect(readFileSync(join(dest, "x"), "utf8")).toBe("two");
    expect(readFileSync(join(dest, "d"), "utf8")).toBe("now a file");
    expect(lstatSync(join(dest, "f")).isDirectory()).toBe(true);
    expect(lstatSync(join(dest, "f")).mode & 0o777).toBe(0o700);
    expect(readlinkSync(join(dest, "s"))).toBe("f");
  });

  test("the root entry ./ sets the layer directory's mode", async () => {
    const { dest } = await extract(tarBytes([{ path: "./", type: "Directory", mode: 0o750 }, { path: "./a", data: "a" }]));
    expect(lstatSync(dest).mode & 0o7777).toBe(0o750);
    chmodSync(dest, 0o755);
  });
});

describe("extractLayer streams", () => {
  test("a large layer (inflated in a worker) matches, in gzip and zstd", async () => {
    const data = randomBytes(6 << 20);
    const tar = tarBytes([{ path: "blob.bin", data }, { path: "after", data: "tail" }]);
    for (const packing of ["gzip", "zstd"] as const) {
      const { dest, diffID, size } = await extract(tar, packing);
      expect(diffID).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(tar).digest("hex")}`);
      expect(size).toBe(tar.length);
      expect(readFileSync(join(dest, "blob.bin")).equals(data)).toBe(true);
      expect(readFileSync(join(dest, "after"), "utf8")).toBe("tail");
    }
  });

  test("trailing bytes after the end blocks count in the diffID and are ignored", async () => {
    const tar = Buffer.concat([tarBytes([{ path: "a", data: "a" }]), Buffer.alloc(8192)]);
    const { diffID, size } = await extract(tar, "gzip");
    expect(size).toBe(tar.length);
    expect(diffID).toBe(`sha256:${new Bun.CryptoHasher("sha256").update(tar).digest("hex")}`);
  });

  test("corrupt and truncated blobs fail with a PodError naming the layer", async () => {
    const tar = tarBytes([{ path: "a", data: "x".repeat(5000) }]);
    const gz = Buffer.from(compress(tar, "gzip"));
    gz.fill(0x55, 20, 40);
    const big = Buffer.from(compress(tarBytes([{ path: "r", data: randomBytes(5 << 20) }]), "gzip"));
    big.fill(0x55, 3 << 20, (3 << 20) + 100);
    const cases: [Uint8Array, RegExp][] = [
      [gz, /^layer blob-\d+: reading gzip stream: /],
      [big, /^layer blob-\d+: reading gzip stream: /],
      [Buffer.concat([Buffer.from("A"), randomBytes(5000)]), /^layer blob-\d+: reading tar: invalid header/],
      [tar.subarray(0, 1024), /^layer blob-\d+: reading tar: archive truncated at byte 1024$/],
      [Buffer.concat([Buffer.from("x".repeat(512)), Buffer.alloc(1024)]), /invalid header checksum at byte 0/],
    ];
    for (const [bytes, re] of cases) {
      const dest = scratch.dest();
      const err = await extractLayer(scratch.blob(bytes), dest).catch((e) => e);
      expect(err?.constructor?.name).toBe("PodError");
      expect(err.message).toMatch(re);
    }
  });

  test("reads like Go's archive/tar: no data after header-only types, nothing after a lone zero block", async () => {
    const { dest } = await extract(
      tarBytes([
        { path: "f", data: "f" },
        { path: "h", type: "Link", linkpath: "f", sizeField: 512 },
        { path: "d/", type: "Directory", sizeField: 1024 },
        { path: "next", data: "still read" },
      ]),
    );
    expect(readFileSync(join(dest, "next"), "utf8")).toBe("still read");
    const hidden = Buffer.concat([Buffer.alloc(512), tarBytes([{ path: "smuggled", data: "x" }])]);
    const err = await extractLayer(scratch.blob(hidden), scratch.dest()).then(() => undefined, (e: Error) => e);
    expect(err?.message).toMatch(/reading tar: data after a zero block at byte 512$/);
  });

  test("refuses a destination that is not an empty directory", async () => {
    const dest = scratch.dest();
    writeFileSync(join(dest, "leftover"), "");
    const blob = scratch.blob(tarBytes([]));
    expect(extractLayer(blob, dest, { digest: "sha256:abc" })).rejects.toThrow(
      `layer sha256:abc: extracting into ${dest}: directory is not empty`,
    );
  });
});

const ALPINE = join(import.meta.dir, "../../../../shared/fixtures/alpine-minirootfs-3.20.3-x86_64.tar.gz");
const haveAlpine = await Bun.file(ALPINE).exists();
if (!haveAlpine) console.log(`skipping the Alpine minirootfs test: ${ALPINE} is not here (CI has it)`);

test.if(haveAlpine)("Alpine's minirootfs: same tree as GNU tar, diffID of the gunzipped tar", async () => {
  const dest = scratch.dest();
  const r = await extractLayer(ALPINE, dest);
  const gunzipped = Bun.spawnSync(["sh", "-c", 'gzip -dc "$1" | sha256sum', "sh", ALPINE]).stdout.toString();
  expect(r.diffID).toBe(`sha256:${gunzipped.split(" ")[0]}`);
  const ref = scratch.dest();
  expect(Bun.spawnSync(["tar", "-xpzf", ALPINE, "-C", ref]).exitCode).toBe(0);
  const list = (root: string) =>
    Bun.spawnSync(["find", ".", "-printf", "%p %y %m %u:%g %s %l %T@\\n"], { cwd: root }).stdout.toString().split("\n").sort();
  const ours = list(dest);
  expect(ours.length).toBeGreaterThan(400);
  expect(ours).toEqual(list(ref));
  expect(readlinkSync(join(dest, "bin/sh"))).toBe("/bin/busybox");
});
