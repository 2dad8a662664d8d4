// The storage-worker job for container files (diff, export, cp): the upper
// dir and the image's layers hold files owned by subordinate ids, so this
// runs as root of the storage user namespace, or, for `cp` with a running
// container, as root of that container's own user namespace
// (pkg/store/worker.ts re-executes pod there and calls runFilesJob).
// Failures come back as data, never thrown.
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, rmdirSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PodError, wrap } from "../../errors.ts";
import { log } from "../../output/index.ts";
import { resolveUser } from "../../runtime/index.ts";
import { containerChanges, type Change } from "./changes.ts";
import { copyIn, copyOut, copySource, leftOut, type CopyRequest } from "./copy.ts";
import { FsView, idNames, parseIdMap, splitContainerPath, type FsLayout } from "./view.ts";
import { FdSink, TarWriter, writeTree, type Owners } from "./tar.ts";
import { writeChangesLayer, writeLayersDiff } from "./layer.ts";

/**
 * With --userns=keep-id, container id U is storage id 0 (the user) and the
 * reverse (pkg/runtime/idmap.ts); every other id is the same on both sides.
 */
export type KeepIdSwap = { uid: number; gid: number };

/**
 * layout: where the files are; for a running container, its mounted root
 * (/proc/PID/root, flat) with the job joined to its user namespace.
 * hostIds: the user's own ids on the host, which files copied out get.
 */
export type FilesJob = { layout: FsLayout; container: string; swap?: KeepIdSwap; hostIds?: { uid: number; gid: number } } & (
  | { op: "diff" }
  /** output: a file to create, or undefined for pod's stdout */
  | { op: "export"; output?: string }
  /** the changes as one layer tar (commit), into the file `output`; prune: mount points the run created, left out when still empty */
  | { op: "layer"; output: string; prune?: string[] }
  /** the layout's top layers over the layer dirs `base` (its bottom ones) as one layer tar, into the file `output` */
  | { op: "layers-diff"; base: string[]; output: string }
  | { op: "cp-out"; copy: CopyRequest }
  /** CTR:PATH to a tar on stdout, or into the file `output` (the builder's COPY --from) */
  | { op: "cp-tar"; ctrPath: string; output?: string }
  /** user: the container's user spec, whose ids copied files get (--archive); undefined keeps the source's */
  | { op: "cp-in"; copy: CopyRequest; user?: string }
  /** a tar on stdin (or in the file `source`) into the directory copy.ctrPath; staging: an empty private dir to unpack it in first */
  | { op: "cp-in-tar"; copy: CopyRequest; user?: string; staging: string; source?: string }
);

export type FilesResult = { changes?: Change[]; error?: string; hint?: string; exit?: number };

const swapId = (id: number, u: number | undefined) => (u === undefined || u === 0 ? id : id === 0 ? u : id === u ? 0 : id);

/** The user's host ids as the namespace this job runs in sees them (0 in the storage namespace). */
function userInside(host: { uid: number; gid: number }): { uid: number; gid: number } | undefined {
  const uid = parseIdMap(readFileSync("/proc/self/uid_map", "utf8"))(host.uid);
  const gid = parseIdMap(readFileSync("/proc/self/gid_map", "utf8"))(host.gid);
  return uid === undefined || gid === undefined ? undefined : { uid, gid };
}

/** Owners as the container sees them, named from its own /etc/passwd and /etc/group. */
export function containerOwners(view: FsView, swap?: KeepIdSwap): Owners {
  const why = (e: unknown) => log.debug(`reading the container's user and group names: ${(e as Error).message}`);
  const users = idNames(view.readText("/etc/passwd", why));
  const groups = idNames(view.readText("/etc/group", why));
  const uid = (id: number) => swapId(id, swap?.uid);
  const gid = (id: number) => swapId(id, swap?.gid);
  return { uid, gid, uname: (id) => users.get(uid(id)), gname: (id) => groups.get(gid(id)) };
}

function writeTar(fd: number, fn: (tar: TarWriter) => void): void {
  const tar = new TarWriter(new FdSink(fd));
  fn(tar);
  tar.finish();
}

async function run(job: FilesJob): Promise<FilesResult> {
  switch (job.op) {
    case "diff":
      return { changes: containerChanges(job.layout) };
    case "export": {
      const view = FsView.of(job.layout);
      const owners = containerOwners(view, job.swap);
      const fd = job.output === undefined ? 1 : openSync(job.output, "w", 0o666);
      try {
        writeTar(fd, (tar) => writeTree(view, view.root(), "", tar, owners, { container: job.container }));
      } finally {
        if (fd !== 1) closeSync(fd);
      }
      return {};
    }
    case "layer": {
      if (job.prune) pruneMountPoints(job.layout, job.prune);
      const view = FsView.of(job.layout);
      const fd = openSync(job.output, "wx", 0o600);
      try {
        writeTar(fd, (tar) => writeChangesLayer(job.layout, tar, containerOwners(view, job.swap)));
      } finally {
        closeSync(fd);
      }
      return {};
    }
    case "layers-diff": {
      const full = FsView.of(job.layout);
      const fd = openSync(job.output, "wx", 0o600);
      try {
        writeTar(fd, (tar) => writeLayersDiff(new FsView(job.base), full, tar, containerOwners(full, job.swap)));
      } finally {
        closeSync(fd);
      }
      return {};
    }
    case "cp-tar": {
      const { view, entry, name } = copySource({ layout: job.layout, ctrPath: job.ctrPath, container: job.container });
      const fd = job.output === undefined ? 1 : openSync(job.output, "w", 0o666);
      try {
        writeTar(fd, (tar) => writeTree(view, entry, name, tar, containerOwners(view, job.swap), { skip: leftOut, container: job.container }));
      } finally {
        if (fd !== 1) closeSync(fd);
      }
      return {};
    }
    case "cp-out": {
      const owner = job.hostIds && userInside(job.hostIds);
      copyOut(job.copy, owner ? () => owner : undefined);
      return {};
    }
    case "cp-in":
      copyIn(job.copy, copyInOwner(job));
      return {};
    case "cp-in-tar":
      try {
        await copyInTar(job);
      } finally {
        rmSync(job.staging, { recursive: true, force: true });
      }
      return {};
  }
}

/**
 * A bind or tmpfs target that the image did not have is created in the upper
 * dir as an empty file or directory (and its missing parents with it); the
 * mount is gone after the run, so those are removed, deepest first, while
 * they are empty and absent from the image, as buildah does.
 */
function pruneMountPoints(layout: FsLayout, targets: string[]): void {
  const image = new FsView(layout.lowers);
  const gone = (rel: string) => {
    const host = join(layout.upper, rel);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      return true;
    }
    if (image.lookup(rel)) return false;
    if (st.isDirectory() ? readdirSync(host).length > 0 : !st.isFile() || st.size > 0) return false;
    if (st.isDirectory()) rmdirSync(host);
    else unlinkSync(host);
    return true;
  };
  for (const t of [...new Set(targets)].sort((a, b) => b.length - a.length)) {
    let parts: string[];
    try {
      parts = splitContainerPath(image.resolve(t, false).rel);
    } catch {
      parts = splitContainerPath(t);
    }
    for (let n = parts.length; n > 0 && gone(parts.slice(0, n).join("/")); n--);
  }
}

type OwnerFn = (st: { uid: number; gid: number }) => { uid: number; gid: number };

/** --archive: the container user's ids for everything; else each file keeps its own (seen through the keep-id swap). */
function copyInOwner(job: FilesJob & { user?: string }): OwnerFn {
  if (job.user === undefined) return (st) => ({ uid: swapId(st.uid, job.swap?.uid), gid: swapId(st.gid, job.swap?.gid) });
  const u = resolveUser(job.user, FsView.of(job.layout).layers);
  const fixed = { uid: swapId(u.uid, job.swap?.uid), gid: swapId(u.gid, job.swap?.gid) };
  return () => fixed;
}

/** Copies pod's stdin (inherited from the parent) into a new file. */
function saveStdin(path: string): void {
  const out = openSync(path, "wx", 0o600);
  const buf = Buffer.alloc(1 << 20);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(0, buf, 0, buf.length, null);
      } catch (e) {
        // stdin may be a non-blocking pipe shared with whoever started pod
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw wrap("reading standard input", e);
        Bun.sleepSync(1);
        continue;
      }
      if (n === 0) return;
      for (let off = 0; off < n; ) off += writeSync(out, buf, off, n - off);
    }
  } finally {
    closeSync(out);
  }
}

/**
 * `pod cp - CTR:DIR`: stdin is saved, unpacked with the layer extractor (names
 * cleaned, nothing outside the staging dir, tar owners applied as container
 * ids), then copied in like a host directory's contents.
 */
async function copyInTar(job: Extract<FilesJob, { op: "cp-in-tar" }>): Promise<void> {
  const blob = job.source ?? join(job.staging, "stdin.tar");
  const root = join(job.staging, "root");
  if (job.source === undefined) saveStdin(blob);
  mkdirSync(root, { mode: 0o755 });
  const { extractLayer } = await import("../../layer/index.ts");
  try {
    // With --archive every owner is replaced anyway: ids the namespace lacks do not matter.
    await extractLayer(blob, root, { digest: job.source ?? "from standard input", onWarning: (m) => log.warn(m), ignoreUnmappedOwners: job.user !== undefined });
  } catch (e) {
    throw wrap("reading the tar stream", e);
  }
  if (job.source === undefined) rmSync(blob, { force: true });
  copyIn({ ...job.copy, hostPath: root, hostInput: `${root}/.`, destMustBeDir: true }, copyInOwner(job));
}

/** Runs in the storage namespace; never throws. */
export async function runFilesJob(job: FilesJob): Promise<FilesResult> {
  try {
    return await run(job);
  } catch (e) {
    if (e instanceof PodError) return { error: e.message, hint: e.hint, exit: e.exit };
    // `pod export CTR | tar -t | head`: the reader has what it wanted, as with any tool in a pipeline.
    if ((e as NodeJS.ErrnoException).code === "EPIPE") return {};
    return { error: e instanceof Error ? e.message : String(e) };
  }
}
