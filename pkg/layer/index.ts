// pkg/layer owns applying layer tars to disk: decompression, the diffID, the
// safe no-escape extraction, and the whiteout forms (OCI tar markers and their
// overlay equivalents). It downloads nothing and knows no storage layout: the
// caller (pkg/store) hands it a blob path and an empty directory.
export { extractLayer, detectCompression, readTar, type Compression, type ExtractOptions, type ExtractResult } from "./apply.ts";
export type { TarEntry, TarSink } from "./_tar-reader.ts";
export { cleanEntryPath, MAX_NAME_BYTES, MAX_PATH_BYTES } from "./safepath.ts";
export {
  classifyWhiteout,
  isOverlayWhiteout,
  OPAQUE_MARKER,
  OPAQUE_XATTR,
  WHITEOUT_META_PREFIX,
  WHITEOUT_PREFIX,
  type WhiteoutKind,
} from "./whiteout.ts";
export { replayLayer, TAR_SPLIT_FILE, type ReplayResult } from "./tar-split.ts";
export { FdSink, TarWriter, type TarHeader } from "./tar-writer.ts";
