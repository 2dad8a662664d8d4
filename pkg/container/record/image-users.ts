// What the image catalog needs to know of containers: which of them use an
// image (rmi refuses to delete it, prune skips it), how to remove them
// (`rmi -f`), and a lock that keeps new containers from being created while
// images are deleted, so a `run` cannot pick an image rmi is removing. And
// `run --rmi`'s removal of the image its container used.
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import type { Paths } from "../../config/index.ts";
import { withLock } from "../../store/lock.ts";
import { containersDir, listRecords } from "./records.ts";
import { removeContainer } from "../engine/lifecycle.ts";
import { log } from "../../output/index.ts";

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

/** --rmi: the image goes once its container is gone; one that another container uses stays, with a warning (podman's). */
export async function removeRunImage(paths: Paths, image: string): Promise<void> {
  const { removeImages } = await import("../../catalog/index.ts");
  const { Store } = await import("../../store/index.ts");
  try {
    const r = await removeImages(new Store(paths), [image], { force: false, all: false, users: imageUsers(paths) });
    for (const e of r.errors) log.warn(`Failed removing image ${image}: ${e.message}`);
  } catch (e) {
    log.warn(`Failed removing image ${image}: ${(e as Error).message}`);
  }
}