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
import { PodError } from "../errors.ts";
import { OPAQUE_XATTR } from "../layer/index.ts";
import { lsetxattr } from "../native/libc.ts";
import { mknodFifo } from "../native/libc-fs.ts";
import { log } from "../output/index.ts";
import type { FsEntry, FsView } from "./fs-view.ts";

const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const OPEN_DIR = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | O_CLOEXEC;
const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | O_CLOEXEC;
const REWRITE = constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
const READ = constants.O_RDONLY | constants.O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;

/** The path of `name` inside the directory open as `fd`, resolved by the kernel from that fd. */
const at = (fd: number, name: string) => `/proc/self/fd/${fd}/${name}`;

/** Something to copy: a host file or a container file, with its type and metadata from lstat. */
export type SrcNode = { name: string; st: Stats; hostPath: string; children(): SrcNode[] };

/** An open destination directory; `entry` is its merged view when writing into a container. */
export type DirHandle = { fd: number; path: string; entry?: FsEntry };

export type WriterOptions = {
  /** the union of image and upper dir, when writing into a container's upper dir */
  view?: FsView;
  /** the owner to give what is written (storage ids); undefined keeps the file's creator (pod's user) */
  owner?: (st: Stats) => { uid: number; gid: number } | undefined;
  /** replace a directory by a non-directory and the reverse (podman's --overwrite) */
  overwrite: boolean;
};

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

function copyData(srcPath: string, dst: number): void {
  const src = openSync(srcPath, READ);
  try {
    if (!fstatSync(src).isFile()) throw new PodError(`${srcPath} changed while it was being copied`);
    const buf = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(src, buf, 0, buf.length, null)) > 0; ) {
      for (let off = 0; off < n; ) off += writeSync(dst, buf, off, n - off);
    }
  } finally {
    closeSync(src);
  }
}

export class TreeWriter {
  constructor(private readonly o: WriterOptions) {}

  /** Opens a directory the caller trusts (the upper dir itself, or a host directory the user named). */
  openTrusted(path: string, entry?: FsEntry): DirHandle {
    return { fd: openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | O_CLOEXEC), path, entry };
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
      return { fd, path, entry };
    }
    try {
      return { fd: openSync(at(h.fd, name), OPEN_DIR), path, entry };
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
    const own = lstatAt(h.fd, name);
    const seen = this.#existing(h, name, own);
    if (src.st.isDirectory()) {
      if (seen && !seen.isDirectory()) {
        if (!this.o.overwrite) throw new PodError(`cannot overwrite non-directory "${path}" with directory`, { hint: "use --overwrite to replace it" });
        removeAt(h.fd, name);
      }
      let made = false;
      if (!seen?.isDirectory()) {
        if (lstatAt(h.fd, name)) removeAt(h.fd, name);
        mkdirSync(at(h.fd, name), 0o700);
        // A whiteout or a file hid the image's entry of that name: if that is a directory, it must stay hidden.
        if (this.o.view && own) lsetxattr(at(h.fd, name), OPAQUE_XATTR, new TextEncoder().encode("y"));
        made = true;
      }
      const d = this.descend(h, name);
      try {
        for (const c of src.children()) this.put(d, c.name, c);
        if (made) this.#setMeta(d.fd, src.st);
      } finally {
        this.close(d);
      }
      return;
    }
    if (seen?.isDirectory()) {
      if (!this.o.overwrite) throw new PodError(`cannot overwrite directory "${path}" with non-directory`, { hint: "use --overwrite to replace it" });
    }
    if (src.st.isFile() && own?.isFile() && !seen?.isDirectory()) return this.#rewrite(h, name, src);
    if (own) removeAt(h.fd, name);
    this.#create(h, name, src, path);
  }

  #rewrite(h: DirHandle, name: string, src: SrcNode): void {
    const fd = openSync(at(h.fd, name), REWRITE);
    try {
      if (!fstatSync(fd).isFile()) throw new PodError(`${h.path}/${name} changed while copying`);
      copyData(src.hostPath, fd);
      this.#setMeta(fd, src.st);
    } finally {
      closeSync(fd);
    }
  }

  #create(h: DirHandle, name: string, src: SrcNode, path: string): void {
    const st = src.st;
    if (st.isFile()) {
      const fd = openSync(at(h.fd, name), CREATE, 0o600);
      try {
        copyData(src.hostPath, fd);
        this.#setMeta(fd, st);
      } finally {
        closeSync(fd);
      }
      return;
    }
    if (st.isSymbolicLink()) {
      symlinkSync(readlinkSync(src.hostPath), at(h.fd, name));
    } else if (st.isFIFO()) {
      mknodFifo(at(h.fd, name), 0o600);
    } else {
      log.warn(`skipping ${path}: device nodes and sockets are not copied`);
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
