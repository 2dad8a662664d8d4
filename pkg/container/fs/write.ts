// Writing copied files, for `pod cp` in both directions (runs in the storage
// namespace). Into a container, files go to its upper dir, which a running
// container changes at the same time: a directory there may be swapped for a
// symlink to a host path between two calls. So every operation is made
// relative to an open directory fd, through /proc/self/fd/N/NAME (openat(2)
// semantics: the kernel does not walk the path again), and final names are
// never followed (O_NOFOLLOW, lchown, mkdir, symlink). Directories the image
// has but the upper dir lacks are copied up first, as overlay would; a name
// hidden by a whiteout is replaced, and a directory made there is marked
// opaque so the image's old contents stay hidden.
//
// Onto the host, the same writer works on plain directories (no union view):
// what is in the way is replaced, never written through.
//
// A copy that fails takes back what it made (`transact`): every entry it
// created where nothing was is removed, and a file is only opened for
// writing once the first block of its source has been read. What it had
// already replaced (a file rewritten, a link or file swapped for another)
// stays replaced. Failures name the source and destination paths.
import {
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  fstatSync,
  futimesSync,
  lchownSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  rmdirSync,
  symlinkSync,
  unlinkSync,
  writeSync,
  type Stats,
} from "node:fs";
import { PodError } from "../../errors.ts";
import { OPAQUE_XATTR } from "../../layer/index.ts";
import { lsetxattr } from "../../native/libc.ts";
import { mknodFifo } from "../../native/libc-fs.ts";
import { log } from "../../output/index.ts";
import type { FsEntry, FsView } from "./view.ts";

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC;
const REWRITE = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
const READ = constants.O_RDONLY | constants.O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

/** The path of `name` inside the directory open as `fd`, resolved by the kernel from that fd. */
const at = (fd: number, name: string) => `/proc/self/fd/${fd}/${name}`;

/** Something to copy: a host file or a container file, with its type and metadata from lstat; `shown` names it in messages. */
export type SrcNode = { name: string; st: Stats; hostPath: string; shown: string; children(): SrcNode[] };

/**
 * An open destination directory; `entry` is its merged view when writing
 * into a container. `names`: the path from the directory `openTrusted`
 * opened; `fresh`: made by this copy (what is in it need not be recorded).
 */
export type DirHandle = { fd: number; path: string; entry?: FsEntry; names: string[]; fresh?: boolean };

export type WriterOptions = {
  /** the union of image and upper dir, when writing into a container's upper dir */
  view?: FsView;
  /** the owner to give what is written (storage ids); undefined keeps the file's creator (pod's user) */
  owner?: (st: Stats) => { uid: number; gid: number } | undefined;
  /** replace a directory by a non-directory and the reverse (podman's --overwrite) */
  overwrite: boolean;
  /** how destination paths are shown in messages ("web:" for a container's); default: as they are */
  where?: string;
};

/** What to do about an error the system gave while copying `shown`. */
function hintFor(code: string | undefined): string {
  switch (code) {
    case "EINVAL":
    case "EIO":
    case "ENXIO":
    case "EOPNOTSUPP":
    case "ENODEV":
      return "it cannot be read as plain data (a kernel or device file?): copy the files you need by name instead";
    case "EACCES":
    case "EPERM":
      return "pod is not allowed to read or write it: check its permissions, or copy the files you need by name";
    case "ENOSPC":
    case "EDQUOT":
      return "the destination is full: free some space and copy again";
    default:
      return "nothing this copy made was left behind; run again with --log-level debug for details";
  }
}

function lstatAt(fd: number, name: string): Stats | undefined {
  return lstatSync(at(fd, name), { throwIfNoEntry: false });
}

/** Removes `name` below the directory fd, recursively, through fds only. */
function removeAt(fd: number, name: string): void {
  const st = lstatAt(fd, name);
  if (!st) return;
  if (!st.isDirectory()) return unlinkSync(at(fd, name));
  const sub = openSync(at(fd, name), OPEN_DIR);
  try {
    for (const n of readdirSync(`/proc/self/fd/${sub}`)) removeAt(sub, n);
  } finally {
    closeSync(sub);
  }
  rmdirSync(at(fd, name));
}

/**
 * Copies a regular file's data into the fd `openDst` returns, which is only
 * called once the first block has been read: a source that cannot be read
 * (a kernel file that has no read) fails before the destination is touched.
 * Returns the destination fd, open.
 */
function copyData(srcPath: string, shown: string, openDst: () => number): number {
  const src = openSync(srcPath, READ);
  let dst: number | undefined;
  try {
    if (!fstatSync(src).isFile()) throw new PodError(`${shown} changed while it was being copied`);
    const buf = Buffer.alloc(1 << 20);
    let n = readSync(src, buf, 0, buf.length, null);
    dst = openDst();
    for (; n > 0; n = readSync(src, buf, 0, buf.length, null)) {
      for (let off = 0; off < n; ) off += writeSync(dst, buf, off, n - off);
    }
    return dst;
  } catch (e) {
    if (dst !== undefined) closeSync(dst);
    throw e;
  } finally {
    closeSync(src);
  }
}

export class TreeWriter {
  constructor(private readonly o: WriterOptions) {}

  /** Opens a directory the caller trusts (the upper dir itself, or a host directory the user named). */
  openTrusted(path: string, entry?: FsEntry): DirHandle {
    return { fd: openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC), path, entry, names: [] };
  }

  /** Entries made where nothing was, as names from the transaction's directory; undefined outside `transact`. */
  #made?: string[][];
  #base?: DirHandle;

  /**
   * Runs `fn`, which copies into `base` (or below it) with `put`; if it
   * throws, what it made is removed before the error goes on.
   */
  transact(base: DirHandle, fn: () => void): void {
    this.#made = [];
    this.#base = base;
    try {
      fn();
    } catch (e) {
      this.#undo();
      throw e;
    } finally {
      this.#made = undefined;
      this.#base = undefined;
    }
  }

  /**
   * Notes that `name` is about to be made in `h`. Where it replaces what the
   * upper dir had (a whiteout), it stays: removing it would bring back the
   * image's file the container deleted.
   */
  #record(h: DirHandle, name: string, replaced: Stats | undefined): void {
    if (!this.#made || !this.#base || h.fresh || (replaced && this.o.view)) return;
    this.#made.push([...h.names.slice(this.#base.names.length), name]);
  }

  #undo(): void {
    const base = this.#base!;
    for (const names of this.#made!.reverse()) {
      const shown = this.#shown(`${base.path === "/" ? "" : base.path}/${names.join("/")}`);
      let fd = base.fd;
      try {
        for (const n of names.slice(0, -1)) {
          const next = openSync(at(fd, n), OPEN_DIR);
          if (fd !== base.fd) closeSync(fd);
          fd = next;
        }
        removeAt(fd, names[names.length - 1]!);
      } catch (e) {
        log.warn(`could not remove ${shown}, left by the failed copy: ${(e as Error).message}`);
      } finally {
        if (fd !== base.fd) closeSync(fd);
      }
    }
  }

  #shown(path: string): string {
    return `${this.o.where ?? ""}${path}`;
  }

  close(h: DirHandle): void {
    closeSync(h.fd);
  }

  #setMeta(fd: number, st: Stats): void {
    const owner = this.o.owner?.(st);
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, st.mode & 0o7777);
    futimesSync(fd, st.atimeMs / 1000, st.mtimeMs / 1000);
  }

  /** Opens the existing directory `name` of `h`; in a container, copies it up from the image first when needed. */
  descend(h: DirHandle, name: string): DirHandle {
    const path = h.path === "/" ? `/${name}` : `${h.path}/${name}`;
    const entry = this.o.view && h.entry ? this.o.view.child(h.entry, name) : undefined;
    if (!lstatAt(h.fd, name) && entry?.st.isDirectory()) {
      mkdirSync(at(h.fd, name), 0o700);
      const fd = openSync(at(h.fd, name), OPEN_DIR);
      try {
        fchownSync(fd, entry.st.uid, entry.st.gid);
        fchmodSync(fd, entry.st.mode & 0o7777);
        futimesSync(fd, entry.st.atimeMs / 1000, entry.st.mtimeMs / 1000);
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      return { fd, path, entry, names: [...h.names, name], fresh: h.fresh };
    }
    try {
      return { fd: openSync(at(h.fd, name), OPEN_DIR), path, entry, names: [...h.names, name], fresh: h.fresh };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ELOOP" || code === "ENOTDIR") throw new PodError(`${path} is not a directory (it changed while copying?)`, { cause: e });
      throw e;
    }
  }

  /** What the destination shows at `name`: the merged view in a container, the directory entry on the host. */
  #existing(h: DirHandle, name: string, own: Stats | undefined): Stats | undefined {
    if (!this.o.view) return own;
    return h.entry ? this.o.view.child(h.entry, name)?.st : undefined;
  }

  /** Copies `src` (recursively) to `name` in `h`, following docker's rules for what is in the way. */
  put(h: DirHandle, name: string, src: SrcNode): void {
    const path = h.path === "/" ? `/${name}` : `${h.path}/${name}`;
    try {
      this.#put(h, name, src, path);
    } catch (e) {
      if (e instanceof PodError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      throw new PodError(`copying ${src.shown} to ${this.#shown(path)}: ${(e as Error).message}`, { hint: hintFor(code), cause: e });
    }
  }

  /** Source directories being copied, as dev:ino: one met again below itself is a loop (a bind mount of a parent). */
  readonly #open = new Set<string>();

  #put(h: DirHandle, name: string, src: SrcNode, path: string): void {
    const own = lstatAt(h.fd, name);
    const seen = this.#existing(h, name, own);
    if (src.st.isDirectory()) {
      if (seen && !seen.isDirectory()) {
        if (!this.o.overwrite) throw new PodError(`cannot overwrite non-directory "${this.#shown(path)}" with directory`, { hint: "use --overwrite to replace it" });
        removeAt(h.fd, name);
      }
      const key = `${src.st.dev}:${src.st.ino}`;
      if (this.#open.has(key))
        throw new PodError(`copying ${src.shown}: it contains itself (a directory mounted below itself?)`, { hint: "copy the files you need by name instead" });
      let made = false;
      if (!seen?.isDirectory()) {
        if (lstatAt(h.fd, name)) removeAt(h.fd, name);
        this.#record(h, name, own);
        mkdirSync(at(h.fd, name), 0o700);
        // A whiteout or a file hid the image's entry of that name: if that is a directory, it must stay hidden.
        if (this.o.view && own) lsetxattr(at(h.fd, name), OPAQUE_XATTR, new TextEncoder().encode("y"));
        made = true;
      }
      const d = this.descend(h, name);
      if (made) d.fresh = true;
      this.#open.add(key);
      try {
        for (const c of src.children()) this.put(d, c.name, c);
        if (made) this.#setMeta(d.fd, src.st);
      } finally {
        this.#open.delete(key);
        this.close(d);
      }
      return;
    }
    if (seen?.isDirectory()) {
      if (!this.o.overwrite) throw new PodError(`cannot overwrite directory "${this.#shown(path)}" with non-directory`, { hint: "use --overwrite to replace it" });
    }
    if (src.st.isFile() && own?.isFile() && !seen?.isDirectory()) return this.#rewrite(h, name, src);
    if (own) removeAt(h.fd, name);
    this.#record(h, name, own);
    this.#create(h, name, src, path);
  }

  #rewrite(h: DirHandle, name: string, src: SrcNode): void {
    const fd = copyData(src.hostPath, src.shown, () => {
      const fd = openSync(at(h.fd, name), REWRITE);
      if (!fstatSync(fd).isFile()) {
        closeSync(fd);
        throw new PodError(`${this.#shown(`${h.path}/${name}`)} changed while copying`);
      }
      return fd;
    });
    try {
      this.#setMeta(fd, src.st);
    } finally {
      closeSync(fd);
    }
  }

  #create(h: DirHandle, name: string, src: SrcNode, path: string): void {
    const st = src.st;
    if (st.isFile()) {
      let created = false;
      try {
        const fd = copyData(src.hostPath, src.shown, () => {
          const fd = openSync(at(h.fd, name), CREATE, 0o600);
          created = true;
          return fd;
        });
        try {
          this.#setMeta(fd, st);
        } finally {
          closeSync(fd);
        }
      } catch (e) {
        // never leave half a file, even where this copy replaced something
        if (created) unlinkSync(at(h.fd, name));
        throw e;
      }
      return;
    }
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src.hostPath), at(h.fd, name));
    } else if (st.isFIFO()) {
      mknodFifo(at(h.fd, name), 0o600);
    } else {
      log.warn(`skipping ${this.#shown(path)}: device nodes and sockets are not copied`);
      return;
    }
    const owner = this.o.owner?.(st);
    if (owner) lchownSync(at(h.fd, name), owner.uid, owner.gid);
    if (st.isFIFO()) {
      const fd = openSync(at(h.fd, name), constants.O_RDONLY | O_NONBLOCK | constants.O_NOFOLLOW | O_CLOEXEC);
      try {
        fchmodSync(fd, st.mode & 0o7777);
      } finally {
        closeSync(fd);
      }
    }
    lutimesSync(at(h.fd, name), st.atimeMs / 1000, st.mtimeMs / 1000);
  }
}
