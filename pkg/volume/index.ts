// pkg/volume owns volumes: podman's local driver layout under <root>/volumes or --volumepath
// (a record and a _data directory per volume, made atomically under a lock),
// the volume grammar of -v and --mount, attaching volumes to a container being
// created (made on first use, filled from the image while new), and the
// `pod volume` verbs. Files in volumes may belong to subordinate ids, so
// copying into and deleting them goes through the store's storage-namespace
// worker. It must not print, and it knows containers only through their
// records (and pkg/container's removeContainer for `volume rm -f`).
export { checkVolumeName, isVolumeName, newVolumeName } from "./names.ts";
export { listVolumes, volumeDataDir, type VolumeRecord } from "./records.ts";
export { parseMountFlag, parseVolumeFlag, type FlagMount, type VolumeRequest } from "./flags.ts";
export { attachVolumes, planVolumes, removeAnonymousVolumes, withImageVolumes, type VolumePlan } from "./attach.ts";
export {
  createNamedVolume,
  inspectVolumes,
  listVolumeViews,
  mountVolumes,
  pruneVolumes,
  removeVolumes,
  unusedVolumes,
  volumeExists,
  type VolumeView,
} from "./manage.ts";
export { parsePruneFilters, type PruneFilter } from "./prune-filter.ts";
export { parseVolumeOptions, volumeSource, type VolumeSource } from "./options.ts";
