// The use cases behind `pod diff`, `pod export` and `pod cp`: find the
// container's files (its image's layers and its upper dir, or its vfs copy),
// then let the storage worker read or write them (fs-job.ts), since they are
// owned by subordinate ids. They work on running and stopped containers alike.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import { log } from "../output/index.ts";
import type { Paths } from "../config/index.ts";
import { Store, runStorageJob } from "../store/index.ts";
import { findContainer, containerDir, listRecords, type ContainerRecord } from "./records.ts";
import { layerDirsOf } from "./launch.ts";
import type { Change } from "./fs-changes.ts";
import type { FilesJob, FilesResult, KeepIdSwap } from "./fs-job.ts";
import type { FsLayout } from "./fs-view.ts";

/** Where a container's files are. A vfs container's root is one plain copy: `flat`, with the image's layers to diff against. */
export function containerLayout(paths: Paths, rec: ContainerRecord): FsLayout {
  const dir = containerDir(paths.root, rec.id);
  const store = new Store(paths);
  const img = store.images().find((i) => i.id === rec.imageId);
  if (!img)
    throw new PodError(`container ${rec.name}: its image ${rec.imageId.slice(0, 12)} is no longer in storage`, {
      hint: `pull ${rec.image} again, or remove the container`,
    });
  const lowers = layerDirsOf(store, img.layers);
  const vfsRoot = join(dir, "rootfs");
  if (existsSync(vfsRoot)) return { lowers, upper: vfsRoot, flat: true };
  return { lowers, upper: join(dir, "upper") };
}

/** The container a one-container command acts on: by name or ID, or the newest one with --latest. */
export function pickContainer(paths: Paths, input: string | undefined, latest: boolean): ContainerRecord {
  if (latest) {
    const newest = listRecords(paths.root).sort((a, b) => b.created.localeCompare(a.created))[0];
    if (!newest) throw new PodError("no containers to act on", { hint: "`pod ps -a` lists containers" });
    return newest;
  }
  if (!input) throw new UsageError("you must provide a container name or ID", { hint: "or use --latest" });
  return findContainer(paths.root, input);
}

function keepIdSwap(rec: ContainerRecord): KeepIdSwap | undefined {
  return rec.config?.opts.userns === "keep-id" ? { uid: process.getuid!(), gid: process.getgid!() } : undefined;
}

/** The user spec the container runs as: --user, else the image's USER, else the keep-id user, else root. */
function userSpecOf(paths: Paths, rec: ContainerRecord): string {
  if (rec.config?.opts.user) return rec.config.opts.user;
  let imageUser: unknown;
  try {
    imageUser = JSON.parse(new TextDecoder().decode(new Store(paths).readBlob(`sha256:${rec.imageId}`)))?.config?.User;
  } catch (e) {
    throw new PodError(`reading the image configuration of ${rec.name}: ${(e as Error).message}`, { cause: e });
  }
  if (typeof imageUser === "string" && imageUser) return imageUser;
  return rec.config?.opts.userns === "keep-id" ? `${process.getuid!()}:${process.getgid!()}` : "";
}

async function runFilesJob(paths: Paths, job: FilesJob): Promise<FilesResult> {
  const res = await runStorageJob(paths.runroot, { files: job });
  const f = res.files;
  if (!f) throw new PodError("the storage worker gave no result for the container files job", { hint: "run again with --log-level debug" });
  if (f.error !== undefined) throw new PodError(f.error, { hint: f.hint, exit: f.exit });
  return f;
}

export async function diffContainer(paths: Paths, rec: ContainerRecord): Promise<Change[]> {
  const r = await runFilesJob(paths, { op: "diff", layout: containerLayout(paths, rec), container: rec.name });
  return r.changes ?? [];
}

/** Writes a tar of the container's filesystem to `output` (a path), or to pod's stdout. */
export async function exportContainer(paths: Paths, rec: ContainerRecord, output?: string): Promise<void> {
  await runFilesJob(paths, {
    op: "export",
    layout: containerLayout(paths, rec),
    container: rec.name,
    swap: keepIdSwap(rec),
    output: output === undefined ? undefined : resolve(output),
  });
}

export type CopyTarget = { container?: string; path: string };

/**
 * podman's reading of a cp argument: "CTR:PATH" names a container unless the
 * argument is an absolute path ("/a:b" is a host file); "-" is a tar stream.
 */
export function parseCopyTarget(arg: string): CopyTarget {
  if (arg.startsWith("/") || arg === "-") return { path: arg };
  const i = arg.indexOf(":");
  if (i < 0) return { path: arg };
  if (i === 0) throw new UsageError(`invalid argument "${arg}": the container name or ID is empty`, { hint: "write CONTAINER:PATH" });
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

export type CopyOptions = { archive: boolean; overwrite: boolean };

/** `pod cp SRC DEST`: one side CONTAINER:PATH, the other a host path or "-", or both containers. */
export async function copyFiles(paths: Paths, srcArg: string, destArg: string, o: CopyOptions): Promise<void> {
  const src = parseCopyTarget(srcArg);
  const dest = parseCopyTarget(destArg);
  if (!src.container && !dest.container)
    throw new UsageError(`invalid arguments "${srcArg}", "${destArg}": one of them must be CONTAINER:PATH`, { hint: "pod cp CONTAINER:/etc/hosts ./hosts, or pod cp ./file CONTAINER:/tmp/" });
  if (src.path === "-" && !src.container)
    throw new UsageError("copying a tar stream from standard input into a container is not supported", { hint: "extract the archive on the host, then pod cp the directory" });
  if (src.container && dest.container) return copyBetween(paths, src, dest, o);
  const rec = findContainer(paths.root, (src.container ?? dest.container)!);
  const layout = containerLayout(paths, rec);
  const common = { layout, container: rec.name, swap: keepIdSwap(rec) };
  if (src.container && dest.path === "-") {
    await runFilesJob(paths, { ...common, op: "cp-tar", ctrPath: src.path });
    return;
  }
  const host = src.container ? dest.path : src.path;
  const copy = { layout, container: rec.name, ctrPath: (src.container ? src.path : dest.path) || "/", hostPath: resolve(host), hostInput: host, overwrite: o.overwrite };
  if (src.container) await runFilesJob(paths, { ...common, op: "cp-out", copy });
  else await runFilesJob(paths, { ...common, op: "cp-in", copy, user: o.archive ? userSpecOf(paths, rec) : undefined });
}

/** Container to container: out into a private temp dir of the store, then in. */
async function copyBetween(paths: Paths, src: CopyTarget, dest: CopyTarget, o: CopyOptions): Promise<void> {
  const from = findContainer(paths.root, src.container!);
  const to = findContainer(paths.root, dest.container!);
  const tmp = new Store(paths).init().tempDir("cp");
  const stage = join(tmp, "stage");
  mkdirSync(stage);
  try {
    const name = src.path.split("/").filter((s) => s !== "" && s !== ".").pop() ?? "root";
    const staged = join(stage, name === ".." ? "root" : name);
    await runFilesJob(paths, {
      op: "cp-out",
      layout: containerLayout(paths, from),
      container: from.name,
      copy: { layout: containerLayout(paths, from), container: from.name, ctrPath: src.path || "/", hostPath: staged, hostInput: staged, overwrite: false },
    });
    const asContents = /(^|\/)\.\/*$/.test(src.path) ? `${staged}/.` : staged;
    await runFilesJob(paths, {
      op: "cp-in",
      layout: containerLayout(paths, to),
      container: to.name,
      swap: keepIdSwap(to),
      copy: { layout: containerLayout(paths, to), container: to.name, ctrPath: dest.path || "/", hostPath: staged, hostInput: asContents, overwrite: o.overwrite },
      user: o.archive ? userSpecOf(paths, to) : undefined,
    });
  } finally {
    await removeStaging(paths, tmp);
  }
}

/** The staged copy is the user's, but may hold directories without write permission: the namespace removes those. */
async function removeStaging(paths: Paths, dir: string): Promise<void> {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    log.debug(`removing ${dir} directly failed (${(e as Error).message}); removing it in the storage namespace`);
    await new Store(paths).removeTrees([dir]);
  }
}
