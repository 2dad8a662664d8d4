// `pod load`: a docker-archive or oci-archive (gzip or zstd compressed or
// not, one image or several) into the store. The archive is read in place
// (_source.ts: regular files only, by byte range; a compressed one is
// inflated into tmp/ first), its configs and layers are checked against their
// digests, and only then are images recorded. A layer the store has is never extracted
// again; if anything fails, the layers this load added go again and no image
// is recorded.
import { createWriteStream, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { pipeline } from "node:stream/promises";
import { PodError, wrap } from "../errors.ts";
import { formatReference, parseReference } from "../image/index.ts";
import { upsertImage, type ImageRecord, type Store } from "../store/index.ts";
import { imageEvent } from "../events/index.ts";
import { ProgressBoard } from "../output/index.ts";
import { imageManifest, MT, readDockerArchive, readOciLayout, type ArchivedImage, type Descriptor } from "./layout.ts";
import { archiveSource, dirSource, notAnArchive, sha256Blob, type ArchiveSource, type BlobAt } from "./_source.ts";

export type LoadOptions = {
  input?: string;
  quiet: boolean;
  stdin?: NodeJS.ReadableStream;
  /** an OCI layout directory to read in place instead of an archive (`oci:DIR`) */
  layoutDir?: string;
  /** keep only the image this names (`docker-archive:FILE:NAME`, `oci:DIR:REF`), by its name or ref.name */
  pick?: string;
  /** exactly one image must be taken (a pull of `docker-archive:FILE`) */
  single?: boolean;
};
export type LoadResult = { id: string; names: string[] }[];

function describe(src: ArchiveSource): ArchivedImage[] {
  if (src.has("manifest.json")) return readDockerArchive(src.bytes("manifest.json").toString("utf8"));
  if (src.has("index.json")) return readOciLayout(src.bytes("index.json").toString("utf8"), (d) => src.bytes(`blobs/sha256/${d.slice(7)}`).toString("utf8"));
  throw notAnArchive("it holds neither manifest.json (docker-archive) nor index.json (oci-archive)");
}

/** The archive's images, or the one `pick` names (by name, the name's tag alone, or @INDEX). */
function pickImage(images: ArchivedImage[], pick: string | undefined): ArchivedImage[] {
  if (pick === undefined) return images;
  const at = /^@(\d+)$/.exec(pick);
  if (at) {
    const img = images[Number(at[1])];
    if (!img) throw new PodError(`the archive holds ${images.length} images: there is no @${at[1]}`, { hint: "images are counted from @0" });
    return [img];
  }
  const full = loadedNames([pick])[0];
  const hit = images.find((i) => i.names.includes(pick) || (full !== undefined && loadedNames(i.names).includes(full)));
  if (!hit) throw new PodError(`no image named ${JSON.stringify(pick)} in the archive`, { hint: `it holds ${images.flatMap((i) => i.names).join(", ") || "only unnamed images"}` });
  return [hit];
}

function loadedNames(names: string[]): string[] {
  const out: string[] = [];
  for (const n of names) {
    // a bare word is an OCI ref.name that is only a tag (skopeo's oci:DIR:TAG): it names no repository
    if (!n.includes("/") && !n.includes(":")) continue;
    try {
      const ref = parseReference(n);
      if (!ref.digest) out.push(formatReference({ ...ref, tag: ref.tag ?? "latest" }));
    } catch {
      // a bare tag (skopeo's default ref.name) names no repository: the image stays unnamed
    }
  }
  return [...new Set(out)];
}

type Staged = { image: ArchivedImage; config: Record<string, any>; configBytes: Uint8Array; diffIDs: string[]; layers: Descriptor[]; blobs: BlobAt[] };

async function stage(src: ArchiveSource, img: ArchivedImage): Promise<Staged> {
  if (!src.has(img.configPath)) throw notAnArchive(`the config ${img.configPath} is missing`);
  const configBytes = src.bytes(img.configPath);
  const got = `sha256:${new Bun.CryptoHasher("sha256").update(configBytes).digest("hex")}`;
  if (got !== img.configDigest) throw new PodError(`config ${img.configDigest}: digest mismatch (got ${got})`, { hint: "the archive is damaged; nothing was stored" });
  const config = JSON.parse(new TextDecoder().decode(configBytes));
  const diffIDs: string[] = config?.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== img.layers.length)
    throw new PodError(`image ${img.configDigest.slice(7, 19)}: the archive has ${img.layers.length} layers but the config ${diffIDs.length}`, { hint: "the archive is damaged; nothing was stored" });
  const layers: Descriptor[] = [];
  const blobs: BlobAt[] = [];
  for (const [i, l] of img.layers.entries()) {
    if (!src.has(l.path)) throw notAnArchive(`the layer ${l.path} is missing`);
    const blob = src.blob(l.path);
    if (blob.size === 0) throw notAnArchive(`the layer ${l.path} is empty`);
    if (l.digest) {
      const d = await sha256Blob(blob);
      if (d !== l.digest) throw new PodError(`layer ${l.digest}: digest mismatch (got ${d})`, { hint: "the archive is damaged; nothing was stored" });
    }
    layers.push({ mediaType: l.mediaType ?? MT.ociLayer, digest: l.digest ?? diffIDs[i]!, size: blob.size });
    blobs.push(blob);
  }
  return { image: img, config, configBytes, diffIDs, layers, blobs };
}

export async function loadArchive(store: Store, o: LoadOptions): Promise<LoadResult> {
  store.init();
  await store.sweepTemp();
  const work = store.tempDir("load");
  const added: string[] = [];
  const progress = new ProgressBoard(o.quiet);
  try {
    let file = o.input;
    if (o.layoutDir) {
      if (!existsSync(join(o.layoutDir, "index.json"))) throw new PodError(`${o.layoutDir}: not an OCI layout (no index.json)`, { hint: "oci:DIR names a directory `pod save --format oci-dir` or `skopeo copy … oci:DIR` wrote" });
    } else if (!file) {
      file = join(work, "stdin.tar");
      try {
        await pipeline(o.stdin ?? process.stdin, createWriteStream(file, { mode: 0o600 }));
      } catch (e) {
        throw wrap("reading standard input", e);
      }
    } else if (!existsSync(file)) throw new PodError(`${file}: no such file or directory`, { hint: "pod load -i FILE takes an archive `pod save` wrote" });
    const src = o.layoutDir ? dirSource(o.layoutDir) : await archiveSource(file!, work);
    const staged: Staged[] = [];
    const picked = pickImage(describe(src), o.pick);
    if (o.single && picked.length > 1)
      throw new PodError(`the archive holds ${picked.length} images`, { hint: "name one after the path: …:NAME, or …:@0 for the first" });
    for (const img of picked) staged.push(await stage(src, img));
    for (const s of staged) await storeLayers(store, s, added, progress);
    const result: LoadResult = [];
    for (const s of staged) result.push(await record(store, s));
    progress.line("Writing manifest to image destination");
    return result;
  } catch (e) {
    // what this load extracted goes again, unless an image has come to use it meanwhile
    const orphans = await store.updateImages((images) => {
      const used = new Set(images.flatMap((i) => i.layers));
      return { images, result: added.filter((d) => !used.has(d)) };
    });
    await store.removeLayers(orphans).catch(() => undefined);
    throw e;
  } finally {
    progress.stop();
    await store.removeTrees([work]).catch(() => rmSync(work, { recursive: true, force: true }));
  }
}

/** Extracts the layers the store lacks, each in a storage worker of its own, as many at a time as there are cores. */
async function storeLayers(store: Store, s: Staged, added: string[], progress: ProgressBoard): Promise<void> {
  const tasks = s.diffIDs.map((diffID, i) => async () => {
    const desc = s.layers[i]!;
    const bar = progress.add(`Copying blob ${desc.digest.slice(7, 19)}`, desc.size);
    if (store.hasLayer(diffID)) return progress.finish(bar, "skip");
    await store.withLayerLock(diffID, async () => {
      if (store.hasLayer(diffID)) return progress.finish(bar, "skip");
      const workDir = store.tempDir("layer");
      try {
        const blob = s.blobs[i]!;
        await store.extractLayers([{ blob: blob.path, range: blob.range, workDir, diffID, compressedDigest: desc.digest }]);
        added.push(diffID);
      } catch (e) {
        if (existsSync(workDir)) await store.removeTrees([workDir]);
        throw e;
      }
      progress.finish(bar);
    });
  });
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(Array.from({ length: Math.min(tasks.length, Math.max(2, availableParallelism())) }, async () => {
    while (next < tasks.length) await tasks[next++]!().catch((e) => errors.push(e));
  }));
  if (errors.length) throw errors[0];
  progress.finish(progress.add(`Copying config ${s.image.configDigest.slice(7, 19)}`, 0));
}

async function record(store: Store, s: Staged): Promise<{ id: string; names: string[] }> {
  const id = s.image.configDigest.slice(7);
  store.putBlob(s.image.configDigest, s.configBytes);
  const manifest = imageManifest("oci", { mediaType: "", digest: s.image.configDigest, size: s.configBytes.length }, s.layers);
  const manifestDigest = `sha256:${new Bun.CryptoHasher("sha256").update(manifest).digest("hex")}`;
  store.putBlob(manifestDigest, new TextEncoder().encode(manifest));
  const names = loadedNames(s.image.names);
  const size = s.diffIDs.reduce((n, d) => n + (store.layerInfo(d)?.size ?? 0), 0);
  const c = s.config;
  const rec: ImageRecord = {
    id,
    names,
    repoDigests: [],
    manifestDigest,
    manifestMediaType: MT.ociManifest,
    layers: s.diffIDs,
    size,
    created: c.created ?? new Date(0).toISOString(),
    pulled: new Date().toISOString(),
    os: c.os ?? "linux",
    architecture: c.architecture ?? "",
    variant: c.variant,
    labels: c.config?.Labels ?? undefined,
  };
  const ok = await store.updateImages((images) =>
    s.diffIDs.every((d) => store.hasLayer(d)) ? { images: upsertImage(images, rec), result: true } : { images, result: false },
  );
  if (!ok) throw new PodError(`image ${id.slice(0, 12)}: a layer went away while loading`, { hint: "another pod removed images meanwhile; load again" });
  for (const n of names.length ? names : [`sha256:${id}`]) await imageEvent(store.paths, id, n, "loadfromarchive");
  return { id, names };
}
