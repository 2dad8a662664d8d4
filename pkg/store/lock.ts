// The one lock helper. flock(2) locks die with their process, so a pod killed
// with -9 never leaves a stale lock behind. Bun cannot block in flock without
// freezing its event loop, so a busy lock is polled with LOCK_NB.
import { openSync, closeSync, rmSync } from "node:fs";
import { flock, LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN } from "../native/libc.ts";

export type LockMode = "read" | "write";

export async function withLock<T>(lockFile: string, mode: LockMode, fn: () => Promise<T> | T): Promise<T> {
  const fd = openSync(lockFile, "a", 0o600);
  try {
    const op = (mode === "write" ? LOCK_EX : LOCK_SH) | LOCK_NB;
    let delay = 2;
    while (!flock(fd, op)) {
      await Bun.sleep(delay);
      delay = Math.min(delay * 2, 50);
    }
    return await fn();
  } finally {
    flock(fd, LOCK_UN);
    closeSync(fd);
  }
}

/** Runs fn only if nobody holds the lock right now: `{ value }`, or undefined when it is busy. */
export async function tryWithLock<T>(lockFile: string, fn: () => Promise<T> | T): Promise<{ value: T } | undefined> {
  const fd = openSync(lockFile, "a", 0o600);
  try {
    if (!flock(fd, LOCK_EX | LOCK_NB)) return undefined;
    return { value: await fn() };
  } finally {
    flock(fd, LOCK_UN);
    closeSync(fd);
  }
}

/**
 * Deletes a lock file nobody holds, while holding it, so no process that
 * locked it first is left holding a lock on a name that no longer exists.
 * false when it is in use (or already gone).
 */
export function removeLockIfFree(lockFile: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockFile, "r");
  } catch {
    return false;
  }
  try {
    if (!flock(fd, LOCK_EX | LOCK_NB)) return false;
    rmSync(lockFile, { force: true });
    return true;
  } finally {
    flock(fd, LOCK_UN);
    closeSync(fd);
  }
}
