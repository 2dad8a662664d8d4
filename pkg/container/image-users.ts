// What the image catalog needs to know of containers: which of them use an
// image (rmi refuses to delete it, prune skips it), how to remove them
// (`rmi -f`), and a lock that keeps new containers from being created while
// images are deleted, so a `run` cannot pick an image rmi is removing.
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { Paths } from "../config/index.ts";
import { withLock } from "../store/lock.ts";
import { containersDir, listRecords } from "./records.ts";
import { removeContainer } from "./lifecycle.ts";

/** Shaped as pkg/catalog's ImageUsers. */
export function imageUsers(paths: Paths) {
  return {
    usersOf: (imageId: string) => listRecords(paths.root).filter((r) => r.imageId === imageId).map((r) => ({ id: r.id, name: r.name })),
    async remove(ids: string[]) {
      for (const rec of listRecords(paths.root).filter((r) => ids.includes(r.id))) await removeContainer(paths, rec, true);
    },
    locked<T>(fn: () => Promise<T>): Promise<T> {
      mkdirSync(containersDir(paths.root), { recursive: true, mode: 0o700 });
      return withLock(join(containersDir(paths.root), "containers.lock"), "write", fn);
    },
  };
}
