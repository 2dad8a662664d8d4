// The layer cache: a step's key (its parent's key, the instruction after
// expansion, what it reads: the ARG values it sees, the digest of the files
// it copies) names the image that step made before. Entries are written when
// a step's image is stored, so a failed build keeps the steps before its
// failure; an entry whose image is gone (pruned, removed) is a miss. The index
// is one JSON file changed under a lock, so concurrent builds share it.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withLock, writeFileAtomic } from "../../store/index.ts";

type Entries = Record<string, { image: string; at: string }>;

export function stepKey(parentKey: string, parts: string[]): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(parentKey);
  for (const p of parts) h.update(`\n${p.length}:${p}`);
  return h.digest("hex");
}

export class BuildCache {
  readonly #file: string;
  readonly #lock: string;

  constructor(root: string) {
    this.#file = join(root, "build-cache.json");
    this.#lock = join(root, "build-cache.lock");
  }

  #read(): Entries {
    if (!existsSync(this.#file)) return {};
    try {
      return JSON.parse(readFileSync(this.#file, "utf8")) as Entries;
    } catch {
      // a damaged index is an empty cache: the next build rewrites it
      return {};
    }
  }

  /** The image a step with this key made, if it is still in `exists`. */
  lookup(key: string, exists: (imageId: string) => boolean): string | undefined {
    const hit = this.#read()[key];
    return hit && exists(hit.image) ? hit.image : undefined;
  }

  async remember(key: string, image: string): Promise<void> {
    await withLock(this.#lock, "write", () => {
      const entries = this.#read();
      entries[key] = { image, at: new Date().toISOString() };
      writeFileAtomic(this.#file, JSON.stringify(entries));
    });
  }

  /** Drops the entries whose images are gone (`image prune`, `system prune`); returns how many. */
  async sweep(exists: (imageId: string) => boolean): Promise<number> {
    return withLock(this.#lock, "write", () => {
      const entries = this.#read();
      const kept = Object.fromEntries(Object.entries(entries).filter(([, v]) => exists(v.image)));
      const dropped = Object.keys(entries).length - Object.keys(kept).length;
      if (dropped > 0) writeFileAtomic(this.#file, JSON.stringify(kept));
      return dropped;
    });
  }
}
