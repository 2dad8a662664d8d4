// Where the uncompressed tar bytes come from, with the diffID computed on the
// way. Bun's node:zlib inflates on the calling thread, so inflating and hashing
// on the main thread serialises them with the file writes. A large blob is
// therefore read, inflated and hashed in a Worker while the main thread writes
// files; small blobs stay inline, as a Worker costs ~14 ms to start.
// The Worker's code is a self-contained string loaded from a blob: URL, which
// works unchanged inside the compiled binary (no extra build entry point).
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip, createZstdDecompress } from "node:zlib";

export type Compression = "gzip" | "zstd" | "none";

export interface TarSource {
  /** Uncompressed tar bytes in order; stop iterating early only through close(). */
  chunks(): AsyncIterable<Buffer>;
  /** Valid after chunks() is exhausted. */
  result(): { diffID: string; size: number };
  close(): void;
}

/** Blobs at least this large are inflated in a Worker. */
const WORKER_MIN_BYTES = 4 << 20;

const READ_CHUNK = 1 << 20;
const INFLATE_CHUNK = 256 << 10;
/** Uncompressed bytes per message from the Worker, and how many may wait unprocessed. */
const BATCH = 1 << 20;
const WINDOW = 8;

/** range: the blob is bytes [start, start+length) of the file (a layer inside an archive) */
export type Range = { start: number; length: number };

export function openSource(path: string, compression: Compression, blobSize: number, range?: Range): TarSource {
  return blobSize >= WORKER_MIN_BYTES ? workerSource(path, compression, range) : inlineSource(path, compression, range);
}

const streamRange = (range?: Range) => (range ? { start: range.start, end: range.start + range.length - 1 } : {});

function inlineSource(path: string, compression: Compression, range?: Range): TarSource {
  const input = createReadStream(path, { highWaterMark: READ_CHUNK, ...streamRange(range) });
  let stream: Readable = input;
  if (compression !== "none") {
    const opts = { chunkSize: INFLATE_CHUNK };
    const d = compression === "gzip" ? createGunzip(opts) : createZstdDecompress(opts);
    input.on("error", (e) => d.destroy(e));
    stream = input.pipe(d);
  }
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  return {
    async *chunks() {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        hasher.update(chunk);
        size += chunk.length;
        yield chunk;
      }
    },
    result: () => ({ diffID: `sha256:${hasher.digest("hex")}`, size }),
    close() {
      input.destroy();
      stream.destroy();
    },
  };
}

const WORKER_CODE = `
const { createReadStream } = require("node:fs");
const { createGunzip, createZstdDecompress } = require("node:zlib");
const BATCH = ${BATCH}, WINDOW = ${WINDOW};
let credits = WINDOW, wake = null;
self.onmessage = (ev) => {
  const m = ev.data;
  if (m.type === "ack") {
    credits++;
    if (wake) { const w = wake; wake = null; w(); }
  } else if (m.type === "start") {
    run(m).catch((e) => postMessage({ type: "error", message: String((e && e.message) || e), code: e && e.code }));
  }
};
async function run(m) {
  const input = createReadStream(m.path, { highWaterMark: ${READ_CHUNK}, ...(m.range ? { start: m.range.start, end: m.range.start + m.range.length - 1 } : {}) });
  let stream = input;
  if (m.compression !== "none") {
    const opts = { chunkSize: ${INFLATE_CHUNK} };
    const d = m.compression === "gzip" ? createGunzip(opts) : createZstdDecompress(opts);
    input.on("error", (e) => d.destroy(e));
    stream = input.pipe(d);
  }
  const hasher = new Bun.CryptoHasher("sha256");
  let batch = new Uint8Array(BATCH), fill = 0, size = 0;
  const flush = async () => {
    while (credits === 0) await new Promise((r) => (wake = r));
    credits--;
    const out = fill === BATCH ? batch : batch.slice(0, fill);
    postMessage({ type: "data", buf: out.buffer }, [out.buffer]);
    batch = new Uint8Array(BATCH);
    fill = 0;
  };
  for await (const c of stream) {
    hasher.update(c);
    size += c.length;
    for (let off = 0; off < c.length; ) {
      const n = Math.min(BATCH - fill, c.length - off);
      batch.set(c.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === BATCH) await flush();
    }
  }
  if (fill > 0) await flush();
  postMessage({ type: "end", diffID: "sha256:" + hasher.digest("hex"), size });
}
`;

let workerURL: string | undefined;

type Msg =
  | { type: "data"; buf: ArrayBuffer }
  | { type: "end"; diffID: string; size: number }
  | { type: "error"; message: string; code?: string };

function workerSource(path: string, compression: Compression, range?: Range): TarSource {
  workerURL ??= URL.createObjectURL(new Blob([WORKER_CODE], { type: "application/javascript" }));
  const worker = new Worker(workerURL);
  const queue: Msg[] = [];
  let wake: (() => void) | undefined;
  let final: { diffID: string; size: number } | undefined;
  const push = (m: Msg) => {
    queue.push(m);
    wake?.();
    wake = undefined;
  };
  worker.onmessage = (ev: MessageEvent<Msg>) => push(ev.data);
  worker.onerror = (ev: ErrorEvent) => push({ type: "error", message: ev.message });
  worker.addEventListener("close", () => push({ type: "error", message: "the inflating worker exited early" }));
  worker.postMessage({ type: "start", path, compression, range });
  return {
    async *chunks() {
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const m = queue.shift()!;
        if (m.type === "error") throw Object.assign(new Error(m.message), { code: m.code });
        if (m.type === "end") {
          final = { diffID: m.diffID, size: m.size };
          return;
        }
        yield Buffer.from(m.buf);
        worker.postMessage({ type: "ack" });
      }
    },
    result() {
      if (!final) throw new Error("tar source read before its end");
      return final;
    },
    close: () => worker.terminate(),
  };
}
