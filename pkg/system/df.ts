// `pod system df`: what images, containers and volumes take on disk, and how
// much of it `pod system prune -a` could give back.
import { volumesPath, type Paths } from "../config/index.ts";
import { Store, type ImageRecord } from "../store/index.ts";
// records.ts, not the folder's index: the index pulls in `run` and the native core
import { listRecords } from "../container/records.ts";
import { listVolumes, unusedVolumes, volumeDataDir } from "../volume/index.ts";
import { containerSize, dirSize, isRunning } from "./containers.ts";

export type DfRow = { Type: string; Total: number; Active: number; RawSize: number; RawReclaimable: number; Size: string; Reclaimable: string };

const units = ["B", "kB", "MB", "GB", "TB", "PB"];

/** docker/go-units HumanSize, as podman's df prints it: four significant digits, no space ("8.091MB"). */
export function compactSize(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

export function dfRow(type: string, total: number, active: number, size: number, reclaimable: number): DfRow {
  const percent = size > 0 ? Math.round((reclaimable / size) * 100) : 0;
  return { Type: type, Total: total, Active: active, RawSize: size, RawReclaimable: reclaimable, Size: compactSize(size), Reclaimable: `${compactSize(reclaimable)} (${percent}%)` };
}

/** Bytes of the distinct layers of images (shared layers count once). */
export function layersSize(store: Store, images: ImageRecord[]): number {
  const layers = new Set(images.flatMap((i) => i.layers));
  let total = 0;
  for (const l of layers) total += store.layerInfo(l)?.size ?? 0;
  return total;
}

/** Volumes: active ones are those a container records; the others are what `prune --volumes` frees. */
function volumesRow(paths: Paths): DfRow {
  const sizes = new Map(listVolumes(volumesPath(paths)).map((v) => [v.name, dirSize(volumeDataDir(volumesPath(paths), v.name))]));
  const unused = unusedVolumes(paths);
  const total = [...sizes.values()].reduce((n, s) => n + s, 0);
  return dfRow("Local Volumes", sizes.size, sizes.size - unused.length, total, unused.reduce((n, v) => n + (sizes.get(v) ?? 0), 0));
}

export function diskUsage(paths: Paths): DfRow[] {
  const store = new Store(paths);
  const images = store.images();
  const containers = listRecords(paths.root);
  const used = new Set(containers.map((c) => c.imageId));
  const active = images.filter((i) => used.has(i.id));
  const imagesSize = layersSize(store, images);
  const sizes = containers.map((c) => ({ running: isRunning(c), size: containerSize(paths.root, c.id) }));
  const containersSize = sizes.reduce((n, s) => n + s.size, 0);
  return [
    dfRow("Images", images.length, active.length, imagesSize, imagesSize - layersSize(store, active)),
    dfRow("Containers", containers.length, sizes.filter((s) => s.running).length, containersSize, sizes.filter((s) => !s.running).reduce((n, s) => n + s.size, 0)),
    volumesRow(paths),
  ];
}
