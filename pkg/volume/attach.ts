// Volumes of a container being created: -v and --mount values are sorted
// (planVolumes, before any pull), then each volume is made if missing (a new
// random one for an anonymous volume) and, while it is still new and empty,
// filled with what the image has at the mount point, owners and modes kept
// (docker's and podman's copy-up). The container record keeps where each
// volume lives, so `start` binds it without looking anything up.
import { readdirSync } from "node:fs";
import { join, posix } from "node:path";
import { withLock, type Store } from "../store/index.ts";
import { resolveImagePath, type RunOptions, type VolumeMount } from "../runtime/index.ts";
import { log } from "../output/index.ts";
import { parseMountFlag, parseVolumeFlag, type VolumeRequest } from "./flags.ts";
import { newVolumeName } from "./names.ts";
import { volumeSource } from "./options.ts";
import { createVolume, ownVolumeData, readVolume, removeVolumeDirs, volumeDataDir, volumeDir, writeVolume } from "./records.ts";
import { volumeEvent } from "../events/index.ts";

/** The container's mounts sorted by kind: -v binds and --tmpfs values for pkg/runtime, and the volumes to attach. */
export type VolumePlan = { volumes: string[]; tmpfs: string[]; requests: VolumeRequest[] };

/** Sorts -v and --mount values; a syntax error fails here, before anything is pulled or made. */
export function planVolumes(opts: Pick<RunOptions, "volumes" | "tmpfs" | "mounts">): VolumePlan {
  const plan: VolumePlan = { volumes: [], tmpfs: [...opts.tmpfs], requests: [] };
  for (const m of [...opts.volumes.map(parseVolumeFlag), ...(opts.mounts ?? []).map(parseMountFlag)]) {
    if (m.kind === "bind") plan.volumes.push(m.volume);
    else if (m.kind === "tmpfs") plan.tmpfs.push(m.tmpfs);
    else plan.requests.push(m);
  }
  return plan;
}

/** The container path a -v bind value ("HOST:CTR[:OPTS]") or a --tmpfs value ("CTR[:OPTS]") mounts at. */
const targetOf = (value: string, field: 0 | 1) => posix.normalize(value.split(":")[field] ?? "").replace(/(.)\/$/, "$1");

/**
 * The image's VOLUME paths, as --image-volume says (podman's default, bind:
 * an anonymous volume filled from the image; tmpfs: a tmpfs; ignore:
 * nothing). A path the user mounts something at keeps the user's mount.
 */
export function withImageVolumes(plan: VolumePlan, imageVolumes: string[], mode: "bind" | "tmpfs" | "ignore"): VolumePlan {
  if (mode === "ignore" || !imageVolumes.length) return plan;
  const taken = new Set([...plan.volumes.map((v) => targetOf(v, 1)), ...plan.tmpfs.map((t) => targetOf(t, 0)), ...plan.requests.map((r) => r.target)]);
  const out: VolumePlan = { volumes: [...plan.volumes], tmpfs: [...plan.tmpfs], requests: [...plan.requests] };
  for (const raw of [...imageVolumes].sort()) {
    if (!raw.startsWith("/")) continue;
    const target = targetOf(raw, 0);
    if (taken.has(target) || target.includes(":")) continue;
    taken.add(target);
    if (mode === "tmpfs") out.tmpfs.push(`${target}:rw,exec,nosuid,nodev`);
    else out.requests.push({ kind: "volume", target, readonly: false, copyUp: true });
  }
  return out;
}

function isEmptyDir(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch (e) {
    // A container may have made the volume's root private to one of its users: then it is in use, not new.
    if ((e as NodeJS.ErrnoException).code === "EACCES") return false;
    throw e;
  }
}

/**
 * Copies the image's directory at `target` into the volume the first time a
 * container mounts it, under the volume's own lock: of several containers
 * starting at once with the same new volume, one copies and the others find
 * it done. A volume that already holds files is left alone.
 */
async function copyUp(store: Store, layerDirs: string[], name: string, target: string): Promise<void> {
  const vols = store.volumes;
  await withLock(join(volumeDir(vols, name), "copyup.lock"), "write", async () => {
    const vol = readVolume(vols, name);
    if (!vol?.needsCopyUp) return;
    const data = volumeDataDir(vols, name);
    const at = resolveImagePath(layerDirs, target);
    if (at?.entry?.st.isDirectory() && isEmptyDir(data)) {
      log.debug(`volume ${name}: copying ${at.path} of the image into it`);
      await store.copySubtree(layerDirs, at.path, data);
      // --uid/--gid: the owner given stays (the copy gave _data the image directory's)
      await ownVolumeData(store, vol);
    }
    writeVolume(vols, { ...vol, needsCopyUp: false });
  });
}

/**
 * Makes the plan's volumes exist and fills new ones from the image
 * (`layerDirs`, bottom first). Returns the options to record: binds and tmpfs
 * as pkg/runtime reads them, and the volumes resolved to their directories.
 * On failure the anonymous volumes it made are removed again.
 */
export async function attachVolumes(store: Store, layerDirs: string[], plan: VolumePlan): Promise<Pick<RunOptions, "volumes" | "tmpfs" | "mounts" | "volumeMounts">> {
  const mounts: VolumeMount[] = [];
  try {
    for (const r of plan.requests) {
      const anonymous = r.name === undefined;
      const { volume, created } = await createVolume(store.volumes, { name: r.name ?? newVolumeName(), labels: {}, anonymous }, "reuse");
      if (created) await volumeEvent(store.paths, volume.name, "create");
      const src = volumeSource(volume.options);
      mounts.push({
        name: volume.name,
        source: src?.kind === "bind" ? src.device : volumeDataDir(store.volumes, volume.name),
        target: r.target,
        readonly: r.readonly || (src?.kind === "bind" && src.readonly),
        anonymous,
        ...(src?.kind === "tmpfs" ? { tmpfs: { source: src.device, flags: src.flags, data: src.data } } : {}),
        ...(src?.kind === "bind" && !src.recursive ? { recursive: false } : {}),
      });
      if (r.copyUp && volume.needsCopyUp && !src) await copyUp(store, layerDirs, volume.name, r.target);
    }
  } catch (e) {
    await removeAnonymousVolumes(store, mounts);
    throw e;
  }
  return { volumes: plan.volumes, tmpfs: plan.tmpfs, mounts: undefined, volumeMounts: mounts };
}

/** Removes the anonymous volumes among a container's mounts (`rm -v`, `run --rm`); named ones stay. */
export async function removeAnonymousVolumes(store: Store, mounts: VolumeMount[] | undefined): Promise<void> {
  const names = (mounts ?? []).filter((m) => m.anonymous).map((m) => m.name);
  if (names.length) log.debug(`removing anonymous volumes ${names.join(", ")}`);
  await removeVolumeDirs(store, names);
}
