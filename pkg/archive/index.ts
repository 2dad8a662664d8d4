// pkg/archive owns images as files: saving them to docker-archive,
// oci-archive and OCI or dir: layouts, loading archives into the store, and
// the storage-worker jobs that give layers back byte for byte (a push's
// layer blobs too). It talks to no registry.
export { saveImages, parseSaveFormat, pickImages, jobImage, type SaveOptions } from "./save.ts";
export { loadArchive, type LoadOptions, type LoadResult } from "./load.ts";
export { registerArchiveJobs, runBlobs, runWrite } from "./jobs.ts";
export { MT, SAVE_FORMATS, imageManifest, layerMediaType, hexOf, type SaveFormat, type Descriptor, type LayerCompression } from "./layout.ts";
export { applyChanges, childConfig, splitChange, CHANGE_INSTRUCTIONS, type ImageConfigDoc, type ContainerConfig } from "./image-config.ts";
export { storeNewImage, type NewImage } from "./new-image.ts";
export { importTarball, type ImportOptions } from "./import.ts";
