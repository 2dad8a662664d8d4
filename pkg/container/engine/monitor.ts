// The monitor of a detached container: `pod _monitor ID`, a fresh exec of
// pod in its own session (not a fork of the CLI, see DESIGN.md on memory).
// The CLI starts the container from a daemonized child that then execs the
// monitor (pod_spawn_monitored in core.c), so the monitor finds the container
// already running as its child. It owns the container's stdio or terminal,
// writes the log, serves the attach socket, records the exit code and times,
// starts the container again under --restart (restart-policy.ts), runs --rm
// cleanup, and exits when the container does. It idles for the
// container's lifetime, so it loads little: the start is in detach.ts.
import { publishPorts } from "./publish.ts";
import { closeSync, read, rmSync, writeSync } from "node:fs";
import type { Paths } from "../../config/index.ts";
import { setWindowSize, waitExit } from "../../native/libc.ts";
import { containerDir, readRecord, removeContainerDir, updateRecord, eventOf } from "../record/records.ts";
import { exitFile, markRunning } from "../record/reconcile.ts";
import { writeFileAtomic } from "../../store/atomic.ts";
import { attachSocket, killHelper, podCommand, recordExit, runtimeDir } from "../io/live.ts";
import type { RunOptions } from "../../runtime/index.ts";
import { LogWriter, logPath } from "../io/logs.ts";
import { Frame, FrameReader, frame, parseResize } from "../io/attach-protocol.ts";
import { containerEvent } from "../../events/index.ts";

/** A new run starts `starting` with no results; then the checks run on the monitor's timer (health.ts). */
async function startHealthchecks(paths: Paths, id: string, cfg: NonNullable<RunOptions["healthcheck"]>): Promise<{ stop(): void }> {
  await updateRecord(paths.root, id, (r) => ({ ...r, health: { status: "starting", failingStreak: 0, log: [] } }));
  const { scheduleHealthchecks } = await import("./health.ts");
  return scheduleHealthchecks(cfg, podCommand(paths), id);
}

/** Reads fd until EOF/EIO, handing each chunk to onData. */
function pump(fd: number, onData: (b: Uint8Array) => void): Promise<void> {
  const buf = Buffer.alloc(65536);
  return new Promise((resolve) => {
    const next = () =>
      read(fd, buf, 0, buf.length, null, (err, n) => {
        if (err || n === 0) {
          closeSync(fd);
          resolve();
          return;
        }
        onData(buf.slice(0, n));
        next();
      });
    next();
  });
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
}

/** What a new attach client gets first: output written before anyone attached (a shell's first prompt). */
const BACKLOG_MAX = 256 * 1024;

export type TtySize = { rows: number; cols: number };

/** What the native core hands the monitor: the container's pid and the monitor's ends of its stdio (-1: none). */
export type MonitoredChild = { pid: number; ttyMaster: number; stdout: number; stderr: number; stdin: number; netHelper?: number };

/** `--child PID,TTY_MASTER` and `--fds STDOUT,STDERR,STDIN`, as startDetached passes them. */
export function parseMonitoredChild(child: string, fds: string): MonitoredChild | undefined {
  const c = /^(\d+),(-?\d+)(?:,(-?\d+))?$/.exec(child);
  const f = /^(-?\d+),(-?\d+),(-?\d+)$/.exec(fds);
  if (!c || !f) return undefined;
  const net = c[3] !== undefined && Number(c[3]) > 0 ? Number(c[3]) : undefined;
  return { pid: Number(c[1]), ttyMaster: Number(c[2]), stdout: Number(f[1]), stderr: Number(f[2]), stdin: Number(f[3]), netHelper: net };
}

/**
 * The hidden `_monitor` command: the container is already running as our
 * child. Never returns before it has exited. awaitAttach: `run -it` attaches
 * right after the start; a container that ends first keeps its socket open
 * a moment, so that attach still gets the output and the exit code (both
 * wait in the backlog) before --rm cleans up.
 */
export async function runMonitor(paths: Paths, id: string, child: MonitoredChild, awaitAttach = false): Promise<number> {
  // The CLI records the start too; when it was killed first, the record learns of it here.
  const rec = await updateRecord(paths.root, id, (r) => (r.pid === child.pid ? undefined : markRunning(r, child.pid, process.pid))) ?? readRecord(paths.root, id);
  const tty = child.ttyMaster >= 0;
  // --log-driver none and passthrough keep no log (passthrough's output does not even pass through us)
  const logCfg = rec?.config?.log;
  const log = logCfg?.driver === "none" || logCfg?.driver === "passthrough" ? undefined : new LogWriter(logPath(containerDir(paths.root, id)), logCfg?.maxSize);
  const clients = new Set<{ write(d: Uint8Array): unknown; end(): unknown }>();
  let backlog: Uint8Array[] | undefined = [];
  let backlogBytes = 0;
  const broadcast = (type: number, data: Uint8Array) => {
    const f = frame(type, data);
    if (backlog && !clients.size) {
      backlog.push(f);
      backlogBytes += f.length;
      while (backlogBytes > BACKLOG_MAX && backlog.length > 1) backlogBytes -= backlog.shift()!.length;
    }
    for (const c of clients) c.write(f);
  };
  const stdinFd = tty ? child.ttyMaster : child.stdin;
  const server = Bun.listen<{ reader: FrameReader }>({
    unix: attachSocket(paths, id),
    socket: {
      open(s) {
        s.data = { reader: new FrameReader() };
        for (const f of backlog ?? []) s.write(f);
        backlog = undefined;
        clients.add(s);
      },
      data(s, data) {
        for (const f of s.data.reader.push(data)) {
          if (f.type === Frame.Stdin && stdinFd >= 0) writeAll(stdinFd, f.payload);
          else if (f.type === Frame.Resize && tty) {
            const { rows, cols } = parseResize(f.payload);
            setWindowSize(child.ttyMaster, rows, cols);
          } else if (f.type === Frame.StdinEnd && !tty && child.stdin >= 0) closeSync(child.stdin);
        }
      },
      close(s) {
        clients.delete(s);
      },
    },
  });
  const pumps = tty
    ? [pump(child.ttyMaster, (d) => (log?.write("stdout", d), broadcast(Frame.Stdout, d)))]
    : [
        child.stdout >= 0 ? pump(child.stdout, (d) => (log?.write("stdout", d), broadcast(Frame.Stdout, d))) : Promise.resolve(),
        child.stderr >= 0 ? pump(child.stderr, (d) => (log?.write("stderr", d), broadcast(Frame.Stderr, d))) : Promise.resolve(),
      ];
  process.on("SIGTERM", () => void import("../../native/core.ts").then((m) => m.signalContainer(child.pid, child.pid, 15, paths.runroot)));
  for (const s of ["SIGINT", "SIGHUP"] as const) process.on(s, () => undefined);
  const published = await publishPorts(paths, rec, child.pid);
  const health = rec?.config?.opts.healthcheck ? await startHealthchecks(paths, id, rec.config.opts.healthcheck) : undefined;
  // The monitor idles for the container's lifetime: give back what start-up used.
  Bun.gc(true);
  // --timeout: killed after that many seconds, and recorded -1 as podman's conmon does
  const timeout = rec?.config?.opts.timeout;
  let timedOut = false;
  const kill = () => void import("../../native/core.ts").then((m) => ((timedOut = true), m.signalContainer(child.pid, child.pid, 9, paths.runroot)));
  const timer = timeout ? setTimeout(kill, timeout * 1000) : undefined;
  const exited = await waitExit(child.pid);
  clearTimeout(timer);
  health?.stop();
  published?.stop();
  const code = timedOut ? -1 : exited;
  // The network helper serves this container only: it ends with it (and, by its death signal, with us).
  if (child.netHelper !== undefined) killHelper(child.netHelper);
  // died before the exit is on record: whoever waits for the record (stop, wait) then finds the event written
  if (rec) await containerEvent(paths, eventOf(rec), "died", code);
  // What is still in the pipes reaches the log before the exit is on record, so `wait` then `logs` shows all of
  // it; a process the command left behind holding the pipes open delays the record a moment only.
  // (the timer is cleared: a pending one would keep this process alive after its work is done)
  let grace: ReturnType<typeof setTimeout> | undefined;
  const drained = await Promise.race([Promise.all(pumps).then(() => true), new Promise<false>((r) => (grace = setTimeout(() => r(false), 250)))]);
  clearTimeout(grace);
  if (drained) log?.flush();
  // Before anything else that may be cut short: the end is known even if this monitor is killed now.
  writeFileAtomic(exitFile(containerDir(paths.root, id)), `${code}\n`, 0o600);
  await Promise.all(pumps);
  log?.flush();
  broadcast(Frame.Exit, new TextEncoder().encode(String(code)));
  for (let waited = 0; awaitAttach && backlog !== undefined && waited < 5000; waited += 10) await Bun.sleep(10);
  // end() flushes what is queued (the exit frame) before closing, unlike a forced stop
  for (const c of clients) c.end();
  server.stop();
  await recordExit(paths, id, code);
  rmSync(runtimeDir(paths, id), { recursive: true, force: true });
  // --restart: the container starts again under a new monitor, and this one ends
  if (rec?.config?.opts.restartPolicy && (await (await import("./restart-policy.ts")).restartByPolicy(paths, id, code))) return 0;
  if (rec?.config?.rm) {
    const { Store } = await import("../../store/index.ts");
    const { removeAnonymousVolumes } = await import("../../volume/index.ts");
    const store = new Store(paths);
    await removeContainerDir(paths.root, id, (p) => store.removeTrees(p));
    await containerEvent(paths, eventOf(rec), "remove");
    await removeAnonymousVolumes(store, rec.config.opts.volumeMounts);
    if (rec.config.rmi) await (await import("../record/image-users.ts")).removeRunImage(paths, rec.config.rmi);
  }
  return 0;
}
