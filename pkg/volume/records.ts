// Volumes on disk, podman's local driver layout:
//   <root>/volumes/<name>/_data          what containers see (bind-mounted)
//   <root>/volumes/<name>/volume.json    the record
//   <root>/volumes/<name>/copyup.lock    held while image content is copied in
//   <root>/volumes/.lock                 held while a name is claimed or a volume removed
// (no volume name starts with a dot, so .lock and the .tmp-* dirs never clash with one)
// A volume is assembled in a temp dir beside the others and renamed into
// place, so one under its final name is always whole; a removed one is
// renamed into <root>/tmp first, then deleted in the storage namespace
// (files in it may belong to subordinate ids).
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { ensurePrivateDir } from "../config/index.ts";
import { pidAlive, withLock, writeFileAtomic, type Store } from "../store/index.ts";
import { isVolumeName } from "./names.ts";

export type VolumeRecord = {
  name: string;
  createdAt: string;
  labels: Record<string, string>;
  /** made for one container (`-v /path`); `rm -v` and `run --rm` remove it with that container */
  anonymous: boolean;
  /** the image's content at the mount point is still to be copied in, by the first container that mounts it */
  needsCopyUp: boolean;
};

export const volumesDir = (root: string) => join(root, "volumes");
export const volumeDir = (root: string, name: string) => join(volumesDir(root), name);
/** The mount point: what a container sees, and what `volume inspect` calls Mountpoint. */
export const volumeDataDir = (root: string, name: string) => join(volumeDir(root, name), "_data");
const recordFile = (root: string, name: string) => join(volumeDir(root, name), "volume.json");

export function readVolume(root: string, name: string): VolumeRecord | undefined {
  if (!isVolumeName(name)) return undefined;
  try {
    return JSON.parse(readFileSync(recordFile(root, name), "utf8")) as VolumeRecord;
  } catch {
    return undefined;
  }
}

/** Every volume, sorted by name; directories without a record (none under a valid name, normally) are skipped. */
export function listVolumes(root: string): VolumeRecord[] {
  let names: string[];
  try {
    names = readdirSync(volumesDir(root));
  } catch {
    return [];
  }
  return names
    .sort()
    .map((n) => readVolume(root, n))
    .filter((v): v is VolumeRecord => v !== undefined);
}

export function writeVolume(root: string, v: VolumeRecord): void {
  writeFileAtomic(recordFile(root, v.name), JSON.stringify(v, null, 2));
}

function withVolumesLock<T>(root: string, fn: () => Promise<T> | T): Promise<T> {
  ensurePrivateDir(volumesDir(root));
  return withLock(join(volumesDir(root), ".lock"), "write", fn);
}

/** Temp dirs of creators killed before their rename: they hold an empty _data and a record, all ours. */
function sweepPartial(root: string): void {
  for (const n of readdirSync(volumesDir(root))) {
    const m = /^\.tmp-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(volumesDir(root), n), { recursive: true, force: true });
  }
}

export type NewVolume = { name: string; labels: Record<string, string>; anonymous: boolean };

/**
 * Creates a volume under the volumes lock. An existing one of that name is an
 * error with "fail", and is returned as it is with "reuse" (`-v NAME:/path`
 * on a second container, `volume create --ignore`). `created` says whether
 * this call made it.
 */
export async function createVolume(root: string, init: NewVolume, ifExists: "fail" | "reuse"): Promise<{ volume: VolumeRecord; created: boolean }> {
  return withVolumesLock(root, () => {
    const old = readVolume(root, init.name);
    if (old) {
      if (ifExists === "reuse") return { volume: old, created: false };
      throw new PodError(`volume with name ${init.name} already exists: volume already exists`, {
        hint: `use it as it is (-v ${init.name}:/path), remove it first (pod volume rm ${init.name}), or pass --ignore`,
      });
    }
    if (existsSync(volumeDir(root, init.name)))
      throw new PodError(`${volumeDir(root, init.name)} exists but holds no volume record`, {
        hint: `remove it (pod unshare rm -rf ${volumeDir(root, init.name)}) or pick another name`,
      });
    sweepPartial(root);
    const volume: VolumeRecord = { ...init, createdAt: new Date().toISOString(), needsCopyUp: true };
    const tmp = join(volumesDir(root), `.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
    try {
      mkdirSync(tmp, { mode: 0o700 });
      mkdirSync(join(tmp, "_data"), { mode: 0o755 });
      writeFileAtomic(join(tmp, "volume.json"), JSON.stringify(volume, null, 2));
      renameSync(tmp, volumeDir(root, init.name));
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      throw new PodError(`creating volume ${init.name}: ${(e as Error).message}`, { hint: "check free disk space and the permissions of the storage root", cause: e });
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
  const root = store.root;
  store.init();
  const doomed = await withVolumesLock(root, () => {
    const moved: string[] = [];
    for (const name of names) {
      if (!isVolumeName(name) || !existsSync(volumeDir(root, name))) continue;
      const to = join(root, "tmp", `${process.pid}-rm-vol-${name}`);
      renameSync(volumeDir(root, name), to);
      moved.push(to);
    }
    return moved;
  });
  await store.removeTrees(doomed);
}
