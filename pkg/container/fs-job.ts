// The storage-worker job for container files (diff, export, cp): the upper
// dir and the image's layers hold files owned by subordinate ids, so this
// runs as root of the storage user namespace (pkg/store/worker.ts re-executes
// pod there and calls runFilesJob). Failures come back as data, never thrown.
import { closeSync, openSync } from "node:fs";
import { PodError } from "../errors.ts";
import { resolveUser } from "../runtime/index.ts";
import { containerChanges, type Change } from "./fs-changes.ts";
import { copyIn, copyOut, copySource, type CopyRequest } from "./fs-copy.ts";
import { FsView, idNames, type FsLayout } from "./fs-view.ts";
import { log } from "../output/index.ts";
import { FdSink, TarWriter, writeTree, type Owners } from "./fs-tar.ts";

/**
 * With --userns=keep-id, container id U is storage id 0 (the user) and the
 * reverse (pkg/runtime/idmap.ts); every other id is the same on both sides.
 */
export type KeepIdSwap = { uid: number; gid: number };

export type FilesJob = { layout: FsLayout; container: string; swap?: KeepIdSwap } & (
  | { op: "diff" }
  /** output: a file to create, or undefined for pod's stdout */
  | { op: "export"; output?: string }
  | { op: "cp-out"; copy: CopyRequest }
  /** CTR:PATH to a tar on stdout */
  | { op: "cp-tar"; ctrPath: string }
  /** user: the container's user spec, whose ids copied files get (--archive); undefined keeps the source's */
  | { op: "cp-in"; copy: CopyRequest; user?: string }
);

export type FilesResult = { changes?: Change[]; error?: string; hint?: string; exit?: number };

const swapId = (id: number, u: number | undefined) => (u === undefined || u === 0 ? id : id === 0 ? u : id === u ? 0 : id);

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
        writeTar(fd, (tar) => writeTree(view, view.root(), "", tar, owners));
      } finally {
        if (fd !== 1) closeSync(fd);
      }
      return {};
    }
    case "cp-tar": {
      const { view, entry, name } = copySource({ layout: job.layout, ctrPath: job.ctrPath, container: job.container });
      writeTar(1, (tar) => writeTree(view, entry, name, tar, containerOwners(view, job.swap)));
      return {};
    }
    case "cp-out":
      copyOut(job.copy);
      return {};
    case "cp-in": {
      let owner: ((st: { uid: number; gid: number }) => { uid: number; gid: number }) | undefined;
      if (job.user !== undefined) {
        const u = resolveUser(job.user, FsView.of(job.layout).layers);
        const fixed = { uid: swapId(u.uid, job.swap?.uid), gid: swapId(u.gid, job.swap?.gid) };
        owner = () => fixed;
      } else owner = (st) => ({ uid: st.uid, gid: st.gid });
      copyIn(job.copy, owner);
      return {};
    }
  }
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
