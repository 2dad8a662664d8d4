// Writing images out of the store, in the storage worker: the layers' files
// are owned by subordinate ids, so they can only be read as root of the
// storage user namespace. Each layer's tar comes back byte for byte from its
// tar-split record (pkg/layer), so diffIDs and image IDs stay what they were.
// An archive goes to a temporary name beside its destination and is renamed
// at the end, or straight to pod's stdout; a layout directory is built beside
// its destination and renamed into place. Nothing is held in memory whole.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync, createWriteStream } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createGzip, createZstdCompress, constants as zc } from "node:zlib";
import type { Transform } from "node:stream";
import { Header } from "tar";
import { PodError } from "../errors.ts";
import { replayLayer } from "../layer/index.ts";
import {
  DIR_VERSION,
  dockerArchiveManifest,
  dockerRepositories,
  hexOf,
  imageManifest,
  layerMediaType,
  ociIndex,
  OCI_LAYOUT,
  REF_NAME,
  type Descriptor,
  type LayerCompression,
  type SaveFormat,
} from "./layout.ts";

export type JobLayer = { diffID: string; dir: string; size: number };
export type JobImage = { configPath: string; configDigest: string; names: string[]; layers: JobLayer[]; annotations?: Record<string, string> };
export type WriteJob = {
  format: SaveFormat;
  /** a file (archives) or directory (layouts); undefined: pod's stdout */
  output?: string;
  /** layers of the dir formats (--compress) */
  compression: LayerCompression;
  images: JobImage[];
};
export type WriteResult = { error?: string; hint?: string; manifests?: Descriptor[] };

const BLOCK = 512;

/** Synchronous writes to an fd through a buffer; a full pipe (EAGAIN) is waited out. */
class FdSink {
  #buf = Buffer.alloc(1 << 20);
  #used = 0;
  constructor(readonly fd: number) {}
  write(b: Uint8Array): void {
    if (this.#used + b.length > this.#buf.length) this.flush();
    if (b.length >= this.#buf.length) return this.#all(b);
    this.#buf.set(b, this.#used);
    this.#used += b.length;
  }
  flush(): void {
    this.#all(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
  #all(b: Uint8Array): void {
    for (let off = 0; off < b.length; ) {
      try {
        off += writeSync(this.fd, b, off, b.length - off);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        Bun.sleepSync(1);
      }
    }
  }
}

class OuterTar {
  constructor(readonly sink: FdSink) {}
  file(path: string, size: number, body: (write: (b: Uint8Array) => void) => void): void {
    const h = new Header({ path, mode: 0o644, uid: 0, gid: 0, size, mtime: new Date(0), type: "File" });
    const block = Buffer.alloc(BLOCK);
    h.encode(block, 0);
    this.sink.write(block);
    let n = 0;
    body((b) => {
      n += b.length;
      this.sink.write(b);
    });
    if (n !== size) throw new PodError(`writing ${path} into the archive: ${n} bytes instead of ${size}`);
    if (size % BLOCK) this.sink.write(new Uint8Array(BLOCK - (size % BLOCK)));
  }
  text(path: string, s: string): void {
    const b = Buffer.from(s);
    this.file(path, b.length, (w) => w(b));
  }
  finish(): void {
    this.sink.write(new Uint8Array(BLOCK * 2));
    this.sink.flush();
  }
}

const sha = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

function uniqueLayers(images: JobImage[]): JobLayer[] {
  const seen = new Map<string, JobLayer>();
  for (const i of images) for (const l of i.layers) if (!seen.has(l.diffID)) seen.set(l.diffID, l);
  return [...seen.values()];
}

function writeDockerArchive(tar: OuterTar, job: WriteJob): void {
  for (const l of uniqueLayers(job.images)) tar.file(`${hexOf(l.diffID)}.tar`, l.size, (w) => {
      for (const b of replayLayer(l.dir, l.diffID)) w(b);
    });
  for (const i of job.images) {
    const cfg = readFileSync(i.configPath);
    tar.file(`${hexOf(i.configDigest)}.json`, cfg.length, (w) => w(cfg));
  }
  const docs = job.images.map((i) => ({ configDigest: i.configDigest, names: i.names, diffIDs: i.layers.map((l) => l.diffID) }));
  tar.text("manifest.json", dockerArchiveManifest(docs));
  const repos = dockerRepositories(docs);
  if (repos) tar.text("repositories", repos);
}

/** One image's manifest (uncompressed layers) and index entries, one per name. */
function ociDocs(i: JobImage, cfgSize: number, layerDescs?: Descriptor[]): { manifest: string; entries: Descriptor[] } {
  const layers = layerDescs ?? i.layers.map((l) => ({ mediaType: layerMediaType("oci", "none"), digest: l.diffID, size: l.size }));
  const manifest = imageManifest("oci", { mediaType: "", digest: i.configDigest, size: cfgSize }, layers, i.annotations);
  const desc: Descriptor = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: sha(manifest), size: Buffer.byteLength(manifest) };
  const entries = i.names.length ? i.names.map((n) => ({ ...desc, annotations: { [REF_NAME]: n } })) : [desc];
  return { manifest, entries };
}

function writeOciArchive(tar: OuterTar, job: WriteJob): Descriptor[] {
  tar.text("oci-layout", OCI_LAYOUT);
  for (const l of uniqueLayers(job.images)) tar.file(`blobs/sha256/${hexOf(l.diffID)}`, l.size, (w) => {
      for (const b of replayLayer(l.dir, l.diffID)) w(b);
    });
  const entries: Descriptor[] = [];
  for (const i of job.images) {
    const cfg = readFileSync(i.configPath);
    tar.file(`blobs/sha256/${hexOf(i.configDigest)}`, cfg.length, (w) => w(cfg));
    const docs = ociDocs(i, cfg.length);
    tar.text(`blobs/sha256/${hexOf(docs.entries[0]!.digest)}`, docs.manifest);
    entries.push(...docs.entries);
  }
  tar.text("index.json", ociIndex(entries));
  return entries;
}

/**
 * Writes a layer's tar, compressed or not, to `path` and returns the digest
 * and size of what was written (the diffID is checked on the way).
 * level: the compressor's level, or undefined for its default.
 */
export async function writeLayerBlob(l: JobLayer, path: string, compression: LayerCompression, level?: number): Promise<{ digest: string; size: number }> {
  if (compression === "none") {
    const fd = openSync(path, "w", 0o644);
    try {
      const sink = new FdSink(fd);
      for (const b of replayLayer(l.dir, l.diffID)) sink.write(b);
      sink.flush();
    } finally {
      closeSync(fd);
    }
    return { digest: l.diffID, size: l.size };
  }
  const z: Transform =
    compression === "gzip"
      ? createGzip(level === undefined ? {} : { level })
      : createZstdCompress(level === undefined ? {} : { params: { [zc.ZSTD_c_compressionLevel]: level } });
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  const file = createWriteStream(path, { mode: 0o644 });
  z.on("data", (c: Buffer) => {
    hasher.update(c);
    size += c.length;
  });
  z.pipe(file);
  const done = new Promise<void>((res, rej) => {
    file.on("close", res);
    file.on("error", rej);
    z.on("error", rej);
  });
  try {
    let batch: Buffer[] = [];
    let pending = 0;
    const hand = async () => {
      if (!z.write(Buffer.concat(batch))) await new Promise((r) => z.once("drain", r));
      batch = [];
      pending = 0;
    };
    for (const b of replayLayer(l.dir, l.diffID)) {
      batch.push(Buffer.from(b));
      pending += b.length;
      if (pending >= 1 << 20) await hand();
    }
    if (pending) await hand();
    z.end();
  } catch (e) {
    z.destroy();
    file.destroy();
    throw e;
  }
  await done;
  return { digest: `sha256:${hasher.digest("hex")}`, size };
}

/** Layer blobs of a layout directory: `blobPath(hex)` names where each goes. */
async function writeLayoutLayers(job: WriteJob, tmpDir: string, blobPath: (hex: string) => string, kind: "oci" | "docker"): Promise<Map<string, Descriptor>> {
  const descs = new Map<string, Descriptor>();
  for (const l of uniqueLayers(job.images)) {
    const tmp = join(tmpDir, `layer-${hexOf(l.diffID)}`);
    const r = await writeLayerBlob(l, tmp, job.compression);
    renameSync(tmp, blobPath(hexOf(r.digest)));
    descs.set(l.diffID, { mediaType: layerMediaType(kind, job.compression), digest: r.digest, size: r.size });
  }
  return descs;
}

async function writeOciDir(dir: string, job: WriteJob): Promise<Descriptor[]> {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, "oci-layout"), OCI_LAYOUT);
  const descs = await writeLayoutLayers(job, dir, (hex) => join(blobs, hex), "oci");
  const entries: Descriptor[] = [];
  for (const i of job.images) {
    const cfg = readFileSync(i.configPath);
    writeFileSync(join(blobs, hexOf(i.configDigest)), cfg);
    const docs = ociDocs(i, cfg.length, i.layers.map((l) => descs.get(l.diffID)!));
    writeFileSync(join(blobs, hexOf(docs.entries[0]!.digest)), docs.manifest);
    entries.push(...docs.entries);
  }
  writeFileSync(join(dir, "index.json"), ociIndex(entries));
  return entries;
}

async function writeDockerDir(dir: string, job: WriteJob): Promise<Descriptor[]> {
  if (job.images.length !== 1) throw new PodError("the docker-dir format holds one image", { hint: "save several images with --format docker-archive -m" });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const i = job.images[0]!;
  const descs = await writeLayoutLayers(job, dir, (hex) => join(dir, hex), "docker");
  const cfg = readFileSync(i.configPath);
  writeFileSync(join(dir, hexOf(i.configDigest)), cfg);
  const manifest = imageManifest("docker", { mediaType: "", digest: i.configDigest, size: cfg.length }, i.layers.map((l) => descs.get(l.diffID)!));
  writeFileSync(join(dir, "manifest.json"), manifest);
  writeFileSync(join(dir, "version"), DIR_VERSION);
  return [{ mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: sha(manifest), size: Buffer.byteLength(manifest) }];
}

/** A layout directory may replace only an empty directory or one of its own kind (c/image's dir: does the same). */
function checkLayoutTarget(dir: string, format: SaveFormat): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new PodError(`${dir} exists and is not a directory`, { hint: "give -o a new directory" });
  const names = readdirSync(dir);
  const marker = format === "oci-dir" ? "oci-layout" : "version";
  if (names.length && !names.includes(marker))
    throw new PodError(`${dir} is not empty and holds no ${format === "oci-dir" ? "OCI layout" : "dir: image"}`, { hint: "give -o a new or empty directory" });
}

async function writeOutput(job: WriteJob): Promise<Descriptor[] | undefined> {
  if (job.format === "oci-dir" || job.format === "docker-dir") {
    const dest = job.output!;
    checkLayoutTarget(dest, job.format);
    const tmp = join(dirname(dest), `.${basename(dest)}.${process.pid}.tmp`);
    rmSync(tmp, { recursive: true, force: true });
    try {
      const m = job.format === "oci-dir" ? await writeOciDir(tmp, job) : await writeDockerDir(tmp, job);
      rmSync(dest, { recursive: true, force: true });
      renameSync(tmp, dest);
      return m;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
  }
  const tmp = job.output && join(dirname(job.output), `.${basename(job.output)}.${process.pid}.tmp`);
  const fd = tmp ? openSync(tmp, "w", 0o644) : 1;
  try {
    const tar = new OuterTar(new FdSink(fd));
    const m = job.format === "oci-archive" ? writeOciArchive(tar, job) : (writeDockerArchive(tar, job), undefined);
    tar.finish();
    if (tmp) {
      closeSync(fd);
      renameSync(tmp, job.output!);
    }
    return m;
  } catch (e) {
    if (tmp) {
      try {
        closeSync(fd);
      } catch {
        // already closed after the rename failed
      }
      rmSync(tmp, { force: true });
    }
    throw e;
  }
}

/** The worker's entry point; never throws. */
export async function runWriteJob(job: WriteJob): Promise<WriteResult> {
  try {
    return { manifests: await writeOutput(job) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return { error: "writing the archive: the reader of standard output went away" };
    return { error: (e as Error).message, hint: e instanceof PodError ? e.hint : undefined };
  }
}

/** Layer blobs for a push: each layer written (compressed) to its own file. */
export type BlobsJob = { layers: (JobLayer & { path: string })[]; compression: LayerCompression; level?: number };
export type BlobsResult = { error?: string; hint?: string; blobs?: { digest: string; size: number }[] };

export async function runBlobsJob(job: BlobsJob): Promise<BlobsResult> {
  try {
    const blobs = await Promise.all(job.layers.map((l) => writeLayerBlob(l, l.path, job.compression, job.level)));
    return { blobs };
  } catch (e) {
    return { error: (e as Error).message, hint: e instanceof PodError ? e.hint : undefined };
  }
}
