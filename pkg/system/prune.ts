// `pod system prune`: removes the containers that are not running, then
// images no container uses (the dangling ones, unless `all`: pkg/catalog pruneImages), and
// reports what it freed.
import { existsSync } from "node:fs";
import { volumesPath, type Paths } from "../config/index.ts";
import { Store } from "../store/index.ts";
import { pruneImages } from "../catalog/index.ts";
import { cacheMountsDir, sweepBuildCache } from "../build/executor/cache.ts";
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

/** podman's image prune (pkg/catalog): dangling images, or with `all` every image no container uses, until nothing more goes. */
async function removeImages(paths: Paths, store: Store, all: boolean, report: PruneReport): Promise<void> {
  const sizeBefore = layersSize(store, store.images());
  report.images.push(...(await pruneImages(store, { all, filters: [], users: imageUsers(paths) })));
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

/** The build cache's entries for images that went; with `build` the RUN cache mounts too (their size counted). */
async function removeBuildCache(store: Store, build: boolean, report: PruneReport): Promise<void> {
  const mountsSize = build ? dirSize(cacheMountsDir(store.paths.root)) : 0;
  const { mounts } = await sweepBuildCache(store, { mounts: build });
  if (mounts.length) report.reclaimed += mountsSize;
}

export async function pruneSystem(paths: Paths, o: { all: boolean; volumes?: boolean; build?: boolean }): Promise<PruneReport> {
  const report: PruneReport = { containers: [], volumes: [], images: [], reclaimed: 0 };
  if (!existsSync(paths.root)) return report;
  const store = new Store(paths).init();
  await removeContainers(paths, report);
  if (o.volumes) await removeVolumes(paths, report);
  await removeImages(paths, store, o.all, report);
  await removeBuildCache(store, Boolean(o.build), report);
  await store.sweepTemp();
  return report;
}
