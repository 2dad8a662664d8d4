// `pod save`: local images into a docker-archive, an oci-archive, or an OCI
// or dir: layout. The storage worker writes the bytes (_write.ts); this side
// picks the images and names, and checks that every layer can be given back.
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import { findImage, noSuchImage, type ImageRecord, type Store } from "../store/index.ts";
import { localName, toQuery } from "../catalog/index.ts";
import { TAR_SPLIT_FILE } from "../layer/index.ts";
import { ProgressBoard } from "../output/index.ts";
import { SAVE_FORMATS, type Descriptor, type LayerCompression, type SaveFormat } from "./layout.ts";
import type { JobImage } from "./_write.ts";
import { runWrite } from "./jobs.ts";
import { imageEvent } from "../events/index.ts";

export type SaveOptions = {
  format: SaveFormat;
  /** file or directory; undefined: standard output */
  output?: string;
  multiImage: boolean;
  compress: boolean;
  quiet: boolean;
};

export function parseSaveFormat(v: string): SaveFormat {
  if ((SAVE_FORMATS as string[]).includes(v)) return v as SaveFormat;
  throw new UsageError(`unsupported format "${v}"`, { hint: `--format takes one of ${SAVE_FORMATS.join(", ")}` });
}

/** An image to write, with the names it carries in the archive. */
export type Picked = { image: ImageRecord; names: string[] };

/** The store's images for `inputs`: each one an image (-m), or the first an image and the rest more names for it. */
export function pickImages(images: ImageRecord[], inputs: string[], multi: boolean): Picked[] {
  const find = (input: string) => {
    const hit = findImage(images, input, toQuery(input));
    if (!hit) throw noSuchImage(input);
    return hit;
  };
  if (multi) {
    const out: Picked[] = [];
    for (const input of inputs) {
      const hit = find(input);
      const name = hit.matchedName;
      const prev = out.find((p) => p.image.id === hit.image.id);
      if (prev) {
        if (name && !prev.names.includes(name)) prev.names.push(name);
      } else out.push({ image: hit.image, names: name ? [name] : [] });
    }
    return out;
  }
  const first = find(inputs[0]!);
  const names = first.matchedName ? [first.matchedName] : [];
  for (const extra of inputs.slice(1)) {
    const n = localName(extra);
    if (!names.includes(n)) names.push(n);
  }
  return [{ image: first.image, names }];
}

export function jobImage(store: Store, p: Picked): JobImage {
  const configDigest = `sha256:${p.image.id}`;
  const layers = p.image.layers.map((diffID) => {
    const dir = store.layerDir(diffID);
    if (!existsSync(join(dir, TAR_SPLIT_FILE)))
      throw new PodError(`layer ${diffID} of image ${p.image.id.slice(0, 12)} was stored without its tar record (by an earlier pod)`, {
        hint: "`pod rmi` the image and pull or load it again; then it can be saved and pushed",
      });
    return { diffID, dir, size: store.layerInfo(diffID)?.size ?? 0 };
  });
  return { configPath: store.blobPath(configDigest), configDigest, names: p.names, layers, annotations: store.imageAnnotations(p.image) };
}

export async function saveImages(store: Store, inputs: string[], o: SaveOptions): Promise<Descriptor[] | undefined> {
  if (!inputs.length) throw new UsageError("`pod save` needs at least one IMAGE", { hint: "pod save -o alpine.tar alpine" });
  if (o.multiImage && o.format !== "docker-archive")
    throw new UsageError("--multi-image-archive can only be used with --format docker-archive", { hint: "use --format docker-archive -m" });
  if (o.compress && o.format !== "oci-dir" && o.format !== "docker-dir")
    throw new UsageError("--compress can only be set when --format is either 'oci-dir' or 'docker-dir'", { hint: "drop --compress, or save to a directory layout" });
  if (!o.output && (o.format === "oci-dir" || o.format === "docker-dir"))
    throw new UsageError(`--format ${o.format} writes a directory: give it with -o DIR`, { hint: `pod save --format ${o.format} -o DIR IMAGE` });
  store.init();
  const picked = pickImages(store.images(), inputs, o.multiImage);
  const images = picked.map((p) => jobImage(store, p));
  const compression: LayerCompression = o.compress ? "gzip" : "none";
  const res = await runWrite(store.paths, { format: o.format, output: o.output && resolve(o.output), compression, images });
  // the progress podman shows, after the fact: the worker wrote the bytes
  const progress = new ProgressBoard(o.quiet || !o.output);
  for (const i of images) {
    for (const l of i.layers) progress.finish(progress.add(`Copying blob ${l.diffID.slice(7, 19)}`, l.size));
    progress.finish(progress.add(`Copying config ${i.configDigest.slice(7, 19)}`, 0));
  }
  progress.line("Writing manifest to image destination");
  progress.stop();
  for (const p of picked) await imageEvent(store.paths, p.image.id, p.names[0] ?? `sha256:${p.image.id}`, "save");
  return res.manifests;
}
