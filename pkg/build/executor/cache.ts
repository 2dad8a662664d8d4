// The layer cache: a step's key (its parent's key, the instruction after
// expansion, what it reads: the ARG values it sees, the digest of the files
// it copies) names the image that step made before. Entries are written when
// a step's image is stored, so a failed build keeps the steps before its
// failure; an entry whose image is gone (pruned, removed) is a miss. The index
// is one JSON file changed under a lock, so concurrent builds share it.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { withLock, writeFileAtomic, type Store } from "../../store/index.ts";

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

/** Where RUN --mount=type=cache directories live, one per id. */
export function cacheMountsDir(root: string): string {
  return join(root, "build-cache", "mounts");
}

/**
 * What `image prune` and `system prune` do to the build cache: entries whose
 * images went are dropped; with `mounts` (`system prune --build`) the RUN cache
 * mounts go too, through the storage worker since RUN steps wrote them as the
 * namespace's users. Returns the number of entries dropped and the mount dirs removed.
 */
export async function sweepBuildCache(store: Store, o: { mounts: boolean }): Promise<{ entries: number; mounts: string[] }> {
  const root = store.paths.root;
  const ids = new Set(store.images().map((i) => i.id));
  const entries = existsSync(join(root, "build-cache.json")) ? await new BuildCache(root).sweep((id) => ids.has(id)) : 0;
  const dir = cacheMountsDir(root);
  const mounts = o.mounts && existsSync(dir) ? readdirSync(dir).map((n) => join(dir, n)) : [];
  if (mounts.length) await store.removeTrees(mounts);
  return { entries, mounts };
}
