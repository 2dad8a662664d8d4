// The one lock helper. flock(2) locks die with their process, so a pod killed
// with -9 never leaves a stale lock behind. Bun cannot block in flock without
// freezing its event loop, so a busy lock is polled with LOCK_NB.
import { openSync, closeSync } from "node:fs";
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
