// What `df`, `info` and `prune` need to know about containers beyond their
// records: whether they really run, and how much disk each one holds.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
// records.ts and state.ts, not the folder's index: `pod info` and `df` need no launch code
import { containerDir, type ContainerRecord } from "../container/records.ts";
import { isUp, statusOf } from "../container/state.ts";

/** Running for real, or paused: a record left "running" by a killed pod is not (state.ts decides). */
export function isRunning(r: ContainerRecord): boolean {
  return isUp(statusOf(r));
}

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
export function containerSize(root: string, id: string): number {
  const dir = containerDir(root, id);
  return dirSize(join(dir, "upper")) + dirSize(join(dir, "rootfs"));
}
