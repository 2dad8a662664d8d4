// What the store knows of a layer's blobs elsewhere (c/image's blob info
// cache): for a diffID, the compressed blobs it has been pulled as or pushed
// as, and the registry repositories that hold them. A push asks registries
// about these first (HEAD, then a cross-repository mount) before it
// compresses and uploads anything. Losing the file loses only speed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { withLock } from "./lock.ts";
import { writeFileAtomic } from "./atomic.ts";

export type BlobInfo = { diffID: string; digest: string; compression: "gzip" | "zstd" | "none"; size: number; locations: string[] };

const MAX_ENTRIES = 4096;
const MAX_LOCATIONS = 16;

const file = (root: string) => join(root, "blob-info.json");

export function readBlobInfo(root: string): BlobInfo[] {
  try {
    const v = JSON.parse(readFileSync(file(root), "utf8"));
    return Array.isArray(v?.blobs) ? v.blobs : [];
  } catch {
    return [];
  }
}

/** Candidates for a diffID in a compression, most recent first. */
export function blobsFor(root: string, diffID: string, compression: BlobInfo["compression"]): BlobInfo[] {
  return readBlobInfo(root).filter((b) => b.diffID === diffID && b.compression === compression);
}

/** Records that `location` ("host/repository") holds `digest` for `diffID`. */
export async function recordBlob(root: string, info: Omit<BlobInfo, "locations">, location: string): Promise<void> {
  await withLock(join(root, "blob-info.lock"), "write", () => {
    const all = readBlobInfo(root).filter((b) => !(b.diffID === info.diffID && b.digest === info.digest));
    const old = readBlobInfo(root).find((b) => b.diffID === info.diffID && b.digest === info.digest);
    const locations = [location, ...(old?.locations ?? []).filter((l) => l !== location)].slice(0, MAX_LOCATIONS);
    writeFileAtomic(file(root), JSON.stringify({ blobs: [{ ...info, locations }, ...all].slice(0, MAX_ENTRIES) }));
  });
}
