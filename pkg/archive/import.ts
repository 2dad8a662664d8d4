// `pod import`: a root filesystem tarball (a file, a URL, or standard input;
// plain, gzip or zstd) becomes a one-layer image, as `podman import` makes it.
import { createWriteStream, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { PodError, wrap } from "../errors.ts";
import { localName } from "../catalog/index.ts";
import { ProgressBoard } from "../output/index.ts";
import type { ImageRecord, Store } from "../store/index.ts";
import { applyChanges, type ImageConfigDoc } from "./image-config.ts";
import { storeNewImage } from "./new-image.ts";
import { imageEvent } from "../events/index.ts";

export type ImportOptions = {
  changes: string[];
  message?: string;
  platform: { os: string; architecture: string; variant?: string };
  quiet: boolean;
};

const isURL = (s: string) => /^https?:\/\//i.test(s);

async function fetchTo(url: string, dest: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw wrap(`fetching ${url}`, e);
  }
  if (!res.ok || !res.body) throw new PodError(`fetching ${url}: ${res.status} ${res.statusText}`, { hint: "check the URL; pod import also reads a file or - (standard input)" });
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(dest, { mode: 0o600 }));
}

export async function importTarball(store: Store, source: string, target: string | undefined, o: ImportOptions): Promise<ImageRecord> {
  store.init();
  const names = target ? [localName(target)] : [];
  const config = applyChanges({}, o.changes, { format: "oci" });
  const work = store.tempDir("import");
  const progress = new ProgressBoard(o.quiet);
  try {
    let tar = source;
    if (source === "-") {
      tar = join(work, "stdin.tar");
      await pipeline(process.stdin, createWriteStream(tar, { mode: 0o600 })).catch((e) => {
        throw wrap("reading standard input", e);
      });
    } else if (isURL(source)) {
      tar = join(work, "download.tar");
      await fetchTo(source, tar);
    } else if (!existsSync(source)) throw new PodError(`${source}: no such file or directory`, { hint: "pod import FILE|URL|- [IMAGE]" });
    progress.line("Getting image source signatures");
    const created = new Date().toISOString();
    const img = await storeNewImage(store, {
      layerTar: tar,
      format: "oci",
      names,
      progress,
      config: (diffID): ImageConfigDoc => ({
        created,
        architecture: o.platform.architecture,
        os: o.platform.os,
        ...(o.platform.variant ? { variant: o.platform.variant } : {}),
        config,
        rootfs: { type: "layers", diff_ids: diffID ? [diffID] : [] },
        history: [{ created, created_by: `/bin/sh -c #(nop) ADD file:${(diffID ?? "").slice(7)} in /`, ...(o.message ? { comment: o.message } : {}) }],
      }),
    });
    await imageEvent(store.paths, img.id, names[0] ?? `sha256:${img.id}`, "import");
    return img;
  } catch (e) {
    if (e instanceof PodError && /reading tar|invalid header|truncated/.test(e.message))
      throw new PodError(`importing ${source}: ${e.message}`, { hint: "pod import takes a tar archive of a root filesystem (`pod export` writes one), plain or gzip or zstd compressed" });
    throw e;
  } finally {
    progress.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
