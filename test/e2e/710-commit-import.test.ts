// pod commit (one new layer with whiteouts and opaque dirs, --change, history,
// --squash, --iidfile) and pod import (a `pod export` tarball from a file,
// stdin or a URL on 127.0.0.1), each image then run.
import { beforeAll, describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, sh, onSuiteEnd, SETUP_TIMEOUT, POD, HEX64 } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("710-commit-import");

let reg: Registry;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  expectExit(await runPod(["pull", "-q", "busybox"]), 0);
  // a container that adds, deletes, and replaces a directory of the image
  const r = await runPod(["run", "--name", "changed", "busybox", "sh", "-c",
    "echo new > /etc/added && rm /etc/pod-marker-busybox && rm -rf /home/daemon && mkdir /home/daemon && echo only > /home/daemon/new"]);
  expectExit(r, 0);
}, SETUP_TIMEOUT);

const file = (name: string) => join(pod().tmp, name);

async function inspect(ref: string): Promise<any> {
  const r = await runPod(["image", "inspect", ref]);
  expectExit(r, 0);
  return JSON.parse(r.stdout)[0];
}

/** The entries of an image's top layer, through `pod save`. */
async function topLayerEntries(image: string): Promise<string[]> {
  const dir = file(`save-${image.replace(/\W/g, "_")}`);
  mkdirSync(dir, { recursive: true });
  expectExit(await runPod(["save", "-q", "-o", join(dir, "a.tar"), image]), 0);
  expect((await sh(["tar", "-xf", join(dir, "a.tar"), "-C", dir])).code).toBe(0);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  const r = await sh(["tar", "-tf", join(dir, manifest[0].Layers.at(-1))]);
  return lines(r.stdout);
}

describe("commit", () => {
  it("the container's changes become one layer on top of the image's, whiteouts and opaque dirs included", async () => {
    const base = await inspect("busybox");
    const r = await runPod(["commit", "changed", "localhost/changed:1"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toMatch(HEX64);
    expect(lines(r.stderr)).toContain("Writing manifest to image destination");
    const img = await inspect("localhost/changed:1");
    expect(img.Id).toBe(r.stdout.trim());
    expect(img.RootFS.Layers.slice(0, -1)).toEqual(base.RootFS.Layers);
    expect(img.RootFS.Layers).toHaveLength(base.RootFS.Layers.length + 1);
    const entries = await topLayerEntries("localhost/changed:1");
    expect(entries).toContain("etc/added");
    expect(entries).toContain("etc/.wh.pod-marker-busybox");
    expect(entries).toContain("home/daemon/.wh..wh..opq");
    expect(entries).toContain("home/daemon/new");
    expect(entries.some((e) => e.includes("resolv.conf") || e.includes("hostname"))).toBe(false);
    const run = await runPod(["run", "--rm", "localhost/changed:1", "sh", "-c", "cat /etc/added; ls /home/daemon; test -e /etc/pod-marker-busybox || echo gone"]);
    expectExit(run, 0);
    expect(run.stdout).toBe("new\nnew\ngone\n");
  });

  it("--change CMD, ENV, LABEL, WORKDIR, EXPOSE, USER; -a, -m and the history entry; --iidfile; -q", async () => {
    const iid = file("iid");
    const r = await runPod(["commit", "-q", "-a", "Pod Tester", "-m", "with changes", "--iidfile", iid,
      "-c", "CMD=/bin/sh -c 'echo $GREETING from $(pwd)'", "-c", "ENV GREETING=hello", "-c", "LABEL stage=test",
      "-c", "WORKDIR /etc", "--change", "EXPOSE 8080", "-c", "USER 0", "changed", "withcmd"]);
    expectExit(r, 0);
    expect(r.stderr).toBe("");
    const id = r.stdout.trim();
    expect(readFileSync(iid, "utf8")).toBe(`sha256:${id}`);
    const img = await inspect("withcmd");
    expect(img.RepoTags).toEqual(["localhost/withcmd:latest"]);
    expect(img.Config.Cmd).toEqual(["/bin/sh", "-c", "/bin/sh -c 'echo $GREETING from $(pwd)'"]);
    expect(img.Config.Env).toContain("GREETING=hello");
    expect(img.Labels.stage).toBe("test");
    expect(img.Config.WorkingDir).toBe("/etc");
    expect(Object.keys(img.Config.ExposedPorts)).toEqual(["8080/tcp"]);
    expect(img.Author).toBe("Pod Tester");
    const h = await runPod(["history", "--format", "{{.Comment}}|{{.CreatedBy}}", "withcmd"]);
    expectExit(h, 0);
    expect(lines(h.stdout)[0]).toContain("with changes");
    const run = await runPod(["run", "--rm", "withcmd"]);
    expectExit(run, 0);
    expect(run.stdout).toBe("hello from /etc\n");
  });

  it("--squash makes one layer of the whole filesystem; --format docker a docker manifest", async () => {
    const r = await runPod(["commit", "-q", "--squash", "--format", "docker", "changed", "squashed"]);
    expectExit(r, 0);
    const img = await inspect("squashed");
    expect(img.RootFS.Layers).toHaveLength(1);
    expect(img.ManifestType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const run = await runPod(["run", "--rm", "squashed", "sh", "-c", "cat /etc/added; test -e /etc/pod-marker-busybox || echo gone"]);
    expectExit(run, 0);
    expect(run.stdout).toBe("new\ngone\n");
  });

  it("a bad --change is refused before anything is written", async () => {
    const before = (await runPod(["images", "-q"])).stdout;
    const r = await runPod(["commit", "-c", "FROM alpine", "changed", "nope"]);
    expectPodError(r, 'invalid change "FROM alpine"');
    expectPodError(await runPod(["commit", "-f", "tar", "changed", "nope"]), "tar");
    expectPodError(await runPod(["commit", "no-such-container", "nope"]), "no-such-container");
    expect((await runPod(["images", "-q"])).stdout).toBe(before);
  });
});

describe("import", () => {
  it("pod export's tarball, from a file and from stdin, then run", async () => {
    const tarball = file("exported.tar");
    expectExit(await runPod(["export", "-o", tarball, "changed"]), 0);
    const r = await runPod(["import", "-c", "CMD=/bin/cat /etc/added", "-m", "imported here", tarball, "localhost/imported:1"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/);
    const img = await inspect("localhost/imported:1");
    expect(img.RootFS.Layers).toHaveLength(1);
    expect(img.Architecture).toBeTruthy();
    const run = await runPod(["run", "--rm", "localhost/imported:1"]);
    expectExit(run, 0);
    expect(run.stdout).toBe("new\n");
    expect(existsSync(tarball)).toBe(true);

    const p = Bun.spawn([POD, "import", "-q", "-", "fromstdin"], { env: pod().env, cwd: pod().home, stdin: Bun.file(tarball), stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(0);
    expect(err).toBe("");
    // the same tarball gives the same layer
    expect((await inspect("fromstdin")).RootFS.Layers).toEqual(img.RootFS.Layers);
    expect(out.trim()).toMatch(/^sha256:/);
  });

  it("from a URL, compressed, with --platform", async () => {
    const tarball = readFileSync(file("exported.tar"));
    const gz = Bun.gzipSync(tarball);
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(gz) });
    onSuiteEnd(() => server.stop(true));
    const r = await runPod(["import", "--platform", "linux/arm64", `http://127.0.0.1:${server.port}/rootfs.tar.gz`, "fromurl"]);
    expectExit(r, 0);
    const img = await inspect("fromurl");
    expect(img.Architecture).toBe("arm64");
    server.stop(true);
  });

  it("something that is no tarball is refused and stores nothing", async () => {
    const before = (await runPod(["images", "-q"])).stdout;
    const junk = file("junk");
    await Bun.write(junk, "not a tarball\n".repeat(100));
    expectPodError(await runPod(["import", junk, "junk"]));
    expectPodError(await runPod(["import", file("missing.tar")]), "missing.tar");
    expect((await runPod(["images", "-q"])).stdout).toBe(before);
  });
});
