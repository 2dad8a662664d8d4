// Writing tar streams of a container's files (`pod export`, `pod cp CTR:PATH -`):
// POSIX ustar headers, with PAX records for what ustar cannot hold (long
// names, big sizes and ids, xattrs as SCHILY.xattr.* with binary values).
// Owners are written as the container sees them, with names from its own
// /etc/passwd and /etc/group.
import { closeSync, constants, fstatSync, openSync, readlinkSync, readSync, writeSync } from "node:fs";
import { PodError } from "../errors.ts";
import { lgetxattr } from "../native/libc.ts";
import type { FsEntry, FsView } from "./fs-view.ts";

const BLOCK = 512;
const enc = new TextEncoder();

export type TarHeader = {
  name: string;
  /** "0" file, "1" hardlink, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  uname?: string;
  gname?: string;
  size: number;
  mtime: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Uint8Array>;
};

/** Where tar bytes go: an fd (a file, or pod's stdout), written through a buffer. */
export class FdSink {
  readonly #fd: number;
  readonly #buf = Buffer.alloc(1 << 20);
  #used = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(bytes: Uint8Array): void {
    if (this.#used + bytes.length > this.#buf.length) this.flush();
    if (bytes.length >= this.#buf.length) return this.#writeAll(bytes);
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  flush(): void {
    this.#writeAll(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }

  #writeAll(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.#fd, bytes, off, bytes.length - off);
      } catch (e) {
        // stdout may be a non-blocking pipe shared with whoever started pod
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        Bun.sleepSync(1);
      }
    }
  }
}

function octal(buf: Buffer, off: number, len: number, value: number): void {
  buf.write(Math.floor(value).toString(8).padStart(len - 1, "0") + "\0", off, len, "ascii");
}

function paxRecord(key: string, value: Uint8Array): Uint8Array {
  const rest = enc.encode(` ${key}=`).length + value.length + 1;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return Buffer.concat([enc.encode(`${len} ${key}=`), value, enc.encode("\n")]);
}

/** Splits a long name into ustar's prefix (155 bytes) and name (100 bytes), if it can be. */
function ustarName(name: string): { prefix: string; name: string } | undefined {
  const bytes = Buffer.byteLength(name);
  if (bytes <= 100) return { prefix: "", name };
  for (let i = name.indexOf("/"); i >= 0; i = name.indexOf("/", i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== "") return { prefix, name: rest };
  }
  return undefined;
}

const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

export class TarWriter {
  constructor(private readonly sink: FdSink) {}

  #block(h: TarHeader, names: { prefix: string; name: string }): Buffer {
    const b = Buffer.alloc(BLOCK);
    b.write(names.name, 0, 100, "utf8");
    octal(b, 100, 8, h.mode & 0o7777);
    octal(b, 108, 8, h.uid <= MAX_OCTAL_7 ? h.uid : 0);
    octal(b, 116, 8, h.gid <= MAX_OCTAL_7 ? h.gid : 0);
    octal(b, 124, 12, h.size <= MAX_OCTAL_11 ? h.size : 0);
    octal(b, 136, 12, Math.max(0, Math.min(h.mtime, MAX_OCTAL_11)));
    b.write(" ".repeat(8), 148, 8, "ascii");
    b.write(h.type, 156, 1, "ascii");
    b.write(h.linkname ?? "", 157, 100, "utf8");
    b.write("ustar\x0000", 257, 8, "ascii");
    b.write(h.uname ?? "", 265, 32, "utf8");
    b.write(h.gname ?? "", 297, 32, "utf8");
    octal(b, 329, 8, h.devmajor ?? 0);
    octal(b, 337, 8, h.devminor ?? 0);
    b.write(names.prefix, 345, 155, "utf8");
    let sum = 0;
    for (const byte of b) sum += byte;
    b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
    return b;
  }

  /** Writes a header (and a PAX header before it when needed); the caller writes `size` bytes after it. */
  header(h: TarHeader): void {
    const records: Uint8Array[] = [];
    let names = ustarName(h.name);
    if (!names) {
      records.push(paxRecord("path", enc.encode(h.name)));
      names = { prefix: "", name: h.name.slice(-100) };
    }
    if (h.linkname && Buffer.byteLength(h.linkname) > 100) records.push(paxRecord("linkpath", enc.encode(h.linkname)));
    if (h.size > MAX_OCTAL_11) records.push(paxRecord("size", enc.encode(String(h.size))));
    if (h.uid > MAX_OCTAL_7) records.push(paxRecord("uid", enc.encode(String(h.uid))));
    if (h.gid > MAX_OCTAL_7) records.push(paxRecord("gid", enc.encode(String(h.gid))));
    for (const [k, v] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
    if (records.length) {
      const body = Buffer.concat(records);
      this.sink.write(this.#block({ name: "", type: "x", mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: h.mtime }, { prefix: "", name: "PaxHeader" }));
      this.body(body);
      this.pad(body.length);
    }
    this.sink.write(this.#block(h, names));
  }

  body(bytes: Uint8Array): void {
    this.sink.write(bytes);
  }

  pad(size: number): void {
    const rest = size % BLOCK;
    if (rest) this.sink.write(new Uint8Array(BLOCK - rest));
  }

  finish(): void {
    this.sink.write(new Uint8Array(BLOCK * 2));
    this.sink.flush();
  }
}

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
