// `pod diff`: what a container changed, read from its upper dir against the
// image's layers, classified the way containers/storage does it for overlay
// (pkg/archive changes.go, overlayDeletedFile) so that pod prints what podman
// prints: a whiteout or an opaque directory over a lower one is a deletion,
// a name the image lacks is an addition, anything else in the upper dir is a
// change, except directories that only carry children (same owner, mode and
// time as in the image). The parent of an addition or deletion is reported
// changed. Paths the runtime itself creates or mounts over are left out, as
// podman leaves them out (libpod diff.go initInodes).
import { lstatSync, readdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { isOverlayWhiteout } from "../../layer/index.ts";
import { FsView, isOpaqueDir, type FsEntry, type FsLayout } from "./view.ts";

export type ChangeKind = "A" | "C" | "D";
export type Change = { kind: ChangeKind; path: string };

/** Mount points and files the runtime provides: never reported. */
export const INIT_INODES = new Set([
  "/dev",
  "/etc/hostname",
  "/etc/hosts",
  "/etc/resolv.conf",
  "/etc/mtab",
  "/proc",
  "/run",
  "/run/.containerenv",
  "/run/notify",
  "/run/secrets",
  "/sys",
]);

const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";

/**
 * A directory that is only in the upper dir because something was created in
 * it: same type, mode and owner as in the image, and the same time unless the
 * runtime created one of its files there (creating /etc/resolv.conf touches /etc).
 */
function sameDir(upper: Stats, lower: Stats, ignoreTime: boolean): boolean {
  if (!lower.isDirectory() || upper.mode !== lower.mode || upper.uid !== lower.uid || upper.gid !== lower.gid) return false;
  return ignoreTime || upper.mtimeMs === lower.mtimeMs;
}

type Walk = { upper: string; lowers: FsView; out: Change[]; changedDirs: Set<string> };

function record(w: Walk, kind: ChangeKind, path: string): void {
  if (INIT_INODES.has(path)) return;
  if (kind !== "C") {
    const parent = parentOf(path);
    if (parent !== "/" && !w.changedDirs.has(parent) && !INIT_INODES.has(parent)) {
      w.out.push({ kind: "C", path: parent });
      w.changedDirs.add(parent);
    }
  }
  w.out.push({ kind, path });
}

function walk(w: Walk, rel: string, lowerDir: FsEntry | undefined): void {
  const dir = join(w.upper, rel);
  const names = readdirSync(dir).sort();
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const path = `/${childRel}`;
    const host = join(dir, name);
    const st = lstatSync(host);
    const lower = lowerDir?.st.isDirectory() ? w.lowers.child(lowerDir, name) : undefined;
    let kind: ChangeKind | undefined;
    if (isOverlayWhiteout(st)) kind = "D";
    else if (st.isDirectory() && lower && isOpaqueDir(host)) kind = "D";
    else if (!lower) kind = "A";
    else if (st.isDirectory()) {
      const runtimeMade = readdirSync(host).some((n) => INIT_INODES.has(`${path}/${n}`));
      kind = sameDir(st, lower.st, runtimeMade) ? undefined : "C";
    } else kind = "C";
    if (kind && st.isDirectory()) w.changedDirs.add(path);
    if (kind) record(w, kind, path);
    if (st.isDirectory()) walk(w, childRel, lower);
  }
}

/** A file of a plain copy (vfs) that differs from the image's. */
function fileDiffers(st: Stats, host: string, lower: FsEntry): boolean {
  const l = lower.st;
  if (st.mode !== l.mode || st.uid !== l.uid || st.gid !== l.gid) return true;
  if (st.size !== l.size || st.mtimeMs !== l.mtimeMs) return true;
  return st.isSymbolicLink() && readlinkSync(host) !== readlinkSync(lower.hostPath);
}

/** The same classification for a vfs root: the whole copy against the image, both ways. */
function walkFlat(w: Walk, rel: string, lowerDir: FsEntry | undefined): void {
  const dir = join(w.upper, rel);
  const own = new Set(readdirSync(dir));
  const lowerKids = lowerDir?.st.isDirectory() ? w.lowers.list(lowerDir) : [];
  const names = new Set([...own, ...lowerKids.map((k) => k.rel.slice(k.rel.lastIndexOf("/") + 1))]);
  for (const name of [...names].sort()) {
    const childRel = rel ? `${rel}/${name}` : name;
    const path = `/${childRel}`;
    const lower = lowerDir?.st.isDirectory() ? w.lowers.child(lowerDir, name) : undefined;
    if (!own.has(name)) {
      record(w, "D", path);
      continue;
    }
    const host = join(dir, name);
    const st = lstatSync(host);
    let kind: ChangeKind | undefined;
    if (!lower) kind = "A";
    else if (st.isDirectory()) {
      const runtimeMade = readdirSync(host).some((n) => INIT_INODES.has(`${path}/${n}`));
      kind = sameDir(st, lower.st, runtimeMade) ? undefined : "C";
    } else kind = fileDiffers(st, host, lower) ? "C" : undefined;
    if (kind && st.isDirectory()) w.changedDirs.add(path);
    if (kind) record(w, kind, path);
    if (st.isDirectory()) walkFlat(w, childRel, lower);
  }
}

/** The changes of a container, in path order (a directory before what is in it). */
export function containerChanges(layout: FsLayout): Change[] {
  const lowers = new FsView(layout.lowers);
  const w: Walk = { upper: layout.upper, lowers, out: [], changedDirs: new Set() };
  (layout.flat ? walkFlat : walk)(w, "", layout.lowers.length ? lowers.root() : undefined);
  return w.out.sort((a, b) => comparePaths(a.path, b.path));
}

/** Path order name by name, as a directory walk visits them: /etc, /etc/apk, /etc/apk/x, /etc/apk-old. */
export function comparePaths(a: string, b: string): number {
  const x = a.split("/");
  const y = b.split("/");
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/** podman's `diff` lines: "C /etc". */
export function changesText(changes: Change[]): string {
  return changes.map((c) => `${c.kind} ${c.path}\n`).join("");
}

/** podman's `diff --format json`: the three lists, empty ones left out. */
export function changesJson(changes: Change[]): string {
  const pick = (k: ChangeKind) => changes.filter((c) => c.kind === k).map((c) => c.path);
  const body: Record<string, string[]> = {};
  for (const [key, kind] of [["changed", "C"], ["added", "A"], ["deleted", "D"]] as const) {
    const list = pick(kind);
    if (list.length) body[key] = list;
  }
  return JSON.stringify(body, null, 5) + "\n";
}
