// Starting a container detached: the native core starts it from a daemonized
// child that then execs `pod _monitor` (pod_spawn_monitored in core.c), so the
// monitor is the container's parent and its start-up does not delay the CLI.
import { awaitPublished, clearPublished } from "./publish.ts";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { Store } from "../../store/index.ts";
import type { Paths } from "../../config/index.ts";
import { pipe } from "../../native/libc.ts";
import { spawnMonitoredContainer, type ContainerStdio, type MonitorExec } from "../../native/core.ts";
import { containerDir, monitorPidFile, type ContainerRecord } from "../record/records.ts";
import { liveFile, readLivePids } from "../record/reconcile.ts";
import { writeFileAtomic } from "../../store/atomic.ts";
import { writeConmonPidfile } from "./cidfile.ts";
import { launchContainer } from "./launch.ts";
import { openCgroupProcs, podCommand, runtimeDir } from "../io/live.ts";
import { monitorsCgroup } from "../../cgroup/index.ts";
import type { TtySize } from "./monitor.ts";

/**
 * Starts a created or exited container under a monitor (`pod _monitor`, a
 * fresh exec of pod that the native core makes the container's parent), and
 * returns once the container runs its command. The monitor's own start-up
 * overlaps with whatever the CLI does next.
 */
export async function startDetached(paths: Paths, rec: ContainerRecord, ttySize?: TtySize, awaitAttach = false, preserveFds = 0): Promise<number> {
  const store = new Store(paths);
  const tty = rec.config?.opts.tty ?? false;
  const interactive = rec.config?.interactive ?? false;
  // --log-driver passthrough: the container gets this process's own stdio, which outlives us; the monitor reads nothing
  const passthrough = !tty && rec.config?.log?.driver === "passthrough";
  const [outR, outW] = tty || passthrough ? [-1, -1] : pipe();
  const [errR, errW] = tty || passthrough ? [-1, -1] : pipe();
  const [inR, inW] = !tty && !passthrough && interactive ? pipe() : [-1, -1];
  const devNull = openSync("/dev/null", "r");
  const stdio: ContainerStdio = tty
    ? { stdin: -1, stdout: -1, stderr: -1, tty: ttySize ?? { rows: 24, cols: 80 } }
    : passthrough
      ? { stdin: interactive ? 0 : devNull, stdout: 1, stderr: 2 }
      : { stdin: interactive ? inR : devNull, stdout: outW, stderr: errW };
  // --cgroups=no-conmon|disabled: the monitor stays in the cgroup of whoever started it, as podman leaves conmon
  const cgroupsMode = rec.config?.opts.resources?.cgroups;
  const monitors = cgroupsMode === "no-conmon" || cgroupsMode === "disabled" ? undefined : monitorsCgroup();
  const monitorProcs = monitors ? openCgroupProcs(monitors) : -1;
  const monitor: MonitorExec = {
    before: [...podCommand(paths), "_monitor", ...(awaitAttach ? ["--await-attach"] : []), "--fds", `${outR},${errR},${inW}`, "--child"],
    after: [rec.id],
    env: process.env,
    keepFds: [outR, errR, inW].filter((fd) => fd >= 0),
    cgroupProcs: monitorProcs,
    liveFile: liveFile(containerDir(paths.root, rec.id)),
  };
  mkdirSync(runtimeDir(paths, rec.id), { recursive: true, mode: 0o700 });
  clearPublished(paths, rec.id);
  try {
    const { started, rec: running } = await launchContainer(store, paths, rec, (plan, procs) => spawnMonitoredContainer({ ...plan, preserveFds }, stdio, paths.runroot, procs, monitor));
    // the monitor's pid as a plain file, there before this returns: a systemd unit's PIDFile (pod generate systemd)
    const live = readLivePids(containerDir(paths.root, rec.id));
    if (live) writeFileAtomic(monitorPidFile(paths.root, rec.id), `${live.monitorPid}\n`, 0o600);
    if (live) writeConmonPidfile(rec, live.monitorPid);
    await awaitPublished(paths, running);
    return started.pid;
  } finally {
    for (const fd of [outR, outW, errR, errW, inR, inW, devNull, monitorProcs]) if (fd >= 0) closeSync(fd);
  }
}
