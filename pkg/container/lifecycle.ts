// Lifecycle verbs on recorded containers: start, stop, kill, remove, wait,
// rename, prune. Each checks the live status first (status.ts), so a record
// left "running" by a killed monitor is treated as exited.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { ContainerStateInvalid, NoSuchContainer, PodError } from "../errors.ts";
import { Store } from "../store/index.ts";
import type { Paths } from "../config/index.ts";
import { signalContainer } from "../native/core.ts";
import { listRecords, findContainer, removeContainerDir, updateRecord, readRecord, withContainerLock, type ContainerRecord } from "./records.ts";
import { canRemove, canStart, exitCodeOf, isAlive, statusOf } from "./state.ts";
import { startMonitor, type TtySize } from "./monitor.ts";
import { runtimeDir } from "./launch.ts";
import { removeAnonymousVolumes } from "../volume/index.ts";

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

export async function startContainer(paths: Paths, rec: ContainerRecord, o: { ttySize?: TtySize; awaitAttach?: boolean } = {}): Promise<void> {
  await withContainerLock(paths.root, rec.id, async () => {
    const cur = readRecord(paths.root, rec.id);
    if (!cur) throw new NoSuchContainer(`no such container ${rec.name}: it was removed`, { hint: "`pod ps -a` lists containers" });
    if (!canStart(statusOf(cur))) return;
    rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
    await startMonitor(paths, rec.id, o.ttySize, o.awaitAttach);
  });
}

function requireRunning(rec: ContainerRecord): void {
  if (!isAlive(rec))
    throw new ContainerStateInvalid(`can only signal running containers: ${rec.name} is ${statusOf(rec)}`, { hint: `pod start ${rec.name}` });
}

export function killContainer(paths: Paths, rec: ContainerRecord, signal: number): void {
  requireRunning(rec);
  signalContainer(rec.pid!, rec.pid!, signal, paths.runroot);
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

/** StopSignal (image or TERM), then KILL after `timeoutSec`. */
export async function stopContainer(paths: Paths, rec: ContainerRecord, timeoutSec: number, stopSignal: number): Promise<void> {
  if (statusOf(rec) !== "running") return;
  if (timeoutSec > 0) {
    signalContainer(rec.pid!, rec.pid!, stopSignal, paths.runroot);
    if ((await waitContainer(paths, rec.id, timeoutSec * 1000)) !== undefined) return;
  }
  signalContainer(rec.pid!, rec.pid!, 9, paths.runroot);
  await waitContainer(paths, rec.id, 10_000);
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
  if (!canRemove(statusOf(rec))) {
    if (!force)
      throw new ContainerStateInvalid(`cannot remove container ${rec.id.slice(0, 12)} as it is running`, {
        hint: `stop it first (pod stop ${rec.name}) or use rm -f`,
      });
    await stopContainer(paths, rec, 0, 9);
  }
  const store = new Store(paths);
  await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
  rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
  if (o.volumes) await removeAnonymousVolumes(store, rec.config?.opts.volumeMounts);
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
}

/** Removes every container that is not running; returns their IDs. */
export async function pruneContainers(paths: Paths): Promise<string[]> {
  const done: string[] = [];
  for (const rec of listRecords(paths.root)) {
    if (statusOf(rec) === "running") continue;
    await removeContainer(paths, rec, false);
    done.push(rec.id);
  }
  return done;
}
