// How much disk a container holds: the bytes of regular files in its own
// writable layer (upper), or in its copied root for the vfs driver. `ps
// --size`, `system df` and `system prune` count the same way.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { containerDir } from "../record/records.ts";

/**
 * Bytes of regular files under dir, by lstat. Directories of other
 * subordinate ids with mode 0700 cannot be listed from outside the user
 * namespace; what is inside them is not counted.
 */
export function dirSize(dir: string): number {
  let total = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0; // absent, or another subordinate id's private directory: nothing we can count
  }
  for (const n of names) {
    const p = join(dir, n);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) total += dirSize(p);
    else if (st.isFile()) total += st.size;
  }
  return total;
}

/** A container's own writable layer (upper), or its copied root for the vfs driver. */
export function containerRwSize(root: string, id: string): number {
  const dir = containerDir(root, id);
  return dirSize(join(dir, "upper")) + dirSize(join(dir, "rootfs"));
}
