// A running container's live state: its runtime dir (pids, sockets: gone
// after a reboot, like the processes they describe), the attach socket, its
// cgroup, and recording its end. Kept light: the idle monitor loads it.
import { mkdirSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { writeFileAtomic } from "../../store/atomic.ts";
import { join } from "node:path";
import { containersRunPath, engineArgv, type Paths } from "../../config/index.ts";
import { selfCommand } from "../../userns/index.ts";
import { oomKilled, removeContainerCgroup } from "../../cgroup/index.ts";
import { containerEvent } from "../../events/index.ts";
import { releaseBridge } from "../../network/bridge.ts";
import { releaseUserNetworks } from "../../network/usernet.ts";
import { eventOf, newContainerId, updateRecord, type ContainerRecord } from "../record/records.ts";
import { processStartTime } from "../record/state.ts";

export const runtimeDir = (paths: Paths, id: string) => join(containersRunPath(paths), id);

export const attachSocket = (paths: Paths, id: string) => join(runtimeDir(paths, id), "attach.sock");

/** The file a process writes itself into to join a cgroup; the kernel checks the rights of whoever opened it. */
export const openCgroupProcs = (cgroup: string) => openSync(join(cgroup, "cgroup.procs"), "w");

/** Ends a helper that served a container (its network helper) once the container is gone. */
export function killHelper(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Records the end of a container's process and removes its cgroup and its place on root's bridge. */
/** pod itself with this store's paths and engine flags: what the monitor runs (and runs again) for its container. */
export const podCommand = (paths: Paths) => [...selfCommand(), "--root", paths.root, "--runroot", paths.runroot, ...engineArgv(paths.engine)];

export async function recordExit(paths: Paths, id: string, code: number): Promise<void> {
  let cgroup: string | undefined;
  let bridged = false;
  let networked = false;
  let oom = false;
  let ended: ContainerRecord | undefined;
  await updateRecord(paths.root, id, (r) => {
    cgroup = r.cgroup;
    bridged = r.bridge !== undefined;
    networked = r.networks !== undefined;
    // the kernel's count of OOM kills in the container's cgroup, read before the cgroup goes (inspect's State.OOMKilled)
    oom = cgroup !== undefined && oomKilled(cgroup);
    ended = { ...r, state: "exited", exitCode: code, finishedAt: new Date().toISOString(), cgroup: undefined, oomKilled: oom || undefined };
    return ended;
  });
  if (oom && ended) await containerEvent(paths, eventOf(ended), "oom");
  if (cgroup) removeContainerCgroup(cgroup);
  if (bridged) await releaseBridge(id);
  if (networked) await releaseUserNetworks(paths.runroot, id);
}

const execDir = (paths: Paths, id: string) => join(runtimeDir(paths, id), "exec");

/** Records a process started by `exec` under a new session ID (podman prints it for `exec -d`). */
export function recordExecSession(paths: Paths, id: string, pid: number): string {
  const session = newContainerId();
  mkdirSync(execDir(paths, id), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(execDir(paths, id), session), `${pid} ${processStartTime(pid) ?? ""}\n`, 0o600);
  return session;
}

export function endExecSession(paths: Paths, id: string, session: string): void {
  rmSync(join(execDir(paths, id), session), { force: true });
}

/** The IDs of a container's exec sessions whose process still runs (inspect's ExecIDs); forgets the others. */
export function liveExecSessions(paths: Paths, id: string): string[] {
  let names: string[];
  try {
    names = readdirSync(execDir(paths, id));
  } catch {
    return [];
  }
  // ".NAME.PID.RAND.tmp": a session file being written
  return names.filter((session) => !session.startsWith(".")).filter((session) => {
    const [pid, start] = readFileSync(join(execDir(paths, id), session), "utf8").trim().split(" ");
    const alive = processStartTime(Number(pid)) !== undefined && String(processStartTime(Number(pid))) === start;
    if (!alive) endExecSession(paths, id, session);
    return alive;
  });
}
