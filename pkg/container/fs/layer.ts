// A container's changes as one image layer (`pod commit`): the upper dir as a
// tar in OCI form, overlay's whiteouts (0:0 character devices) written as
// `.wh.NAME` files and opaque directories as `DIR/.wh..wh..opq`. A vfs
// container has no upper dir: its changes against the image (changes.ts)
// are written instead, deletions as whiteouts. What the runtime itself put
// there (INIT_INODES: /etc/hosts, /run/.containerenv …) is left out, as
// podman leaves it out.
import { lstatSync, readdirSync, type Stats } from "node:fs";
import { join } from "node:path";
import { isOverlayWhiteout, OPAQUE_MARKER, WHITEOUT_PREFIX, type TarWriter } from "../../layer/index.ts";
import { containerChanges, INIT_INODES } from "./changes.ts";
import { FsView, isOpaqueDir, type FsEntry, type FsLayout } from "./view.ts";
import { writeTree, type Owners } from "./tar.ts";

const whiteout = (tar: TarWriter, name: string) => tar.header({ name, type: "0", mode: 0, uid: 0, gid: 0, size: 0, mtime: 0 });

function dirHeader(tar: TarWriter, e: FsEntry, name: string, owners: Owners): void {
  tar.header({
    name: `${name}/`,
    type: "5",
    mode: e.st.mode,
    uid: owners.uid(e.st.uid),
    gid: owners.gid(e.st.gid),
    uname: owners.uname(e.st.uid),
    gname: owners.gname(e.st.gid),
    size: 0,
    mtime: Math.floor(e.st.mtimeMs / 1000),
  });
}

function walkUpper(view: FsView, upper: string, rel: string, tar: TarWriter, owners: Owners, links: Map<string, string>): void {
  for (const name of readdirSync(join(upper, rel)).sort()) {
    const childRel = rel ? `${rel}/${name}` : name;
    if (INIT_INODES.has(`/${childRel}`)) continue;
    const hostPath = join(upper, childRel);
    const st = lstatSync(hostPath);
    if (isOverlayWhiteout(st)) {
      whiteout(tar, rel ? `${rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`);
      continue;
    }
    const e: FsEntry = { rel: childRel, hostPath, st, dirs: [hostPath] };
    if (!st.isDirectory()) {
      writeTree(view, e, childRel, tar, owners, { links });
      continue;
    }
    dirHeader(tar, e, childRel, owners);
    if (isOpaqueDir(hostPath)) whiteout(tar, `${childRel}/${OPAQUE_MARKER}`);
    walkUpper(view, upper, childRel, tar, owners, links);
  }
}

/** Writes the container's changes as a layer tar (the caller finishes the tar). */
export function writeChangesLayer(layout: FsLayout, tar: TarWriter, owners: Owners): void {
  const links = new Map<string, string>();
  if (!layout.flat) return walkUpper(new FsView([layout.upper]), layout.upper, "", tar, owners, links);
  const view = new FsView([layout.upper]);
  for (const c of containerChanges(layout)) {
    const rel = c.path.slice(1);
    if (c.kind === "D") {
      const at = rel.lastIndexOf("/");
      whiteout(tar, at < 0 ? `${WHITEOUT_PREFIX}${rel}` : `${rel.slice(0, at)}/${WHITEOUT_PREFIX}${rel.slice(at + 1)}`);
      continue;
    }
    const hostPath = join(layout.upper, rel);
    const st = lstatSync(hostPath);
    const e: FsEntry = { rel, hostPath, st, dirs: [hostPath] };
    if (st.isDirectory()) dirHeader(tar, e, rel, owners);
    else writeTree(view, e, rel, tar, owners, { links });
  }
}

const dirMetaDiffers = (a: Stats, b: Stats) => a.mode !== b.mode || a.uid !== b.uid || a.gid !== b.gid || a.mtimeMs !== b.mtimeMs;

/**
 * An image's top layers as one layer over its base (`pod build --squash`,
 * `--layers=false`): what the full view holds that the base lacks or holds
 * in another file, and a whiteout for what it no longer has. A file whose
 * topmost copy is still the base's is untouched, and a directory no top
 * layer has is skipped whole, so the walk only visits what the top layers
 * contain. A replaced directory comes out as deletions of what it lost.
 */
export function writeLayersDiff(base: FsView, full: FsView, tar: TarWriter, owners: Owners): void {
  const links = new Map<string, string>();
  const nameOf = (e: FsEntry) => e.rel.slice(e.rel.lastIndexOf("/") + 1);
  const walk = (b: FsEntry | undefined, f: FsEntry): void => {
    const before = new Map((b ? base.list(b) : []).map((e) => [nameOf(e), e] as const));
    const after = new Map(full.list(f).map((e) => [nameOf(e), e] as const));
    for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
      const rel = f.rel ? `${f.rel}/${name}` : name;
      const was = before.get(name);
      const now = after.get(name);
      if (!now) {
        whiteout(tar, f.rel ? `${f.rel}/${WHITEOUT_PREFIX}${name}` : `${WHITEOUT_PREFIX}${name}`);
        continue;
      }
      if (!now.st.isDirectory()) {
        if (!was || was.hostPath !== now.hostPath) writeTree(full, now, rel, tar, owners, { links });
        continue;
      }
      const wasDir = was?.st.isDirectory() ? was : undefined;
      if (wasDir && now.dirs[0] === wasDir.dirs[0]) continue;
      if (!wasDir || dirMetaDiffers(now.st, wasDir.st)) dirHeader(tar, now, rel, owners);
      walk(wasDir, now);
    }
  };
  walk(base.layers.length ? base.root() : undefined, full.root());
}
