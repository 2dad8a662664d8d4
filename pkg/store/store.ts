// pod's content-addressed store:
//   <root>/images.json            the image index (atomic rewrite under store.lock)
//   <root>/blobs/sha256/<hex>     manifests and configs, verified before rename
//   <root>/layers/<hex>/diff      one extracted layer per diffID (overlay lowerdir)
//   <root>/layers/<hex>/layer.json  written before the directory is renamed in
//   <root>/locks/<hex>.lock       per-layer locks so concurrent pulls fetch once
//   <root>/tmp/<pid>-…            work in progress; a dead pid's leftovers are swept
//   <runroot>/job-<pid>-….json    a storage worker's job; swept like tmp/ (leftovers.ts)
// Something under its final name is always complete: kill -9 at any moment
// leaves at most garbage in tmp/, which the next writer removes.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DigestMismatch, PodError } from "../errors.ts";
import { ensurePrivateDir, volumesPath, type Paths } from "../config/index.ts";
import { log } from "../output/index.ts";
import { parseManifest } from "../registry/index.ts";
import { writeFileAtomic } from "./atomic.ts";
import { withLock } from "./lock.ts";
import { readIndex, writeIndex, type ImageRecord } from "./images.ts";
import { runStorageJob, type ExtractResult, type VerifyResult } from "./worker.ts";
import { staleAtomicTemps, staleTmpEntries, sweepJobFiles, tmpEntryPid } from "./leftovers.ts";
import type { TreeSummary } from "./tree.ts";

/** pkg/layer's TAR_SPLIT_FILE, named here so that opening the store does not load the layer code */
const TAR_SPLIT_FILE = "tar-split.gz";

/** tree: what diff/ held when the layer was stored (absent for layers stored before pod recorded it) */
export type LayerInfo = { diffID: string; size: number; compressedDigest?: string; created: string; tree?: TreeSummary };

const hexOf = (digest: string) => {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new PodError(`unsupported digest "${digest}": only sha256 is supported`);
  return m[1]!;
};

export class Store {
  readonly root: string;
  readonly runroot: string;
  /** the volumes directory (pkg/volume owns what is in it) */
  readonly volumes: string;
  /** what the store was opened with (the engine flags too: events are written by its users) */
  readonly paths: Paths;

  constructor(paths: Paths) {
    this.paths = paths;
    this.root = paths.root;
    this.runroot = paths.runroot;
    this.volumes = volumesPath(paths);
  }

  get indexFile() {
    return join(this.root, "images.json");
  }

  /** Creates the layout; cheap when it exists. Removes the job files killed pods left (one readdir). */
  init(): this {
    if (!existsSync(join(this.root, "tmp"))) {
      ensurePrivateDir(this.root);
      for (const d of ["blobs/sha256", "layers", "locks", "tmp"]) mkdirSync(join(this.root, d), { recursive: true, mode: 0o700 });
    }
    ensurePrivateDir(this.runroot);
    sweepJobFiles(this.runroot);
    return this;
  }

  images(): ImageRecord[] {
    return readIndex(this.indexFile);
  }

  /** Runs fn with the store's write lock held; fn gets the current index and returns the new one. */
  async updateImages<T>(fn: (images: ImageRecord[]) => { images: ImageRecord[]; result: T }): Promise<T> {
    return withLock(join(this.root, "store.lock"), "write", () => {
      const { images, result } = fn(this.images());
      writeIndex(this.indexFile, images);
      return result;
    });
  }

  blobPath(digest: string): string {
    return join(this.root, "blobs", "sha256", hexOf(digest));
  }

  readBlob(digest: string): Uint8Array {
    return readFileSync(this.blobPath(digest));
  }

  /** The annotations of an image's stored manifest (podman's inspect Annotations; kept by save and push). */
  imageAnnotations(img: ImageRecord): Record<string, string> | undefined {
    try {
      const m = parseManifest(this.readBlob(img.manifestDigest), img.manifestMediaType);
      return m.annotations && Object.keys(m.annotations).length ? m.annotations : undefined;
    } catch (e) {
      log.debug(`reading the manifest of ${img.id.slice(0, 12)}: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Stores bytes under their digest after checking them. */
  putBlob(digest: string, bytes: Uint8Array): void {
    const actual = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
    if (actual !== digest) throw new DigestMismatch(`blob digest mismatch: expected ${digest}, got ${actual}`);
    const path = this.blobPath(digest);
    if (!existsSync(path)) writeFileAtomic(path, bytes);
  }

  layerDir(diffID: string): string {
    return join(this.root, "layers", hexOf(diffID));
  }

  layerInfo(diffID: string): LayerInfo | undefined {
    try {
      return JSON.parse(readFileSync(join(this.layerDir(diffID), "layer.json"), "utf8")) as LayerInfo;
    } catch {
      return undefined;
    }
  }

  hasLayer(diffID: string): boolean {
    return existsSync(join(this.layerDir(diffID), "layer.json"));
  }

  withLayerLock<T>(diffID: string, fn: () => Promise<T>): Promise<T> {
    return withLock(join(this.root, "locks", `${hexOf(diffID)}.lock`), "write", fn);
  }

  /** A fresh directory under tmp/ named after this process, so a sweep can tell live work from leftovers. */
  tempDir(label: string): string {
    const dir = join(this.root, "tmp", `${process.pid}-${Math.random().toString(36).slice(2, 10)}-${label}`);
    mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  /**
   * Extracts downloaded layer blobs in the storage namespace and moves each
   * verified layer into place. diffID is the one the image config names;
   * without it (a layer made here: commit, import) the layer is what the tar
   * gives. A layer that is already in place stays as it was. Returns the diffIDs.
   */
  async extractLayers(jobs: { blob: string; workDir: string; diffID?: string; compressedDigest?: string; range?: { start: number; length: number } }[]): Promise<string[]> {
    if (!jobs.length) return [];
    const res = await runStorageJob(
      this.runroot,
      { extract: jobs.map((j) => ({ blob: j.blob, dest: join(j.workDir, "diff"), tarSplit: join(j.workDir, TAR_SPLIT_FILE), range: j.range })) },
    );
    const failures: PodError[] = [];
    const surplus: string[] = [];
    const done: string[] = [];
    jobs.forEach((j, i) => {
      const r = res.extracted[i] as ExtractResult | undefined;
      const what = j.compressedDigest ?? j.blob;
      if (!r) failures.push(new PodError(`extracting layer ${what}: no result from the storage worker`));
      else if ("error" in r) failures.push(new PodError(`extracting layer ${what}: ${r.error}`, { hint: r.hint }));
      else if (j.diffID && r.diffID !== j.diffID)
        failures.push(new DigestMismatch(`layer ${what}: uncompressed digest mismatch: expected ${j.diffID}, got ${r.diffID}`, {
          hint: "the image is corrupt or was tampered with; it was not stored",
        }));
      else if (this.hasLayer(r.diffID)) {
        surplus.push(j.workDir);
        done.push(r.diffID);
      } else {
        const info: LayerInfo = { diffID: r.diffID, size: r.size, compressedDigest: j.compressedDigest, created: new Date().toISOString(), tree: r.tree };
        writeFileAtomic(join(j.workDir, "layer.json"), JSON.stringify(info));
        // the downloaded blob goes, never a file of the user's (import reads one in place)
        if (j.blob.startsWith(`${j.workDir}/`)) rmSync(j.blob, { force: true });
        renameSync(j.workDir, this.layerDir(r.diffID));
        done.push(r.diffID);
      }
    });
    await this.removeTrees(surplus);
    if (failures.length) throw failures[0]!;
    return done;
  }

  /** Deletes paths that may hold files owned by subordinate ids (after moving them into tmp/). */
  async removeTrees(paths: string[]): Promise<void> {
    if (!paths.length) return;
    const res = await runStorageJob(this.runroot, { remove: paths });
    if (res.removeErrors.length) throw new PodError(res.removeErrors[0]!, { hint: "`pod unshare rm -rf PATH` removes it by hand" });
  }

  /** Sums up the diff/ trees of layers again, in the storage namespace (where every file is readable). */
  async summarizeLayers(diffIDs: string[]): Promise<VerifyResult[]> {
    if (!diffIDs.length) return [];
    const res = await runStorageJob(this.runroot, { verify: diffIDs.map((d) => join(this.layerDir(d), "diff")) });
    return res.verified ?? diffIDs.map(() => ({ error: "no result from the storage worker" }));
  }

  /** Copies layers (bottom first) into dest, applying whiteouts: the "vfs" root filesystem. */
  async copyLayers(layerDirs: string[], dest: string): Promise<void> {
    const res = await runStorageJob(this.runroot, { copy: { layers: layerDirs, dest } });
    if (res.removeErrors.length) throw new PodError(res.removeErrors[0]!, { hint: "check free disk space" });
  }

  /** Copies the image directory `path` (symlinks already resolved) out of the layers into dest: a volume's copy-up. */
  async copySubtree(layerDirs: string[], path: string, dest: string): Promise<void> {
    const res = await runStorageJob(this.runroot, { copySubtree: { layers: layerDirs, path, dest } });
    if (res.removeErrors.length) throw new PodError(res.removeErrors[0]!, { hint: "check free disk space; `pod unshare ls -la` shows what was copied" });
  }

  /** Gives files owners as the storage namespace numbers them (0 the user, 1.. subordinate ids) and modes. */
  async chownFiles(files: { path: string; uid: number; gid: number; mode: number }[]): Promise<void> {
    if (!files.length) return;
    const res = await runStorageJob(this.runroot, { chown: files });
    if (res.removeErrors.length) throw new PodError(res.removeErrors[0]!, { hint: "`pod unshare ls -ln PATH` shows the file's owner as the namespace sees it" });
  }

  /** Renames the given layers into tmp/ (atomic: they are gone at once); returns where they went, for removeTrees. */
  takeLayersOut(diffIDs: string[]): string[] {
    const doomed: string[] = [];
    for (const d of diffIDs) {
      const dir = this.layerDir(d);
      if (!existsSync(dir)) continue;
      const to = join(this.root, "tmp", `${process.pid}-rm-${hexOf(d)}`);
      renameSync(dir, to);
      doomed.push(to);
    }
    return doomed;
  }

  /** Removes the given layers: renamed into tmp/ first (atomic), then deleted in the namespace. */
  async removeLayers(diffIDs: string[]): Promise<void> {
    await this.removeTrees(this.takeLayersOut(diffIDs));
  }

  /** Removes what killed pods left behind: tmp/ entries, atomic-write temp files and storage job files of dead pids. */
  async sweepTemp(): Promise<void> {
    for (const dir of [this.root, join(this.root, "blobs", "sha256")]) for (const p of staleAtomicTemps(dir)) rmSync(p, { force: true });
    sweepJobFiles(this.runroot);
    const tmp = join(this.root, "tmp");
    let own: string[] = [];
    try {
      own = readdirSync(tmp).filter((n) => tmpEntryPid(n) === process.pid && n.includes("-rm-"));
    } catch {
      return;
    }
    const stale = [...staleTmpEntries(this.root), ...own.map((n) => join(tmp, n))];
    if (!stale.length) return;
    log.debug(`removing ${stale.length} leftover temporary entries`);
    await this.removeTrees(stale);
  }

  /** Deletes config and manifest blobs, keeping those an image in `keep` still uses. Call under the store lock. */
  removeBlobs(digests: string[], keep: ImageRecord[]): void {
    const used = new Set(keep.flatMap((i) => [`sha256:${i.id}`, i.manifestDigest]));
    for (const d of digests) if (!used.has(d)) rmSync(this.blobPath(d), { force: true });
  }

  /** Layers no image references any more. */
  orphanLayers(images: ImageRecord[]): string[] {
    const used = new Set(images.flatMap((i) => i.layers.map(hexOf)));
    let all: string[];
    try {
      all = readdirSync(join(this.root, "layers"));
    } catch {
      return [];
    }
    return all.filter((h) => /^[0-9a-f]{64}$/.test(h) && !used.has(h)).map((h) => `sha256:${h}`);
  }
}
