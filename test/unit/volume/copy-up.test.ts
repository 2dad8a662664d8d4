// Copy-up: which layers make up an image directory (overlay's rules on
// whiteouts, opaque directories and non-directories), and copySubtree filling
// a volume from real layer directories, as the storage worker does.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, lstatSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { copySubtree, subtreeLayers, type LayerEntryKind } from "../../../pkg/store/copy.ts";
import { makeLayers, removeScratch, scratchDir, userXattrSupport, whiteoutSupport } from "../runtime/_layers.ts";

afterAll(removeScratch);

/** A fake layer: what it holds at each path; anything not listed is absent, and every layer's root is a directory. */
type FakeLayer = Record<string, LayerEntryKind>;

function pick(layers: FakeLayer[], rel: string): number[] {
  const names = layers.map((_, i) => `L${i}`);
  const kindOf = (layer: string, p: string): LayerEntryKind => layers[names.indexOf(layer)]![p] ?? (p === "" ? "dir" : "absent");
  return subtreeLayers(names, rel, kindOf).map((n) => names.indexOf(n));
}

describe("subtreeLayers: the layers a volume's copy-up takes, bottom first", () => {
  const D: LayerEntryKind = "dir";
  const cases: [string, FakeLayer[], string, number[]][] = [
    ["one layer with the directory", [{ etc: D, "etc/apk": D }], "etc/apk", [0]],
    ["every layer holding it adds to it", [{ etc: D, "etc/apk": D }, { etc: D, "etc/apk": D }], "etc/apk", [0, 1]],
    ["a layer without it lets lower ones show", [{ etc: D, "etc/apk": D }, { usr: D }], "etc/apk", [0]],
    ["nothing anywhere: nothing to copy", [{ usr: D }, { var: D }], "etc/apk", []],
    ["a whiteout of the directory hides everything below", [{ etc: D, "etc/apk": D }, { etc: D, "etc/apk": "whiteout" }], "etc/apk", []],
    ["a whiteout of a parent hides everything below", [{ etc: D, "etc/apk": D }, { etc: "whiteout" }], "etc/apk", []],
    ["a whiteout in a middle layer, the top layer re-creating it", [{ etc: D, "etc/apk": D }, { etc: D, "etc/apk": "whiteout" }, { etc: D, "etc/apk": D }], "etc/apk", [2]],
    ["an opaque directory is the last layer that counts", [{ etc: D, "etc/apk": D }, { etc: D, "etc/apk": "opaque-dir" }, { etc: D, "etc/apk": D }], "etc/apk", [1, 2]],
    ["an opaque parent holding the directory: it counts, nothing below", [{ etc: D, "etc/apk": D }, { etc: "opaque-dir", "etc/apk": D }], "etc/apk", [1]],
    ["an opaque parent without the directory hides the lower ones", [{ etc: D, "etc/apk": D }, { etc: "opaque-dir" }], "etc/apk", []],
    ["a file on top where lower layers had the directory: not a directory, nothing", [{ etc: D, "etc/apk": D }, { etc: D, "etc/apk": "other" }], "etc/apk", []],
    ["a file below a directory is hidden by it", [{ etc: D, "etc/apk": "other" }, { etc: D, "etc/apk": D }], "etc/apk", [1]],
    ["a lower layer with a file as the parent does not count", [{ etc: "other" }, { etc: D, "etc/apk": D }], "etc/apk", [1]],
    ["the root: every layer", [{ a: D }, { b: D }], "", [0, 1]],
    ["dots and slashes in the path are ignored", [{ etc: D, "etc/apk": D }], "/etc/./apk/", [0]],
  ];
  for (const [name, layers, rel, want] of cases) test(name, () => expect(pick(layers, rel)).toEqual(want));
});

const whiteouts = whiteoutSupport();
const xattrs = userXattrSupport();
const real = whiteouts.ok && xattrs.ok ? test : test.skip;
if (!whiteouts.ok) console.log(`skipping the copySubtree case: ${whiteouts.reason}`);
else if (!xattrs.ok) console.log(`skipping the copySubtree case: ${xattrs.reason}`);

/** path -> "dir" or the file's text, under root. */
function tree(root: string, rel = ""): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(join(root, rel)).sort()) {
    const p = rel ? `${rel}/${n}` : n;
    const st = lstatSync(join(root, p));
    if (st.isDirectory()) Object.assign(out, { [p]: "dir" }, tree(root, p));
    else out[p] = st.isFile() ? readFileSync(join(root, p), "utf8") : "other";
  }
  return out;
}

describe("copySubtree", () => {
  real("copies the merged directory: upper files win, whiteouts and opaque directories applied, modes kept", () => {
    const layers = makeLayers(
      { "data/a": "a0", "data/gone": "x", "data/dir-gone/inner": "x", "data/opq/old": "old", "data/opq/sub/old2": "old2", "other/z": "z" },
      { "data/a": "a1", "data/b": "b1", "data/gone": { whiteout: true }, "data/dir-gone": { whiteout: true }, "data/opq": { dir: true, opaque: true }, "data/opq/new": "new" },
    );
    chmodSync(join(layers[1]!, "data/b"), 0o600);
    chmodSync(join(layers[1]!, "data"), 0o750);
    const asRoot = process.getuid?.() === 0;
    if (asRoot) chownSync(join(layers[1]!, "data/b"), 1234, 5678);
    const dest = join(scratchDir(), "_data");
    mkdirSync(dest, { mode: 0o755 });
    copySubtree(layers, "/data", dest);
    expect(tree(dest)).toEqual({ a: "a1", b: "b1", opq: "dir", "opq/new": "new" });
    expect(lstatSync(join(dest, "b")).mode & 0o777).toBe(0o600);
    expect(lstatSync(dest).mode & 0o777).toBe(0o750);
    if (asRoot) expect([lstatSync(join(dest, "b")).uid, lstatSync(join(dest, "b")).gid]).toEqual([1234, 5678]);
  });

  test("an image without the directory leaves the volume as it is", () => {
    const layers = makeLayers({ "etc/passwd": "root:x:0:0::/root:/bin/sh\n" });
    const dest = join(scratchDir(), "_data");
    mkdirSync(dest, { mode: 0o755 });
    copySubtree(layers, "/srv/www", dest);
    copySubtree(layers, "/etc/passwd", dest);
    expect(readdirSync(dest)).toEqual([]);
    expect(lstatSync(dest).mode & 0o777).toBe(0o755);
  });
});
