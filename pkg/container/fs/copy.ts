// `pod cp` inside the storage namespace, with docker cp's rules (which podman
// follows): a directory copied onto an existing directory goes into it, and
// with "/." only its contents do; a file copied onto a directory goes into it;
// a missing destination is created if its parent exists. Container paths are
// resolved in the container's filesystem like chroot (view.ts), so neither
// ".." nor a symlink leads out of it; the source's own symlink is followed,
// as podman does, and symlinks inside copied directories are copied as such.
// Out of a container, a copy that takes in the root leaves out its dev, proc
// and sys (podman's copier excludes them): what the kernel mounts there is
// not data, and reading it fails or never ends. A failed copy removes what
// it made (TreeWriter.transact).
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { PodError } from "../../errors.ts";
import { FsView, type FsEntry, type FsLayout } from "./view.ts";
import { TreeWriter, type DirHandle, type SrcNode, type WriterOptions } from "./write.ts";

export type CopyRequest = {
  layout: FsLayout;
  /** the container's name, for messages */
  container: string;
  /** the container side as typed after "CTR:" */
  ctrPath: string;
  /** the host side, absolute */
  hostPath: string;
  /** the host side as typed, for messages */
  hostInput: string;
  overwrite: boolean;
  /** the container path must be an existing directory (a tar stream is unpacked into it) */
  destMustBeDir?: boolean;
};

const notInContainer = (path: string, container: string, cause?: unknown) =>
  new PodError(`"${path}" could not be found on container ${container}: no such file or directory`, { cause, hint: `\`pod exec ${container} ls -la DIR\` shows what is there (running containers)` });
const notOnHost = (path: string, cause?: unknown) => new PodError(`"${path}" could not be found on the host: no such file or directory`, { cause });
const dirOntoFile = () => new PodError("destination must be a directory when copying a directory", { hint: "name a directory, or a path that does not exist yet" });

/** Whether a path asks for a directory's contents ("dir/.") rather than the directory. */
const wantsContents = (p: string) => /(^|\/)\.\/*$/.test(p);

/** The name a copy gets: the last name of the path as typed, "" for the root or "dir/.". */
function nameOf(p: string): string {
  const parts = p.split("/").filter((s) => s !== "" && s !== ".");
  const last = parts[parts.length - 1];
  return last === undefined || last === ".." ? "" : last;
}

function hostNode(path: string, name: string, st: Stats): SrcNode {
  return {
    name,
    st,
    hostPath: path,
    shown: path,
    children: () => readdirSync(path).sort().map((n) => hostNode(join(path, n), n, lstatSync(join(path, n)))),
  };
}

/** The root's directories a copy out of a container leaves out when it walks through the root (podman's Excludes). */
const LEFT_OUT = new Set(["dev", "proc", "sys"]);

/** Whether a copy out of the container, walking a directory, skips this entry (only the root's dev, proc and sys). */
export const leftOut = (e: FsEntry): boolean => LEFT_OUT.has(e.rel);

function unionNode(view: FsView, e: FsEntry, name: string, container: string): SrcNode {
  return {
    name,
    st: e.st,
    hostPath: e.hostPath,
    shown: `${container}:/${e.rel}`,
    children: () =>
      view
        .list(e)
        .filter((c) => !leftOut(c))
        .map((c) => unionNode(view, c, c.rel.slice(c.rel.lastIndexOf("/") + 1), container)),
  };
}

function resolveIn(view: FsView, req: Pick<CopyRequest, "ctrPath" | "container">): { rel: string; entry?: FsEntry } {
  try {
    return view.resolve(req.ctrPath);
  } catch (e) {
    throw notInContainer(req.ctrPath, req.container, e);
  }
}

/** Copies src into the destination directory `dir`: as `name`, or its contents when `contents`. */
function place(w: TreeWriter, dir: DirHandle, name: string, src: SrcNode, contents: boolean): void {
  if (contents && src.st.isDirectory()) for (const c of src.children()) w.put(dir, c.name, c);
  else w.put(dir, name, src);
}

/** Container → host; `owner` gives what is written to the user (in the namespace the job runs in). */
export function copyOut(req: CopyRequest, owner: WriterOptions["owner"]): void {
  const view = FsView.of(req.layout);
  const r = resolveIn(view, req);
  if (!r.entry) throw notInContainer(req.ctrPath, req.container);
  const src = unionNode(view, r.entry, nameOf(req.ctrPath), req.container);
  const contents = wantsContents(req.ctrPath) || src.name === "";
  const w = new TreeWriter({ owner, overwrite: req.overwrite });
  let dest: Stats | undefined;
  try {
    dest = statSync(req.hostPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new PodError(`${req.hostInput}: ${(e as Error).message}`, { cause: e });
  }
  if (dest?.isDirectory()) return withDir(w, req.hostPath, (d) => place(w, d, src.name, src, contents));
  if (dest && src.st.isDirectory()) throw dirOntoFile();
  if (!dest && /\/$/.test(req.hostInput) && !src.st.isDirectory()) throw notOnHost(req.hostInput);
  const parent = dirname(req.hostPath);
  if (!statSync(parent, { throwIfNoEntry: false })?.isDirectory()) throw notOnHost(req.hostInput);
  withDir(w, parent, (d) => w.put(d, basename(req.hostPath), src));
}

function withDir(w: TreeWriter, path: string, fn: (d: DirHandle) => void): void {
  const d = w.openTrusted(path);
  try {
    w.transact(d, () => fn(d));
  } finally {
    w.close(d);
  }
}

/** Opens the container directory `rel` (symlink-free) in the upper dir, copying it up as needed. */
function openContainerDir(w: TreeWriter, view: FsView, upper: string, rel: string): DirHandle {
  let h = w.openTrusted(upper, view.root());
  h.path = "/";
  for (const name of rel.split("/").filter(Boolean)) {
    try {
      const next = w.descend(h, name);
      w.close(h);
      h = next;
    } catch (e) {
      w.close(h);
      throw e;
    }
  }
  return h;
}

/** Host → container: writes into the container's upper dir (or, running, its mounted root). */
export function copyIn(req: CopyRequest, owner: WriterOptions["owner"]): void {
  let st: Stats;
  let real: string;
  try {
    st = statSync(req.hostPath);
    real = realpathSync(req.hostPath);
  } catch (e) {
    throw notOnHost(req.hostInput, e);
  }
  const src = hostNode(real, nameOf(req.hostInput) || basename(real), st);
  const contents = wantsContents(req.hostInput);
  const view = FsView.of(req.layout);
  // A flat root (vfs copy, or a running container's mounted root) has no layers to keep consistent.
  const w = new TreeWriter({ view: req.layout.flat ? undefined : view, owner, overwrite: req.overwrite, where: `${req.container}:` });
  const r = resolveIn(view, req);
  if (req.destMustBeDir && !r.entry?.st.isDirectory())
    throw new PodError(`"${req.ctrPath}" is not a directory in container ${req.container}: a tar stream is extracted into a directory`, { hint: "create it first (pod exec CTR mkdir -p DIR), or name another" });
  let dirRel: string;
  let name = src.name;
  if (r.entry?.st.isDirectory()) dirRel = r.rel;
  else {
    if (r.entry && st.isDirectory()) throw dirOntoFile();
    if (!r.entry && /\/$/.test(req.ctrPath)) throw notInContainer(req.ctrPath, req.container);
    dirRel = r.rel.includes("/") ? r.rel.slice(0, r.rel.lastIndexOf("/")) : "";
    name = r.rel.slice(r.rel.lastIndexOf("/") + 1);
    if (!name) throw dirOntoFile();
  }
  const d = openContainerDir(w, view, req.layout.upper, dirRel);
  try {
    w.transact(d, () => {
      if (r.entry?.st.isDirectory()) place(w, d, name, src, contents);
      else w.put(d, name, src);
    });
  } finally {
    w.close(d);
  }
}

/** For `pod cp CTR:PATH -`: the entry to put in the tar, and the name it gets there. */
export function copySource(req: Pick<CopyRequest, "layout" | "ctrPath" | "container">): { view: FsView; entry: FsEntry; name: string } {
  const view = FsView.of(req.layout);
  const r = resolveIn(view, req);
  if (!r.entry) throw notInContainer(req.ctrPath, req.container);
  return { view, entry: r.entry, name: wantsContents(req.ctrPath) ? "" : nameOf(req.ctrPath) };
}
