// Writing tar streams of a container's files (`pod export`, `pod cp CTR:PATH -`):
// POSIX ustar headers, with PAX records for what ustar cannot hold (long
// names, big sizes and ids, xattrs as SCHILY.xattr.* with binary values).
// Owners are written as the container sees them, with names from its own
// /etc/passwd and /etc/group.
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync } from "node:fs";
import { PodError } from "../../errors.ts";
import { lgetxattr } from "../../native/libc.ts";
import type { FsEntry, FsView } from "./view.ts";

export { FdSink, TarWriter, type TarHeader } from "../../layer/index.ts";
import { FdSink, TarWriter, type TarHeader } from "../../layer/index.ts";

/** How ids and names of the storage namespace appear inside the container. */
export type Owners = {
  uid(id: number): number;
  gid(id: number): number;
  uname(id: number): string | undefined;
  gname(id: number): string | undefined;
};

const O_NONBLOCK = 0o4000;

/** Copies exactly `size` bytes of a regular file into the tar (zeros if it shrank meanwhile). */
function copyBody(tar: TarWriter, hostPath: string, size: number): void {
  const fd = openSync(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw new PodError(`${hostPath} changed while it was being read`);
    const buf = Buffer.alloc(Math.min(size, 1 << 20) || 1);
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n === 0) {
        tar.body(new Uint8Array(left));
        break;
      }
      tar.body(buf.subarray(0, n));
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
  tar.pad(size);
}

export type TreeOptions = {
  /** entries to leave out (with everything below them) */
  skip?: (e: FsEntry) => boolean;
  /** the container's name, for messages */
  container?: string;
  /** first name of each inode with several links, by dev:ino */
  links?: Map<string, string>;
};

/**
 * Writes one entry of the container's filesystem (and, for a directory,
 * everything in it) under `name`. An error of the system becomes a PodError
 * naming the container path.
 */
export function writeTree(view: FsView, e: FsEntry, name: string, tar: TarWriter, owners: Owners, o: TreeOptions = {}): void {
  try {
    writeEntry(view, e, name, tar, owners, { ...o, links: o.links ?? new Map() });
  } catch (err) {
    if (err instanceof PodError) throw err;
    const where = o.container ? `${o.container}:/${e.rel}` : `/${e.rel}`;
    throw new PodError(`reading ${where}: ${(err as Error).message}`, { cause: err, hint: "copy the files you need by name instead" });
  }
}

function writeEntry(view: FsView, e: FsEntry, name: string, tar: TarWriter, owners: Owners, o: TreeOptions & { links: Map<string, string> }): void {
  const st = e.st;
  const base: TarHeader = {
    name,
    type: "0",
    mode: st.mode,
    uid: owners.uid(st.uid),
    gid: owners.gid(st.gid),
    uname: owners.uname(st.uid),
    gname: owners.gname(st.gid),
    size: 0,
    mtime: Math.floor(st.mtimeMs / 1000),
  };
  if (st.isDirectory()) {
    if (name !== "") tar.header({ ...base, name: name.endsWith("/") ? name : `${name}/`, type: "5" });
    const prefix = name === "" || name.endsWith("/") ? name : `${name}/`;
    for (const child of view.list(e)) {
      if (o.skip?.(child)) continue;
      writeTree(view, child, prefix + child.rel.slice(child.rel.lastIndexOf("/") + 1), tar, owners, o);
    }
    return;
  }
  if (st.isSymbolicLink()) return tar.header({ ...base, type: "2", linkname: readlinkSync(e.hostPath) });
  if (st.isFIFO()) return tar.header({ ...base, type: "6" });
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
    const minor = Number((BigInt(st.rdev) & 0xffn) | ((BigInt(st.rdev) >> 12n) & 0xfff00n));
    return tar.header({ ...base, type: st.isCharacterDevice() ? "3" : "4", devmajor: major, devminor: minor });
  }
  if (!st.isFile()) return;
  const key = `${st.dev}:${st.ino}`;
  const first = st.nlink > 1 ? o.links.get(key) : undefined;
  if (first !== undefined) return tar.header({ ...base, type: "1", linkname: first });
  if (st.nlink > 1) o.links.set(key, name);
  const cap = lgetxattr(e.hostPath, "security.capability");
  tar.header({ ...base, size: st.size, xattrs: cap ? new Map([["security.capability", cap]]) : undefined });
  copyBody(tar, e.hostPath, st.size);
}
