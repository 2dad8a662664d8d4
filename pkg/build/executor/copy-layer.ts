// COPY and ADD as layer tars written straight from their sources, without a
// container: the files the context hash selected (context-hash.ts), or the
// entries of an archive (ADD's local tars, COPY --from's tar of a stage's or
// an image's path), placed under the destination as docker places them. The
// destination is resolved through the image's own symlinks (FsView over the
// parent's layers) so `COPY x /var/run/` lands where /var/run points.
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { posix } from "node:path";
import { PodError } from "../../errors.ts";
import { FdSink, readTar, TarWriter, type TarEntry } from "../../layer/index.ts";
import { FsView, splitContainerPath } from "../../container/fs/view.ts";
import type { SourceFile } from "../context-hash.ts";

export type Owner = { uid: number; gid: number };

/** The destination as a symlink-free path of the image (the part that exists resolved, the rest appended). */
export function resolveInImage(view: FsView, path: string): { path: string; isDir: boolean } {
  const parts = splitContainerPath(path);
  for (let n = parts.length; n >= 0; n--) {
    let r: ReturnType<FsView["resolve"]>;
    try {
      r = view.resolve(`/${parts.slice(0, n).join("/")}`);
    } catch {
      continue;
    }
    const rest = parts.slice(n);
    if (rest.length && r.entry && !r.entry.st.isDirectory()) throw new PodError(`copying to ${path}: /${r.rel} is not a directory`, { exit: 125, hint: "choose a destination whose parents are directories in the image" });
    return { path: `/${[r.rel, ...rest].filter(Boolean).join("/")}`, isDir: rest.length === 0 && Boolean(r.entry?.st.isDirectory()) };
  }
  return { path: `/${parts.join("/")}`, isDir: false };
}

/** The tar name of a container path ("/" → "./" is never needed: the root itself is not written). */
const tarName = (abs: string) => abs.replace(/^\/+/, "");

const CHUNK = 1 << 20;

function copyBytes(tar: TarWriter, path: string, size: number): void {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(CHUNK, Math.max(size, 1)));
    let left = size;
    while (left > 0) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n <= 0) throw new PodError(`${path} shrank while it was copied`, { exit: 125, hint: "do not change the build context while a build runs" });
      tar.body(n === buf.length ? buf : buf.subarray(0, n));
      left -= n;
    }
    tar.pad(size);
  } finally {
    closeSync(fd);
  }
}

export type LayerOut = { tar: TarWriter; close(): void };

export function openLayer(path: string): LayerOut {
  const fd = openSync(path, "w", 0o600);
  const tar = new TarWriter(new FdSink(fd));
  return {
    tar,
    close() {
      try {
        tar.finish();
      } finally {
        closeSync(fd);
      }
    },
  };
}

/**
 * Context files into the layer. `intoDir`: each file goes to dest/<its path
 * below the source>; otherwise the one file becomes `dest` itself.
 */
export function writeContextFiles(out: LayerOut, files: SourceFile[], dest: string, intoDir: boolean): void {
  for (const f of files) {
    const target = intoDir ? posix.join(dest, f.dest) : dest;
    if (target === "/") continue;
    const name = tarName(target);
    const mtime = Math.floor(statSync(f.abs, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) / 1000;
    const common = { mode: f.mode, uid: f.uid, gid: f.gid, mtime: Math.floor(mtime) };
    if (f.type === "dir") out.tar.header({ ...common, name: `${name}/`, type: "5", size: 0 });
    else if (f.type === "symlink") out.tar.header({ ...common, name, type: "2", size: 0, linkname: f.linkTarget });
    else {
      const size = fstatSize(f.abs);
      out.tar.header({ ...common, name, type: "0", size });
      copyBytes(out.tar, f.abs, size);
    }
  }
}

function fstatSize(path: string): number {
  const fd = openSync(path, "r");
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

export type Reemit = {
  /** where the archive goes */
  dest: string;
  /**
   * The archive holds one named source (COPY --from's tar of a path): a
   * directory's contents go into dest; a file goes into dest when it is a
   * directory, else becomes dest. Without it (ADD of a tar) the archive's
   * root is dest.
   */
  single?: { destIsDir: boolean };
  owner?: Owner;
  chmod?: number;
  /** every entry's time (--timestamp); else the archive's own */
  mtime?: number;
};

/** An archive's entries into the layer under `dest` (ADD of a local tar, COPY --from). */
export async function reemitArchive(out: LayerOut, archive: string, o: Reemit): Promise<number> {
  let skipping = false;
  let pending: { size: number } | undefined;
  let rename: { from: string; to: string; base: string } | undefined;
  let first = true;
  const place = (raw: string): string | undefined => {
    let rel = posix.normalize(raw.replace(/^\/+/, "")).replace(/\/+$/, "");
    if (rel === "." || rel === "") return undefined;
    if (rel.startsWith("../") || rel === "..") throw new PodError(`archive ${archive}: entry ${JSON.stringify(raw)} leaves the destination`, { exit: 125, hint: "the archive is malformed or hostile; it was not added" });
    let base = o.dest;
    if (rename && (rel === rename.from || rel.startsWith(`${rename.from}/`))) {
      rel = rename.to + rel.slice(rename.from.length);
      base = rename.base;
    }
    const target = posix.join(base, rel);
    return target === "/" ? undefined : tarName(target);
  };
  return readTar(archive, {
    begin(e: TarEntry) {
      if (first && o.single) {
        const name = posix.normalize(e.path.replace(/^\/+/, "")).replace(/\/+$/, "");
        if (e.type === "5") rename = { from: name, to: ".", base: o.dest };
        else if (!o.single.destIsDir) rename = { from: name, to: posix.basename(o.dest), base: posix.dirname(o.dest) };
      }
      first = false;
      const name = place(e.path);
      const regular = e.type === "0" || e.type === "7" || e.type === "";
      if (name === undefined || !(regular || ["1", "2", "3", "4", "5", "6"].includes(e.type))) {
        skipping = true;
        pending = undefined;
        return;
      }
      skipping = false;
      const size = regular ? e.size : 0;
      out.tar.header({
        name: e.type === "5" ? `${name}/` : name,
        type: regular ? "0" : e.type,
        mode: o.chmod !== undefined && e.type !== "2" ? o.chmod : e.mode,
        uid: o.owner?.uid ?? e.uid,
        gid: o.owner?.gid ?? e.gid,
        size,
        mtime: o.mtime ?? Math.floor((e.mtime?.getTime() ?? Date.now()) / 1000),
        linkname: e.type === "1" ? place(e.linkpath) : e.linkpath || undefined,
        devmajor: e.devmajor,
        devminor: e.devminor,
        xattrs: e.xattrs,
      });
      pending = { size };
    },
    data(chunk: Uint8Array) {
      if (!skipping && pending) out.tar.body(chunk);
    },
    end() {
      if (pending) out.tar.pad(pending.size);
      pending = undefined;
    },
  });
}
