// Applies tar entries to one layer directory, the only place layer bytes touch
// the disk. The tar is hostile until proven otherwise, so:
//  - names are cleaned lexically (safepath.ts) and never resolved by the kernel
//    through a symlink: every parent is created or checked here and remembered
//    in `#dirs`, the set of real directories of this layer; a symlink where a
//    parent should be is refused, and replacing a directory forgets it and all
//    below it;
//  - final components are created with O_EXCL/O_NOFOLLOW (or mkdir, symlink,
//    link, mknod, which never follow); whatever is in the way is removed
//    first, so a later entry wins and nothing is written through a symlink;
//  - hardlinks may only point at an earlier entry of this layer, through
//    checked directories;
//  - directory modes and times are set last, through O_NOFOLLOW descriptors.
// The destination starts empty, so everything found in it came from this tar.
// All calls are synchronous: per entry they are cheaper than promise-based ones.
import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { PodError } from "../errors.ts";
import { lsetxattr } from "../native/libc.ts";
import { mknodFifo } from "../native/libc-fs.ts";
import type { TarEntry, TarSink } from "./_tar-reader.ts";
import { baseOf, cleanEntryPath, parentOf } from "./safepath.ts";
import {
  classifyWhiteout,
  createOverlayWhiteout,
  isOverlayWhiteout,
  markOpaque,
  OVERLAY_XATTR_PREFIXES,
  WHITEOUT_META_PREFIX,
  WHITEOUT_PREFIX,
} from "./whiteout.ts";

const O_CLOEXEC = 0o2000000;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC;
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;
const S_ISGID = 0o2000;

type DirMeta = { mode: number; uid: number; gid: number; atime?: Date; mtime?: Date };

const q = JSON.stringify;
const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code;

export class LayerWriter implements TarSink {
  readonly #root: string;
  readonly #dirs = new Set<string>([""]);
  readonly #deferred = new Map<string, DirMeta>();
  readonly #chown: boolean;
  readonly #alwaysChown: boolean;
  readonly #umask: number;
  readonly #uid: number;
  readonly #gid: number;
  #fd = -1;
  #entry: TarEntry | undefined;
  #full = "";

  /** `root` must be an empty directory owned by this process; `warn` gets one line per skipped thing. */
  constructor(
    root: string,
    private readonly warn: (msg: string) => void,
    /** single-id user namespace: owners that are not mapped stay root (podman's ignore_chown_errors) */
    private readonly ignoreUnmapped = false,
  ) {
    this.#root = root.replace(/\/+$/, "") || "/";
    this.#uid = process.geteuid?.() ?? -1;
    this.#gid = process.getegid?.() ?? -1;
    // Inside pod's user namespace we are root and files get the image's owners;
    // unprivileged (unit tests, a laptop) ownership is left as it falls.
    this.#chown = this.#uid === 0;
    // A setgid root makes new files inherit its group, so "already ours" cannot be assumed.
    this.#alwaysChown = (lstatSync(this.#root).mode & S_ISGID) !== 0;
    this.#umask = process.umask();
  }

  /** The name of the entry being applied, for error messages. */
  get current(): string {
    return this.#entry?.path ?? "";
  }

  begin(e: TarEntry): void {
    this.#entry = e;
    const rel = cleanEntryPath(e.path);
    if (rel === "") {
      if (e.type !== "5") throw new PodError(`entry ${q(e.path)}: the layer root can only be a directory`);
      this.#deferred.set("", dirMeta(e));
      return;
    }
    const base = baseOf(rel);
    if (rel.includes(WHITEOUT_META_PREFIX) && parentOf(rel).split("/").some((c) => c.startsWith(WHITEOUT_META_PREFIX))) {
      this.warn(`skipping ${q(e.path)}: AUFS bookkeeping, not layer content`);
      return;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) return this.#whiteout(rel, base, e);
    switch (e.type) {
      case "0":
      case "7":
        return this.#file(rel, e);
      case "5":
      case "D":
        return this.#dir(rel, e);
      case "2":
        return this.#symlink(rel, e);
      case "1":
        return this.#hardlink(rel, e);
      case "6":
        return this.#fifo(rel, e);
      case "3":
      case "4":
        this.warn(`skipping device node ${rel}: device nodes cannot be created rootless`);
        return;
      default:
        this.warn(`skipping ${q(e.path)}: unsupported tar entry type ${q(e.type)}`);
    }
  }

  data(chunk: Uint8Array): void {
    if (this.#fd < 0) return;
    let off = 0;
    while (off < chunk.length) off += writeSync(this.#fd, chunk, off, chunk.length - off);
  }

  end(): void {
    const fd = this.#fd;
    if (fd < 0) return;
    this.#fd = -1;
    const e = this.#entry!;
    try {
      if (this.#needsChown(e)) this.#owned(e, () => fchownSync(fd, e.uid, e.gid));
      // open() already gave mode & 0o777 minus the umask; setuid/setgid/sticky
      // need chmod, after chown (which clears them).
      if (e.mode & ~0o777 || e.mode & this.#umask) fchmodSync(fd, e.mode);
      this.#xattrs(this.#full, e);
      if (e.mtime) futimesSync(fd, e.atime ?? e.mtime, e.mtime);
    } finally {
      closeSync(fd);
    }
  }

  /** Sets directory owners, modes and times, deepest first, once every entry is in. */
  finish(): void {
    const rels = [...this.#deferred.keys()].sort((a, b) => b.length - a.length);
    for (const rel of rels) {
      const m = this.#deferred.get(rel)!;
      const fd = openSync(this.#abs(rel), OPEN_DIR);
      try {
        if (this.#needsChown(m)) this.#owned({ path: rel, ...m }, () => fchownSync(fd, m.uid, m.gid));
        fchmodSync(fd, m.mode);
        if (m.mtime) futimesSync(fd, m.atime ?? m.mtime, m.mtime);
      } finally {
        closeSync(fd);
      }
    }
    this.#deferred.clear();
  }

  /** Closes a file left open by a failed extraction. */
  abort(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #abs(rel: string): string {
    return rel === "" ? this.#root : `${this.#root}/${rel}`;
  }

  /** Makes sure the parent of `rel` is a real directory of this layer and returns rel's full path. */
  #parent(rel: string): string {
    const parent = parentOf(rel);
    if (!this.#dirs.has(parent)) this.#ensureDir(parent);
    return this.#abs(rel);
  }

  #ensureDir(rel: string): void {
    const parent = parentOf(rel);
    if (!this.#dirs.has(parent)) this.#ensureDir(parent);
    this.#mkdir(rel, false);
  }

  /**
   * Creates directory `rel` (its parent is checked). Something else in the way
   * is replaced for an explicit entry; for an implied parent a symlink or file
   * is refused. A whiteout replaced by a directory makes it opaque: the lower
   * layers' directory was deleted, this one starts empty.
   */
  #mkdir(rel: string, explicit: boolean): void {
    const full = this.#abs(rel);
    try {
      mkdirSync(full, 0o755);
    } catch (err) {
      if (codeOf(err) !== "EEXIST") throw err;
      const st = lstatSync(full);
      if (!st.isDirectory()) {
        const whiteout = isOverlayWhiteout(st);
        if (!explicit && st.isSymbolicLink()) {
          throw new PodError(`entry ${q(this.current)}: parent ${q(rel)} is a symlink, refusing to follow it`);
        }
        if (!explicit && !whiteout) throw new PodError(`entry ${q(this.current)}: parent ${q(rel)} is not a directory`);
        unlinkSync(full);
        mkdirSync(full, 0o755);
        if (whiteout) markOpaque(full);
      }
    }
    this.#dirs.add(rel);
  }

  /** Removes whatever is at `rel` so a later entry can take the name. */
  #clear(rel: string): void {
    const full = this.#abs(rel);
    if (!lstatSync(full).isDirectory()) return unlinkSync(full);
    rmSync(full, { recursive: true, force: true });
    const below = `${rel}/`;
    for (const d of this.#dirs) if (d === rel || d.startsWith(below)) this.#dirs.delete(d);
    for (const d of this.#deferred.keys()) if (d === rel || d.startsWith(below)) this.#deferred.delete(d);
  }

  /** Runs `make` (a create-exclusive call); on EEXIST clears the name and runs it once more. */
  #create<T>(rel: string, make: () => T): T {
    try {
      return make();
    } catch (err) {
      if (codeOf(err) !== "EEXIST") throw err;
      this.#clear(rel);
      return make();
    }
  }

  #file(rel: string, e: TarEntry): void {
    const full = this.#parent(rel);
    this.#fd = this.#create(rel, () => openSync(full, CREATE, e.mode & 0o777));
    this.#full = full;
  }

  #dir(rel: string, e: TarEntry): void {
    const full = this.#parent(rel);
    if (!this.#dirs.has(rel)) this.#mkdir(rel, true);
    this.#xattrs(full, e);
    this.#deferred.set(rel, dirMeta(e));
  }

  #symlink(rel: string, e: TarEntry): void {
    const full = this.#parent(rel);
    this.#create(rel, () => symlinkSync(e.linkpath, full));
    if (this.#needsChown(e)) this.#owned(e, () => lchownSync(full, e.uid, e.gid));
    this.#xattrs(full, e);
    if (e.mtime) lutimesSync(full, e.atime ?? e.mtime, e.mtime);
  }

  #hardlink(rel: string, e: TarEntry): void {
    let target: string;
    try {
      target = cleanEntryPath(e.linkpath);
    } catch (err) {
      throw new PodError(`entry ${q(e.path)}: hardlink target ${q(e.linkpath)} escapes the layer root`, { cause: err });
    }
    const full = this.#parent(rel);
    if (target === rel) return;
    const notEarlier = () =>
      new PodError(`entry ${q(e.path)}: hardlink target ${q(e.linkpath)} is not an earlier entry of this layer`);
    // Only through directories this layer made: no symlink anywhere on the way.
    // link(2) itself never follows a symlink at the target.
    if (target === "" || !this.#dirs.has(parentOf(target))) throw notEarlier();
    const from = this.#abs(target);
    try {
      this.#create(rel, () => linkSync(from, full));
    } catch (err) {
      if (codeOf(err) === "ENOENT") throw notEarlier();
      if (codeOf(err) === "EPERM" && lstatSync(from).isDirectory()) {
        throw new PodError(`entry ${q(e.path)}: hardlink target ${q(e.linkpath)} is a directory`);
      }
      throw err;
    }
  }

  #fifo(rel: string, e: TarEntry): void {
    const full = this.#parent(rel);
    this.#create(rel, () => mknodFifo(full, e.mode & 0o777));
    if (this.#needsChown(e)) this.#owned(e, () => lchownSync(full, e.uid, e.gid));
    chmodSync(full, e.mode);
    this.#xattrs(full, e);
    if (e.mtime) lutimesSync(full, e.atime ?? e.mtime, e.mtime);
  }

  #whiteout(rel: string, base: string, e: TarEntry): void {
    const w = classifyWhiteout(base);
    const parent = parentOf(rel);
    if (w.kind === "meta") {
      this.warn(`skipping ${q(e.path)}: AUFS bookkeeping, not layer content`);
      return;
    }
    if (!this.#dirs.has(parent)) this.#ensureDir(parent);
    if (w.kind === "opaque") return markOpaque(this.#abs(parent));
    if (w.kind !== "whiteout" || w.target === "." || w.target === "..") {
      throw new PodError(`entry ${q(e.path)}: malformed whiteout`);
    }
    // A name this layer already wrote wins over its whiteout, which is about lower layers.
    createOverlayWhiteout(this.#abs(parent === "" ? w.target : `${parent}/${w.target}`));
  }

  #xattrs(full: string, e: TarEntry): void {
    if (!e.xattrs) return;
    for (const [name, value] of e.xattrs) {
      if (name === "security.selinux") continue;
      if (OVERLAY_XATTR_PREFIXES.some((p) => name.startsWith(p))) {
        this.warn(`skipping xattr ${name} on ${q(e.path)}: reserved for overlay`);
        continue;
      }
      try {
        lsetxattr(full, name, value);
      } catch (err) {
        this.warn(`skipping xattr ${name} on ${q(e.path)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  #needsChown(e: { uid: number; gid: number }): boolean {
    return this.#chown && (this.#alwaysChown || e.uid !== this.#uid || e.gid !== this.#gid);
  }

  #owned(e: { path: string; uid: number; gid: number }, chown: () => void): void {
    try {
      chown();
    } catch (err) {
      if (codeOf(err) !== "EINVAL") throw err;
      if (this.ignoreUnmapped) return;
      throw new PodError(`setting owner ${e.uid}:${e.gid} on ${q(e.path)}: the id is not mapped in this user namespace`, {
        hint: "give your user a larger range in /etc/subuid and /etc/subgid (65536 ids is the usual size)",
        cause: err,
      });
    }
  }
}

function dirMeta(e: TarEntry): DirMeta {
  return { mode: e.mode, uid: e.uid, gid: e.gid, atime: e.atime, mtime: e.mtime };
}
