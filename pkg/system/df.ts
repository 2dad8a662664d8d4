// `pod system df`: what images, containers and volumes take on disk, and how
// much of it `pod system prune -a` could give back.
import { volumesPath, type Paths } from "../config/index.ts";
import { Store, type ImageRecord } from "../store/index.ts";
// records.ts, not the folder's index: the index pulls in `run` and the native core
import { listRecords } from "../container/record/records.ts";
import { listVolumes, unusedVolumes, volumeDataDir } from "../volume/index.ts";
import { containerSize, dirSize, isRunning } from "./containers.ts";
import { statusOf } from "../container/record/state.ts";
import { humanDuration } from "../output/index.ts";

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

export type DfImageRow = { Repository: string; Tag: string; ImageID: string; Created: string; Size: string; SharedSize: string; UniqueSize: string; Containers: number };
export type DfContainerRow = { ContainerID: string; Image: string; Command: string; LocalVolumes: number; Size: string; Created: string; Status: string; Names: string };
export type DfVolumeRow = { VolumeName: string; Links: number; Size: string };
export type DfVerbose = { images: DfImageRow[]; containers: DfContainerRow[]; volumes: DfVolumeRow[] };

function repoTag(names: string[]): [string, string] {
  const n = names[0];
  if (!n) return ["<none>", "<none>"];
  const at = n.lastIndexOf(":");
  return at > n.lastIndexOf("/") ? [n.slice(0, at), n.slice(at + 1)] : [n, "<none>"];
}

/**
 * `system df -v`: podman 4's three tables, one row per image (its first
 * name), container and volume. An image's shared size is what its layers
 * share with another image; a volume's links are the containers that record
 * it; a container's status is its state word (running, exited, …), as podman's.
 */
export function diskUsageVerbose(paths: Paths, now = Date.now()): DfVerbose {
  const store = new Store(paths);
  const images = store.images();
  const containers = listRecords(paths.root);
  const layerUsers = new Map<string, number>();
  for (const i of images) for (const l of new Set(i.layers)) layerUsers.set(l, (layerUsers.get(l) ?? 0) + 1);
  const age = (t: string) => humanDuration(Math.max(0, now - Date.parse(t)));
  const imageRows = images.map((img): DfImageRow => {
    const layers = [...new Set(img.layers)];
    const size = layers.reduce((n, l) => n + (store.layerInfo(l)?.size ?? 0), 0);
    const shared = layers.filter((l) => (layerUsers.get(l) ?? 0) > 1).reduce((n, l) => n + (store.layerInfo(l)?.size ?? 0), 0);
    const [Repository, Tag] = repoTag(img.names);
    return {
      Repository,
      Tag,
      ImageID: img.id.slice(0, 12),
      Created: age(img.created),
      Size: compactSize(size),
      SharedSize: compactSize(shared),
      UniqueSize: compactSize(size - shared),
      Containers: containers.filter((c) => c.imageId === img.id).length,
    };
  });
  const containerRows = containers.map((c): DfContainerRow => ({
    ContainerID: c.id.slice(0, 12),
    Image: c.imageId.slice(0, 12),
    Command: c.command.join(" "),
    LocalVolumes: new Set((c.config?.opts.volumeMounts ?? []).map((m) => m.name)).size,
    Size: compactSize(containerSize(paths.root, c.id)),
    Created: age(c.created),
    Status: statusOf(c),
    Names: c.name,
  }));
  const volumeRows = listVolumes(volumesPath(paths)).map((v): DfVolumeRow => ({
    VolumeName: v.name,
    Links: containers.filter((c) => (c.config?.opts.volumeMounts ?? []).some((m) => m.name === v.name)).length,
    Size: compactSize(dirSize(volumeDataDir(volumesPath(paths), v.name))),
  }));
  return { images: imageRows, containers: containerRows, volumes: volumeRows };
}
