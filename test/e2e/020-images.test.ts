// pod images / tag / rmi / image inspect / inspect, checked against what the
// fixtures are known to contain (IDs, digests, diffIDs, labels, dates).
import { beforeAll, describe } from "bun:test";
import { useSuite, it, runPod, pod, safeName, expect, expectExit, expectPodError, assertOutput, lines, HEX64, findInStorage, onSuiteEnd, walk, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";
import { statSync } from "node:fs";
import { BUSYBOX_BIN } from "../fixtures/images.ts";

useSuite("020-images");

let reg: Registry;
type Pushed = Fixture & { ref: string; pushedDigest: string };
let bb: Pushed;
let derived: Pushed;
const BB = "docker.io/library/busybox:latest";
const DERIVED = "docker.io/library/busybox-derived:latest";

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  bb = await pushFixture(reg, "busybox");
  derived = await pushFixture(reg, "busybox-derived");
  for (const ref of ["busybox", "busybox-derived"]) {
    const r = await runPod(["pull", "-q", ref]);
    if (r.code !== 0) throw new Error(`setup: pod pull ${ref} exited ${r.code}: ${r.stderr}`);
  }
}, SETUP_TIMEOUT);

async function imagesJSON(): Promise<any[]> {
  const r = await runPod(["images", "--format", "json"]);
  expectExit(r, 0);
  const a = JSON.parse(r.stdout);
  expect(Array.isArray(a)).toBe(true);
  return a;
}

describe("pod images", () => {
  it("prints a table with podman's columns and 12-character IDs", async () => {
    const r = await runPod(["images"]);
    expectExit(r, 0);
    const [head, ...rows] = lines(r.stdout);
    expect(head).toMatch(/^REPOSITORY\s{2,}TAG\s{2,}IMAGE ID\s{2,}CREATED\s{2,}SIZE\s*$/);
    expect(rows).toHaveLength(2);
    const cols = (name: string) => rows.map((x) => x.split(/\s{2,}/)).find((c) => c[0] === name);
    for (const [name, f] of [["docker.io/library/busybox", bb], ["docker.io/library/busybox-derived", derived]] as const) {
      const c = cols(name);
      expect(c, `row for ${name}`).toBeDefined();
      expect(c![1]).toBe("latest");
      expect(c![2]).toBe(f.image.id.slice(0, 12));
      expect(c![3]).toMatch(/ago$/);
      expect(c![4]).toMatch(/^\d+(\.\d+)?\s?[kMG]?B$/);
    }
    // columns line up: every row's IMAGE ID starts where the header's does
    const at = head!.indexOf("IMAGE ID");
    for (const row of rows) expect(row.slice(at, at + 12)).toMatch(/^[0-9a-f]{12}$/);
  });

  it("-q prints one truncated ID a line", async () => {
    const r = await runPod(["images", "-q"]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([bb.image.id.slice(0, 12), derived.image.id.slice(0, 12)].sort());
  });

  it("--no-trunc shows full IDs", async () => {
    const r = await runPod(["images", "--no-trunc"]);
    expectExit(r, 0);
    expect(r.stdout).toContain(bb.image.id);
    expect(r.stdout).toContain(derived.image.id);
    const q = await runPod(["images", "-q", "--no-trunc"]);
    expectExit(q, 0);
    expect(lines(q.stdout).map((l) => l.replace(/^sha256:/, "")).sort()).toEqual([bb.image.id, derived.image.id].sort());
  });

  it("--digests adds a DIGEST column", async () => {
    const r = await runPod(["images", "--digests"]);
    expectExit(r, 0);
    expect(lines(r.stdout)[0]).toMatch(/^REPOSITORY\s{2,}TAG\s{2,}DIGEST\s{2,}IMAGE ID\s{2,}CREATED\s{2,}SIZE\s*$/);
    expect(r.stdout).toContain(bb.pushedDigest);
    expect(r.stdout).toContain(derived.pushedDigest);
  });

  it("--format json has podman's fields", async () => {
    const a = await imagesJSON();
    expect(a).toHaveLength(2);
    const i = a.find((x) => x.Id === bb.image.id);
    expect(i, `an entry with Id ${bb.image.id}`).toBeDefined();
    expect(i.RepoTags).toEqual([BB]);
    expect(i.Names).toEqual([BB]);
    expect(i.RepoDigests).toContain(`docker.io/library/busybox@${bb.pushedDigest}`);
    expect(i.Digest).toBe(bb.pushedDigest);
    expect(i.Created).toBe(Date.parse(bb.image.created) / 1000);
    expect(typeof i.CreatedAt).toBe("string");
    expect(Date.parse(i.CreatedAt)).toBe(Date.parse(bb.image.created));
    expect(i.Labels).toEqual({ "org.pod.test": "busybox" });
    const bin = statSync(BUSYBOX_BIN).size;
    expect(i.Size).toBeGreaterThan(bin);
    expect(i.Size).toBeLessThan(bin * 2);
    for (const x of a) expect(x.Id).toMatch(HEX64);
  });

  it("--format with a Go template prints one line per image", async () => {
    const r = await runPod(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([BB, DERIVED].sort());
    const r2 = await runPod(["images", "--format", "{{.ID}} {{.Digest}} {{.Size}} {{.CreatedSince}}"]);
    expectExit(r2, 0);
    const row = lines(r2.stdout).find((l) => l.startsWith(bb.image.id.slice(0, 12)));
    expect(row, "a row for busybox").toBeDefined();
    expect(row!).toMatch(new RegExp(`^${bb.image.id.slice(0, 12)} ${bb.pushedDigest} \\d+(\\.\\d+)?\\s?[kMG]?B .*ago$`));
  });

  it("a `table` template prints headers", async () => {
    const r = await runPod(["images", "--format", "table {{.Repository}}\t{{.Tag}}"]);
    expectExit(r, 0);
    const l = lines(r.stdout);
    expect(l[0]).toMatch(/^REPOSITORY\s+TAG\s*$/);
    expect(l.slice(1).map((x) => x.split(/\s+/).join(":")).sort()).toEqual([BB, DERIVED].sort());
  });

  it("-a lists the same images (pulled images have no intermediate layers)", async () => {
    const a = await runPod(["images", "-a", "--format", "{{.ID}}"]);
    const d = await runPod(["images", "--format", "{{.ID}}"]);
    expectExit(a, 0);
    expect(lines(a.stdout).sort()).toEqual(lines(d.stdout).sort());
    expect(lines(a.stdout)).toHaveLength(2);
  });

  it("a broken template is an error", async () => {
    const r = await runPod(["images", "--format", "{{.Repository"]);
    expectPodError(r);
  });
});

describe("pod image inspect", () => {
  it("prints podman's fields from the image config", async () => {
    const r = await runPod(["image", "inspect", "busybox"]);
    expectExit(r, 0);
    const arr = JSON.parse(r.stdout);
    expect(arr).toHaveLength(1);
    const i = arr[0];
    expect(i.Id).toBe(bb.image.id);
    expect(i.Digest).toBe(bb.pushedDigest);
    expect(i.RepoTags).toEqual([BB]);
    expect(i.RepoDigests).toContain(`docker.io/library/busybox@${bb.pushedDigest}`);
    expect(Date.parse(i.Created)).toBe(Date.parse(bb.image.created));
    expect(i.Config.Env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "POD_FIXTURE=busybox"]);
    expect(i.Config.Cmd).toEqual(["sh"]);
    expect(i.Config.WorkingDir).toBe("/");
    expect(i.Config.Labels).toEqual({ "org.pod.test": "busybox" });
    expect(i.Config.Entrypoint ?? null).toBeNull();
    expect(i.Config.User ?? "").toBe("");
    expect(i.Architecture).toBe("amd64");
    expect(i.Os).toBe("linux");
    expect(i.Size).toBeGreaterThan(statSync(BUSYBOX_BIN).size);
    expect(i.RootFS).toEqual({ Type: "layers", Layers: bb.image.diffIDs });
  });

  it("--format renders a template per image", async () => {
    const r = await runPod(["image", "inspect", "--format", "{{.Id}} {{.Os}}/{{.Architecture}}", "busybox", "busybox-derived"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual([`${bb.image.id} linux/amd64`, `${derived.image.id} linux/amd64`]);
  });

  it("several images give one array, in argument order; by ID and by short ID too", async () => {
    const r = await runPod(["image", "inspect", derived.image.id, bb.image.id.slice(0, 12)]);
    expectExit(r, 0);
    const arr = JSON.parse(r.stdout);
    expect(arr.map((x: any) => x.Id)).toEqual([derived.image.id, bb.image.id]);
    expect(arr[0].RootFS.Layers).toEqual(derived.image.diffIDs);
  });

  it("pod inspect IMAGE is the same as pod image inspect", async () => {
    const a = await runPod(["inspect", "busybox"]);
    const b = await runPod(["image", "inspect", "busybox"]);
    expectExit(a, 0);
    expectExit(b, 0);
    expect(JSON.parse(a.stdout)).toEqual(JSON.parse(b.stdout));
  });

  it("an unknown image is an error naming it", async () => {
    const r = await runPod(["image", "inspect", "no-such-image"]);
    expectPodError(r, "no-such-image");
  });
});

describe("pod tag and pod rmi", () => {
  let v1 = "";
  let two = "";
  it("tag adds names (unqualified ones under localhost/)", async () => {
    v1 = `localhost/${safeName("box")}:v1`;
    two = safeName("box2");
    const r = await runPod(["tag", "busybox", v1, two]);
    expectExit(r, 0);
    expect(r.stdout).toBe("");
    const i = JSON.parse((await runPod(["image", "inspect", "busybox"])).stdout)[0];
    expect(i.RepoTags.sort()).toEqual([BB, v1, `localhost/${two}:latest`].sort());
    const l = await runPod(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    expect(lines(l.stdout)).toContain(`${v1} ${bb.image.id.slice(0, 12)}`);
    expect(lines(l.stdout)).toContain(`localhost/${two}:latest ${bb.image.id.slice(0, 12)}`);
  });

  it("tag of a missing image, or to an invalid name, fails", async () => {
    expectPodError(await runPod(["tag", "no-such-image", "x:y"]), "no-such-image");
    expectPodError(await runPod(["tag", "busybox", "Bad Name"]));
  });

  it("rmi of one of several names only untags", async () => {
    const r = await runPod(["rmi", v1]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual([`Untagged: ${v1}`]);
    const q = await runPod(["images", "-q", "--no-trunc"]);
    expect(q.stdout).toContain(bb.image.id);
  });

  it("rmi by ID of an image with several names needs -f (podman)", async () => {
    const r = await runPod(["rmi", bb.image.id]);
    expectPodError(r);
    expect((await runPod(["images", "-q", "--no-trunc"])).stdout).toContain(bb.image.id);
  });

  it("rmi -f untags every name and deletes; layers shared with another image stay", async () => {
    const r = await runPod(["rmi", "-f", bb.image.id]);
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out.filter((l) => l.startsWith("Untagged: ")).sort()).toEqual([`Untagged: ${BB}`, `Untagged: localhost/${two}:latest`].sort());
    expect(out.at(-1)).toBe(`Deleted: ${bb.image.id}`);
    const q = await runPod(["images", "-q", "--no-trunc"]);
    expect(q.stdout).not.toContain(bb.image.id);
    expect(q.stdout).toContain(derived.image.id);
    // the busybox layer is derived's base: still stored, once
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(1);
    expect(findInStorage("etc/pod-marker-derived")).toHaveLength(1);
    const i = await runPod(["image", "inspect", "busybox-derived"]);
    expectExit(i, 0);
    expect(JSON.parse(i.stdout)[0].RootFS.Layers).toEqual(derived.image.diffIDs);
    expectPodError(await runPod(["image", "inspect", "busybox"]), "busybox");
  });

  it("rmi of a missing image fails naming it, exit 1 (podman's code for a missing image)", async () => {
    const r = await runPod(["rmi", "no-such-image"]);
    expectExit(r, 1);
    expect(r.stderr).toMatch(/^Error: no-such-image: image not known\nHint: /);
  });

  it("rmi -a removes every image and its layers", async () => {
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
    const r = await runPod(["rmi", "-a"]);
    expectExit(r, 0);
    const deleted = lines(r.stdout).filter((l) => l.startsWith("Deleted: ")).sort();
    expect(deleted).toEqual([`Deleted: ${bb.image.id}`, `Deleted: ${derived.image.id}`].sort());
    const l = await runPod(["images", "-q"]);
    expectExit(l, 0);
    assertOutput(l.stdout, "", "pod images -q after rmi -a");
    expect(findInStorage("etc/pod-marker-busybox")).toEqual([]);
    expect(findInStorage("etc/pod-marker-derived")).toEqual([]);
    // nothing of the images' blobs is left either
    const left = walk(pod().storage).entries.filter((e) => e.stat.isFile() && [bb.image.id, derived.image.id].some((id) => e.path.includes(id)));
    expect(left.map((e) => e.path)).toEqual([]);
  });
});
