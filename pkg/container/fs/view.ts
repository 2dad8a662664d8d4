// A container's filesystem as overlay shows it, read without mounting: the
// image's layer dirs with the container's upper dir on top, merged by
// overlay's rules (the topmost name wins, a 0:0 character device hides what
// is below, an opaque directory hides lower contents, a non-directory hides a
// lower directory). pkg/runtime/imagefs.ts resolves single image paths the
// same way; this view also lists directories, for diff, export and cp.
//
// Paths are resolved like chroot(2) does it: ".." stops at the root, and a
// symlink's absolute target restarts at the container's root, never at the
// host's. Nothing here follows a symlink on the host: every name is looked
// up with lstat inside a layer directory that was itself checked to be a
// real directory.
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { PodError } from "../../errors.ts";
import { isOverlayWhiteout, OPAQUE_XATTR } from "../../layer/index.ts";
import { lgetxattr } from "../../native/libc.ts";

/**
 * Where a container's files are: image layer dirs (bottom first) and the
 * container's upper dir; or, `flat`, one plain copy of everything in `upper`
 * (the vfs root filesystem), with the image's layers kept for `diff`.
 */
export type FsLayout = { lowers: string[]; upper: string; flat?: boolean };

export type FsEntry = {
  /** the path inside the container, without a leading "/" ("" for the root) */
  rel: string;
  /** the topmost layer's file for this path */
  hostPath: string;
  st: Stats;
  /** for directories: this directory in every layer that contributes to it, topmost first */
  dirs: string[];
};

/** Files read as text are configuration files (passwd, group): refuse anything huge. */
const MAX_TEXT_BYTES = 8 << 20;
/** Symlinks followed in one lookup before it counts as a loop (the kernel's MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

export function isOpaqueDir(hostPath: string): boolean {
  const v = lgetxattr(hostPath, OPAQUE_XATTR);
  return v !== undefined && v.length === 1 && v[0] === 0x79; /* "y" */
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") return undefined;
    throw new PodError(`reading ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Splits a container path into its names: no empty or "." components; ".." is kept. */
export function splitContainerPath(path: string): string[] {
  return path.split("/").filter((s) => s !== "" && s !== ".");
}

export class FsView {
  /** layer dirs, bottom first; the last is the topmost (the upper dir, when there is one) */
  readonly layers: string[];

  constructor(layers: string[]) {
    this.layers = layers;
  }

  static of(layout: FsLayout): FsView {
    return new FsView(layout.flat ? [layout.upper] : [...layout.lowers, layout.upper]);
  }

  root(): FsEntry {
    // overlay merges the layers' roots whatever xattrs they carry
    const top = this.layers[this.layers.length - 1];
    if (top === undefined) throw new PodError("the container has no filesystem layers");
    // stat, not lstat: a running container's root is the /proc/PID/root link
    return { rel: "", hostPath: top, st: statSync(top), dirs: [...this.layers].reverse() };
  }

  /** The merged entry `name` of directory `dir`; undefined when nothing (visible) is there. */
  child(dir: FsEntry, name: string): FsEntry | undefined {
    const rel = dir.rel ? `${dir.rel}/${name}` : name;
    let found: FsEntry | undefined;
    for (const d of dir.dirs) {
      const hostPath = join(d, name);
      const st = lstatOrUndefined(hostPath);
      if (!st) continue;
      if (isOverlayWhiteout(st)) break;
      if (!st.isDirectory()) {
        found ??= { rel, hostPath, st, dirs: [] };
        break;
      }
      found ??= { rel, hostPath, st, dirs: [] };
      found.dirs.push(hostPath);
      if (isOpaqueDir(hostPath)) break;
    }
    return found;
  }

  /** The merged entries of a directory, sorted by name. */
  list(dir: FsEntry): FsEntry[] {
    const names = new Set<string>();
    for (const d of dir.dirs) for (const n of readdirSync(d)) names.add(n);
    const out: FsEntry[] = [];
    for (const n of [...names].sort()) {
      const e = this.child(dir, n);
      if (e) out.push(e);
    }
    return out;
  }

  /** The entry at a symlink-free path (as `resolve` returns); undefined when it does not exist. */
  lookup(rel: string): FsEntry | undefined {
    let e: FsEntry | undefined = this.root();
    for (const name of splitContainerPath(rel)) {
      if (!e || !e.st.isDirectory()) return undefined;
      e = this.child(e, name);
    }
    return e;
  }

  /**
   * Resolves `path` inside the container like chroot(2): ".." stops at the
   * root and symlinks are followed inside the container (the last one only
   * with `followLast`). Returns the symlink-free path and its entry, or just
   * the path when the last name does not exist. Throws a PodError when a
   * parent is missing or not a directory, or on a symlink loop.
   */
  resolve(path: string, followLast = true): { rel: string; entry?: FsEntry } {
    const todo = splitContainerPath(path);
    const done: FsEntry[] = [this.root()];
    let hops = 0;
    while (todo.length) {
      const name = todo.shift()!;
      if (name === "..") {
        if (done.length > 1) done.pop();
        continue;
      }
      const parent = done[done.length - 1]!;
      const e = this.child(parent, name);
      const rel = parent.rel ? `${parent.rel}/${name}` : name;
      if (!e) {
        if (todo.length) throw new PodError(`/${rel}: no such file or directory`);
        return { rel };
      }
      if (e.st.isSymbolicLink() && (todo.length || followLast)) {
        if (++hops > MAX_SYMLINKS) throw new PodError(`/${rel}: too many levels of symbolic links`);
        const target = readlinkSync(e.hostPath);
        if (target.startsWith("/")) done.length = 1;
        todo.unshift(...splitContainerPath(target));
        continue;
      }
      if (todo.length && !e.st.isDirectory()) throw new PodError(`/${rel}: not a directory`);
      done.push(e);
    }
    const last = done[done.length - 1]!;
    return { rel: last.rel, entry: last };
  }

  /**
   * The text of a small regular file of the container (/etc/passwd), or
   * undefined when there is none; `onError` hears why it could not be read.
   */
  readText(path: string, onError: (e: unknown) => void): string | undefined {
    try {
      const r = this.resolve(path);
      if (!r.entry?.st.isFile() || r.entry.st.size > MAX_TEXT_BYTES) return undefined;
      return readFileSync(r.entry.hostPath, "utf8");
    } catch (e) {
      onError(e);
      return undefined;
    }
  }
}

/** id → name from passwd or group text; the first entry of an id wins. */
export function idNames(text: string | undefined): Map<number, string> {
  const m = new Map<number, string>();
  for (const line of (text ?? "").split("\n")) {
    const f = line.split(":");
    const id = Number(f[2]);
    if (f[0] && f[2] && Number.isInteger(id) && !m.has(id)) m.set(id, f[0]);
  }
  return m;
}

/** A uid_map or gid_map: host id → id inside ("inside outside count" lines). */
export function parseIdMap(text: string | undefined): (hostId: number) => number | undefined {
  const ranges = (text ?? "")
    .split("\n")
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((r) => r.length === 3 && r.every(Number.isInteger)) as [number, number, number][];
  return (id) => {
    for (const [inside, outside, count] of ranges) if (id >= outside && id < outside + count) return inside + (id - outside);
    return undefined;
  };
}
