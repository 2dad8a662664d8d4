// Streams one layer blob (gzip, zstd or plain tar) into its own directory,
// hashing the uncompressed tar on the way to give the diffID. Nothing is held
// in memory beyond the chunks in flight.
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { basename } from "node:path";
import { PodError, wrap } from "../errors.ts";
import { openSource, type Compression, type Range } from "./_source.ts";
import { TarReader, type TarSink } from "./_tar-reader.ts";
import { LayerWriter } from "./_writer.ts";
import { TarSplitWriter } from "./tar-split.ts";

export type { Compression } from "./_source.ts";

export type ExtractOptions = {
  /** One line per thing skipped (device nodes, unsupported entries, xattrs that could not be set). Without it they are dropped. */
  onWarning?: (msg: string) => void;
  /** The blob's digest, to name the layer in errors; defaults to the blob file's name. */
  digest?: string;
  /** Keep files whose owner is not mapped (single-id user namespace) owned by root instead of failing. */
  ignoreUnmappedOwners?: boolean;
  /** Where to record the stream without file bodies (tar-split.ts), so that the layer's tar can be given back. */
  tarSplit?: string;
  /** The blob is this byte range of the file (a layer inside an uncompressed archive). */
  range?: Range;
};

export type ExtractResult = {
  /** sha256 of the uncompressed tar stream, `sha256:<hex>`: compare with the image config's rootfs.diff_ids. */
  diffID: string;
  /** Uncompressed bytes. */
  size: number;
  /** Tar entries applied or skipped (PAX and long-name headers not counted). */
  entries: number;
};

/**
 * Extracts the layer at `blobPath` into `dest`, which must be an existing empty
 * directory of this layer's own (layers become separate overlay lowerdirs).
 * Whiteouts are written in overlay form (whiteout.ts); owners are applied only
 * when running as uid 0, i.e. inside pod's user namespace.
 * Throws a PodError naming the layer and entry for anything that would land
 * outside `dest`. On failure `dest` holds a partial layer: the caller removes it.
 */
export async function extractLayer(blobPath: string, dest: string, opts: ExtractOptions = {}): Promise<ExtractResult> {
  const label = `layer ${opts.digest ?? basename(blobPath)}`;
  checkEmptyDir(label, dest);
  let blob: { compression: Compression; size: number };
  try {
    blob = probeBlob(blobPath, opts.range);
  } catch (e) {
    throw wrap(`${label}: opening ${blobPath}`, e);
  }
  const writer = new LayerWriter(dest, opts.onWarning ?? (() => undefined), opts.ignoreUnmappedOwners);
  const split = opts.tarSplit ? new TarSplitWriter(opts.tarSplit) : undefined;
  const reader = new TarReader(writer, split);
  const source = openSource(blobPath, blob.compression, blob.size, opts.range);
  try {
    for await (const chunk of source.chunks()) applyChunk(reader, writer, chunk);
    reader.finish();
    finishDirs(writer);
    await split?.finish();
  } catch (e) {
    split?.abort();
    if (e instanceof PodError) throw wrap(label, e);
    throw wrap(`${label}: reading ${blob.compression === "none" ? "tar" : `${blob.compression} stream`}`, e);
  } finally {
    writer.abort();
    source.close();
  }
  return { ...source.result(), entries: reader.entries };
}

/** Tells gzip (1f 8b) and zstd (28 b5 2f fd) from a plain tar by their magic bytes. */
export function detectCompression(blobPath: string): Compression {
  return probeBlob(blobPath).compression;
}

function probeBlob(blobPath: string, range?: Range): { compression: Compression; size: number } {
  const fd = openSync(blobPath, "r");
  const magic = Buffer.alloc(4);
  let n: number;
  let size: number;
  try {
    size = range ? range.length : fstatSync(fd).size;
    n = size === 0 ? 0 : readSync(fd, magic, 0, Math.min(4, size), range?.start ?? 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && magic[0] === 0x1f && magic[1] === 0x8b) return { compression: "gzip", size };
  if (n >= 4 && magic.readUInt32BE(0) === 0x28b52ffd) return { compression: "zstd", size };
  return { compression: "none", size };
}

/** Errors from the reader and writer become PodErrors naming the entry; stream errors stay apart. */
function applyChunk(reader: TarReader, writer: LayerWriter, chunk: Buffer): void {
  try {
    reader.push(chunk);
  } catch (e) {
    if (e instanceof PodError) throw e;
    throw wrap(`writing ${JSON.stringify(writer.current)}`, e);
  }
}

function finishDirs(writer: LayerWriter): void {
  try {
    writer.finish();
  } catch (e) {
    if (e instanceof PodError) throw e;
    throw wrap("setting directory modes and times", e);
  }
}

function checkEmptyDir(label: string, dest: string): void {
  let entries: string[];
  try {
    if (!lstatSync(dest).isDirectory()) throw new PodError(`${dest} is not a directory`);
    entries = readdirSync(dest);
  } catch (e) {
    throw wrap(`${label}: extracting into ${dest}`, e);
  }
  if (entries.length > 0) {
    throw new PodError(`${label}: extracting into ${dest}: directory is not empty`, {
      hint: "each layer is extracted into a fresh directory of its own",
    });
  }
}

/**
 * Reads a tar (plain, gzip or zstd) into `sink` without writing anything to
 * disk: the builder re-emits archives (ADD, COPY --from) under a new path.
 */
export async function readTar(path: string, sink: TarSink): Promise<number> {
  const blob = probeBlob(path);
  const reader = new TarReader(sink);
  const source = openSource(path, blob.compression, blob.size);
  try {
    for await (const chunk of source.chunks()) reader.push(chunk);
    reader.finish();
  } finally {
    source.close();
  }
  return reader.entries;
}
