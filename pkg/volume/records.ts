// Volumes on disk, podman's local driver layout, in the volumes directory
// (--volumepath, else <root>/volumes: volumesPath in pkg/config):
//   <vols>/<name>/_data          what containers see (bind-mounted)
//   <vols>/<name>/volume.json    the record
//   <vols>/<name>/copyup.lock    held while image content is copied in
//   <vols>/.lock                 held while a name is claimed or a volume removed
// (no volume name starts with a dot, so .lock and the .tmp-* dirs never clash with one)
// A volume is assembled in a temp dir beside the others and renamed into
// place, so one under its final name is always whole; a removed one is
// renamed into <root>/tmp (or, for a --volumepath elsewhere, into
// <vols>/.rm-*) first, then deleted in the storage namespace
// (files in it may belong to subordinate ids).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { ensurePrivateDir } from "../config/index.ts";
import { pidAlive, withLock, writeFileAtomic, type Store } from "../store/index.ts";
import { isVolumeName } from "./names.ts";
import { volumeEvent } from "../events/index.ts";
import { volumeSource } from "./options.ts";

export type VolumeRecord = {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
  /** made for one container (`-v /path`); `rm -v` and `run --rm` remove it with that container */
  anonymous: boolean;
  /** the image's content at the mount point is still to be copied in, by the first container that mounts it */
  needsCopyUp: boolean;
  /** `volume create -o` (type, device, o), as podman's Options: a tmpfs or a host directory instead of _data (options.ts) */
  options?: Record<string, string>;
  /** `volume create --uid/--gid`: _data's owner (storage namespace ids), which a copy-up keeps */
  uid?: number;
  gid?: number;
};

export const volumeDir = (vols: string, name: string) => join(vols, name);
/** The mount point: what a container sees, and what `volume inspect` calls Mountpoint. */
export const volumeDataDir = (vols: string, name: string) => join(volumeDir(vols, name), "_data");
const recordFile = (vols: string, name: string) => join(volumeDir(vols, name), "volume.json");

export function readVolume(vols: string, name: string): VolumeRecord | undefined {
  if (!isVolumeName(name)) return undefined;
  try {
    return JSON.parse(readFileSync(recordFile(vols, name), "utf8")) as VolumeRecord;
  } catch {
    return undefined;
  }
}

/** Every volume, sorted by name; directories without a record (none under a valid name, normally) are skipped. */
export function listVolumes(vols: string): VolumeRecord[] {
  let names: string[];
  try {
    names = readdirSync(vols);
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => readVolume(vols, n))
    .filter((v): v is VolumeRecord => v !== undefined);
}

export function writeVolume(vols: string, v: VolumeRecord): void {
  writeFileAtomic(recordFile(vols, v.name), JSON.stringify(v, null, 2));
}

function withVolumesLock<T>(vols: string, fn: () => Promise<T> | T): Promise<T> {
  ensurePrivateDir(vols);
  return withLock(join(vols, ".lock"), "write", fn);
}

/** Temp dirs of creators killed before their rename: they hold an empty _data and a record, all ours. */
function sweepPartial(vols: string): void {
  for (const n of readdirSync(vols)) {
    const m = /^\.tmp-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(vols, n), { recursive: true, force: true });
  }
}

export type NewVolume = { name: string; labels: Record<string, string>; anonymous: boolean; options?: Record<string, string>; uid?: number; gid?: number };

/** Gives _data the volume's --uid/--gid (through the storage worker), keeping its mode. */
export async function ownVolumeData(store: Store, v: VolumeRecord): Promise<void> {
  if (v.uid === undefined && v.gid === undefined) return;
  const data = volumeDataDir(store.volumes, v.name);
  await store.chownFiles([{ path: data, uid: v.uid ?? 0, gid: v.gid ?? 0, mode: statSync(data).mode & 0o7777 }]);
}

/**
 * Creates a volume under the volumes lock. An existing one of that name is an
 * error with "fail", and is returned as it is with "reuse" (`-v NAME:/path`
 * on a second container, `volume create --ignore`). `created` says whether
 * this call made it.
 */
export async function createVolume(vols: string, init: NewVolume, ifExists: "fail" | "reuse"): Promise<{ volume: VolumeRecord; created: boolean }> {
  return withVolumesLock(vols, () => {
    const old = readVolume(vols, init.name);
    if (old) {
      if (ifExists === "reuse") return { volume: old, created: false };
      throw new PodError(`volume with name ${init.name} already exists: volume already exists`, {
        hint: `use it as it is (-v ${init.name}:/path), remove it first (pod volume rm ${init.name}), or pass --ignore`,
      });
    }
    if (existsSync(volumeDir(vols, init.name)))
      throw new PodError(`${volumeDir(vols, init.name)} exists but holds no volume record`, {
        hint: `remove it (pod unshare rm -rf ${volumeDir(vols, init.name)}) or pick another name`,
      });
    sweepPartial(vols);
    // a tmpfs or bind volume has no _data of its own to fill
    const hasOptions = Object.keys(init.options ?? {}).length > 0;
    // -o o=uid=,gid= alone still leaves a plain _data to fill
    const mounted = volumeSource(init.options) !== undefined;
    const volume: VolumeRecord = { ...init, ...(hasOptions ? {} : { options: undefined }), createdAt: new Date().toISOString(), needsCopyUp: !mounted };
    const tmp = join(vols, `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      mkdirSync(tmp, { mode: 0o700 });
      mkdirSync(join(tmp, "_data"), { mode: 0o755 });
      writeFileAtomic(join(tmp, "volume.json"), JSON.stringify(volume, null, 2));
      renameSync(tmp, volumeDir(vols, init.name));
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw new PodError(`creating volume ${init.name}: ${(e as Error).message}`, { hint: "check free disk space and the permissions of the volumes directory", cause: e });
    }
    return { volume, created: true };
  });
}

/**
 * Removes volumes by name, without asking whether a container uses them (the
 * caller decides that). Each is renamed out of volumes/ under the lock, then
 * deleted in the storage namespace.
 */
export async function removeVolumeDirs(store: Store, names: string[]): Promise<void> {
  if (!names.length) return;
  const vols = store.volumes;
  store.init();
  const gone: string[] = [];
  const doomed = await withVolumesLock(vols, () => {
    const moved: string[] = [];
    for (const name of names) {
      if (!isVolumeName(name) || !existsSync(volumeDir(vols, name))) continue;
      gone.push(name);
      // renamed within one file system: into the store's tmp/ when the volumes live under the root
      const to = vols === join(store.root, "volumes") ? join(store.root, "tmp", `${process.pid}-rm-vol-${name}`) : join(vols, `.rm-${process.pid}-${name}`);
      renameSync(volumeDir(vols, name), to);
      moved.push(to);
    }
    return moved;
  });
  for (const name of gone) await volumeEvent(store.paths, name, "remove");
  await store.removeTrees(doomed);
}
