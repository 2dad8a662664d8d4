// Lifecycle verbs on recorded containers: start, stop, kill, remove, wait,
// rename, prune, pause, unpause. Each checks the live status first (state.ts),
// so a record left "running" by a killed monitor is treated as exited.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ContainerStateInvalid, NoSuchContainer, PodError, wrap } from "../../errors.ts";
import { Store } from "../../store/index.ts";
import type { Paths } from "../../config/index.ts";
import { signalContainer } from "../../native/core.ts";
import { releaseBridge, releaseUserNetworks } from "../../network/index.ts";
import { containerDir, containersDir, listRecords, unreadableContainerDirs, findContainer, removeContainerDir, updateRecord, readRecord, withContainerLock, type ContainerRecord, eventOf } from "../record/records.ts";
import { canPause, canRemove, canSignal, canStart, canUnpause, exitCodeOf, isAlive, isUp, processStartTime, statusOf } from "../record/state.ts";
import { readLivePids } from "../record/reconcile.ts";
import { startDetached } from "./detach.ts";
import type { TtySize } from "./monitor.ts";
import { runtimeDir } from "../io/live.ts";
import { removeAnonymousVolumes } from "../../volume/index.ts";
import { cgroupSupport, killCgroup, setFrozen } from "../../cgroup/index.ts";
import { log } from "../../output/index.ts";
import { containerEvent } from "../../events/index.ts";

export const signals: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12,
  PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22,
  URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
};

export function parseSignal(s: string): number {
  const up = s.toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(up) && Number(up) > 0 && Number(up) < 65) return Number(up);
  const n = signals[up];
  if (n === undefined) throw new PodError(`invalid signal "${s}"`, { hint: "use a name like TERM, KILL, HUP (or SIGTERM) or a number" });
  return n;
}

/** byPolicy: the monitor's start under --restart; any other start begins a stopped policy's cycle again. */
/** preserveFds (run --preserve-fds): pod's fds 3 .. 3+N-1 go to the container's command, at this start only */
export async function startContainer(
  paths: Paths,
  rec: ContainerRecord,
  o: { ttySize?: TtySize; awaitAttach?: boolean; byPolicy?: boolean; preserveFds?: number } = {},
): Promise<void> {
  await withContainerLock(paths.root, rec.id, async () => {
    const cur = readRecord(paths.root, rec.id);
    if (!cur) throw new NoSuchContainer(`no such container ${rec.name}: it was removed`, { hint: "`pod ps -a` lists containers" });
    const status = statusOf(cur);
    if (status === "paused")
      throw new ContainerStateInvalid(`cannot start container ${rec.name}: it is paused`, { hint: `pod unpause ${rec.name}` });
    if (!canStart(status)) return;
    rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
    const fresh = cur.stoppedByUser && !o.byPolicy ? ((await updateRecord(paths.root, rec.id, (r) => ({ ...r, stoppedByUser: undefined }))) ?? cur) : cur;
    await startDetached(paths, fresh, o.ttySize, o.awaitAttach, o.preserveFds);
  });
}

/** `pod restart`: stop (stop signal, then KILL after timeoutSec) and start again. */
export async function restartContainer(paths: Paths, rec: ContainerRecord, timeoutSec: number, stopSignal: number): Promise<void> {
  await stopContainer(paths, rec, timeoutSec, stopSignal);
  await startContainer(paths, findContainer(paths.root, rec.id));
  await containerEvent(paths, eventOf(rec), "restart");
}

/** Running or paused: SIGKILL ends frozen tasks too, other signals are delivered at the thaw. */
function requireRunning(rec: ContainerRecord): void {
  const s = statusOf(rec);
  if (!canSignal(s)) throw new ContainerStateInvalid(`can only signal running containers: ${rec.name} is ${s}`, { hint: `pod start ${rec.name}` });
}

/** A stop or kill by the user ends a --restart cycle: the monitor does not start the container again. */
async function endRestartCycle(paths: Paths, rec: ContainerRecord): Promise<void> {
  if (rec.config?.opts.restartPolicy && !rec.stoppedByUser) await updateRecord(paths.root, rec.id, (r) => ({ ...r, stoppedByUser: true }));
}

/** The signals a kill ends a container with (INT, QUIT, KILL, TERM): a HUP or USR1 to a daemon ends no --restart cycle. */
const ENDING_SIGNALS = new Set([2, 3, 9, 15]);

/**
 * SIGKILL to the container and everything it forked: through its cgroup
 * where it has one (cgroup.kill, else the freezer), which also reaches
 * processes outside its PID namespace's reach (--pid host, joined ones).
 */
async function killAll(paths: Paths, rec: ContainerRecord): Promise<void> {
  if (rec.cgroup) await killCgroup(rec.cgroup, (pids) => pids.forEach((p) => signalContainer(rec.pid!, p, 9, paths.runroot)));
  signalContainer(rec.pid!, rec.pid!, 9, paths.runroot);
}

export async function killContainer(paths: Paths, rec: ContainerRecord, signal: number): Promise<void> {
  requireRunning(rec);
  if (ENDING_SIGNALS.has(signal)) await endRestartCycle(paths, rec);
  if (signal === 9) await killAll(paths, rec);
  else signalContainer(rec.pid!, rec.pid!, signal, paths.runroot);
  await containerEvent(paths, eventOf(rec), "kill");
}

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Waits until the container's process is gone and its end is recorded (by
 * the monitor or the foreground pod); resolves with the exit code, or
 * undefined on timeout. A process gone with nobody left to record it
 * (monitor killed) counts as ended after a short grace.
 */
export async function waitContainer(paths: Paths, id: string, timeoutMs = Infinity): Promise<number | undefined> {
  const until = Date.now() + timeoutMs;
  let delay = 5;
  let goneSince: number | undefined;
  for (;;) {
    const rec = readRecord(paths.root, id);
    if (!rec) throw new PodError(`container ${id} was removed while waiting`);
    if (rec.state !== "running") return exitCodeOf(rec);
    if (!isAlive(rec)) {
      goneSince ??= Date.now();
      const recorder = rec.monitorPid;
      if ((recorder !== undefined && processGone(recorder)) || Date.now() - goneSince > 1000) return exitCodeOf(rec);
    }
    if (Date.now() >= until) return undefined;
    await Bun.sleep(delay);
    delay = Math.min(delay * 2, 50);
  }
}

/** StopSignal (image or TERM), then KILL after `timeoutSec`. A paused container is refused, as podman does: a frozen process cannot act on its stop signal. */
export async function stopContainer(paths: Paths, rec: ContainerRecord, timeoutSec: number, stopSignal: number): Promise<void> {
  const s = statusOf(rec);
  if (s === "paused")
    throw new ContainerStateInvalid(`can only stop created or running containers. ${rec.id} is in state paused: container state improper`, {
      hint: `pod unpause ${rec.name} first, or remove it with pod rm -f ${rec.name}`,
    });
  // also between two starts of its policy: the one due is not made
  await endRestartCycle(paths, rec);
  if (s !== "running") return;
  if (timeoutSec > 0) {
    signalContainer(rec.pid!, rec.pid!, stopSignal, paths.runroot);
    if ((await waitContainer(paths, rec.id, timeoutSec * 1000)) !== undefined) return containerEvent(paths, eventOf(rec), "stop");
  }
  await killAll(paths, rec);
  await waitContainer(paths, rec.id, 10_000);
  await containerEvent(paths, eventOf(rec), "stop");
}

/** Removes a stopped container (`force`: stops it first); `o.volumes` removes its anonymous volumes too (`rm -v`). */
export async function removeContainer(paths: Paths, input: ContainerRecord, force: boolean, o: { volumes?: boolean } = {}): Promise<void> {
  await withContainerLock(paths.root, input.id, async () => {
    const rec = readRecord(paths.root, input.id);
    if (rec) await removeLocked(paths, rec, force, o);
  });
  rmSync(join(paths.root, "containers", `${input.id}.lock`), { force: true });
}

async function removeLocked(paths: Paths, rec: ContainerRecord, force: boolean, o: { volumes?: boolean }): Promise<void> {
  const s = statusOf(rec);
  if (!canRemove(s)) {
    if (!force)
      throw new ContainerStateInvalid(`cannot remove container ${rec.id.slice(0, 12)} as it is ${s}`, {
        hint: `stop it first (pod ${s === "paused" ? "unpause, then pod stop" : "stop"} ${rec.name}) or use rm -f`,
      });
    // SIGKILL ends frozen tasks too (cgroup v2), so a paused container needs no thaw first.
    await killAll(paths, rec);
    await waitContainer(paths, rec.id, 10_000);
  }
  // before the monitor is ended: it may be giving the address back right now (the lock waits for it)
  if (rec.bridge) await releaseBridge(rec.id);
  if (rec.networks) await releaseUserNetworks(paths.runroot, rec.id);
  endMonitor(containerDir(paths.root, rec.id));
  const store = new Store(paths);
  await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
  rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
  await containerEvent(paths, eventOf(rec), "remove");
  if (o.volumes) await removeAnonymousVolumes(store, rec.config?.opts.volumeMounts);
}

/**
 * Ends every process of the store's containers (`system reset`): each
 * running container is killed and waited for, and a directory whose record
 * is unreadable has its monitor killed (the container dies with it).
 */
export async function stopAllContainers(paths: Paths): Promise<void> {
  if (!existsSync(containersDir(paths.root))) return;
  for (const rec of listRecords(paths.root)) {
    if (isUp(statusOf(rec))) {
      await killAll(paths, rec);
      await waitContainer(paths, rec.id, 10_000);
    }
    // as rm does, before the monitor is ended: it may be giving the address back right now (the lock waits for it)
    if (rec.bridge) await releaseBridge(rec.id);
    if (rec.networks) await releaseUserNetworks(paths.runroot, rec.id);
    endMonitor(containerDir(paths.root, rec.id));
  }
  for (const id of await unreadableContainerDirs(paths.root)) endMonitor(containerDir(paths.root, id));
}

/**
 * Removes the container directories whose record cannot be read, saying so
 * (`rm -a`, `container prune`); returns their IDs.
 */
export async function removeUnreadable(paths: Paths, force: boolean): Promise<string[]> {
  if (!existsSync(containersDir(paths.root))) return [];
  const store = new Store(paths);
  const done: string[] = [];
  for (const id of await unreadableContainerDirs(paths.root)) {
    if (!force && liveMonitor(containerDir(paths.root, id)) !== undefined) {
      log.warn(`container directory ${id.slice(0, 12)} has no readable record but its monitor still runs: left alone (rm -af removes it)`);
      continue;
    }
    log.warn(`removing container directory ${id.slice(0, 12)}: its record (container.json) is missing or unreadable`);
    endMonitor(containerDir(paths.root, id));
    await removeContainerDir(paths.root, id, (p) => store.removeTrees(p));
    rmSync(runtimeDir(paths, id), { recursive: true, force: true });
    rmSync(join(containersDir(paths.root), `${id}.lock`), { force: true });
    done.push(id);
  }
  return done;
}

function liveMonitor(dir: string): number | undefined {
  const live = readLivePids(dir);
  return live && processStartTime(live.monitorPid) === live.monitorStart ? live.monitorPid : undefined;
}

/** A monitor still alive once its container is gone (stuck, or never told) must not outlive the record it serves. */
function endMonitor(dir: string): void {
  const pid = liveMonitor(dir);
  if (pid === undefined) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone meanwhile
  }
}

export async function renameContainer(paths: Paths, input: string, name: string): Promise<void> {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name))
    throw new PodError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { hint: "pick another name" });
  const rec = findContainer(paths.root, input);
  // Checked under the containers lock, as names are claimed at create.
  await updateRecord(paths.root, rec.id, (r) => {
    if (listRecords(paths.root).some((o) => o.name === name && o.id !== r.id))
      throw new PodError(`the container name "${name}" is already in use`, { hint: "remove that container, or choose another name" });
    return { ...r, name };
  });
  await containerEvent(paths, { ...eventOf(rec), name }, "rename");
}

/** Removes every container that is not running; returns their IDs. */
export async function pruneContainers(paths: Paths): Promise<string[]> {
  const done: string[] = [];
  for (const rec of listRecords(paths.root)) {
    if (isUp(statusOf(rec))) continue;
    await removeContainer(paths, rec, false);
    done.push(rec.id);
  }
  return [...done, ...(await removeUnreadable(paths, false))];
}

/** The container's cgroup, or why pause cannot freeze it (one line and a hint). */
function freezerOf(rec: ContainerRecord): string {
  if (rec.cgroup !== undefined) return rec.cgroup;
  const sup = cgroupSupport();
  if (!sup.ok) throw new PodError(`pausing ${rec.name}: pod cannot use the cgroup v2 freezer here: ${sup.reason}`, { hint: sup.hint });
  throw new PodError(`pausing ${rec.name}: it was started without a cgroup of its own (by an older pod, or its cgroup could not be made)`, {
    hint: `restart it (pod restart ${rec.name}): the new start gets a cgroup that pause can freeze`,
  });
}

/** Freezes every process of a running container (cgroup v2 freezer), as `podman pause`. */
export async function pauseContainer(paths: Paths, input: ContainerRecord): Promise<void> {
  await withContainerLock(paths.root, input.id, async () => {
    const rec = readRecord(paths.root, input.id);
    if (!rec) throw new NoSuchContainer(`no such container ${input.name}: it was removed`, { hint: "`pod ps -a` lists containers" });
    const s = statusOf(rec);
    if (s === "paused") throw new ContainerStateInvalid(`"${rec.id}" is already paused: container state improper`, { hint: `pod unpause ${rec.name}` });
    if (!canPause(s))
      throw new ContainerStateInvalid(`"${rec.id}" is not running, can't pause: container state improper`, { hint: `${rec.name} is ${s}; pod start ${rec.name} starts it` });
    await setFrozen(freezerOf(rec), true).catch((e) => {
      throw wrap(`pausing ${rec.name}`, e);
    });
    await containerEvent(paths, eventOf(rec), "pause");
  });
}

/** Thaws a paused container, as `podman unpause`. */
export async function unpauseContainer(paths: Paths, input: ContainerRecord): Promise<void> {
  await withContainerLock(paths.root, input.id, async () => {
    const rec = readRecord(paths.root, input.id);
    if (!rec) throw new NoSuchContainer(`no such container ${input.name}: it was removed`, { hint: "`pod ps -a` lists containers" });
    const s = statusOf(rec);
    if (!canUnpause(s))
      throw new ContainerStateInvalid(`"${rec.id}" is not paused, can't unpause: container state improper`, { hint: `${rec.name} is ${s}; \`pod ps --filter status=paused\` lists paused containers` });
    await setFrozen(rec.cgroup!, false).catch((e) => {
      throw wrap(`unpausing ${rec.name}`, e);
    });
    await containerEvent(paths, eventOf(rec), "unpause");
  });
}
