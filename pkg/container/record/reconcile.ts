// What a record says, checked against what is alive. Two files beside
// container.json are written by the processes that see a start or an end
// first, so a killed CLI or monitor never leaves a record that says less than
// what runs:
// - monitor.pids: "MONITOR_PID MONITOR_START CHILD_PID CHILD_START", written by
//   the native core the moment a detached container runs (before the CLI
//   hears of it);
// - exit: the exit code, written by the monitor as soon as it reaps the
//   container (before it drains the log and updates the record).
import { readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { isAlive, processStartTime } from "./state.ts";
import type { ContainerRecord } from "./records.ts";

export const liveFile = (dir: string) => join(dir, "monitor.pids");
export const exitFile = (dir: string) => join(dir, "exit");

export type LivePids = { monitorPid: number; monitorStart: number; pid: number; pidStart: number; at: Date };

export function readLivePids(dir: string): LivePids | undefined {
  try {
    const f = liveFile(dir);
    const [monitorPid, monitorStart, pid, pidStart] = readFileSync(f, "utf8").trim().split(" ").map(Number);
    if (![monitorPid, monitorStart, pid, pidStart].every((n) => Number.isInteger(n) && n! > 0)) return undefined;
    return { monitorPid: monitorPid!, monitorStart: monitorStart!, pid: pid!, pidStart: pidStart!, at: statSync(f).mtime };
  } catch {
    return undefined;
  }
}

/** Forgets the previous run's files before a new start. */
export function clearRunFiles(dir: string): void {
  for (const f of [liveFile(dir), exitFile(dir)]) rmSync(f, { force: true });
}

function readExitFile(dir: string): { code: number; at: Date } | undefined {
  try {
    const code = Number(readFileSync(exitFile(dir), "utf8").trim());
    return Number.isInteger(code) ? { code, at: statSync(exitFile(dir)).mtime } : undefined;
  } catch {
    return undefined;
  }
}

const alive = (pid: number, start: number) => processStartTime(pid) === start;

/**
 * The record as the live system shows it: a container the native core
 * started but no record names yet (the CLI was killed) is running; one whose
 * end only the monitor saw has that exit code.
 */
export function reconcile(dir: string, rec: ContainerRecord): ContainerRecord {
  const live = readLivePids(dir);
  if (live && live.pid !== rec.pid && alive(live.pid, live.pidStart)) return markRunning(rec, live.pid, live.monitorPid, live.at);
  if (rec.state !== "running" || rec.exitCode !== undefined || isAlive(rec)) return rec;
  const ended = readExitFile(dir);
  if (ended && (rec.startedAt === undefined || ended.at.getTime() >= Date.parse(rec.startedAt) - 1000))
    return { ...rec, exitCode: ended.code, finishedAt: ended.at.toISOString() };
  // Nobody saw the end: the monitor (or the foreground pod) died first, and the
  // container with it (its parent-death signal is SIGKILL).
  const recorder = rec.monitorPid ?? live?.monitorPid;
  if (recorder === undefined || processStartTime(recorder) === undefined) return { ...rec, exitCode: 128 + 9 };
  return rec;
}

/** The record of a container whose first process (pid) has just started. */
export function markRunning(r: ContainerRecord, pid: number, monitorPid: number | undefined, startedAt = new Date()): ContainerRecord {
  return {
    ...r,
    state: "running",
    pid,
    pidStartTime: processStartTime(pid),
    monitorPid,
    startedAt: startedAt.toISOString(),
    exitCode: undefined,
    oomKilled: undefined,
    finishedAt: undefined,
  };
}
