// Content pod must not trust: blobs tampered with in the registry's storage,
// blobs that are gone, and layers that try to write outside the layer
// (`..`, absolute paths, symlinks and hardlinks pointing out). Plus a layer
// with the odd things real images have: device nodes (skipped, said so),
// setuid files, hardlinks, fifos and user xattrs.
import { beforeAll, describe } from "bun:test";
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, unlinkSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  useSuite, it, requires, runPod, pod, expect, expectExit, expectPodError, findInStorage, layerDirOf, walk, sh, onSuiteEnd, type PodResult, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, sentinel, evilMarkerName, type Fixture, type FixtureName } from "../fixtures/images.ts";

useSuite("050-bad-content");

let reg: Registry;
type Pushed = Fixture & { ref: string; pushedDigest: string };
const pushed: Partial<Record<FixtureName, Pushed>> = {};
const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

/** Each malicious image, and the names its entries that aim outside end in. */
const EVIL: Partial<Record<FixtureName, string[]>> = {
  "evil-dotdot": ["dotdot-escaped", "pod-evil-dotdot-parent"],
  "evil-absolute": ["absolute-escaped"],
  "evil-symlink": ["symlink-escaped"],
  "evil-symlink-relative": ["relative-symlink-escaped"],
  "evil-hardlink-passwd": ["pod-passwd"],
  "evil-hardlink-victim": ["pod-victim-abs", "pod-victim-rel"],
  "evil-hardlink-symlink": ["pod-sym-to-victim", "pod-hl-to-sym"],
  "evil-overwrite-symlink": ["pod-over", "pod-victim-over"],
  "evil-symlink-cross-layer": ["pod-xlink", "cross-layer-escaped"],
};
const EVIL_NAMES = Object.keys(EVIL) as FixtureName[];

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  for (const n of ["tamper-config", "tamper-layer", "tamper-gzip", "zstd", "special", ...EVIL_NAMES] as FixtureName[]) pushed[n] = await pushFixture(reg, n);
}, SETUP_TIMEOUT);

/** Lists pod's storage: nothing may be left in tmp/ or as a *.tmp file after a failed pull. */
function expectNoTempFiles(): void {
  const storage = pod().storage;
  const tmp = join(storage, "tmp");
  expect(existsSync(tmp) ? readdirSync(tmp) : []).toEqual([]);
  const stray = walk(storage).entries.filter((e) => /\.(tmp|partial)$|\.tmp-|^\.tmp/.test(e.path.split("/").pop()!));
  expect(stray.map((e) => e.path)).toEqual([]);
}

async function repositories(): Promise<string[]> {
  const r = await runPod(["images", "--format", "{{.Repository}}"]);
  expectExit(r, 0);
  return r.stdout.split("\n").filter(Boolean);
}

/** Changes one byte of a blob in the registry's storage (same length); returns the restore function. */
function tamper(digest: string, at: (b: Buffer) => number): { actual: string; restore: () => void } {
  const p = reg.blobDataPath(digest);
  const orig = readFileSync(p);
  const b = Buffer.from(orig);
  const i = at(b);
  b[i] = b[i] === 0x79 ? 0x7a : 0x79;
  writeFileSync(p, b);
  return { actual: sha(b), restore: () => writeFileSync(p, orig) };
}

describe("tampered blobs", () => {
  it("a tampered config: exit 125 naming both digests, nothing listed, no temp files", async () => {
    const f = pushed["tamper-config"]!;
    const t = tamper(f.image.configDigest, (b) => b.indexOf("nonce") + 10);
    try {
      const r = await runPod(["pull", "tamper-config"]);
      expectPodError(r, f.image.configDigest, t.actual);
      expect(r.stdout).toBe("");
      expect(await repositories()).not.toContain("docker.io/library/tamper-config");
      expectNoTempFiles();
    } finally {
      t.restore();
    }
    // nothing bad was kept: with the right bytes back, the pull works
    const ok = await runPod(["pull", "-q", "tamper-config"]);
    expectExit(ok, 0);
    expect(ok.stdout.trim()).toBe(f.image.id);
  });

  it("a tampered uncompressed layer: exit 125 naming both digests, nothing stored", async () => {
    const f = pushed["tamper-layer"]!;
    const layer = f.image.layers[0]!;
    expect(layer.mediaType).toBe("application/vnd.oci.image.layer.v1.tar");
    const t = tamper(layer.digest, (b) => b.indexOf("xxxx") + 2);
    try {
      const r = await runPod(["pull", "tamper-layer"]);
      expectPodError(r, layer.digest, t.actual);
      expect(await repositories()).not.toContain("docker.io/library/tamper-layer");
      expect(findInStorage("pod-tamper/tamper-layer")).toEqual([]);
      expectNoTempFiles();
    } finally {
      t.restore();
    }
    const ok = await runPod(["pull", "-q", "tamper-layer"]);
    expectExit(ok, 0);
    expect(findInStorage("pod-tamper/tamper-layer")).toHaveLength(1);
  });

  it("a tampered gzip layer: exit 125, nothing stored", async () => {
    const f = pushed["tamper-gzip"]!;
    const layer = f.image.layers[0]!;
    const t = tamper(layer.digest, (b) => Math.floor(b.length / 2));
    try {
      const r = await runPod(["pull", "tamper-gzip"]);
      expectPodError(r);
      expect(await repositories()).not.toContain("docker.io/library/tamper-gzip");
      expect(findInStorage("pod-tamper/tamper-gzip")).toEqual([]);
      expectNoTempFiles();
    } finally {
      t.restore();
    }
    expectExit(await runPod(["pull", "-q", "tamper-gzip"]), 0);
  });

  it("a blob missing from the registry: exit 125 naming it", async () => {
    const f = pushed.zstd!;
    const layer = f.image.layers[1]!;
    const p = reg.blobDataPath(layer.digest);
    const orig = readFileSync(p);
    unlinkSync(p);
    try {
      const r = await runPod(["pull", "zstd"]);
      expectPodError(r, layer.digest.slice(7, 19));
      expect(await repositories()).not.toContain("docker.io/library/zstd");
      expectNoTempFiles();
    } finally {
      writeFileSync(p, orig);
    }
  });
});

describe("layers that aim outside", () => {
  type Snapshot = Record<string, string>;
  /** What the sentinel dir and /etc/passwd look like: names, contents, link counts. */
  function snapshot(): Snapshot {
    const s = sentinel();
    const snap: Snapshot = {};
    for (const e of walk(s.dir).entries) {
      snap[e.path] = `${e.stat.mode.toString(8)} nlink=${e.stat.nlink} size=${e.stat.size}${e.stat.isFile() ? " " + sha(readFileSync(e.path)) : ""}`;
    }
    const pw = statSync("/etc/passwd");
    snap["/etc/passwd"] = `nlink=${pw.nlink} ${sha(readFileSync("/etc/passwd"))}`;
    return snap;
  }

  for (const name of EVIL_NAMES) {
    it(`${name}: refused (125) or contained, and nothing outside changes`, async () => {
      const before = snapshot();
      expect(Object.keys(before)).toContain(sentinel().victim);
      const r: PodResult = await runPod(["pull", name]);
      expect([0, 125], `exit code of pod pull ${name} (stderr: ${r.stderr.trim()})`).toContain(r.code);
      console.log(`  ${name}: ${r.code === 125 ? `refused: ${r.stderr.split("\n").find((l) => l.startsWith("Error: "))}` : "pulled; checking it is contained"}`);
      expect(snapshot()).toEqual(before);
      // nothing landed beside pod's storage either
      expect(readdirSync(join(pod().home, ".local", "share"))).toEqual(["pod"]);
      if (r.code === 125) {
        expectPodError(r);
        expect(await repositories()).not.toContain(`docker.io/library/${name}`);
        expect(findInStorage(evilMarkerName(name))).toEqual([]);
        expectNoTempFiles();
      } else {
        // contained: whatever pod kept of the layer is inside that layer's dir
        const dir = layerDirOf(evilMarkerName(name));
        const layers = [dir];
        if (name === "evil-symlink-cross-layer") layers.push(layerDirOf("pod-xlink/cross-layer-escaped"));
        const inLayers = (p: string) => layers.some((d) => p.startsWith(d + "/"));
        const found = EVIL[name]!.flatMap((n) => findInStorage(n));
        expect(found.filter((e) => !inLayers(e.path)).map((e) => e.path)).toEqual([]);
        for (const e of found) {
          if (e.stat.isFile()) expect(e.stat.nlink, `${e.path} must not be a link to a file outside`).toBe(1);
        }
        if (name === "evil-overwrite-symlink") {
          // the later regular file replaced the symlink
          for (const n of ["pod-over", "pod-victim-over"]) {
            const e = findInStorage(n);
            expect(e).toHaveLength(1);
            expect(e[0]!.stat.isFile(), `${n} is a regular file`).toBe(true);
          }
        }
        if (name === "evil-hardlink-symlink") {
          const e = findInStorage("pod-hl-to-sym");
          expect(e).toHaveLength(1);
          expect(e[0]!.stat.isSymbolicLink(), "a hardlink to a symlink is a symlink").toBe(true);
        }
      }
    });
  }
});

describe("special files", () => {
  let pullResult: PodResult;
  beforeAll(async () => {
    pullResult = await runPod(["pull", "special"]);
  }, SETUP_TIMEOUT);

  it("a device node is skipped with a note on stderr; the pull succeeds", () => {
    expectExit(pullResult, 0);
    expect(pullResult.stdout.trim()).toBe(pushed.special!.image.id);
    expect(pullResult.stderr).toMatch(/skip/i);
    expect(pullResult.stderr).toContain("pod-special/null");
    const dev = findInStorage("pod-special/null");
    expect(dev.filter((e) => e.stat.isCharacterDevice() && e.stat.rdev !== 0)).toEqual([]);
  });

  it("hardlinks share an inode", () => {
    const dir = layerDirOf("pod-special/pod-marker-special");
    const a = statSync(join(dir, "pod-special", "hl-a"));
    const b = statSync(join(dir, "pod-special", "hl-b"));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    expect(readFileSync(join(dir, "pod-special", "hl-b"), "utf8")).toBe("hardlinked content\n");
  });

  it("setuid bits and fifos are kept", () => {
    const dir = layerDirOf("pod-special/pod-marker-special");
    expect(statSync(join(dir, "pod-special", "suid")).mode & 0o7777).toBe(0o4755);
    expect(statSync(join(dir, "pod-special", "fifo")).isFIFO()).toBe(true);
  });

  requires("getfattr")("user.* xattrs from PAX headers are kept", async () => {
    const dir = layerDirOf("pod-special/pod-marker-special");
    const q = await sh(["getfattr", "--absolute-names", "--only-values", "-n", "user.pod-test", join(dir, "pod-special", "xattr")]);
    expect(q.stderr).toBe("");
    expect(q.stdout).toBe("hello");
  });
});
