// Whiteouts become overlay's forms. mknod of a 0:0 character device needs
// root or a user namespace before Linux 5.8: as root (CI) the probe runs
// in-process, otherwise inside `unshare --user --map-root-user` (as pod
// itself does), and the tests are skipped, saying why, only when neither is
// possible.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { classifyWhiteout, OPAQUE_MARKER, WHITEOUT_PREFIX } from "../../../pkg/layer/index.ts";
import { Scratch, tarBytes, type RawEntry } from "./_tar.ts";
import { probe } from "./_whiteout-probe.ts";

const scratch = new Scratch();
afterAll(() => scratch.cleanup());

const isRoot = process.geteuid?.() === 0;
const userns = !isRoot && Bun.spawnSync(["unshare", "--user", "--map-root-user", "true"], { stderr: "ignore" }).exitCode === 0;
const canWhiteout = isRoot || userns;
if (!canWhiteout) {
  console.log("skipping whiteout extraction tests: not root and `unshare --user --map-root-user` is not permitted here");
}

async function extractSeen(entries: RawEntry[]) {
  const blob = scratch.blob(tarBytes(entries));
  const dest = scratch.dest();
  if (isRoot) return probe(blob, dest);
  chmodSync(scratch.root, 0o755);
  const script = join(import.meta.dir, "_whiteout-probe.ts");
  const r = Bun.spawnSync(["unshare", "--user", "--map-root-user", process.execPath, script, blob, dest]);
  if (r.exitCode !== 0) throw new Error(`whiteout probe failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as Awaited<ReturnType<typeof probe>>;
}

describe("whiteout names", () => {
  const cases: [string, ReturnType<typeof classifyWhiteout>][] = [
    ["file", { kind: "none" }],
    [".wh.file", { kind: "whiteout", target: "file" }],
    [".wh..hidden", { kind: "whiteout", target: ".hidden" }],
    [OPAQUE_MARKER, { kind: "opaque" }],
    [".wh..wh.plnk", { kind: "meta" }],
    [`${WHITEOUT_PREFIX}`, { kind: "whiteout", target: "" }],
  ];
  for (const [name, kind] of cases) test(name, () => expect(classifyWhiteout(name)).toEqual(kind));
});

describe.if(canWhiteout)("whiteouts in overlay form", () => {
  test("a .wh. file becomes a 0:0 character device; an opaque marker, user.overlay.opaque=y", async () => {
    const r = await extractSeen([
      { path: "etc/", type: "Directory" },
      { path: "etc/.wh.motd", data: "" },
      { path: ".wh.tmp", data: "" },
      { path: "var/cache/", type: "Directory" },
      { path: "var/cache/.wh..wh..opq", data: "" },
      { path: "var/cache/new", data: "n" },
    ]);
    expect(r.error).toBeUndefined();
    expect(r.seen).toEqual({
      etc: "dir",
      "etc/motd": "whiteout",
      tmp: "whiteout",
      var: "dir",
      "var/cache": "dir opaque=y",
      "var/cache/new": "file:n",
    });
  });

  test("the layer's own entry wins over its whiteout, in either order", async () => {
    const r = await extractSeen([
      { path: "a", data: "kept" },
      { path: ".wh.a", data: "" },
      { path: ".wh.b", data: "" },
      { path: "b", data: "replaces whiteout" },
    ]);
    expect(r.seen).toEqual({ a: "file:kept", b: "file:replaces whiteout" });
  });

  test("a directory replacing a whiteout is opaque: the lower one was deleted", async () => {
    const r = await extractSeen([
      { path: ".wh.d", data: "" },
      { path: "d/", type: "Directory" },
      { path: ".wh.e", data: "" },
      { path: "e/inner", data: "i" },
    ]);
    expect(r.seen).toEqual({ d: "dir opaque=y", e: "dir opaque=y", "e/inner": "file:i" });
  });

  test("an opaque marker before its directory's entry, and AUFS bookkeeping skipped with a warning", async () => {
    const r = await extractSeen([
      { path: "x/y/.wh..wh..opq", data: "" },
      { path: "x/y/", type: "Directory", mode: 0o700 },
      { path: ".wh..wh.plnk/", type: "Directory" },
      { path: ".wh..wh.plnk/12.34", data: "" },
    ]);
    expect(r.seen).toEqual({ x: "dir", "x/y": "dir opaque=y" });
    expect(r.warnings).toEqual([
      'skipping ".wh..wh.plnk/": AUFS bookkeeping, not layer content',
      'skipping ".wh..wh.plnk/12.34": AUFS bookkeeping, not layer content',
    ]);
  });

  test("a whiteout cannot reach through a symlinked parent", async () => {
    const r = await extractSeen([
      { path: "l", type: "SymbolicLink", linkpath: "/etc" },
      { path: "l/.wh.passwd", data: "" },
    ]);
    expect(r.error).toContain('entry "l/.wh.passwd": parent "l" is a symlink');
  });
});
