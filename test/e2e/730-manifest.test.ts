// pod manifest against the test registry: a list made of two local images of
// different architectures (one imported with --platform linux/arm64),
// inspected, annotated, pushed as an OCI index and as a docker manifest list
// (instances first, the list last, read back from the registry), an instance
// added from the registry (docker://) and copied by mount, and the list removed
// with manifest rm while its images stay.
import { beforeAll, describe } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, sh, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("730-manifest");

let reg: Registry;
let listId = "";

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  expectExit(await runPod(["pull", "-q", "busybox"]), 0);
  // a second "architecture": a one-file root filesystem whose config says arm64
  const root = join(pod().tmp, "armroot");
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "hello"), "arm\n");
  const tar = join(pod().tmp, "arm.tar");
  expect((await sh(["tar", "-cf", tar, "-C", root, "."])).code).toBe(0);
  await sh(["chmod", "a+r", tar]);
  expectExit(await runPod(["import", "-q", "--platform", "linux/arm64", tar, "localhost/arm:1"]), 0);
}, SETUP_TIMEOUT);

const inspect = async (name: string) => {
  const r = await runPod(["manifest", "inspect", name]);
  expectExit(r, 0);
  return JSON.parse(r.stdout);
};

describe("manifest lists", () => {
  it("create with two images prints the list's ID; inspect shows an OCI index with both platforms", async () => {
    const r = await runPod(["manifest", "create", "multi", "busybox", "localhost/arm:1"]);
    expectExit(r, 0);
    listId = r.stdout.trim();
    expect(listId).toMatch(/^[0-9a-f]{64}$/);
    const doc = await inspect("multi");
    expect(doc.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(doc.manifests.map((m: any) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"].sort());
    expectExit(await runPod(["manifest", "exists", "multi"]), 0);
    expectExit(await runPod(["manifest", "exists", "busybox"]), 1);
    // the list is an image in the store
    const images = await runPod(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expect(lines(images.stdout)).toContain("localhost/multi:latest");
  });

  it("errors: a second create, add to an image that is no list, an unknown list", async () => {
    expectPodError(await runPod(["manifest", "create", "multi"]), /already associated with image/);
    expectExit(await runPod(["manifest", "create", "--amend", "multi"]), 0);
    expectPodError(await runPod(["manifest", "add", "busybox", "localhost/arm:1"]), /image is not a manifest list/);
    const gone = await runPod(["manifest", "rm", "nolist"]);
    expectExit(gone, 1);
    expect(gone.stderr).toContain("nolist: image not known");
    expectPodError(await runPod(["manifest", "remove", "multi", `sha256:${"0".repeat(64)}`]), /no instance matching digest/);
  });

  it("annotate sets the variant and an annotation; the index annotation with --index", async () => {
    const doc = await inspect("multi");
    const arm = doc.manifests.find((m: any) => m.platform.architecture === "arm64");
    expectExit(await runPod(["manifest", "annotate", "--variant", "v8", "--annotation", "team=web", "multi", arm.digest]), 0);
    expectExit(await runPod(["manifest", "annotate", "--index", "--annotation", "made-by=pod", "multi"]), 0);
    const after = await inspect("multi");
    const entry = after.manifests.find((m: any) => m.digest === arm.digest);
    expect(entry.platform.variant).toBe("v8");
    expect(entry.annotations).toEqual({ team: "web" });
    expect(after.annotations).toEqual({ "made-by": "pod" });
  });

  it("push: the instances, then the OCI index; the registry serves the list and each instance", async () => {
    const dest = `${reg.host}/team/multi:1`;
    const digestfile = join(pod().tmp, "list-digest");
    const r = await runPod(["manifest", "push", "--digestfile", digestfile, "multi", dest]);
    expectExit(r, 0);
    expect(lines(r.stderr)).toContain("Writing manifest list to image destination");
    const m = await reg.manifest("team/multi", "1");
    expect(m.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(m.json.manifests).toHaveLength(2);
    expect(m.json.annotations).toEqual({ "made-by": "pod" });
    for (const inst of m.json.manifests) {
      const one = await reg.manifest("team/multi", inst.digest);
      expect(one.digest).toBe(inst.digest);
    }
    // pull picks the instance for the asked platform
    expectExit(await runPod(["pull", "-q", "--arch", "arm64", dest]), 0);
    const arch = await runPod(["image", "inspect", "--format", "{{.Architecture}}", dest]);
    expect(arch.stdout.trim()).toBe("arm64");
  });

  it("push --format v2s2: a docker manifest list of docker manifests", async () => {
    const r = await runPod(["manifest", "push", "-q", "--format", "v2s2", "multi", `docker://${reg.host}/team/multi:v2`]);
    expectExit(r, 0);
    const m = await reg.manifest("team/multi", "v2");
    expect(m.mediaType).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(m.json.manifests.every((d: any) => d.mediaType === "application/vnd.docker.distribution.manifest.v2+json")).toBe(true);
  });

  it("add docker://: an instance from the registry, copied into the destination repository at push", async () => {
    const c = await runPod(["manifest", "create", "remote"]);
    expectExit(c, 0);
    expectExit(await runPod(["manifest", "add", "--tls-verify=false", "remote", `docker://${reg.host}/library/busybox:latest`]), 0);
    const doc = await inspect("remote");
    expect(doc.manifests).toHaveLength(1);
    expectExit(await runPod(["manifest", "push", "-q", "--tls-verify=false", "remote", `${reg.host}/team/remote:1`]), 0);
    const m = await reg.manifest("team/remote", "1");
    expect(m.json.manifests[0].digest).toBe(doc.manifests[0].digest);
    expect((await reg.manifest("team/remote", doc.manifests[0].digest)).digest).toBe(doc.manifests[0].digest);
  });

  it("remove takes an instance out; manifest rm removes the list and leaves its images", async () => {
    const doc = await inspect("multi");
    const r = await runPod(["manifest", "remove", "multi", doc.manifests[0].digest]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(listId);
    expect((await inspect("multi")).manifests).toHaveLength(1);
    expectPodError(await runPod(["manifest", "rm", "busybox"]), /image is not a manifest list/);
    const rm = await runPod(["manifest", "rm", "multi", "remote"]);
    expectExit(rm, 0);
    expect(rm.stdout).toContain("Untagged: localhost/multi:latest");
    expectExit(await runPod(["manifest", "exists", "multi"]), 1);
    expectExit(await runPod(["image", "exists", "localhost/arm:1"]), 0);
    expectExit(await runPod(["image", "exists", "busybox"]), 0);
  });
});
