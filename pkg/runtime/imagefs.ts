// Reading an image's files without mounting it: the layer diff directories are
// overlaid by hand, the way overlayfs would merge them, so pod can look up
// /etc/passwd or a working directory before any namespace exists.
//
// Overlay rules followed here (Documentation/filesystems/overlayfs.rst): the
// topmost layer holding a name wins; a whiteout (character device 0:0) hides
// the name and everything below it; a directory marked opaque hides what lower
// layers have inside it; a non-directory in an upper layer hides a lower
// directory of the same name. Symlinks are resolved inside the image (an
// absolute target restarts at the image root, ".." stops at it), never on the
// host, so a hostile layer cannot make pod read a host file.
import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { isOverlayWhiteout, OPAQUE_XATTR } from "../layer/index.ts";
import { lgetxattr } from "../native/libc.ts";

/** Symlinks followed in one lookup before it counts as a loop (the kernel's ELOOP). */
const MAX_SYMLINK_HOPS = 16;
/** Files read this way are small configuration files (passwd, group); refuse anything huge. */
const MAX_FILE_BYTES = 8 << 20;

type Entry = { hostPath: string; st: Stats };
type Probe = { kind: "found"; entry: Entry } | { kind: "hidden" } | { kind: "absent" };

/** Where a path of the image ends up once its symlinks are followed. */
export type ResolvedImagePath = {
  /** the resolved path inside the image ("/" for the root) */
  path: string;
  /** the layer entry at `path`; undefined when nothing is there (the root is always a directory) */
  entry?: Entry;
};

function isOpaqueDir(hostPath: string): boolean {
  const v = lgetxattr(hostPath, OPAQUE_XATTR);
  return v !== undefined && v.length === 1 && v[0] === 0x79; /* "y" */
}

function lstatInLayer(hostPath: string): Stats | undefined {
  try {
    return lstatSync(hostPath, { throwIfNoEntry: false });
  } catch (e) {
    throw new PodError(`reading ${hostPath} in image layers: ${(e as Error).message}`, { cause: e });
  }
}

/** What one layer says about `parts`: the entry, "hidden" (stop looking lower), or nothing. */
function probeLayer(layer: string, parts: string[]): Probe {
  let dir = layer;
  let opaque = false;
  for (let k = 0; k < parts.length; k++) {
    const hostPath = join(dir, parts[k]!);
    const st = lstatInLayer(hostPath);
    if (!st) return opaque ? { kind: "hidden" } : { kind: "absent" };
    if (isOverlayWhiteout(st)) return { kind: "hidden" };
    if (k === parts.length - 1) return { kind: "found", entry: { hostPath, st } };
    if (!st.isDirectory()) return { kind: "hidden" };
    if (isOpaqueDir(hostPath)) opaque = true;
    dir = hostPath;
  }
  return { kind: "absent" };
}

/** The merged view's entry for a path already free of symlinks in its parents. */
function findEntry(layerDirs: string[], parts: string[]): Entry | undefined {
  for (let i = layerDirs.length - 1; i >= 0; i--) {
    const p = probeLayer(layerDirs[i]!, parts);
    if (p.kind === "found") return p.entry;
    if (p.kind === "hidden") return undefined;
  }
  return undefined;
}

function splitPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "" && s !== ".");
}

/**
 * Resolves `path` inside the image, following symlinks (the last component's
 * too). A missing tail is kept as written ("/etc/new/file" when /etc/new does
 * not exist). Returns undefined on a symlink loop or when a parent is not a
 * directory.
 */
export function resolveImagePath(layerDirs: string[], path: string): ResolvedImagePath | undefined {
  const todo = splitPath(path);
  let done: string[] = [];
  let entry: Entry | undefined;
  let hops = 0;
  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === "..") {
      done.pop();
      entry = done.length ? findEntry(layerDirs, done) : undefined;
      continue;
    }
    const found = findEntry(layerDirs, [...done, name]);
    if (!found) {
      const rest = [...done, name, ...todo];
      return { path: "/" + normalizeParts(rest).join("/") };
    }
    if (found.st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) return undefined;
      const target = readlinkSync(found.hostPath);
      if (target.startsWith("/")) done = [];
      todo.unshift(...splitPath(target));
      continue;
    }
    if (todo.length > 0 && !found.st.isDirectory()) return undefined;
    done = [...done, name];
    entry = found;
  }
  return { path: "/" + done.join("/"), entry };
}

function normalizeParts(parts: string[]): string[] {
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.pop();
    else out.push(p);
  }
  return out;
}

/**
 * The text of a regular file of the image, or undefined when the image has no
 * regular file there. `layerDirs` are host paths of the layers' diff
 * directories, bottom layer first.
 */
export function readImageFile(layerDirs: string[], path: string): string | undefined {
  const r = resolveImagePath(layerDirs, path);
  if (!r?.entry || !r.entry.st.isFile()) return undefined;
  if (r.entry.st.size > MAX_FILE_BYTES) {
    throw new PodError(`reading ${path} from the image: the file is larger than ${MAX_FILE_BYTES >> 20} MiB`, {
      hint: "pod reads only small configuration files (passwd, group) from images; check the image",
    });
  }
  return readFileSync(r.entry.hostPath, "utf8");
}

/** True when `path` is a directory in the image (following symlinks inside the image). */
export function imagePathIsDir(layerDirs: string[], path: string): boolean {
  const r = resolveImagePath(layerDirs, path);
  if (!r) return false;
  if (r.path === "/") return true;
  return r.entry?.st.isDirectory() ?? false;
}
