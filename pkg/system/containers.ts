// What `df`, `info` and `prune` need to know about containers beyond their
// records: whether they really run, and how much disk each one holds.
// records.ts and state.ts, not the folder's index: `pod info` and `df` need no launch code
import type { ContainerRecord } from "../container/record/records.ts";
import { isUp, statusOf } from "../container/record/state.ts";

/** Running for real, or paused: a record left "running" by a killed pod is not (state.ts decides). */
export function isRunning(r: ContainerRecord): boolean {
  return isUp(statusOf(r));
}

export { dirSize } from "../container/fs/disk.ts";
export { containerRwSize as containerSize } from "../container/fs/disk.ts";
