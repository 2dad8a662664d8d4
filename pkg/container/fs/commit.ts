// `pod commit`: a container's changes (its upper dir, or its vfs copy against
// the image) as one new layer on top of its image's layers, with --change
// applied to the image's config and a history entry; --squash makes the whole
// filesystem one layer. A running container is paused meanwhile where the
// freezer can do it, so the layer is one moment's state.
import { join } from "node:path";
import { rmSync } from "node:fs";
import { PodError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { log, ProgressBoard } from "../../output/index.ts";
import { Store, type ImageRecord } from "../../store/index.ts";
import { localName } from "../../catalog/index.ts";
import { applyChanges, childConfig, type ImageConfigDoc } from "../../archive/image-config.ts";
import { storeNewImage } from "../../archive/new-image.ts";
import { containerEvent } from "../../events/index.ts";
import { findContainer, eventOf, type ContainerRecord } from "../record/records.ts";
import { containerLayout, keepIdSwap, runFilesJob } from "./files.ts";
import { statusOf } from "../record/state.ts";
import { pauseContainer, unpauseContainer } from "../engine/lifecycle.ts";

export type CommitOptions = {
  author?: string;
  message?: string;
  changes: string[];
  format: "oci" | "docker";
  pause: boolean;
  quiet: boolean;
  squash: boolean;
  includeVolumes: boolean;
};

/** Pauses a running container for the commit; returns whether it must be thawed after. */
async function pauseFor(paths: Paths, rec: ContainerRecord, wanted: boolean): Promise<boolean> {
  if (!wanted || statusOf(rec) !== "running") return false;
  try {
    await pauseContainer(paths, rec);
    return true;
  } catch (e) {
    log.warn(`committing ${rec.name} while it runs: it cannot be paused here (${(e as Error).message})`);
    return false;
  }
}

function volumesOf(rec: ContainerRecord): string[] {
  const opts = rec.config?.opts;
  return [...new Set((opts?.volumeMounts ?? []).map((v) => v.target))];
}

export async function commitContainer(paths: Paths, input: string, target: string | undefined, o: CommitOptions): Promise<ImageRecord> {
  const rec = findContainer(paths.root, input);
  const store = new Store(paths).init();
  const names = target ? [localName(target)] : [];
  const parent = store.images().find((i) => i.id === rec.imageId);
  if (!parent) throw new PodError(`container ${rec.name}: its image ${rec.imageId.slice(0, 12)} is no longer in storage`, { hint: "the changes cannot be put on top of it; `pod export` still writes the files" });
  const parentDoc = JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${parent.id}`))) as ImageConfigDoc;
  let config = applyChanges(parentDoc.config ?? {}, o.changes, { format: o.format, warn: (m) => log.warn(m) });
  if (o.includeVolumes) for (const v of volumesOf(rec)) config = { ...config, Volumes: { ...(config.Volumes ?? {}), [v]: {} } };
  const progress = new ProgressBoard(o.quiet);
  progress.line("Getting image source signatures");
  const work = store.tempDir("commit");
  const tar = join(work, "layer.tar");
  try {
    const thaw = await pauseFor(paths, rec, o.pause);
    try {
      const layout = containerLayout(paths, rec);
      const job = o.squash ? { op: "export" as const, output: tar } : { op: "layer" as const, output: tar };
      await runFilesJob(paths, { ...job, layout, container: rec.name, swap: keepIdSwap(rec) });
    } finally {
      if (thaw) await unpauseContainer(paths, rec);
    }
    const img = await storeNewImage(store, {
      layerTar: tar,
      format: o.format,
      names,
      progress,
      config: (diffID) =>
        childConfig(parentDoc, {
          diffID,
          created: new Date().toISOString(),
          createdBy: rec.command.join(" "),
          author: o.author,
          comment: o.message,
          config,
          squash: o.squash,
        }),
    });
    await containerEvent(paths, eventOf(rec), "commit");
    return img;
  } finally {
    progress.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
