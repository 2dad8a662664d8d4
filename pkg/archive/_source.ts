// Where a load reads an archive's files from, without unpacking it: an
// uncompressed tar is indexed once (each regular file's byte range; headers,
// PAX and GNU long names read, bodies skipped), and every file is then read,
// hashed or extracted from its range in place. A compressed archive is
// inflated into tmp/ first (it must be read at random). An OCI layout
// directory is read as it is. Only regular files count: a symlink or device
// in an archive names nothing a manifest can use.
import { closeSync, createReadStream, createWriteStream, existsSync, fstatSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createZstdDecompress } from "node:zlib";
import { Header } from "tar";
import { PodError } from "../errors.ts";

export type Range = { start: number; length: number };
export type BlobAt = { path: string; range?: Range; size: number };

export interface ArchiveSource {
  has(name: string): boolean;
  bytes(name: string): Buffer;
  blob(name: string): BlobAt;
}

const BLOCK = 512;
const MAX_META = 1 << 20;
const norm = (name: string) => posix.normalize(name.replace(/^\/+/, "")).replace(/^\.\//, "").replace(/\/+$/, "");

export const notAnArchive = (why: string) =>
  new PodError(`payload does not match any of the supported image formats: ${why}`, {
    hint: "pod load reads docker-archive and oci-archive files (`pod save` writes them), plain or gzip or zstd compressed",
  });

function paxPath(body: Buffer): string | undefined {
  let pos = 0;
  let path: string | undefined;
  while (pos < body.length && body[pos] !== 0) {
    const sp = body.indexOf(0x20, pos);
    const len = sp < 0 ? NaN : Number(body.toString("latin1", pos, sp));
    if (!Number.isInteger(len) || len <= 0 || pos + len > body.length) throw notAnArchive("a malformed PAX header");
    const rec = body.toString("utf8", sp + 1, pos + len - 1);
    if (rec.startsWith("path=")) path = rec.slice(5);
    pos += len;
  }
  return path;
}

/** name → byte range of every regular file in an uncompressed tar; throws on a truncated or damaged one. */
export function indexTar(file: string): Map<string, Range> {
  const fd = openSync(file, "r");
  const out = new Map<string, Range>();
  try {
    const total = fstatSync(fd).size;
    const block = Buffer.alloc(BLOCK);
    let pos = 0;
    let longName: string | undefined;
    let zeros = 0;
    for (;;) {
      if (pos + BLOCK > total) {
        if (pos === total && (zeros > 0 || out.size > 0)) break;
        throw notAnArchive(`truncated at byte ${pos}`);
      }
      readSync(fd, block, 0, BLOCK, pos);
      const h = new Header(block, 0);
      pos += BLOCK;
      if (h.nullBlock) {
        if (++zeros === 2) break;
        continue;
      }
      if (!h.cksumValid) throw notAnArchive(pos === BLOCK ? "not a tar archive" : `a damaged header at byte ${pos - BLOCK}`);
      const size = h.size ?? 0;
      const type = h.typeKey;
      const body = ["1", "2", "3", "4", "5", "6"].includes(type) ? 0 : size;
      if (pos + body > total) throw notAnArchive(`truncated inside ${JSON.stringify(h.path)}`);
      if (type === "x" || type === "L") {
        if (size > MAX_META) throw notAnArchive("an oversized extended header");
        const meta = Buffer.alloc(size);
        readSync(fd, meta, 0, size, pos);
        longName = type === "L" ? meta.toString("utf8").replace(/\0.*$/s, "") : paxPath(meta) ?? longName;
      } else if (type !== "g") {
        const name = longName ?? h.path ?? "";
        longName = undefined;
        if (type === "0" || type === "7") out.set(norm(name), { start: pos, length: body });
      }
      pos += body + ((BLOCK - (body % BLOCK)) % BLOCK);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

function readRange(file: string, r: Range): Buffer {
  const fd = openSync(file, "r");
  try {
    const b = Buffer.alloc(r.length);
    for (let off = 0; off < r.length; ) {
      const n = readSync(fd, b, off, r.length - off, r.start + off);
      if (n === 0) throw notAnArchive("truncated");
      off += n;
    }
    return b;
  } finally {
    closeSync(fd);
  }
}

/** The archive's files in place; a compressed archive is inflated to `scratch` first. */
export async function archiveSource(file: string, scratch: string): Promise<ArchiveSource> {
  const fd = openSync(file, "r");
  const magic = Buffer.alloc(4);
  let n: number;
  try {
    n = readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  let tarFile = file;
  const gzip = n >= 2 && magic[0] === 0x1f && magic[1] === 0x8b;
  const zstd = n >= 4 && magic.readUInt32BE(0) === 0x28b52ffd;
  if (gzip || zstd) {
    tarFile = join(scratch, "archive.tar");
    try {
      await pipeline(createReadStream(file), gzip ? createGunzip() : createZstdDecompress(), createWriteStream(tarFile, { mode: 0o600 }));
    } catch (e) {
      throw notAnArchive(`${gzip ? "gzip" : "zstd"} stream: ${(e as Error).message}`);
    }
  }
  const index = indexTar(tarFile);
  const get = (name: string) => {
    const r = index.get(norm(name));
    if (!r) throw notAnArchive(`${name} is missing`);
    return r;
  };
  return {
    has: (name) => index.has(norm(name)),
    bytes: (name) => readRange(tarFile, get(name)),
    blob: (name) => {
      const r = get(name);
      return { path: tarFile, range: r, size: r.length };
    },
  };
}

/** An OCI layout directory, read in place. */
export function dirSource(dir: string): ArchiveSource {
  const at = (name: string) => join(dir, norm(name));
  return {
    has: (name) => existsSync(at(name)) && statSync(at(name)).isFile(),
    bytes: (name) => readFileSync(at(name)),
    blob: (name) => ({ path: at(name), size: statSync(at(name)).size }),
  };
}

/** sha256 of a blob, streamed. */
export async function sha256Blob(b: BlobAt): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  if (b.size > 0) {
    const opts = b.range ? { start: b.range.start, end: b.range.start + b.range.length - 1, highWaterMark: 1 << 20 } : { highWaterMark: 1 << 20 };
    for await (const c of createReadStream(b.path, opts)) h.update(c as Buffer);
  }
  return `sha256:${h.digest("hex")}`;
}
