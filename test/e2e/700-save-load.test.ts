// pod save and pod load: docker-archive and oci-archive, layouts, several
// images in one archive, compressed archives on stdin, and what a damaged
// archive leaves behind (nothing). skopeo checks the archives pod writes.
import { beforeAll, describe } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { useSuite, it, requires, runPod, pod, expect, expectExit, expectPodError, lines, sh, onSuiteEnd, SETUP_TIMEOUT, POD } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";

useSuite("700-save-load");

let reg: Registry;
const pushed: Record<string, Fixture> = {};

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  for (const n of ["busybox", "whiteouts", "zstd", "docker-v2s2", "special"] as const) {
    pushed[n] = await pushFixture(reg, n);
    expectExit(await runPod(["pull", "-q", short(n)]), 0);
  }
}, SETUP_TIMEOUT);

/** the short name a fixture is pulled by (docker.io/library/NAME) */
const short = (n: string) => pushed[n]!.repo.replace(/^library\//, "");
const file = (name: string) => join(pod().tmp, name);
const layerCount = () => readdirSync(join(pod().storage, "layers")).length;

async function skopeoInspect(ref: string): Promise<any> {
  const r = await sh(["skopeo", "inspect", "--config", ref], { PATH: "/usr/bin:/bin", HOME: pod().home });
  if (r.code !== 0) throw new Error(`skopeo inspect ${ref}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function skopeoDigest(ref: string): Promise<string> {
  const r = await sh(["skopeo", "inspect", "--raw", "--config", ref], { PATH: "/usr/bin:/bin", HOME: pod().home });
  if (r.code !== 0) throw new Error(`skopeo inspect ${ref}: ${r.stderr}`);
  return `sha256:${new Bun.CryptoHasher("sha256").update(r.stdout).digest("hex")}`;
}

/** pod with stdout going to a file (binary safe), stdin from a file. */
async function podRedirect(args: string[], o: { stdout?: string; stdin?: string }): Promise<{ code: number; stderr: string }> {
  const p = Bun.spawn([POD, ...args], {
    env: pod().env,
    cwd: pod().home,
    stdin: o.stdin ? Bun.file(o.stdin) : "ignore",
    stdout: o.stdout ? Bun.file(o.stdout) : "pipe",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
  return { code, stderr };
}

async function runs(image: string): Promise<void> {
  const r = await runPod(["run", "--rm", image, "cat", "/etc/pod-marker-busybox"]);
  expectExit(r, 0);
}

describe("docker-archive", () => {
  it("save -o, rmi, load -i, run: the same image ID and names", async () => {
    const f = pushed.busybox!;
    const out = file("busybox.tar");
    const s = await runPod(["save", "-o", out, "busybox"]);
    expectExit(s, 0);
    expect(s.stdout).toBe("");
    expect(lines(s.stderr)).toContain("Writing manifest to image destination");
    // skopeo reads it, and its config is the image's
    expect(await skopeoDigest(`docker-archive:${out}`)).toBe(`sha256:${f.image.id}`);
    const names = (await sh(["tar", "-tf", out])).stdout.split("\n");
    expect(names).toContain("manifest.json");
    expect(names).toContain(`${f.image.id}.json`);
    const manifest = JSON.parse((await sh(["tar", "-xOf", out, "manifest.json"])).stdout);
    expect(manifest[0].RepoTags).toEqual(["docker.io/library/busybox:latest"]);

    expectExit(await runPod(["rmi", "busybox"]), 0);
    const l = await runPod(["load", "-i", out]);
    expectExit(l, 0);
    expect(l.stdout).toBe("Loaded image: docker.io/library/busybox:latest\n");
    const i = await runPod(["image", "inspect", "--format", "{{.Id}}", "busybox"]);
    expect(i.stdout.trim()).toBe(f.image.id);
    await runs("busybox");
  });

  it("whiteouts, opaque dirs, zstd and special files come back byte for byte", async () => {
    for (const n of ["whiteouts", "zstd", "special", "docker-v2s2"]) {
      const out = file(`${n}.tar`);
      expectExit(await runPod(["save", "-q", "-o", out, short(n)]), 0);
      expect(await skopeoDigest(`docker-archive:${out}`)).toBe(`sha256:${pushed[n]!.image.id}`);
      expectExit(await runPod(["rmi", short(n)]), 0);
      const l = await runPod(["load", "-q", "-i", out]);
      expectExit(l, 0);
      expect(l.stdout).toBe(`Loaded image: docker.io/library/${short(n)}:latest\n`);
    }
  });

  it("-m puts several images into one archive, and load brings back all", async () => {
    const out = file("multi.tar");
    expectExit(await runPod(["save", "-m", "-o", out, "busybox", "whiteouts"]), 0);
    const manifest = JSON.parse((await sh(["tar", "-xOf", out, "manifest.json"])).stdout);
    expect(manifest).toHaveLength(2);
    expectExit(await runPod(["rmi", "busybox", "whiteouts"]), 0);
    const l = await runPod(["load", "-i", out]);
    expectExit(l, 0);
    expect(lines(l.stdout).sort()).toEqual(["Loaded image: docker.io/library/busybox:latest", "Loaded image: docker.io/library/whiteouts:latest"]);
    await runs("busybox");
  });

  it("without -m, more arguments are more names for the first image", async () => {
    const out = file("tags.tar");
    expectExit(await runPod(["save", "-o", out, "busybox", "localhost/other:1"]), 0);
    const manifest = JSON.parse((await sh(["tar", "-xOf", out, "manifest.json"])).stdout);
    expect(manifest).toHaveLength(1);
    expect(manifest[0].RepoTags).toEqual(["docker.io/library/busybox:latest", "localhost/other:1"]);
  });

  it("to stdout, and load from stdin, plain, gzip and zstd", async () => {
    const out = file("stdout.tar");
    const s = await podRedirect(["save", "busybox"], { stdout: out });
    expect(s.code).toBe(0);
    expect(s.stderr).toBe("");
    expect(await skopeoDigest(`docker-archive:${out}`)).toBe(`sha256:${pushed.busybox!.image.id}`);
    const gz = file("stdout.tar.gz");
    writeFileSync(gz, gzipSync(readFileSync(out)));
    const zst = file("stdout.tar.zst");
    writeFileSync(zst, Bun.zstdCompressSync(readFileSync(out)));
    for (const input of [out, gz, zst]) {
      expectExit(await runPod(["rmi", "-f", "busybox"]), 0);
      const l = await podRedirect(["load"], { stdin: input });
      expect(l.code).toBe(0);
      await runs("busybox");
    }
  });
});

describe("oci", () => {
  it("oci-archive: skopeo reads it; rmi, load, run", async () => {
    const out = file("busybox.oci.tar");
    expectExit(await runPod(["save", "--format", "oci-archive", "-o", out, "busybox"]), 0);
    // skopeo unpacks an oci-archive with owners, which fails rootless: read the layout inside instead
    const dir = file("busybox.oci");
    expect((await sh(["mkdir", "-p", dir])).code).toBe(0);
    expect((await sh(["tar", "-xf", out, "-C", dir])).code).toBe(0);
    expect(await skopeoDigest(`oci:${dir}`)).toBe(`sha256:${pushed.busybox!.image.id}`);
    const index = JSON.parse((await sh(["tar", "-xOf", out, "index.json"])).stdout);
    expect(index.manifests[0].annotations["org.opencontainers.image.ref.name"]).toBe("docker.io/library/busybox:latest");
    expectExit(await runPod(["rmi", "busybox"]), 0);
    const l = await runPod(["load", "-i", out]);
    expectExit(l, 0);
    expect(l.stdout).toBe("Loaded image: docker.io/library/busybox:latest\n");
    await runs("busybox");
  });

  it("oci-dir and docker-dir layouts, with --compress", async () => {
    const oci = file("layout-oci");
    expectExit(await runPod(["save", "--format", "oci-dir", "-o", oci, "whiteouts"]), 0);
    expect(await skopeoDigest(`oci:${oci}`)).toBe(`sha256:${pushed.whiteouts!.image.id}`);
    const dir = file("layout-dir");
    expectExit(await runPod(["save", "--format", "docker-dir", "--compress", "-o", dir, "whiteouts"]), 0);
    expect(readFileSync(join(dir, "version"), "utf8")).toBe("Directory Transport Version: 1.1\n");
    const m = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(m.layers[0].mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
    expect(await skopeoDigest(`dir:${dir}`)).toBe(`sha256:${pushed.whiteouts!.image.id}`);
  });

  it("an archive skopeo wrote (gzip layers) loads", async () => {
    const out = file("skopeo.oci.tar");
    const oci = file("layout-oci");
    const r = await sh(["skopeo", "copy", `oci:${oci}`, `oci-archive:${out}:docker.io/library/from-skopeo:1`], { PATH: "/usr/bin:/bin", HOME: pod().home });
    expect(r.code).toBe(0);
    const l = await runPod(["load", "-i", out]);
    expectExit(l, 0);
    expect(l.stdout).toBe("Loaded image: docker.io/library/from-skopeo:1\n");
  });
});

describe("bad input stores nothing", () => {
  it("a truncated archive is refused and leaves no layer or image", async () => {
    const out = file("multi.tar");
    expectExit(await runPod(["rmi", "-f", "busybox", "whiteouts"]), 0);
    const before = await runPod(["images", "-q"]);
    const layers = layerCount();
    const cut = file("cut.tar");
    const bytes = readFileSync(out);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2) + 100));
    const r = await runPod(["load", "-i", cut]);
    expectPodError(r);
    expect((await runPod(["images", "-q"])).stdout).toBe(before.stdout);
    expect(layerCount()).toBe(layers);
    expect(readdirSync(join(pod().storage, "tmp"))).toEqual([]);
  });

  it("a layer that does not match its diffID is refused, and the layers loaded before it go again", async () => {
    // the multi archive with busybox's top layer's bytes changed: busybox's other layers come first
    const work = file("corrupt");
    expect((await sh(["mkdir", "-p", work])).code).toBe(0);
    expect((await sh(["tar", "-xf", file("multi.tar"), "-C", work])).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8"));
    const last = join(work, manifest[1].Layers.at(-1));
    const b = readFileSync(last);
    b[b.length - 2000] = b[b.length - 2000]! ^ 0xff;
    writeFileSync(last, b);
    const bad = file("corrupt.tar");
    expect((await sh(["tar", "-cf", bad, "-C", work, "."])).code).toBe(0);
    expectExit(await runPod(["rmi", "-a", "-f"]), 0);
    const layers = layerCount();
    expect(layers).toBe(0);
    const r = await runPod(["load", "-i", bad]);
    expectPodError(r, "layer");
    expect((await runPod(["images", "-q", "busybox"])).stdout).toBe("");
    expect(layerCount()).toBe(layers);
  });

  it("something that is no archive says so", async () => {
    const junk = file("junk");
    writeFileSync(junk, "hello, this is not a tar archive at all\n".repeat(50));
    const r = await runPod(["load", "-i", junk]);
    expectPodError(r, "payload does not match any of the supported image formats");
  });

  it("a load never replaces a layer the store has", async () => {
    const out = file("busybox.tar");
    expectExit(await runPod(["load", "-q", "-i", out]), 0);
    const dirs = readdirSync(join(pod().storage, "layers")).map((h) => [h, statSync(join(pod().storage, "layers", h)).ino] as const);
    const l = await runPod(["load", "-i", out]);
    expectExit(l, 0);
    expect(l.stderr).toMatch(/skipped: already exists|already exists/);
    for (const [h, ino] of dirs) expect(statSync(join(pod().storage, "layers", h)).ino).toBe(ino);
  });

  requires("tmux")("save without -o refuses a terminal, in podman's words", async () => {
    const { Tmux } = await import("./tty.ts");
    const t = await Tmux.start({ env: { ...pod().env, TERM: "screen" } });
    try {
      await t.type(`'${POD}' save busybox; echo "rc=$?"`);
      const screen = await t.waitFor(/rc=\d+/);
      expect(screen).toContain("Error: refusing to save to terminal. Use -o flag or redirect");
      expect(screen).toContain("rc=125");
    } finally {
      await t.kill();
    }
  });

  it("flags podman refuses are refused", async () => {
    expectPodError(await runPod(["save", "--format", "oci-archive", "-m", "-o", file("x.tar"), "busybox"]), "docker-archive");
    expectPodError(await runPod(["save", "--compress", "-o", file("x.tar"), "busybox"]), "--compress");
    expectPodError(await runPod(["save", "--format", "tgz", "-o", file("x.tar"), "busybox"]), "tgz");
    expectPodError(await runPod(["save", "-o", file("x.tar"), "no-such-image"]), "no-such-image");
    expect(existsSync(file("x.tar"))).toBe(false);
    expectPodError(await runPod(["load", "-i", file("does-not-exist.tar")]), "does-not-exist.tar");
  });
});

describe("docker-archive:, oci-archive: and oci: references", () => {
  it("pull, run, create and image inspect take them, as podman does", async () => {
    const f = pushed.busybox!;
    expectExit(await runPod(["rmi", "-a", "-f"]), 0);
    const p = await runPod(["pull", `docker-archive:${file("busybox.tar")}`]);
    expectExit(p, 0);
    expect(p.stdout).toBe(`${f.image.id}\n`);
    expectExit(await runPod(["rmi", "-a", "-f"]), 0);
    const r = await runPod(["run", "--rm", `oci-archive:${file("busybox.oci.tar")}`, "cat", "/etc/pod-marker-busybox"]);
    expectExit(r, 0);
    expectExit(await runPod(["rmi", "-a", "-f"]), 0);
    const c = await runPod(["create", `docker-archive:${file("busybox.tar")}`, "true"]);
    expectExit(c, 0);
    expectExit(await runPod(["rm", c.stdout.trim()]), 0);
    const i = await runPod(["image", "inspect", "--format", "{{.Id}}", `oci:${file("layout-oci")}`]);
    expectExit(i, 0);
    expect(i.stdout.trim()).toBe(pushed.whiteouts!.image.id);
    // the layout is read in place and left as it was
    expect(existsSync(join(file("layout-oci"), "index.json"))).toBe(true);
  });

  it("an archive of several images needs a name or @N after the path", async () => {
    const multi = file("multi.tar");
    expectPodError(await runPod(["pull", `docker-archive:${multi}`]), "2 images");
    const byName = await runPod(["pull", `docker-archive:${multi}:docker.io/library/whiteouts:latest`]);
    expectExit(byName, 0);
    expect(byName.stdout.trim()).toBe(pushed.whiteouts!.image.id);
    const byIndex = await runPod(["pull", `docker-archive:${multi}:@0`]);
    expectExit(byIndex, 0);
    expect(byIndex.stdout.trim()).toBe(pushed.busybox!.image.id);
    expectPodError(await runPod(["pull", `docker-archive:${multi}:@7`]), "@7");
  });
});

describe("with podman", () => {
  /** podman in a private root of this suite's (vfs: nothing to mount), never pulling: only load, save, inspect */
  const podman = async (args: string[]) => {
    const root = join(pod().base, "podman-root");
    const runroot = join("/tmp", `pmr-${process.pid}`);
    const r = await sh(["podman", "--root", root, "--runroot", runroot, "--storage-driver", "vfs", ...args], pod().env);
    return r;
  };
  requires("podman")("podman loads what pod saves (same image ID), and pod loads what podman saves", async () => {
    const f = pushed.busybox!;
    onSuiteEnd(async () => {
      await podman(["system", "reset", "-f"]);
      rmSync(join("/tmp", `pmr-${process.pid}`), { recursive: true, force: true });
    });
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
    const mine = file("for-podman.tar");
    expectExit(await runPod(["save", "-q", "-o", mine, "busybox"]), 0);
    const l = await podman(["load", "-i", mine]);
    expect(l.code).toBe(0);
    expect(l.stdout).toBe("Loaded image: docker.io/library/busybox:latest\n");
    expect((await podman(["image", "inspect", "--format", "{{.Id}}", "docker.io/library/busybox:latest"])).stdout.trim()).toBe(f.image.id);
    for (const format of ["docker-archive", "oci-archive"]) {
      const out = file(`podman-${format}.tar`);
      expect((await podman(["save", "-q", "--format", format, "-o", out, "docker.io/library/busybox:latest"])).code).toBe(0);
      expectExit(await runPod(["rmi", "-a", "-f"]), 0);
      const p = await runPod(["load", "-i", out]);
      expectExit(p, 0);
      expect(p.stdout).toBe("Loaded image: docker.io/library/busybox:latest\n");
      // podman rewrites the config as it saves (so the ID is its archive's, not the registry's): pod keeps that one
      const inTar = async (name: string) => (await sh(["tar", "-xOf", out, name])).stdout;
      let configHex: string;
      if (format === "docker-archive") configHex = JSON.parse(await inTar("manifest.json"))[0].Config.replace(/\.json$/, "");
      else {
        const idx = JSON.parse(await inTar("index.json"));
        configHex = JSON.parse(await inTar(`blobs/sha256/${idx.manifests[0].digest.slice(7)}`)).config.digest.slice(7);
      }
      expect((await runPod(["image", "inspect", "--format", "{{.Id}}", "busybox"])).stdout.trim()).toBe(configHex);
      await runs("busybox");
    }
  });
});
