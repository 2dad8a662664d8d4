// pod pull against a real registry: short names through registries.conf,
// progress on stderr and the ID on stdout, media types (OCI gzip/zstd, Docker
// schema2, indexes), platforms, and what lands in storage (owners mapped to
// subordinate ids, whiteouts as 0:0 char devices, opaque dirs as xattrs).
import { beforeAll, describe } from "bun:test";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import {
  useSuite, it, requires, runPod, pod, expect, expectExit, expectPodError, lines, findInStorage, layerDirOf,
  subidRange, hostArch, sh, onSuiteEnd, walk, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, alpineTarball, BUSYBOX_BIN, type Fixture } from "../fixtures/images.ts";

useSuite("010-pull");

let reg: Registry;
type Pushed = Fixture & { ref: string; pushedDigest: string };
const pushed: Record<string, Pushed> = {};

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  for (const n of ["busybox", "busybox-derived", "whiteouts", "zstd", "multiarch", "docker-v2s2"] as const) pushed[n] = await pushFixture(reg, n);
  if (alpineTarball()) pushed.alpine = await pushFixture(reg, "alpine");
}, SETUP_TIMEOUT);

async function inspect(ref: string): Promise<any> {
  const r = await runPod(["image", "inspect", ref]);
  expectExit(r, 0);
  const arr = JSON.parse(r.stdout);
  expect(Array.isArray(arr)).toBe(true);
  expect(arr).toHaveLength(1);
  return arr[0];
}

describe("pull output", () => {
  it("prints podman-like progress on stderr and only the image ID on stdout", async () => {
    const f = pushed.busybox!;
    const r = await runPod(["pull", "busybox"]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`${f.image.id}\n`);
    const err = lines(r.stderr);
    expect(err[0]).toBe("Trying to pull docker.io/library/busybox:latest...");
    for (const l of f.image.layers) {
      expect(err.some((e) => e.startsWith(`Copying blob ${l.digest.slice(0, 19)}`) && e.endsWith(" done"))).toBe(true);
    }
    expect(err.some((e) => e.startsWith(`Copying config ${f.image.configDigest.slice(0, 19)}`) && e.endsWith(" done"))).toBe(true);
    expect(err).toContain("Writing manifest to image destination");
  });

  it("-q prints only the ID and nothing on stderr", async () => {
    const r = await runPod(["pull", "-q", "busybox"]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`${pushed.busybox!.image.id}\n`);
    expect(r.stderr).toBe("");
  });

  it("pulling an image that is already there is quick and changes nothing", async () => {
    const before = findInStorage("etc/pod-marker-busybox").length;
    const r = await runPod(["pull", "-q", "docker.io/library/busybox:latest"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(pushed.busybox!.image.id);
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(before);
    expect(before).toBe(1);
  });
});

describe("references", () => {
  it("pulls a fully qualified name with --tls-verify=false", async () => {
    const r = await runPod(["pull", "--tls-verify=false", `${reg.host}/library/busybox:latest`]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(pushed.busybox!.image.id);
    const i = await inspect(`${reg.host}/library/busybox:latest`);
    expect(i.RepoTags).toContain(`${reg.host}/library/busybox:latest`);
    expect(i.RepoTags).toContain("docker.io/library/busybox:latest");
  });

  it("pulls by digest and records the repo digest", async () => {
    const f = pushed.busybox!;
    const ref = `docker.io/library/busybox@${f.pushedDigest}`;
    const r = await runPod(["pull", ref]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(f.image.id);
    const i = await inspect(ref);
    expect(i.Id).toBe(f.image.id);
    expect(i.Digest).toBe(f.pushedDigest);
    expect(i.RepoDigests).toContain(ref);
  });

  it("a missing repository is an error naming it", async () => {
    const r = await runPod(["pull", "no-such-image-here"]);
    expectPodError(r, "no-such-image-here");
    expect(r.stdout).toBe("");
  });

  it("a missing tag is an error naming it", async () => {
    const r = await runPod(["pull", "busybox:no-such-tag"]);
    expectPodError(r, "no-such-tag");
  });

  it("an invalid reference is refused before any network access", async () => {
    for (const bad of ["UPPER/case", "busybox:bad tag", "busybox@sha256:1234", "a//b"]) {
      const r = await runPod(["pull", bad]);
      expectPodError(r);
    }
  });

  it("an unreachable registry fails with exit 125 quickly", async () => {
    const r = await runPod(["pull", "--tls-verify=false", "127.0.0.1:1/library/busybox:latest"], { timeoutMs: 60_000 });
    expectPodError(r, "127.0.0.1:1");
  });
});

describe("what pull stores", () => {
  it("files owned by uid 0 in the image belong to the user, uid 1 to the first subordinate id", async () => {
    const uid = process.getuid!();
    const sub = subidRange("/etc/subuid")!;
    const subg = subidRange("/etc/subgid")!;
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
    const dir = layerDirOf("etc/pod-marker-busybox");
    const marker = findInStorage("etc/pod-marker-busybox")[0]!.stat;
    expect(marker.uid).toBe(uid);
    expect(marker.gid).toBe(process.getgid!());
    const owned1 = findInStorage("home/daemon/pod-owned-by-1")[0]!.stat;
    expect(owned1.uid).toBe(sub.start);
    expect(owned1.gid).toBe(subg.start);
    // content, modes and links come through unchanged
    const bb = findInStorage("bin/busybox")[0]!;
    expect(bb.stat.mode & 0o7777).toBe(0o755);
    expect(createHash("sha256").update(readFileSync(bb.path)).digest("hex")).toBe(createHash("sha256").update(readFileSync(BUSYBOX_BIN)).digest("hex"));
    expect(readlinkSync(join(dir, "bin", "sh"))).toBe("busybox");
    const tmpDir = findInStorage("tmp").find((e) => e.path === join(dir, "tmp"))!;
    expect(tmpDir.stat.mode & 0o7777).toBe(0o1777);
    const rootDir = findInStorage("root").find((e) => e.path === join(dir, "root"))!;
    expect(rootDir.stat.mode & 0o7777).toBe(0o700);
  });

  it("whiteouts become 0:0 character devices in the upper layer", async () => {
    const r = await runPod(["pull", "-q", "whiteouts"]);
    expectExit(r, 0);
    const upper = layerDirOf("pod-wh/pod-marker-upper");
    const lower = layerDirOf("pod-wh/file-kept");
    expect(upper).not.toBe(lower);
    for (const name of ["file-gone", "dir-gone"]) {
      const w = findInStorage(`pod-wh/${name}`).find((e) => e.path.startsWith(upper + "/"));
      expect(w, `whiteout for ${name} in ${upper}`).toBeDefined();
      expect(w!.stat.isCharacterDevice()).toBe(true);
      expect(w!.stat.rdev).toBe(0);
    }
    // the lower layer is untouched
    const gone = findInStorage("pod-wh/file-gone").find((e) => e.path.startsWith(lower + "/"));
    expect(gone?.stat.isFile()).toBe(true);
    // no tar-style whiteout names are left in storage
    expect(findInStorage(".wh.file-gone")).toEqual([]);
    expect(findInStorage(".wh.dir-gone")).toEqual([]);
    expect(findInStorage(".wh..wh..opq")).toEqual([]);
    // the opaque dir keeps only what the upper layer put in it
    const newFile = findInStorage("pod-wh/opaque/new");
    expect(newFile).toHaveLength(1);
    expect(newFile[0]!.path.startsWith(upper + "/")).toBe(true);
  });

  requires("getfattr")("an opaque directory carries user.overlay.opaque=y", async () => {
    const upper = layerDirOf("pod-wh/pod-marker-upper");
    const lower = layerDirOf("pod-wh/file-kept");
    const q = await sh(["getfattr", "--absolute-names", "--only-values", "-n", "user.overlay.opaque", join(upper, "pod-wh", "opaque")]);
    expect(q.code).toBe(0);
    expect(q.stdout).toBe("y");
    // and only that one: the same dir in the lower layer, and its parent, are not opaque
    const l = await sh(["getfattr", "--absolute-names", "--only-values", "-n", "user.overlay.opaque", join(lower, "pod-wh", "opaque")]);
    expect(l.code).not.toBe(0);
    const p = await sh(["getfattr", "--absolute-names", "--only-values", "-n", "user.overlay.opaque", join(upper, "pod-wh")]);
    expect(p.code).not.toBe(0);
  });

  it("pulls a zstd-compressed layer", async () => {
    const f = pushed.zstd!;
    expect(f.image.layers[1]!.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
    const r = await runPod(["pull", "zstd"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(f.image.id);
    const m = findInStorage("pod-zstd/pod-marker-zstd");
    expect(m).toHaveLength(1);
    expect(readFileSync(m[0]!.path, "utf8")).toBe("zstd layer content\n".repeat(50));
    // the busybox layer it shares with busybox:latest is stored once
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(1);
  });

  it("pulls a Docker schema2 image", async () => {
    const f = pushed["docker-v2s2"]!;
    const m = await reg.manifest(f.repo, "latest");
    expect(m.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(m.json.layers[1].mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
    const r = await runPod(["pull", "-q", "dockerv2"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe((m.json.config.digest as string).slice(7));
    const i = await inspect("dockerv2");
    expect(i.Digest).toBe(m.digest);
    expect(i.Labels?.["org.pod.test"] ?? i.Config?.Labels?.["org.pod.test"]).toBe("docker-v2s2");
    expect(findInStorage("etc/pod-marker-docker")).toHaveLength(1);
  });
});

describe("platforms", () => {
  it("an index resolves to the host's platform by default", async () => {
    const f = pushed.multiarch!;
    const want = f.platforms![`linux/${hostArch()}`];
    expect(want, `the multiarch fixture has no linux/${hostArch()} image`).toBeDefined();
    const r = await runPod(["pull", "-q", "multiarch"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(want!.id);
    const i = await inspect("multiarch");
    expect(i.Architecture).toBe(hostArch());
    expect(i.Os).toBe("linux");
    expect(i.RepoDigests).toContain(`docker.io/library/multiarch@${f.pushedDigest}`);
    expect(findInStorage(`pod-arch/${hostArch()}`)).toHaveLength(1);
  });

  it("--platform linux/arm64 picks the arm64 image", async () => {
    const f = pushed.multiarch!;
    const r = await runPod(["pull", "-q", "--platform", "linux/arm64", "multiarch"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(f.platforms!["linux/arm64"]!.id);
    const i = await inspect(r.stdout.trim());
    expect(i.Architecture).toBe("arm64");
    expect(findInStorage("pod-arch/arm64")).toHaveLength(1);
  });

  it("--arch arm64 is the same as --platform linux/arm64", async () => {
    const f = pushed.multiarch!;
    const r = await runPod(["pull", "-q", "--arch", "arm64", "multiarch"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(f.platforms!["linux/arm64"]!.id);
    expect(findInStorage("pod-arch/arm64")).toHaveLength(1);
  });

  it("a platform the index does not have is an error naming it", async () => {
    const r = await runPod(["pull", "--platform", "linux/s390x", "multiarch"]);
    expectPodError(r, "s390x");
  });

  it("a malformed --platform is refused", async () => {
    const r = await runPod(["pull", "--platform", "linux", "multiarch"]);
    expectPodError(r);
  });
});

describe("where pull stores", () => {
  it("--root and --runroot put storage and state elsewhere", async () => {
    const root = join(pod().base, "other-root");
    const runroot = join(pod().base, "other-runroot");
    const g = ["--root", root, "--runroot", runroot];
    const r = await runPod([...g, "pull", "-q", "busybox-derived"]);
    expectExit(r, 0);
    try {
      expect(walk(root).entries.some((e) => e.path.endsWith("/etc/pod-marker-derived"))).toBe(true);
      expect(findInStorage("etc/pod-marker-derived")).toEqual([]);
      expect(existsSync(runroot)).toBe(true);
      const l = await runPod([...g, "images", "--format", "{{.Repository}}"]);
      expect(lines(l.stdout)).toEqual(["docker.io/library/busybox-derived"]);
      const d = await runPod(["images", "--format", "{{.Repository}}"]);
      expect(lines(d.stdout)).not.toContain("docker.io/library/busybox-derived");
    } finally {
      expectExit(await runPod([...g, "system", "reset", "-f"]), 0);
    }
    expect(walk(root).entries.filter((e) => !e.stat.isDirectory())).toEqual([]);
  });

  it("storage follows $XDG_DATA_HOME when it is set", async () => {
    const data = join(pod().base, "xdg-data");
    const env = { XDG_DATA_HOME: data };
    const r = await runPod(["pull", "-q", "zstd"], { env });
    expectExit(r, 0);
    try {
      expect(walk(join(data, "pod")).entries.some((e) => e.path.endsWith("/pod-zstd/pod-marker-zstd"))).toBe(true);
    } finally {
      expectExit(await runPod(["system", "reset", "-f"], { env }), 0);
    }
  });
});

describe("the real Alpine", () => {
  requires("alpine-fixture")("pod pull alpine fetches docker.io/library/alpine:latest", async () => {
    const f = pushed.alpine!;
    const r = await runPod(["pull", "alpine"]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`${f.image.id}\n`);
    expect(lines(r.stderr)[0]).toBe("Trying to pull docker.io/library/alpine:latest...");
    const rel = findInStorage("etc/alpine-release");
    expect(rel).toHaveLength(1);
    expect(readFileSync(rel[0]!.path, "utf8")).toBe("3.20.3\n");
    // /etc/shadow is root:shadow (gid 42) mode 0640 in the image
    const shadow = findInStorage("etc/shadow").filter((e) => e.path.startsWith(layerDirOf("etc/alpine-release") + "/"));
    expect(shadow).toHaveLength(1);
    expect(shadow[0]!.stat.uid).toBe(process.getuid!());
    expect(shadow[0]!.stat.gid).toBe(subidRange("/etc/subgid")!.start + 42 - 1);
    expect(shadow[0]!.stat.mode & 0o7777).toBe(0o640);
    const i = await inspect("alpine");
    expect(i.Config.Cmd).toEqual(["/bin/sh"]);
    expect(i.RootFS.Layers).toEqual(f.image.diffIDs);
  });
});
