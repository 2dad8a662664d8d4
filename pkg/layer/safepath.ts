// Lexical cleaning of tar entry names. A name is resolved against the layer
// root by text alone, never by asking the kernel, so a symlink in the layer
// cannot redirect it; the writer separately refuses to pass through symlinks.
import { PodError } from "../errors.ts";

/** Longest entry path accepted, in bytes (PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Longest single name accepted, in bytes (NAME_MAX). */
export const MAX_NAME_BYTES = 255;

/**
 * Returns `raw` relative to the layer root: no leading "/", no "." or empty
 * components, ".." resolved; "" names the root itself. An absolute name is
 * taken as relative to the root (tar's own --absolute-names off).
 * Throws a PodError when ".." climbs above the root or a length cap is hit.
 */
export function cleanEntryPath(raw: string): string {
  const out: string[] = [];
  for (const part of raw.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) throw new PodError(`entry ${JSON.stringify(raw)} escapes the layer root`);
      out.pop();
      continue;
    }
    if (part.length > MAX_NAME_BYTES / 3 && Buffer.byteLength(part) > MAX_NAME_BYTES) {
      throw new PodError(`entry ${JSON.stringify(raw)}: a name is longer than ${MAX_NAME_BYTES} bytes`);
    }
    out.push(part);
  }
  const rel = out.join("/");
  if (rel.length > MAX_PATH_BYTES / 3 && Buffer.byteLength(rel) > MAX_PATH_BYTES) {
    throw new PodError(`entry ${JSON.stringify(raw.slice(0, 64))}…: path is longer than ${MAX_PATH_BYTES} bytes`);
  }
  return rel;
}

/** The parent of a cleaned path ("" for top-level names and for the root). */
export function parentOf(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "" : rel.slice(0, i);
}

/** The last component of a cleaned path. */
export function baseOf(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}
