// `pod system prune`: removes the containers that are not running, then
// images no container uses (only those without a name, unless `all`), and
// reports what it freed.
import { existsSync } from "node:fs";
import { volumesPath, type Paths } from "../config/index.ts";
import { Store } from "../store/index.ts";
import { IMAGE_IN_USE_EXIT, removeImages } from "../catalog/index.ts";
import { imageUsers, listRecords, pruneContainers } from "../container/index.ts";
import { pruneVolumes, unusedVolumes, volumeDataDir } from "../volume/index.ts";
import { containerSize, dirSize, isRunning } from "./containers.ts";
import { layersSize } from "./df.ts";

export type PruneReport = { containers: string[]; volumes: string[]; images: string[]; reclaimed: number };

/** `pod container prune`'s rule (everything not running), with the sizes measured before. */
async function removeContainers(paths: Paths, report: PruneReport): Promise<void> {
  const before = listRecords(paths.root);
  const sizes = new Map(before.filter((c) => !isRunning(c)).map((c) => [c.id, containerSize(paths.root, c.id)]));
  for (const id of await pruneContainers(paths)) {
    report.containers.push(id);
    report.reclaimed += sizes.get(id) ?? 0;
  }
}

async function pruneImages(paths: Paths, store: Store, all: boolean, report: PruneReport): Promise<void> {
  const used = new Set(listRecords(paths.root).map((c) => c.imageId));
  const before = store.images();
  const targets = before.filter((i) => !used.has(i.id) && (all || i.names.length === 0)).map((i) => i.id);
  if (!targets.length) return;
  const sizeBefore = layersSize(store, before);
  // A container created since `used` was read keeps its image (refused with IMAGE_IN_USE_EXIT), and is not removed.
  const r = await removeImages(store, targets, { force: true, all: false, users: imageUsers(paths), removeUsers: false });
  const failed = r.errors.filter((e) => e.exit !== IMAGE_IN_USE_EXIT);
  if (failed.length) throw failed[0]!;
  report.images.push(...r.deleted);
  report.reclaimed += sizeBefore - layersSize(store, store.images());
}

/** `--volumes`: after the containers, so volumes only stopped containers used go too. */
async function removeVolumes(paths: Paths, report: PruneReport): Promise<void> {
  const sizes = new Map(unusedVolumes(paths).map((n) => [n, dirSize(volumeDataDir(volumesPath(paths), n))]));
  for (const n of await pruneVolumes(paths)) {
    report.volumes.push(n);
    report.reclaimed += sizes.get(n) ?? 0;
  }
}

export async function pruneSystem(paths: Paths, o: { all: boolean; volumes?: boolean }): Promise<PruneReport> {
  const report: PruneReport = { containers: [], volumes: [], images: [], reclaimed: 0 };
  if (!existsSync(paths.root)) return report;
  const store = new Store(paths).init();
  await removeContainers(paths, report);
  if (o.volumes) await removeVolumes(paths, report);
  await pruneImages(paths, store, o.all, report);
  await store.sweepTemp();
  return report;
}
