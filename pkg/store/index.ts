// The local store: image index, blobs, extracted layers, locks, temp space.
// It knows nothing of registries or the network.
export { Store, pidAlive, type LayerInfo } from "./store.ts";
export { findImage, noSuchImage, upsertImage, type ImageRecord, type ImageQuery } from "./images.ts";
export { executeStorageJob, runStorageJob } from "./worker.ts";
export { withLock } from "./lock.ts";
export { writeFileAtomic } from "./atomic.ts";
