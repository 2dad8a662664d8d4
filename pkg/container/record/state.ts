// A container's status, derived from its record and the live system: a record
// that says "running" whose process is gone (monitor killed -9, reboot) is
// exited, never running forever. A running container whose cgroup is frozen
// (`pod pause`) is paused: that lives in the cgroup, not in the record, so it
// cannot go stale. Status strings read like podman's.
import { processStartTime } from "../../store/leftovers.ts";
import { isFrozen } from "../../cgroup/index.ts";
import { humanDuration } from "../../output/index.ts";
import type { ContainerRecord } from "./records.ts";

export type Status = "created" | "running" | "paused" | "exited";

export { processStartTime };

export function isAlive(rec: ContainerRecord): boolean {
  if (rec.pid === undefined) return false;
  const t = processStartTime(rec.pid);
  return t !== undefined && (rec.pidStartTime === undefined || t === rec.pidStartTime);
}

export function statusOf(rec: ContainerRecord): Status {
  if (rec.state !== "running") return rec.state;
  if (!isAlive(rec)) return "exited";
  return rec.cgroup !== undefined && isFrozen(rec.cgroup) ? "paused" : "running";
}

/** The exit code: 0 for a container never started (as podman), -1 for one whose end nobody saw (its monitor was killed). */
export function exitCodeOf(rec: ContainerRecord): number {
  if (rec.state === "created") return 0;
  return rec.exitCode ?? -1;
}

/** Whether the container's processes exist (paused ones too): what pid, kill and rm -f care about. */
export const isUp = (s: Status) => s === "running" || s === "paused";
export const canStart = (s: Status) => !isUp(s);
/** Current podman's kill accepts paused containers too: SIGKILL ends frozen tasks, other signals wait for the thaw. */
export const canSignal = (s: Status) => isUp(s);
export const canRemove = (s: Status) => !isUp(s);
export const canPause = (s: Status) => s === "running";
export const canUnpause = (s: Status) => s === "paused";

export function statusText(rec: ContainerRecord, now = Date.now()): string {
  const s = statusOf(rec);
  if (s === "running") {
    const up = `Up ${humanDuration(now - Date.parse(rec.startedAt ?? rec.created)).replace(/^Less than a second$/, "Less than a second")}`;
    return rec.config?.opts.healthcheck ? `${up} (${rec.health?.status ?? "starting"})` : up;
  }
  if (s === "created") return "Created";
  if (s === "paused") return "Paused";
  const ended = rec.finishedAt ?? rec.startedAt ?? rec.created;
  return `Exited (${exitCodeOf(rec)}) ${humanDuration(now - Date.parse(ended))} ago`;
}

/**
 * Whether output may still arrive in the log: the process lives, or its
 * recorder (the monitor) has not yet written the end. `logs -f` and
 * `start -a` follow until this turns false, so the last lines are not lost.
 */
export function mayStillLog(rec: ContainerRecord | undefined): boolean {
  if (!rec || rec.state !== "running") return false;
  if (isAlive(rec)) return true;
  if (rec.monitorPid === undefined) return false;
  try {
    process.kill(rec.monitorPid, 0);
    return true;
  } catch {
    return false;
  }
}
