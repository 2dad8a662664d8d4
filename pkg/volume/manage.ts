// The `pod volume` verbs: create, ls, inspect, rm, prune, exists, and the
// shapes podman prints for them. A volume is in use while any container
// (running or not) records it; rm refuses those unless forced, and then
// removes the containers first, as podman does.
import { NoSuchVolume, PodError, UsageError } from "../errors.ts";
import { Store } from "../store/index.ts";
import { volumesPath, type Paths } from "../config/index.ts";
// records.ts, not the folder's index: the index reaches back into this folder (run.ts attaches volumes)
import { listRecords, type ContainerRecord } from "../container/record/records.ts";
import { checkVolumeName, newVolumeName } from "./names.ts";
import { createVolume, listVolumes, ownVolumeData, readVolume, removeVolumeDirs, volumeDataDir, type VolumeRecord } from "./records.ts";
import { volumeEvent } from "../events/index.ts";
import { parsePruneFilters } from "./prune-filter.ts";
import { ownerOptions, parseVolumeOptions } from "./options.ts";
import { storageMaps } from "../userns/index.ts";
import { idIsMapped } from "../runtime/index.ts";

/** How many ids a map (inside, outside, count triples) covers. */
const idCount = (map: number[]) => map.reduce((n, v, i) => (i % 3 === 2 ? n + v : n), 0);

/** `volume inspect` and `volume ls --format json`: podman's InspectVolumeData, fields in its order. */
export function volumeInspect(vols: string, v: VolumeRecord) {
  return {
    Name: v.name,
    Driver: "local",
    Mountpoint: volumeDataDir(vols, v.name),
    CreatedAt: v.createdAt,
    Labels: v.labels,
    Scope: "local",
    Options: { ...v.options } as Record<string, string>,
    ...(v.anonymous ? { Anonymous: true } : {}),
    ...(v.uid !== undefined ? { UID: v.uid } : {}),
    ...(v.gid !== undefined ? { GID: v.gid } : {}),
    MountCount: 0,
    ...(v.needsCopyUp ? { NeedsCopyUp: true } : {}),
  };
}

export type VolumeView = ReturnType<typeof volumeInspect>;

/** Containers by the volumes they record. */
function volumeUsers(root: string): Map<string, ContainerRecord[]> {
  const users = new Map<string, ContainerRecord[]>();
  for (const rec of listRecords(root))
    for (const m of rec.config?.opts.volumeMounts ?? []) users.set(m.name, [...(users.get(m.name) ?? []), rec]);
  return users;
}

function parseLabels(values: string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of values) {
    const eq = l.indexOf("=");
    const key = eq < 0 ? l : l.slice(0, eq);
    if (!key) throw new UsageError(`invalid label ${JSON.stringify(l)}: empty key`, { hint: "use --label KEY=VALUE or --label KEY" });
    labels[key] = eq < 0 ? "" : l.slice(eq + 1);
  }
  return labels;
}

/**
 * `volume create`: returns the name (a random one when none is given).
 * --uid/--gid give `_data` that owner (ids as containers see them with the
 * default mapping: the storage namespace's), kept when a container fills it
 * from the image (podman's WithVolumeNoChown).
 */
export async function createNamedVolume(paths: Paths, o: { name?: string; labels: string[]; ignore: boolean; options?: string[]; uid?: number; gid?: number }): Promise<string> {
  const name = o.name === undefined ? newVolumeName() : checkVolumeName(o.name);
  const labels = parseLabels(o.labels);
  const options = parseVolumeOptions(o.options ?? []);
  if ((o.uid !== undefined || o.gid !== undefined) && Object.keys(options).length)
    throw new UsageError("--uid and --gid own a volume's _data: not beside -o", { hint: "give the owner as --uid/--gid alone, or as -o o=uid=N,gid=N" });
  // podman 4: -o o=uid=N,gid=N alone owns a plain volume as --uid/--gid do
  const ids = { ...ownerOptions(options), ...(o.uid !== undefined ? { uid: o.uid } : {}), ...(o.gid !== undefined ? { gid: o.gid } : {}) };
  const owned = ids.uid !== undefined || ids.gid !== undefined;
  const maps = storageMaps();
  for (const [flag, id, map] of [["uid", ids.uid, maps.uid], ["gid", ids.gid, maps.gid]] as const)
    if (id !== undefined && !idIsMapped(map, id))
      throw new PodError(`--${flag} ${id}: the id is not mapped in pod's user namespace`, { hint: `containers see ids 0 to ${idCount(map) - 1}: your own and your subordinate ids (/etc/sub${flag})` });
  const store = new Store(paths).init();
  const owner = owned ? { uid: ids.uid ?? 0, gid: ids.gid ?? 0 } : {};
  const { volume, created } = await createVolume(volumesPath(paths), { name, labels, anonymous: false, ...(Object.keys(options).length ? { options } : {}), ...owner }, o.ignore ? "reuse" : "fail");
  if (created && owned) {
    try {
      await ownVolumeData(store, volume);
    } catch (e) {
      await removeVolumeDirs(store, [volume.name]);
      throw e;
    }
  }
  if (created) await volumeEvent(paths, volume.name, "create");
  return volume.name;
}

export function volumeExists(paths: Paths, name: string): boolean {
  return readVolume(volumesPath(paths), name) !== undefined;
}

function noSuchVolume(name: string): NoSuchVolume {
  return new NoSuchVolume(`no volume with name ${JSON.stringify(name)} found: no such volume`, { exit: 1, hint: "`pod volume ls` lists volumes" });
}

type Filter = { key: string; value: string };
const FILTER_KEYS = ["name", "label", "driver", "scope", "dangling"];

function parseFilter(f: string): Filter {
  const eq = f.indexOf("=");
  const key = f.slice(0, eq);
  if (eq <= 0 || !FILTER_KEYS.includes(key)) throw new UsageError(`invalid filter ${JSON.stringify(f)}`, { hint: `supported: ${FILTER_KEYS.map((k) => `${k}=`).join(", ")}` });
  const value = f.slice(eq + 1);
  if (key === "dangling" && !["true", "false", "1", "0"].includes(value))
    throw new UsageError(`invalid filter ${JSON.stringify(f)}: dangling takes true or false`, { hint: "--filter dangling=true lists volumes no container uses" });
  return { key, value };
}

function matches(v: VolumeRecord, f: Filter, used: Map<string, ContainerRecord[]>): boolean {
  switch (f.key) {
    case "name":
      return v.name === f.value;
    case "label": {
      const eq = f.value.indexOf("=");
      const key = eq < 0 ? f.value : f.value.slice(0, eq);
      return key in v.labels && (eq < 0 || v.labels[key] === f.value.slice(eq + 1));
    }
    case "driver":
    case "scope":
      return f.value === "local";
    default:
      return used.has(v.name) !== (f.value === "true" || f.value === "1");
  }
}

/**
 * `volume ls`: filters of one key match any of their values, different keys
 * must all match, and every label filter must match (podman's rules).
 */
export function listVolumeViews(paths: Paths, filterValues: string[]): VolumeView[] {
  const filters = filterValues.map(parseFilter);
  const used = filters.some((f) => f.key === "dangling") ? volumeUsers(paths.root) : new Map<string, ContainerRecord[]>();
  const byKey = new Map<string, Filter[]>();
  for (const f of filters) byKey.set(f.key, [...(byKey.get(f.key) ?? []), f]);
  return listVolumes(volumesPath(paths))
    .filter((v) => [...byKey].every(([key, fs]) => (key === "label" ? fs.every((f) => matches(v, f, used)) : fs.some((f) => matches(v, f, used)))))
    .map((v) => volumeInspect(volumesPath(paths), v));
}

/** `volume inspect`: the views of the volumes found, and an error for each name that is not one. */
export function inspectVolumes(paths: Paths, names: string[], all: boolean): { views: VolumeView[]; errors: PodError[] } {
  if (all) return { views: listVolumes(volumesPath(paths)).map((v) => volumeInspect(volumesPath(paths), v)), errors: [] };
  const views: VolumeView[] = [];
  const errors: PodError[] = [];
  for (const n of names) {
    const v = readVolume(volumesPath(paths), n);
    if (v) views.push(volumeInspect(volumesPath(paths), v));
    else errors.push(new NoSuchVolume(`no such volume ${n}`, { hint: "`pod volume ls` lists volumes" }));
  }
  return { views, errors };
}

/**
 * `volume rm`: removes each named volume (all with `all`); one in use by a
 * container is refused (exit 2) unless `force`, which removes those
 * containers first. With `force` a missing volume is no error. Returns what
 * was removed and an error per volume that was not. Without `timeout` a
 * running user is killed at once (as `pod rm -f`).
 */
export async function removeVolumes(
  paths: Paths,
  names: string[],
  o: { force: boolean; all: boolean; /** -t: seconds a running user gets to stop (its stop signal) before it is killed */ timeout?: number },
): Promise<{ removed: string[]; errors: PodError[] }> {
  const store = new Store(paths);
  const removed: string[] = [];
  const errors: PodError[] = [];
  const targets = o.all ? listVolumes(volumesPath(paths)).map((v) => v.name) : names;
  for (const name of targets) {
    if (!readVolume(volumesPath(paths), name)) {
      if (!o.force) errors.push(noSuchVolume(name));
      continue;
    }
    const users = volumeUsers(paths.root).get(name) ?? [];
    if (users.length && !o.force) {
      errors.push(
        new PodError(`volume ${name} is being used by the following container(s): ${users.map((u) => u.id).join(", ")}: volume is being used`, {
          exit: 2,
          hint: `remove ${users.length > 1 ? "those containers" : `the container (pod rm ${users[0]!.name})`} first, or use pod volume rm -f, which removes ${users.length > 1 ? "them" : "it"} too`,
        }),
      );
      continue;
    }
    if (users.length) {
      // Loaded here: pkg/container attaches volumes through this folder, so a static import would be a cycle.
      const { removeContainer, statusOf, stopContainer, stopSignalOf } = await import("../container/index.ts");
      for (const rec of users) {
        if (o.timeout !== undefined && statusOf(rec) === "running") await stopContainer(paths, rec, o.timeout, stopSignalOf(paths, rec));
        await removeContainer(paths, rec, true);
      }
    }
    await removeVolumeDirs(store, [name]);
    removed.push(name);
  }
  return { removed, errors };
}

/** Names of the volumes no container records and `--filter` values match: what `volume prune` removes. */
export function unusedVolumes(paths: Paths, filters: string[] = []): string[] {
  const match = parsePruneFilters(filters);
  const used = volumeUsers(paths.root);
  return listVolumes(volumesPath(paths))
    .filter((v) => !used.has(v.name) && match(v))
    .map((v) => v.name);
}

/** `volume prune`: removes every volume no container records (and the filters match); returns their names. */
export async function pruneVolumes(paths: Paths, filters: string[] = []): Promise<string[]> {
  const names = unusedVolumes(paths, filters);
  await removeVolumeDirs(new Store(paths), names);
  return names;
}

/**
 * `volume mount`/`volume unmount`, allowed only as root (or inside `pod
 * unshare`), as podman allows them. A volume is a plain directory, so
 * mounting it is finding its mount point; unmounting has nothing to undo.
 */
export function mountVolumes(paths: Paths, names: string[], verb: "mount" | "unmount"): { done: string[]; errors: PodError[] } {
  if (process.getuid!() !== 0)
    throw new PodError(`cannot run command "pod volume ${verb}" in rootless mode, must execute \`pod unshare\` first`, {
      hint: `pod unshare pod volume ${verb} ${names[0] ?? "NAME"}`,
    });
  const done: string[] = [];
  const errors: PodError[] = [];
  for (const n of names) {
    if (!readVolume(volumesPath(paths), n)) errors.push(noSuchVolume(n));
    else done.push(verb === "mount" ? volumeDataDir(volumesPath(paths), n) : n);
  }
  return { done, errors };
}
