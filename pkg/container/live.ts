// A running container's live state: its runtime dir (pids, sockets: gone
// after a reboot, like the processes they describe), the attach socket, its
// cgroup, and recording its end. Kept light: the idle monitor loads it.
import { openSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../config/index.ts";
import { removeContainerCgroup } from "../cgroup/index.ts";
import { updateRecord } from "./records.ts";

export const runtimeDir = (paths: Paths, id: string) => join(paths.runroot, "containers", id);

export const attachSocket = (paths: Paths, id: string) => join(runtimeDir(paths, id), "attach.sock");

/** The file a process writes itself into to join a cgroup; the kernel checks the rights of whoever opened it. */
export const openCgroupProcs = (cgroup: string) => openSync(join(cgroup, "cgroup.procs"), "w");

/** Records the end of a container's process and removes its cgroup. */
export async function recordExit(paths: Paths, id: string, code: number): Promise<void> {
  let cgroup: string | undefined;
  await updateRecord(paths.root, id, (r) => {
    cgroup = r.cgroup;
    return { ...r, state: "exited", exitCode: code, finishedAt: new Date().toISOString(), cgroup: undefined };
  });
  if (cgroup) removeContainerCgroup(cgroup);
}
