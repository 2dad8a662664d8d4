// Builds tar archives byte by byte for layer tests, hostile ones included:
// node-tar's Header encodes each block, PAX records are written here so
// tests control every byte (binary xattrs, long names).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { Header, type HeaderData } from "tar";

export type RawEntry = {
  path: string;
  type?: "File" | "Directory" | "SymbolicLink" | "Link" | "CharacterDevice" | "BlockDevice" | "FIFO" | "GNUDumpDir";
  data?: string | Uint8Array;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  linkpath?: string;
  devmaj?: number;
  devmin?: number;
  /** PAX records written before the entry (e.g. path, "SCHILY.xattr.user.x"). */
  pax?: Record<string, string | Uint8Array>;
  /** Emit a GNU long-name ('L') header carrying this name. */
  gnuLongName?: string;
  /** Size to claim in the header when it should differ from the data written. */
  sizeField?: number;
};

const BLOCK = 512;
const MTIME = new Date("2001-02-03T04:05:06Z");

function pad(b: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(b.length / BLOCK) * BLOCK);
  out.set(b);
  return out;
}

function header(h: HeaderData & { type: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  new Header(h as HeaderData).encode(block, 0);
  return block;
}

function paxBody(records: Record<string, string | Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(records)) {
    const payload = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from("\n")]);
    let len = payload.length + 1;
    while (String(len).length + payload.length !== len) len = String(len).length + payload.length;
    parts.push(Buffer.from(String(len)), payload);
  }
  return Buffer.concat(parts);
}

/** A complete tar stream (with the two zero blocks at the end). */
export function tarBytes(entries: RawEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? "File";
    const data = typeof e.data === "string" ? Buffer.from(e.data) : (e.data ?? new Uint8Array(0));
    if (e.pax) {
      const body = paxBody(e.pax);
      out.push(header({ path: "PaxHeader", type: "ExtendedHeader", size: body.length, mode: 0o644, mtime: MTIME }), pad(body));
    }
    if (e.gnuLongName !== undefined) {
      const body = Buffer.from(e.gnuLongName + "\0");
      out.push(header({ path: "././@LongLink", type: "NextFileHasLongPath", size: body.length, mode: 0o644, mtime: MTIME }), pad(body));
    }
    out.push(
      header({
        path: e.path,
        type,
        size: e.sizeField ?? (type === "File" ? data.length : 0),
        mode: e.mode ?? (type === "Directory" ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? MTIME,
        linkpath: e.linkpath ?? "",
        devmaj: e.devmaj ?? 0,
        devmin: e.devmin ?? 0,
      }),
    );
    if (type === "File") out.push(pad(data));
  }
  out.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(out);
}

export type Packing = "none" | "gzip" | "zstd";

export function compress(tar: Uint8Array, packing: Packing): Uint8Array {
  if (packing === "gzip") return gzipSync(tar);
  if (packing === "zstd") return zstdCompressSync(tar);
  return tar;
}

/** A scratch area: `blob()` writes a layer blob, `dest()` makes an empty layer directory. */
export class Scratch {
  readonly root = mkdtempSync(join(tmpdir(), "pod-layer-test-"));
  #n = 0;
  blob(bytes: Uint8Array): string {
    const p = join(this.root, `blob-${++this.#n}`);
    writeFileSync(p, bytes);
    return p;
  }
  dest(): string {
    const p = join(this.root, `layer-${++this.#n}`);
    mkdirSync(p);
    return p;
  }
  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
