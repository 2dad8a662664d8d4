// images --filter/--sort/--history, image prune, image tree, history, and
// rmi's --ignore, --no-prune and exit codes (issue 12), as podman 4.3.1 on
// these machines prints them. busybox-child is busybox plus one layer and one
// history entry, so busybox is its parent in podman's sense; busybox-derived
// shares busybox's layer but not its history.
import { beforeAll, describe } from "bun:test";
import { createHash } from "node:crypto";
import { useSuite, it, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";

useSuite("540-images-flags");
const S = requires("subuid");

let bb: Fixture;
let derived: Fixture;
let child: Fixture;
const BB = "docker.io/library/busybox:latest";
const DERIVED = "docker.io/library/busybox-derived:latest";
const CHILD = "docker.io/library/busybox-child:latest";

beforeAll(async () => {
  const reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  bb = await pushFixture(reg, "busybox");
  derived = await pushFixture(reg, "busybox-derived");
  child = await pushFixture(reg, "busybox-child");
  for (const ref of ["busybox", "busybox-derived", "busybox-child"]) expectExit(await runPod(["pull", "-q", ref]), 0);
}, SETUP_TIMEOUT);

const short = (f: Fixture) => f.image.id.slice(0, 12);

async function ids(args: string[]): Promise<string[]> {
  const r = await runPod(["images", "--format", "{{.ID}}", ...args]);
  expectExit(r, 0);
  return lines(r.stdout).sort();
}
const idsOf = (...fs: Fixture[]) => fs.map(short).sort();

async function ensure(ref: string, name: string): Promise<void> {
  if ((await runPod(["image", "exists", name])).code !== 0) expectExit(await runPod(["pull", "-q", ref]), 0);
}
async function restore(): Promise<void> {
  await ensure("busybox", BB);
  await ensure("busybox-derived", DERIVED);
  await ensure("busybox-child", CHILD);
}

describe("images --filter", () => {
  it("reference: a name, a glob, the full name", async () => {
    expect(await ids(["--filter", "reference=busybox-child"])).toEqual(idsOf(child));
    expect(await ids(["--filter", "reference=*derived"])).toEqual(idsOf(derived));
    expect(await ids(["-f", `reference=${BB}`])).toEqual(idsOf(bb));
    expect(await ids(["--filter", "reference=library/busybox*"])).toEqual(idsOf(bb, derived, child));
    expect(await ids(["--filter", "reference=nothing-here"])).toEqual([]);
  });

  it("images IMAGE is the reference filter, globs included", async () => {
    expect(await ids(["busybox"])).toEqual(idsOf(bb));
    expect(await ids(["busybox:latest"])).toEqual(idsOf(bb));
    expect(await ids(["busybox*"])).toEqual(idsOf(bb, derived, child));
    expect(await ids(["busybox:other"])).toEqual([]);
  });

  it("before and since an image, until a time", async () => {
    expect(await ids(["--filter", "since=busybox"])).toEqual(idsOf(derived));
    expect(await ids(["--filter", "after=busybox"])).toEqual(idsOf(derived));
    expect(await ids(["--filter", "before=busybox-derived"])).toEqual(idsOf(bb, child));
    expect(await ids(["--filter", "until=2024-01-15T00:00:00Z"])).toEqual(idsOf(bb, child));
    expect(await ids(["--filter", "until=1h"])).toEqual(idsOf(bb, derived, child));
  });

  it("label, label!=, id (the full ID only, as podman 4), readonly", async () => {
    expect(await ids(["--filter", "label=org.pod.test=busybox-derived"])).toEqual(idsOf(derived));
    expect(await ids(["--filter", "label=stage"])).toEqual(idsOf(child));
    expect(await ids(["--filter", "label!=stage"])).toEqual(idsOf(bb, derived));
    expect(await ids(["--filter", `id=${bb.image.id}`])).toEqual(idsOf(bb));
    expect(await ids(["--filter", `id=${short(bb)}`])).toEqual([]);
    expect(await ids(["--filter", "readonly=false"])).toEqual(idsOf(bb, derived, child));
    const ro = await runPod(["images", "--filter", "readonly=true"]);
    expectExit(ro, 0);
    assertOutput(ro.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n$/);
  });

  it("one key twice is OR, two keys AND; commas split filters as podman's string slice does", async () => {
    expect(await ids(["--filter", "reference=busybox", "--filter", "reference=busybox-child"])).toEqual(idsOf(bb, child));
    expect(await ids(["--filter", "reference=busybox,reference=busybox-child"])).toEqual(idsOf(bb, child));
    expect(await ids(["--filter", "reference=busybox*", "--filter", "label=stage"])).toEqual(idsOf(child));
  });

  it("dangling and intermediate: nothing without a name yet; intermediate=true needs -a (podman's error)", async () => {
    expect(await ids(["--filter", "dangling=true"])).toEqual([]);
    expect(await ids(["--filter", "dangling=false"])).toEqual(idsOf(bb, derived, child));
    expect(await ids(["-a", "--filter", "intermediate=true"])).toEqual([]);
    expectPodError(await runPod(["images", "--filter", "intermediate=true"]), `specifying "intermediate" filter more than once with different values is not supported`);
  });

  it("errors: podman's messages, exit 125", async () => {
    expectPodError(await runPod(["images", "--filter", "foo=bar"]), `Error: unsupported image filter "foo"`);
    expectPodError(await runPod(["images", "--filter", "foo"]), `invalid image filter "foo": must be in the format "filter=value or filter!=value"`);
    expectPodError(await runPod(["images", "--filter", "since=nope"]), `could not find local image for filter "since"="nope": nope: image not known`);
    expectPodError(await runPod(["images", "--filter", "dangling=maybe"]), `non-boolean value "maybe" for dangling filter`);
    expectPodError(await runPod(["images", "--filter", "until=soon"]), `failed to parse value as time or duration: "soon"`);
    expectPodError(await runPod(["images", "--filter", "label=x", "busybox"]), "cannot specify an image and a filter(s)");
  });
});

describe("images --sort, --history, --digests", () => {
  it("--sort repository, tag, id, size, created; an unknown field is podman's error", async () => {
    const by = async (f: string, tmpl = "{{.Repository}}") => lines((await runPod(["images", "--sort", f, "--format", tmpl])).stdout);
    expect(await by("repository")).toEqual(["docker.io/library/busybox", "docker.io/library/busybox-child", "docker.io/library/busybox-derived"]);
    expect(await by("id", "{{.ID}}")).toEqual(idsOf(bb, derived, child));
    const sizes = (await by("size", "{{.ID}}")).map((id) => [bb, derived, child].find((f) => short(f) === id)!);
    expect(sizes[0]).toBe(bb);
    expect((await by("created", "{{.ID}}"))[0]).toBe(short(derived));
    expectExit(await runPod(["tag", "busybox", "localhost/sorted:a", "localhost/sorted:b"]), 0);
    expect((await by("tag", "{{.Tag}}")).slice(0, 2)).toEqual(["a", "b"]);
    expectExit(await runPod(["untag", "busybox", "localhost/sorted:a", "localhost/sorted:b"]), 0);
    expectPodError(await runPod(["images", "--sort", "name"]), `"name" is not a valid field for sorting. Choose from: created, id, repository, size, tag`);
  });

  it("--history adds HISTORY: the names an image has had, latest first", async () => {
    const name = `localhost/${safeName("h")}:1`;
    expectExit(await runPod(["tag", "busybox-derived", name]), 0);
    expectExit(await runPod(["untag", "busybox-derived", name]), 0);
    const r = await runPod(["images", "--history", "--digests", "--filter", "reference=busybox-derived"]);
    expectExit(r, 0);
    const [head, row] = lines(r.stdout);
    expect(head).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE\s+HISTORY$/);
    expect(row).toContain(short(derived));
    expect(row).toMatch(new RegExp(`${name.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}, ${DERIVED}$`));
    const j = JSON.parse((await runPod(["image", "inspect", "busybox-derived"])).stdout)[0];
    expect(j.NamesHistory).toEqual([name, DERIVED]);
  });
});

describe("parents: intermediate and dangling images, rmi --no-prune, image prune", () => {
  it("busybox without a name is busybox-child's parent: intermediate (hidden without -a), not dangling", async () => {
    await restore();
    expectExit(await runPod(["untag", "busybox"]), 0);
    expect(await ids([])).toEqual(idsOf(derived, child));
    expect(await ids(["-a"])).toEqual(idsOf(bb, derived, child));
    expect(await ids(["-a", "--filter", "intermediate=true"])).toEqual(idsOf(bb));
    expect(await ids(["-a", "--filter", "dangling=true"])).toEqual([]);
    const h = await runPod(["images", "-a", "--history", "--filter", "intermediate=true"]);
    expect(lines(h.stdout)[1]).toMatch(new RegExp(`^<none>\\s+<none>\\s+${short(bb)}\\s.*${BB}$`));
    const p = await runPod(["image", "prune", "-f"]);
    expectExit(p, 0);
    assertOutput(p.stdout, "", "prune of a store with no dangling image");
  });

  it("rmi --no-prune of the child leaves the parent, now dangling; image prune removes it and prints its ID", async () => {
    const r = await runPod(["rmi", "--no-prune", "busybox-child"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `Untagged: ${CHILD}\nDeleted: ${child.image.id}\n`);
    expect(await ids(["--filter", "dangling=true"])).toEqual(idsOf(bb));
    const p = await runPod(["image", "prune", "-f"]);
    expectExit(p, 0);
    assertOutput(p.stdout, `${bb.image.id}\n`);
    expect(await ids(["-a"])).toEqual(idsOf(derived));
  });

  it("rmi of the child removes the parent it leaves dangling, as podman", async () => {
    await restore();
    expectExit(await runPod(["untag", "busybox"]), 0);
    const r = await runPod(["rmi", "busybox-child"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `Untagged: ${CHILD}\nDeleted: ${child.image.id}\nDeleted: ${bb.image.id}\n`);
    expect(await ids(["-a"])).toEqual(idsOf(derived));
  });

  it("a parent with a name is not removed with its child", async () => {
    await restore();
    const r = await runPod(["rmi", "busybox-child"]);
    expectExit(r, 0);
    assertOutput(r.stdout, `Untagged: ${CHILD}\nDeleted: ${child.image.id}\n`);
    expect(await ids([])).toEqual(idsOf(bb, derived));
  });
});

describe("image prune", () => {
  it("asks on stderr first: n keeps everything (exit 0); no answer at all (EOF) fails as podman's does", async () => {
    await restore();
    expectExit(await runPod(["untag", "busybox-derived"]), 0);
    const no = await runPod(["image", "prune"], { input: "n\n" });
    expectExit(no, 0);
    expect(no.stderr).toContain("WARNING! This command removes all dangling images.\nAre you sure you want to continue? [y/N] ");
    expect(no.stdout).toBe("");
    const eof = await runPod(["image", "prune"]);
    expectPodError(eof, "reading the answer from stdin: EOF", "Hint: ");
    expect(await ids(["--filter", "dangling=true"])).toEqual(idsOf(derived));
    const all = await runPod(["image", "prune", "-a"], { input: "n\n" });
    expect(all.stderr).toContain("WARNING! This command removes all images without at least one container associated with them.\n");
    const yes = await runPod(["image", "prune"], { input: "y\n" });
    expectExit(yes, 0);
    assertOutput(yes.stdout, `${derived.image.id}\n`);
  });

  it("--filter label= and until= pick among the images prune -a would remove", async () => {
    await restore();
    const l = await runPod(["image", "prune", "-a", "-f", "--filter", "label=stage=child"]);
    expectExit(l, 0);
    assertOutput(l.stdout, `${child.image.id}\n`);
    const u = await runPod(["image", "prune", "-af", "--filter", "until=2024-01-15T00:00:00Z"]);
    expectExit(u, 0);
    assertOutput(u.stdout, `${bb.image.id}\n`);
    expect(await ids([])).toEqual(idsOf(derived));
    expectPodError(await runPod(["image", "prune", "-f", "--filter", "foo"]), "filter input must be in the form of filter=value: foo is invalid");
    expectPodError(await runPod(["image", "prune", "-f", "--filter", "nope=1"]), `unsupported image filter "nope"`);
    expectPodError(await runPod(["image", "prune", "-f", "busybox"]), "takes no arguments");
  });

  S("-a keeps an image a container uses", async () => {
    await restore();
    const name = safeName("keep");
    expectExit(await runPod(["create", "--name", name, "busybox-derived", "true"]), 0);
    const r = await runPod(["image", "prune", "-a", "-f"]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([bb.image.id, child.image.id].sort());
    expect(await ids([])).toEqual(idsOf(derived));
    expectExit(await runPod(["rm", name]), 0);
  });
});

describe("rmi: --ignore and exit codes", () => {
  it("a missing image exits 1; with -i or -f it is not an error", async () => {
    await restore();
    const r = await runPod(["rmi", "no-such-image-540"]);
    expectExit(r, 1);
    expect(r.stderr).toContain("Error: no-such-image-540: image not known");
    const i = await runPod(["rmi", "-i", "no-such-image-540"]);
    expectExit(i, 0);
    expect(i.stderr).toBe("");
    const ig = await runPod(["rmi", "--ignore", "no-such-image-540", "busybox-child"]);
    expectExit(ig, 0);
    expect(ig.stdout).toContain(`Deleted: ${child.image.id}`);
    expectExit(await runPod(["rmi", "-f", "no-such-image-540"]), 0);
  });

  S("an image a container uses exits 2, even beside a missing one", async () => {
    await restore();
    const name = safeName("use");
    expectExit(await runPod(["create", "--name", name, "busybox-child", "true"]), 0);
    const r = await runPod(["rmi", "busybox-child"]);
    expectExit(r, 2);
    expect(r.stderr).toContain("image is in use by a container");
    const both = await runPod(["rmi", "no-such-image-540", "busybox-child"]);
    expectExit(both, 2);
    expect(both.stderr).toContain("Error: no-such-image-540: image not known");
    expectExit(await runPod(["rm", name]), 0);
  });
});

describe("image tree", () => {
  const layerId = (diffIDs: string[]) => {
    const ids: string[] = [];
    for (const d of diffIDs.map((x) => x.replace("sha256:", ""))) ids.push(ids.length ? createHash("sha256").update(`${ids.at(-1)}+${d}`).digest("hex") : d);
    return ids.map((i) => i.slice(0, 12));
  };

  it("prints podman's header and the image's layers, bottom first, with the images each tops", async () => {
    await restore();
    const r = await runPod(["image", "tree", "busybox-child"]);
    expectExit(r, 0);
    const [base, top] = layerId(child.image.diffIDs);
    assertOutput(
      r.stdout,
      new RegExp(
        `^Image ID: ${short(child)}\\nTags:     \\[${CHILD}\\]\\nSize:     [\\d.]+[kM]B\\nImage Layers\\n` +
          `├── ID: ${base} Size: +[\\d.]+[kM]B Top Layer of: \\[${BB}\\]\\n` +
          `└── ID: ${top} Size: +[\\d.]+[kM]?B Top Layer of: \\[${CHILD}\\]\\n\\n$`,
      ),
    );
  });

  it("--whatrequires shows the layers built on the image's top layer", async () => {
    const r = await runPod(["image", "tree", "--whatrequires", "busybox"]);
    expectExit(r, 0);
    const [base, d] = layerId(derived.image.diffIDs);
    const c = layerId(child.image.diffIDs)[1];
    const l = lines(r.stdout);
    expect(l[0]).toBe(`Image ID: ${short(bb)}`);
    expect(l.slice(4).map((x) => x.replace(/ Size: .*? Top/, " Top"))).toEqual(
      expect.arrayContaining([`├── ID: ${base} Top Layer of: [${BB}]`, expect.stringMatching(new RegExp(`── ID: (${d}|${c}) Top`))]),
    );
    expect(l).toHaveLength(7);
    expect(r.stdout).toContain(d!);
    expect(r.stdout).toContain(c!);
  });

  it("a missing image is image not known, exit 125; it takes exactly one image", async () => {
    expectPodError(await runPod(["image", "tree", "no-such-image-540"]), "no-such-image-540: image not known");
    expectPodError(await runPod(["image", "tree"]), "requires IMAGE");
    expectPodError(await runPod(["image", "tree", "a", "b"]), "requires exactly one IMAGE");
  });
});

describe("history", () => {
  it("lists the config's history newest first: podman's columns, the image IDs on their top layers' entries", async () => {
    await restore();
    const r = await runPod(["history", "busybox-child"]);
    expectExit(r, 0);
    const [head, first, second, ...rest] = lines(r.stdout);
    expect(head).toMatch(/^ID\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    expect(rest).toEqual([]);
    expect(first).toMatch(new RegExp(`^${short(child)}\\s+\\d+ (years|months) ago\\s+pod test fixture layer 1\\s+\\d+(\\.\\d+)? [kM]?B\\s*$`));
    // the base layer tops busybox, so podman names busybox there
    expect(second).toMatch(new RegExp(`^${short(bb)}\\s+.*pod test fixture layer 0\\s+\\d+(\\.\\d+)? [kM]?B\\s*$`));
  });

  it("-q, --no-trunc, --human=false, --format and json", async () => {
    assertOutput((await runPod(["history", "-q", "busybox-child"])).stdout, `${short(child)}\n${short(bb)}\n`);
    assertOutput((await runPod(["image", "history", "-q", "--no-trunc", "busybox-child"])).stdout, `${child.image.id}\n${bb.image.id}\n`);
    const h = await runPod(["history", "--human=false", "--format", "{{.Created}}|{{.CreatedAt}}|{{.CreatedBy}}", "busybox-child"]);
    expectExit(h, 0);
    assertOutput(lines(h.stdout)[0]!, "2024-01-02T03:04:05Z|2024-01-02 03:04:05 +0000 UTC|pod test fixture layer 1");
    const j = await runPod(["history", "--format", "json", "busybox-derived"]);
    expectExit(j, 0);
    const a = JSON.parse(j.stdout);
    expect(a).toHaveLength(2);
    expect(a[0]).toMatchObject({ id: derived.image.id, created: "2024-02-03T04:05:06Z", CreatedBy: "pod test fixture layer 1", Created: "2024-02-03T04:05:06Z" });
    expect(a[0].size).toBeGreaterThan(0);
    expectPodError(await runPod(["history", "no-such-image-540"]), "image not known");
  });
});
