// What a killed pod leaves behind, told apart by the creator's pid in the name:
//   .<name>.<pid>.<rand>.tmp        writeFileAtomic's temp file (atomic.ts)
//   <root>/tmp/<pid>-<rand>-<label> a temp dir of tempDir() or removeLayers()
//   <runroot>/job-<pid>-<rand>.json[.result]  a storage worker's job (worker.ts)
// A name whose pid is still alive is live work and is never a leftover.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

/** Whether a process exists (EPERM: it does, as someone else's). Temp names carry their creator's pid. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Field 22 of /proc/PID/stat: the process's start time, so a reused pid is
 * not mistaken for ours. A zombie (state Z, dead but not yet reaped) counts
 * as gone.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" || fields[0] === "X") return undefined;
    return Number(fields[19]);
  } catch {
    return undefined;
  }
}

/** The creator's pid of an atomic-write temp file, or undefined for any other name. */
export function atomicTempPid(name: string): number | undefined {
  const m = /^\..*\.(\d+)\.[a-z0-9]+\.tmp$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The pid of the pod that wrote a storage job file (the job or its result), or undefined for any other name. */
export function jobFilePid(name: string): number | undefined {
  const m = /^job-(\d+)-[a-z0-9]+\.json(\.result)?$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The pid a tmp/ entry is named after; NaN when the name carries none (nothing pod makes: a leftover). */
export function tmpEntryPid(name: string): number {
  const m = /^(\d+)-/.exec(name);
  return m ? Number(m[1]) : NaN;
}

function names(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const dead = (pid: number | undefined, alive: (pid: number) => boolean) => pid !== undefined && pid > 0 && !alive(pid);

/** Atomic-write temp files of dead pids in dir (full paths). */
export function staleAtomicTemps(dir: string, alive = pidAlive): string[] {
  return names(dir).filter((n) => dead(atomicTempPid(n), alive)).map((n) => join(dir, n));
}

/**
 * Job files of dead pids in the runroot, and the atomic-write temp files of
 * jobs and results: a pod killed while its storage worker ran (kill -9 of a
 * pull) never reaches the `finally` that removes them.
 */
export function staleJobFiles(runroot: string, alive = pidAlive): string[] {
  return names(runroot)
    .filter((n) => dead(jobFilePid(n), alive) || (n.startsWith(".job-") && dead(atomicTempPid(n), alive)))
    .map((n) => join(runroot, n));
}

/** tmp/ entries whose pid is dead or missing (full paths). */
export function staleTmpEntries(root: string, alive = pidAlive): string[] {
  const tmp = join(root, "tmp");
  return names(tmp)
    .filter((n) => {
      const pid = tmpEntryPid(n);
      return !Number.isInteger(pid) || pid <= 0 || !alive(pid);
    })
    .map((n) => join(tmp, n));
}

/** Removes stale job files; they belong to the user (the worker writes as namespace root), so no namespace is needed. */
export function sweepJobFiles(runroot: string): number {
  const stale = staleJobFiles(runroot);
  for (const p of stale) rmSync(p, { force: true });
  return stale.length;
}
