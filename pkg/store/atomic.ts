// Whole-file writes that readers never see half done: a temp file in the same
// directory, then rename.
import { writeFileSync, renameSync, rmSync } from "node:fs";
import { dirname, basename, join } from "node:path";

export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`);
}

export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = tempName(path);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
