// The use cases behind `pod diff`, `pod export` and `pod cp`: find the
// container's files (its image's layers and its upper dir, or its vfs copy;
// for `cp` into or out of a running container, its mounted root), then let a
// re-executed pod read or write them (job.ts) as root of the storage user
// namespace, or of the running container's own, since subordinate ids own
// them. They work on running and stopped containers alike.
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { PodError, UsageError } from "../../errors.ts";
import { log } from "../../output/index.ts";
import type { Paths } from "../../config/index.ts";
import { Store, runStorageJob } from "../../store/index.ts";
import { findContainer, containerDir, listRecords, type ContainerRecord, eventOf } from "../record/records.ts";
import { layerDirsOf } from "../engine/launch.ts";
import type { Change } from "./changes.ts";
import type { FilesJob, FilesResult, KeepIdSwap } from "./job.ts";
import type { FsLayout } from "./view.ts";
import { isAlive } from "../record/state.ts";
import { filesJobKind } from "./jobs.ts";
import { containerEvent } from "../../events/index.ts";
import { keepIdIds } from "../../runtime/index.ts";

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

export function keepIdSwap(rec: ContainerRecord): KeepIdSwap | undefined {
  return keepIdIds(rec.config?.opts.userns ?? "", process.getuid!(), process.getgid!());
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
  const keep = keepIdIds(rec.config?.opts.userns ?? "", process.getuid!(), process.getgid!());
  return keep ? `${keep.uid}:${keep.gid}` : "";
}

export async function runFilesJob(paths: Paths, job: FilesJob, usernsOf?: number): Promise<FilesResult> {
  const res = await runStorageJob(paths.runroot, { owned: { kind: filesJobKind, input: job } }, { usernsOf });
  if (res.ownedError !== undefined) throw new PodError(res.ownedError, { hint: "run again with --log-level debug" });
  const f = res.owned as FilesResult | undefined;
  if (!f) throw new PodError("the storage worker gave no result for the container files job", { hint: "run again with --log-level debug" });
  if (f.error !== undefined) throw new PodError(f.error, { hint: f.hint, exit: f.exit });
  return f;
}

/**
 * Where `pod cp` finds a container's files. A running container is reached
 * through its mounted root, from inside its user namespace: writing into the
 * upper dir behind overlay's back would leave overlay showing stale files (or
 * failing a later copy-up), and its volumes are part of what it sees.
 */
function copySite(paths: Paths, rec: ContainerRecord): { layout: FsLayout; swap?: KeepIdSwap; usernsOf?: number } {
  if (isAlive(rec)) return { layout: { lowers: [], upper: `/proc/${rec.pid}/root`, flat: true }, usernsOf: rec.pid };
  return { layout: containerLayout(paths, rec), swap: keepIdSwap(rec) };
}

/**
 * A path of an image's merged layers as a tar in the file `output` (a
 * directory with its contents, named by the path's last name), read in the
 * storage namespace: the builder's COPY --from.
 */
export async function imagePathTar(paths: Paths, layerDirs: string[], ctrPath: string, output: string, label: string): Promise<void> {
  if (layerDirs.length === 0) throw new PodError(`${label}: ${ctrPath}: no such file or directory`, { exit: 125, hint: "the image has no layers" });
  await runFilesJob(paths, { op: "cp-tar", layout: imageLayout(layerDirs), container: label, ctrPath, output });
}

/** An image's whole merged file system as one tar in the file `output` (`pod build --squash-all`). */
export async function imageExportTar(paths: Paths, layerDirs: string[], output: string, label: string): Promise<void> {
  if (layerDirs.length === 0) throw new PodError(`${label}: the image has no layers to squash`, { exit: 125, hint: "build without --squash-all" });
  await runFilesJob(paths, { op: "export", layout: imageLayout(layerDirs), container: label, output });
}

/** An image's layers above its first `baseCount` as one layer tar in the file `output` (`pod build --squash`). */
export async function imageLayersDiffTar(paths: Paths, layerDirs: string[], baseCount: number, output: string, label: string): Promise<void> {
  if (layerDirs.length === 0) throw new PodError(`${label}: the image has no layers to squash`, { exit: 125, hint: "build without --squash" });
  await runFilesJob(paths, { op: "layers-diff", layout: imageLayout(layerDirs), base: layerDirs.slice(0, baseCount), container: label, output });
}

const imageLayout = (layerDirs: string[]): FsLayout => ({ lowers: layerDirs.slice(0, -1), upper: layerDirs[layerDirs.length - 1]! });

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
  await containerEvent(paths, eventOf(rec), "export");
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
  if (src.container && dest.container) return copyBetween(paths, src, dest, o);
  if (src.path === "-") return copyTarIn(paths, dest, o);
  const rec = findContainer(paths.root, (src.container ?? dest.container)!);
  const site = copySite(paths, rec);
  const common = { layout: site.layout, container: rec.name, swap: site.swap, hostIds: { uid: process.getuid!(), gid: process.getgid!() } };
  if (src.container && dest.path === "-") {
    await runFilesJob(paths, { ...common, op: "cp-tar", ctrPath: src.path }, site.usernsOf);
    return;
  }
  const host = src.container ? dest.path : src.path;
  const copy = { layout: site.layout, container: rec.name, ctrPath: (src.container ? src.path : dest.path) || "/", hostPath: resolve(host), hostInput: host, overwrite: o.overwrite };
  if (src.container) await runFilesJob(paths, { ...common, op: "cp-out", copy }, site.usernsOf);
  else await runFilesJob(paths, { ...common, op: "cp-in", copy, user: o.archive ? userSpecOf(paths, rec) : undefined }, site.usernsOf);
}

/** `pod cp - CTR:DIR`: the tar on stdin is unpacked by the worker in a private temp dir of the store, then copied in. */
async function copyTarIn(paths: Paths, dest: CopyTarget, o: CopyOptions): Promise<void> {
  const rec = findContainer(paths.root, dest.container!);
  const site = copySite(paths, rec);
  const staging = new Store(paths).init().tempDir("cp-stdin");
  try {
    const copy = { layout: site.layout, container: rec.name, ctrPath: dest.path || "/", hostPath: staging, hostInput: "-", overwrite: o.overwrite };
    const user = o.archive ? userSpecOf(paths, rec) : undefined;
    await runFilesJob(paths, { op: "cp-in-tar", layout: site.layout, container: rec.name, swap: site.swap, copy, user, staging }, site.usernsOf);
  } finally {
    await removeStaging(paths, staging);
  }
}

/** Container to container: out into a private temp dir of the store, then in. */
async function copyBetween(paths: Paths, src: CopyTarget, dest: CopyTarget, o: CopyOptions): Promise<void> {
  const from = findContainer(paths.root, src.container!);
  const to = findContainer(paths.root, dest.container!);
  const tmp = new Store(paths).init().tempDir("cp");
  const stage = join(tmp, "stage");
  mkdirSync(stage);
  try {
    const name = src.path.split("/").filter((s) => s !== "" && s !== ".").pop();
    // the root (or "..", which stops there) is copied as its contents, like "dir/."
    const whole = name === undefined || name === "..";
    const staged = join(stage, whole ? "root" : name);
    const out = copySite(paths, from);
    const hostIds = { uid: process.getuid!(), gid: process.getgid!() };
    const copyOut = { layout: out.layout, container: from.name, ctrPath: src.path || "/", hostPath: staged, hostInput: staged, overwrite: false };
    await runFilesJob(paths, { op: "cp-out", layout: out.layout, container: from.name, swap: out.swap, hostIds, copy: copyOut }, out.usernsOf);
    const into = copySite(paths, to);
    const asContents = whole || /(^|\/)\.\/*$/.test(src.path) ? `${staged}/.` : staged;
    const copyIn = { layout: into.layout, container: to.name, ctrPath: dest.path || "/", hostPath: staged, hostInput: asContents, overwrite: o.overwrite };
    const user = o.archive ? userSpecOf(paths, to) : undefined;
    await runFilesJob(paths, { op: "cp-in", layout: into.layout, container: to.name, swap: into.swap, hostIds, copy: copyIn, user }, into.usernsOf);
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
