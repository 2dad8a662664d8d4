// Recording an image made on this machine (commit, import, and later a
// build): an optional layer tar becomes a layer of the store (extracted in
// the storage namespace, its tar-split kept so that it can be saved and
// pushed as it is), then the config, the manifest and the index entry.
import { existsSync } from "node:fs";
import { PodError } from "../errors.ts";
import { upsertImage, type ImageRecord, type Store } from "../store/index.ts";
import type { ProgressBoard } from "../output/index.ts";
import { imageManifest, layerMediaType, MT, type Descriptor } from "./layout.ts";
import type { ImageConfigDoc } from "./image-config.ts";

export type NewImage = {
  /** a layer tar (plain, gzip or zstd) to add; it is left where it is */
  layerTar?: string;
  /** the config, given the new layer's diffID */
  config: (diffID: string | undefined) => ImageConfigDoc;
  format: "oci" | "docker";
  /** full names (localName'd) */
  names: string[];
  progress?: ProgressBoard;
  /** the manifest's annotations (OCI format) */
  annotations?: Record<string, string>;
};

const sha = (b: Uint8Array | string) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

export async function storeNewImage(store: Store, n: NewImage): Promise<ImageRecord> {
  let diffID: string | undefined;
  if (n.layerTar) {
    const work = store.tempDir("layer");
    try {
      [diffID] = await store.extractLayers([{ blob: n.layerTar, workDir: work }]);
    } catch (e) {
      if (existsSync(work)) await store.removeTrees([work]);
      throw e;
    }
  }
  const doc = n.config(diffID);
  const diffIDs = doc.rootfs?.diff_ids ?? [];
  for (const d of diffIDs) n.progress?.finish(n.progress.add(`Copying blob ${d.slice(7, 19)}`, 0), d === diffID ? "done" : "skip");
  const configBytes = new TextEncoder().encode(JSON.stringify(doc));
  const configDigest = sha(configBytes);
  n.progress?.finish(n.progress.add(`Copying config ${configDigest.slice(7, 19)}`, 0));
  const layers: Descriptor[] = diffIDs.map((d) => ({ mediaType: layerMediaType(n.format, "none"), digest: d, size: store.layerInfo(d)?.size ?? 0 }));
  const manifest = imageManifest(n.format, { mediaType: "", digest: configDigest, size: configBytes.length }, layers, n.annotations);
  const manifestDigest = sha(manifest);
  const rec: ImageRecord = {
    id: configDigest.slice(7),
    names: n.names,
    repoDigests: [],
    manifestDigest,
    manifestMediaType: n.format === "oci" ? MT.ociManifest : MT.dockerManifest,
    layers: diffIDs,
    size: diffIDs.reduce((s, d) => s + (store.layerInfo(d)?.size ?? 0), 0),
    created: doc.created ?? new Date().toISOString(),
    pulled: new Date().toISOString(),
    os: doc.os ?? "linux",
    architecture: doc.architecture ?? "",
    variant: doc.variant,
    labels: doc.config?.Labels ?? undefined,
  };
  n.progress?.line("Writing manifest to image destination");
  const ok = await store.updateImages((images) => {
    if (!diffIDs.every((d) => store.hasLayer(d))) return { images, result: false };
    store.putBlob(configDigest, configBytes);
    store.putBlob(manifestDigest, new TextEncoder().encode(manifest));
    return { images: upsertImage(images, rec), result: true };
  });
  if (!ok) throw new PodError("a layer of the parent image went away meanwhile", { hint: "another pod removed the image; try again" });
  return rec;
}
