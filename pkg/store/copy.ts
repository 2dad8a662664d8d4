// Copies overlay-form layers into one plain directory (runs in the storage
// namespace). Per layer: whiteouts and opaque directories first remove what
// lower layers put there, then `cp -a` brings the layer's files (owners,
// modes, xattrs, times), then the copied whiteout devices go. The same, for
// one directory of the image, fills a new volume (copySubtree).
import { lstatSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lgetxattr } from "../native/libc.ts";
import { PodError } from "../errors.ts";
import { isOverlayWhiteout, OPAQUE_XATTR } from "../layer/index.ts";

type Marks = { whiteouts: string[]; opaques: string[] };

function findMarks(layer: string, rel = "", marks: Marks = { whiteouts: [], opaques: [] }): Marks {
  for (const name of readdirSync(join(layer, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(layer, r));
    if (st.isCharacterDevice() && st.rdev === 0) marks.whiteouts.push(r);
    else if (st.isDirectory()) {
      const x = lgetxattr(join(layer, r), "user.overlay.opaque");
      if (x && new TextDecoder().decode(x) === "y") marks.opaques.push(r);
      findMarks(layer, r, marks);
    }
  }
  return marks;
}

export function copyLayers(layers: string[], dest: string): void {
  mkdirSync(dest, { recursive: true, mode: 0o755 });
  for (const layer of layers) {
    const marks = findMarks(layer);
    for (const r of [...marks.whiteouts, ...marks.opaques]) rmSync(join(dest, r), { recursive: true, force: true });
    const cp = Bun.spawnSync(["cp", "-a", "--", `${layer}/.`, `${dest}/`], { stderr: "pipe" });
    if (cp.exitCode !== 0) throw new PodError(`cp -a ${layer}: ${cp.stderr.toString().trim()}`);
    // The copied opaque marks stay: on a plain directory they mean nothing.
    for (const r of marks.whiteouts) rmSync(join(dest, r), { force: true });
  }
}

/** What one layer holds at a path, as overlay reads it. */
export type LayerEntryKind = "absent" | "whiteout" | "dir" | "opaque-dir" | "other";

function layerEntryKind(layer: string, rel: string): LayerEntryKind {
  const p = rel ? join(layer, rel) : layer;
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return "absent";
  if (isOverlayWhiteout(st)) return "whiteout";
  if (!st.isDirectory()) return "other";
  const x = lgetxattr(p, OPAQUE_XATTR);
  return x && new TextDecoder().decode(x) === "y" ? "opaque-dir" : "dir";
}

/** One layer's say on the directory at `parts`: it adds to it, adds and hides lower layers, hides them, or has nothing there. */
function layerVerdict(layer: string, parts: string[], kindOf: (layer: string, rel: string) => LayerEntryKind): "adds" | "adds-last" | "hides" | "absent" {
  let opaqueAbove = false;
  for (let k = 0; k <= parts.length; k++) {
    const kind = kindOf(layer, parts.slice(0, k).join("/"));
    if (kind === "absent") return opaqueAbove ? "hides" : "absent";
    if (kind === "whiteout" || kind === "other") return "hides";
    if (kind === "opaque-dir") opaqueAbove = true;
  }
  return opaqueAbove ? "adds-last" : "adds";
}

/**
 * The layers (bottom first) whose copy of the directory `rel` makes up the
 * merged view of it, by overlay's rules: searching from the top, a whiteout
 * or a non-directory at the path or above it hides every lower layer, and an
 * opaque directory at the path or above it is the last layer that counts.
 * `rel` must already be free of symlinks (pkg/runtime resolveImagePath).
 */
export function subtreeLayers(layers: string[], rel: string, kindOf = layerEntryKind): string[] {
  const parts = rel.split("/").filter((p) => p !== "" && p !== ".");
  const picked: string[] = [];
  for (let i = layers.length - 1; i >= 0; i--) {
    const v = layerVerdict(layers[i]!, parts, kindOf);
    if (v === "absent") continue;
    if (v === "hides") break;
    picked.unshift(layers[i]!);
    if (v === "adds-last") break;
  }
  return picked;
}

/**
 * Copies the image's directory `path` (layers bottom first, whiteouts applied)
 * into `dest`, keeping owners, modes and xattrs; `dest` itself takes the
 * directory's owner and mode. Nothing is copied when the image has no
 * directory there.
 */
export function copySubtree(layers: string[], path: string, dest: string): void {
  const rel = path.split("/").filter((p) => p !== "" && p !== ".").join("/");
  const picked = subtreeLayers(layers, rel);
  if (!picked.length) return;
  copyLayers(picked.map((l) => (rel ? join(l, rel) : l)), dest);
}
