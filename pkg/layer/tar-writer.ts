// Writing tar streams of the files in a layer or a tree (`pod export`,
// `pod cp CTR:PATH -`, `pod commit`'s layer): POSIX ustar headers, with PAX
// records for what ustar cannot hold (long names, big sizes and ids, xattrs
// as SCHILY.xattr.* with binary values).
import { writeSync } from "node:fs";

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
  /** every byte written, as it is written (a diffID) */
  onWrite?: (bytes: Uint8Array) => void;
  readonly #fd: number;
  readonly #buf = Buffer.alloc(1 << 20);
  #used = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  write(bytes: Uint8Array): void {
    this.onWrite?.(bytes);
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
