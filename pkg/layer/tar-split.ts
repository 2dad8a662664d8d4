// A layer's tar stream, kept without its file contents (the idea of
// containers/storage's tar-split): every byte of the stream except the bodies
// of regular files is recorded as it came (headers, PAX records, padding, the
// end blocks and whatever followed them), and each regular file's body as a
// reference to the file in the extracted layer. Replaying it against diff/
// gives the very same bytes, so the layer keeps its diffID when it is saved or
// pushed, without the store holding a second copy of the layer.
// Format (gzip-compressed): records of a kind byte, then
//   'R' u32 length, raw bytes
//   'F' u32 length, entry name as in the tar (UTF-8), f64 body size
// The replay checks the diffID at the end; a layer whose files changed, or a
// tar naming one path twice, fails there instead of giving different bytes.
import { closeSync, constants, createWriteStream, fstatSync, openSync, readFileSync, readSync, type WriteStream } from "node:fs";
import { createGzip, gunzipSync } from "node:zlib";
import { join } from "node:path";
import { DigestMismatch, PodError } from "../errors.ts";
import { cleanEntryPath } from "./safepath.ts";

export const TAR_SPLIT_FILE = "tar-split.gz";

const COALESCE = 64 << 10;
const enc = new TextEncoder();

/** What TarReader tells a recorder: bytes it passed over, and the regular files whose bodies the sink wrote. */
export interface TarRecorder {
  raw(bytes: Uint8Array): void;
  file(name: string, size: number): void;
}

export class TarSplitWriter implements TarRecorder {
  readonly #out: WriteStream;
  readonly #gz = createGzip({ level: 6 });
  #buf = Buffer.alloc(COALESCE);
  #used = 0;
  #done: Promise<void>;

  constructor(path: string) {
    this.#out = createWriteStream(path, { mode: 0o600 });
    this.#gz.pipe(this.#out);
    this.#done = new Promise((resolve, reject) => {
      this.#out.on("close", resolve);
      this.#out.on("error", reject);
      this.#gz.on("error", reject);
    });
  }

  raw(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.#used + bytes.length > this.#buf.length) this.#flushRaw();
    if (bytes.length > this.#buf.length) return this.#emit("R", bytes);
    this.#buf.set(bytes, this.#used);
    this.#used += bytes.length;
  }

  file(name: string, size: number): void {
    this.#flushRaw();
    const n = enc.encode(name);
    const rec = Buffer.alloc(1 + 4 + n.length + 8);
    rec[0] = 0x46;
    rec.writeUInt32BE(n.length, 1);
    rec.set(n, 5);
    rec.writeDoubleBE(size, 5 + n.length);
    this.#gz.write(rec);
  }

  #flushRaw(): void {
    if (this.#used === 0) return;
    this.#emit("R", this.#buf.subarray(0, this.#used));
    this.#buf = Buffer.alloc(COALESCE);
    this.#used = 0;
  }

  #emit(kind: "R", bytes: Uint8Array): void {
    const head = Buffer.alloc(5);
    head[0] = kind.charCodeAt(0);
    head.writeUInt32BE(bytes.length, 1);
    this.#gz.write(head);
    this.#gz.write(Buffer.from(bytes));
  }

  /** Flushes and closes the file. */
  async finish(): Promise<void> {
    this.#flushRaw();
    this.#gz.end();
    await this.#done;
  }

  abort(): void {
    this.#gz.destroy();
    this.#out.destroy();
  }
}

export type ReplayResult = { diffID: string; size: number };

/**
 * The layer's original tar stream, chunk by chunk, file bodies read from
 * diff/. A chunk is only valid until the next one is asked for (copy it to
 * keep it). After the last chunk the bytes are checked against `diffID`:
 * DigestMismatch is thrown then, and the caller must discard what it wrote.
 */
export function* replayLayer(layerDir: string, diffID: string): Generator<Uint8Array, ReplayResult> {
  const split = gunzipSync(readFileSync(join(layerDir, TAR_SPLIT_FILE)));
  const diffDir = join(layerDir, "diff");
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const body = Buffer.alloc(1 << 20);
  let pos = 0;
  while (pos < split.length) {
    const kind = split[pos]!;
    const len = split.readUInt32BE(pos + 1);
    pos += 5;
    if (kind === 0x52) {
      const b = split.subarray(pos, pos + len);
      hasher.update(b);
      size += b.length;
      yield b;
      pos += len;
    } else if (kind === 0x46) {
      const name = split.toString("utf8", pos, pos + len);
      const fileSize = split.readDoubleBE(pos + len);
      pos += len + 8;
      for (const b of fileChunks(join(diffDir, cleanEntryPath(name)), fileSize, body)) {
        hasher.update(b);
        size += b.length;
        yield b;
      }
    } else throw new PodError(`${join(layerDir, TAR_SPLIT_FILE)}: unknown record ${kind} at byte ${pos - 5}`, { hint: "the layer's record is damaged; `pod system check` looks at the store" });
  }
  const got = `sha256:${hasher.digest("hex")}`;
  if (got !== diffID)
    throw new DigestMismatch(`layer ${diffID}: its files no longer give the stored tar (got ${got})`, {
      hint: "the layer was changed on disk; `pod rmi` the image and pull or load it again",
    });
  return { diffID: got, size };
}

function* fileChunks(path: string, size: number, buf: Buffer): Generator<Uint8Array> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    if (!fstatSync(fd).isFile()) throw new PodError(`${path} is no longer a regular file`);
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n === 0) throw new PodError(`${path} is shorter than the layer recorded`, { hint: "the layer was changed on disk; `pod rmi` the image and pull or load it again" });
      yield buf.subarray(0, n);
      left -= n;
    }
  } finally {
    closeSync(fd);
  }
}
