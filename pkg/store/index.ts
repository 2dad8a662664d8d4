// The local store: image index, blobs, extracted layers, locks, temp space.
// It knows nothing of registries or the network.
export { Store, type LayerInfo } from "./store.ts";
export { findImage, noSuchImage, upsertImage, addNames, type ImageRecord, type ImageQuery } from "./images.ts";
export { executeStorageJob, registerJobKind, runStorageJob, type JobHandler, type VerifyResult } from "./worker.ts";
export { withLock, tryWithLock, removeLockIfFree } from "./lock.ts";
export { writeFileAtomic } from "./atomic.ts";
export { pidAlive, atomicTempPid, jobFilePid, tmpEntryPid, staleAtomicTemps, staleJobFiles, staleTmpEntries } from "./leftovers.ts";
export { treeMismatch, type TreeSummary } from "./tree.ts";
export { blobsFor, recordBlob, type BlobInfo } from "./blob-info.ts";
