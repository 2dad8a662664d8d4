// `volume export` and `volume import`: a volume's files as a tar stream. A
// volume holds files of subordinate ids, so both run as the container files
// job (job.ts) in the storage namespace, over the volume's _data as a
// flat tree: export as `pod export` writes a container's files, import as
// `pod cp - CTR:/` unpacks a tar (names cleaned, nothing outside the
// volume, owners kept), over what the volume already holds.
import { resolve } from "node:path";
import { PodError } from "../../errors.ts";
import { volumesPath, type Paths } from "../../config/index.ts";
import { Store, runStorageJob } from "../../store/index.ts";
import { listVolumes, volumeDataDir, volumeSource } from "../../volume/index.ts";
import type { FilesJob, FilesResult } from "./job.ts";
import type { FsLayout } from "./view.ts";
import { filesJobKind } from "./jobs.ts";
import { existsSync, rmSync } from "node:fs";

/** The volume's files: its _data, or a bind volume's device; a tmpfs volume has none outside a container. */
function volumeLayout(paths: Paths, name: string): FsLayout {
  const vol = listVolumes(volumesPath(paths)).find((v) => v.name === name);
  if (!vol) throw new PodError(`no volume with name ${JSON.stringify(name)} found: no such volume`, { hint: "`pod volume ls` lists volumes; `pod volume create NAME` makes one" });
  const src = volumeSource(vol.options);
  if (src?.kind === "tmpfs")
    throw new PodError(`volume ${name} is a tmpfs volume: its files live only in each container that mounts it`, { hint: `copy them out of a running container instead (pod cp CTR:/path - )` });
  return { lowers: [], upper: src?.kind === "bind" ? src.device : volumeDataDir(volumesPath(paths), name), flat: true };
}

async function run(paths: Paths, job: FilesJob): Promise<void> {
  const res = await runStorageJob(paths.runroot, { owned: { kind: filesJobKind, input: job } });
  if (res.ownedError !== undefined) throw new PodError(res.ownedError, { hint: "run again with --log-level debug" });
  const f = res.owned as FilesResult | undefined;
  if (!f) throw new PodError("the storage worker gave no result for the volume files job", { hint: "run again with --log-level debug" });
  if (f.error !== undefined) throw new PodError(f.error, { hint: f.hint, exit: f.exit });
}

/** Writes a tar of the volume's files to `output` (a path), or to pod's stdout. */
export async function exportVolume(paths: Paths, name: string, output?: string): Promise<void> {
  const layout = volumeLayout(paths, name);
  await run(paths, { op: "export", layout, container: `volume ${name}`, output: output === undefined ? undefined : resolve(output) });
}

/** Unpacks a tar (the file `source`, or pod's stdin for "-") into the volume. */
export async function importVolume(paths: Paths, name: string, source: string): Promise<void> {
  const layout = volumeLayout(paths, name);
  if (source !== "-" && !existsSync(source))
    throw new PodError(`importing into volume ${name}: ${source}: no such file or directory`, { hint: "give a tar file, or - to read the tar from stdin" });
  const staging = new Store(paths).init().tempDir("volume-import");
  try {
    const copy = { layout, container: `volume ${name}`, ctrPath: "/", hostPath: staging, hostInput: source, overwrite: true };
    await run(paths, { op: "cp-in-tar", layout, container: `volume ${name}`, copy, staging, source: source === "-" ? undefined : resolve(source) });
  } finally {
    try {
      rmSync(staging, { recursive: true, force: true });
    } catch {
      await new Store(paths).removeTrees([staging]);
    }
  }
}
