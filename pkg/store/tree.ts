// A layer's extracted tree, summed up when it is stored (entries and bytes of
// regular files) so that `pod system check` can later tell a tree that lost or
// truncated files from an intact one without the layer's tar at hand. Walks
// with lstat only: runs in the storage namespace, where every file is readable.
import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";

export type TreeSummary = { entries: number; bytes: number };

export function summarizeTree(dir: string): TreeSummary {
  const sum: TreeSummary = { entries: 0, bytes: 0 };
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      const st = lstatSync(p);
      sum.entries++;
      if (st.isDirectory()) stack.push(p);
      else if (st.isFile()) sum.bytes += st.size;
    }
  }
  return sum;
}

/** Why a tree does not match what was recorded, or undefined when it does. */
export function treeMismatch(recorded: TreeSummary, actual: TreeSummary): string | undefined {
  const diffs: string[] = [];
  if (recorded.entries !== actual.entries) diffs.push(`${actual.entries} entries, ${recorded.entries} recorded`);
  if (recorded.bytes !== actual.bytes) diffs.push(`${actual.bytes} bytes in files, ${recorded.bytes} recorded`);
  return diffs.length ? `its files changed since it was stored: ${diffs.join("; ")}` : undefined;
}
