// A push-driven tar reader: feed it the uncompressed stream chunk by chunk and
// it calls a sink for each entry, passing body bytes as views of the chunks it
// was given (no copies). node-tar's Header decodes each 512-byte block
// (checksum, octal and base-256 numbers, ustar prefix, type flag); the framing
// and PAX records are read here because node-tar's Parser drops
// `SCHILY.xattr.*` records and decodes PAX bodies as UTF-8 text, which
// corrupts binary xattr values such as security.capability. Global PAX headers
// are skipped, as Go's archive/tar (docker, containerd) does.
import { Header } from "tar";
import { PodError } from "../errors.ts";
import type { TarRecorder } from "./tar-split.ts";

export type TarEntry = {
  /** The name as stored (PAX `path` or GNU long name applied), not yet cleaned. */
  path: string;
  /** The type flag: "0" file, "1" hardlink, "2" symlink, "3" char, "4" block, "5" dir, "6" fifo, … */
  type: string;
  size: number;
  /** Permission bits including setuid, setgid and sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  mtime: Date | undefined;
  atime: Date | undefined;
  linkpath: string;
  devmajor: number;
  devminor: number;
  /** From PAX `SCHILY.xattr.NAME` records, values as raw bytes. */
  xattrs: Map<string, Uint8Array> | undefined;
};

/** Receives entries in archive order. `data` gets exactly `size` bytes in total, then `end` is called. */
export interface TarSink {
  begin(entry: TarEntry): void;
  data(chunk: Uint8Array): void;
  end(): void;
}

type Pending = {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: Date;
  atime?: Date;
  xattrs?: Map<string, Uint8Array>;
};

const BLOCK = 512;
/** Cap on one PAX or GNU long-name body: xattr values reach 64 KiB, paths 4 KiB. */
const MAX_META_BYTES = 1 << 20;
const META_TYPES = new Set(["x", "g", "L", "K", "X"]);
/** Types whose size field is ignored, as Go's archive/tar does (no data follows them). */
const HEADER_ONLY_TYPES = new Set(["1", "2", "3", "4", "5", "6"]);

const enum State {
  Header,
  Body,
  Meta,
  Done,
}

export class TarReader {
  #state = State.Header;
  #block = Buffer.alloc(BLOCK);
  #blockLen = 0;
  #remain = 0;
  #pad = 0;
  #offset = 0;
  #zeroBlocks = 0;
  #metaType = "";
  #meta: Buffer[] = [];
  #metaLen = 0;
  #pending: Pending = {};
  /** the current entry is a regular file: its body goes to the sink only, not to the recorder */
  #fileBody = false;
  entries = 0;

  /** recorder: gets every byte except regular files' bodies (tar-split.ts), to give the stream back later */
  constructor(private readonly sink: TarSink, private readonly recorder?: TarRecorder) {}

  push(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    const rec = this.recorder;
    while (pos < n && this.#state !== State.Done) {
      if (this.#state === State.Header) {
        if (this.#blockLen === 0 && n - pos >= BLOCK) {
          rec?.raw(chunk.subarray(pos, pos + BLOCK));
          this.#header(chunk, pos);
          pos += BLOCK;
        } else {
          const take = Math.min(BLOCK - this.#blockLen, n - pos);
          chunk.copy(this.#block, this.#blockLen, pos, pos + take);
          this.#blockLen += take;
          pos += take;
          if (this.#blockLen < BLOCK) break;
          this.#blockLen = 0;
          rec?.raw(this.#block);
          this.#header(this.#block, 0);
        }
        this.#offset += BLOCK;
        continue;
      }
      if (this.#remain > 0) {
        const take = Math.min(this.#remain, n - pos);
        const part = chunk.subarray(pos, pos + take);
        if (!this.#fileBody || this.#state === State.Meta) rec?.raw(part);
        if (this.#state === State.Meta) this.#meta.push(Buffer.from(part));
        else this.sink.data(part);
        this.#remain -= take;
        pos += take;
        this.#offset += take;
        if (this.#remain > 0) break;
        this.#bodyDone();
      }
      const skip = Math.min(this.#pad, n - pos);
      rec?.raw(chunk.subarray(pos, pos + skip));
      this.#pad -= skip;
      pos += skip;
      this.#offset += skip;
      if (this.#pad === 0) this.#state = State.Header;
    }
    // what follows the end blocks is part of the stream (and of the diffID) too
    if (rec && this.#state === State.Done && pos < n) rec.raw(chunk.subarray(pos));
  }

  /** Call at the end of the stream; throws if it stopped inside an entry. */
  finish(): void {
    if (this.#state === State.Done) return;
    if (this.#blockLen > 0 || this.#remain > 0) {
      throw new PodError(`reading tar: archive truncated at byte ${this.#offset + this.#blockLen}`);
    }
  }

  #header(buf: Buffer, off: number): void {
    let h: Header;
    try {
      h = new Header(buf, off);
    } catch (e) {
      throw new PodError(`reading tar: invalid header at byte ${this.#offset}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (h.nullBlock) {
      if (++this.#zeroBlocks === 2) this.#state = State.Done;
      return;
    }
    // Go's archive/tar, which docker and containerd read layers with, stops at
    // the first zero block and rejects a lone one: entries after it must not
    // exist for us either.
    if (this.#zeroBlocks > 0) throw new PodError(`reading tar: data after a zero block at byte ${this.#offset}`);
    if (!h.cksumValid) throw new PodError(`reading tar: invalid header checksum at byte ${this.#offset}`);
    const type = h.typeKey;
    const p = this.#pending;
    const size = META_TYPES.has(type) ? (h.size ?? 0) : HEADER_ONLY_TYPES.has(type) ? 0 : (p.size ?? h.size ?? 0);
    this.#remain = size;
    this.#pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (META_TYPES.has(type)) {
      if (size > MAX_META_BYTES) throw new PodError(`reading tar: extended header of ${size} bytes at byte ${this.#offset}`);
      this.#metaType = type;
      this.#meta = [];
      this.#state = State.Meta;
      if (size === 0) this.#bodyDone();
      return;
    }
    if (type === "S") throw new PodError(`reading tar: sparse file ${JSON.stringify(h.path)} is not supported`);
    this.#pending = {};
    this.entries++;
    this.#state = State.Body;
    const path = p.path ?? h.path ?? "";
    this.#fileBody = (type === "0" || type === "7") && !path.endsWith("/") && size > 0;
    if (this.#fileBody) this.recorder?.file(path, size);
    this.sink.begin({
      path,
      // Old tars mark directories as files with a trailing slash.
      type: type === "0" && path.endsWith("/") ? "5" : type,
      size,
      mode: (h.mode ?? 0) & 0o7777,
      uid: p.uid ?? h.uid ?? 0,
      gid: p.gid ?? h.gid ?? 0,
      mtime: p.mtime ?? h.mtime,
      atime: p.atime,
      linkpath: p.linkpath ?? h.linkpath ?? "",
      devmajor: h.devmaj,
      devminor: h.devmin,
      xattrs: p.xattrs,
    });
    if (size === 0) this.sink.end();
  }

  #bodyDone(): void {
    if (this.#state === State.Body) {
      this.sink.end();
      return;
    }
    const body = Buffer.concat(this.#meta);
    this.#meta = [];
    if (this.#metaType === "x" || this.#metaType === "X") parsePax(body, this.#pending);
    else if (this.#metaType === "L") this.#pending.path = cString(body);
    else if (this.#metaType === "K") this.#pending.linkpath = cString(body);
  }
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return b.toString("utf8", 0, nul < 0 ? b.length : nul);
}

/** Parses PAX records (`LEN KEY=VALUE\n`, LEN counting the whole record) byte-exactly. */
function parsePax(body: Buffer, into: Pending): void {
  let pos = 0;
  while (pos < body.length && body[pos] !== 0) {
    const sp = body.indexOf(0x20, pos);
    const len = sp < 0 ? NaN : Number(body.toString("latin1", pos, sp));
    if (!Number.isInteger(len) || len <= sp - pos || pos + len > body.length) {
      throw new PodError(`reading tar: malformed PAX record at ${pos} in extended header`);
    }
    const rec = body.subarray(sp + 1, pos + len - 1);
    pos += len;
    const eq = rec.indexOf(0x3d);
    if (eq < 0) continue;
    const key = rec.toString("utf8", 0, eq);
    const value = rec.subarray(eq + 1);
    applyPaxRecord(into, key, value);
  }
}

function applyPaxRecord(into: Pending, key: string, value: Buffer): void {
  if (key.startsWith("SCHILY.xattr.")) {
    into.xattrs ??= new Map();
    into.xattrs.set(key.slice("SCHILY.xattr.".length), value);
    return;
  }
  if (key.startsWith("GNU.sparse.")) throw new PodError(`reading tar: sparse files (${key}) are not supported`);
  const text = value.toString("utf8");
  switch (key) {
    case "path":
      into.path = text || undefined;
      break;
    case "linkpath":
      into.linkpath = text || undefined;
      break;
    case "size":
    case "uid":
    case "gid": {
      const v = Number(text);
      if (text !== "" && (!Number.isSafeInteger(v) || v < 0)) throw new PodError(`reading tar: PAX ${key}=${JSON.stringify(text)} is not a valid number`);
      into[key] = text === "" ? undefined : v;
      break;
    }
    case "mtime":
    case "atime": {
      const v = Number(text);
      into[key] = text !== "" && Number.isFinite(v) ? new Date(v * 1000) : undefined;
      break;
    }
  }
}
