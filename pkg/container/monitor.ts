// The monitor of a detached container: `pod _monitor ID`, a fresh exec of
// pod in its own session (not a fork of the CLI, see DESIGN.md on memory).
// It starts the container, owns its stdio or terminal, writes the log, serves
// the attach socket, records the exit code and times, runs --rm cleanup, and
// exits when the container does. It tells the CLI that started it "ready" or
// "error …" on its stdout, then lets go of that pipe.
import { closeSync, openSync, read, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { Store } from "../store/index.ts";
import type { Paths } from "../config/index.ts";
import { dup2, pipe, setWindowSize } from "../native/libc.ts";
import { signalContainer, type ContainerStdio } from "../native/core.ts";
import { selfCommand } from "../userns/index.ts";
import { containerDir, readRecord, removeContainerDir, updateRecord } from "./records.ts";
import { launchContainer, recordExit, runtimeDir } from "./launch.ts";
import { LogWriter, logPath } from "./logs.ts";
import { removeAnonymousVolumes } from "../volume/index.ts";
import { Frame, FrameReader, frame, parseResize } from "./attach-protocol.ts";

export const attachSocket = (paths: Paths, id: string) => join(runtimeDir(paths, id), "attach.sock");

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

/** The hidden `_monitor` command. Never returns before the container has exited. */
export type TtySize = { rows: number; cols: number };

/** What a new attach client gets first: output written before anyone attached (a shell's first prompt). */
const BACKLOG_MAX = 256 * 1024;

/**
 * awaitAttach: `run -it` attaches right after the start. A container that
 * ends first keeps its socket open a moment, so that attach still gets the
 * output and the exit code (both wait in the backlog) before --rm cleans up.
 */
export async function runMonitor(paths: Paths, id: string, ttySize: TtySize = { rows: 24, cols: 80 }, awaitAttach = false): Promise<number> {
  const store = new Store(paths);
  const rec = readRecord(paths.root, id);
  if (!rec) return report(new PodError(`no such container ${id}`));
  const tty = rec.config?.opts.tty ?? false;
  const interactive = rec.config?.interactive ?? false;
  const [outR, outW] = tty ? [-1, -1] : pipe();
  const [errR, errW] = tty ? [-1, -1] : pipe();
  const [inR, inW] = !tty && interactive ? pipe() : [-1, -1];
  const devNull = openSync("/dev/null", "r+");
  const stdio: ContainerStdio = tty
    ? { stdin: -1, stdout: -1, stderr: -1, tty: ttySize }
    : { stdin: interactive ? inR : devNull, stdout: outW, stderr: errW };
  let launched;
  try {
    launched = await launchContainer(store, paths, rec, stdio);
  } catch (e) {
    return report(e);
  } finally {
    for (const fd of [outW, errW, inR]) if (fd >= 0) closeSync(fd);
  }
  const { child, ttyMaster } = launched;
  await updateRecord(paths.root, id, (r) => ({ ...r, monitorPid: process.pid }));
  const log = new LogWriter(logPath(containerDir(paths.root, id)));
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
  const stdinFd = tty ? ttyMaster! : inW;
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
            setWindowSize(ttyMaster!, rows, cols);
          } else if (f.type === Frame.StdinEnd && !tty && inW >= 0) closeSync(inW);
        }
      },
      close(s) {
        clients.delete(s);
      },
    },
  });
  const pumps = tty
    ? [pump(ttyMaster!, (d) => (log.write("stdout", d), broadcast(Frame.Stdout, d)))]
    : [
        pump(outR, (d) => (log.write("stdout", d), broadcast(Frame.Stdout, d))),
        pump(errR, (d) => (log.write("stderr", d), broadcast(Frame.Stderr, d))),
      ];
  const pid1 = child.pid;
  process.on("SIGTERM", () => signalContainer(pid1, pid1, 15, paths.runroot));
  for (const s of ["SIGINT", "SIGHUP"] as const) process.on(s, () => undefined);
  detachFromStarter(devNull, `ready ${pid1}\n`);
  // The monitor idles for the container's lifetime: give back what start-up used.
  Bun.gc(true);
  const code = await child.wait();
  await Promise.all(pumps);
  log.flush();
  broadcast(Frame.Exit, new TextEncoder().encode(String(code)));
  for (let waited = 0; awaitAttach && backlog !== undefined && waited < 5000; waited += 10) await Bun.sleep(10);
  // end() flushes what is queued (the exit frame) before closing, unlike a forced stop
  for (const c of clients) c.end();
  server.stop();
  await recordExit(paths, id, code);
  rmSync(runtimeDir(paths, id), { recursive: true, force: true });
  if (rec.config?.rm) {
    await removeContainerDir(paths.root, id, (p) => store.removeTrees(p));
    await removeAnonymousVolumes(store, rec.config.opts.volumeMounts);
  }
  return 0;
}

/** Tells the starting CLI how it went and points our stdout at /dev/null, so the CLI sees EOF. */
function detachFromStarter(devNull: number, line: string): void {
  writeAll(1, new TextEncoder().encode(line));
  dup2(devNull, 1);
  dup2(devNull, 2);
}

function report(e: unknown): number {
  const pe = e instanceof PodError ? e : new PodError(e instanceof Error ? e.message : String(e));
  writeAll(1, new TextEncoder().encode(`error ${JSON.stringify({ message: pe.message, hint: pe.hint, exit: pe.exit })}\n`));
  return pe.exit;
}

/**
 * Starts the monitor for a created or exited container and waits for its
 * word: resolves with the container's host pid, or throws what went wrong.
 */
export async function startMonitor(paths: Paths, id: string, ttySize?: TtySize, awaitAttach = false): Promise<number> {
  const size = [...(ttySize ? ["--tty-size", `${ttySize.rows}x${ttySize.cols}`] : []), ...(awaitAttach ? ["--await-attach"] : [])];
  const proc = Bun.spawn([...selfCommand(), "--root", paths.root, "--runroot", paths.runroot, "_monitor", ...size, id], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "ignore",
    detached: true,
  });
  const text = await new Response(proc.stdout).text();
  proc.unref();
  const line = text.split("\n")[0] ?? "";
  if (line.startsWith("ready ")) return Number(line.slice(6));
  if (line.startsWith("error ")) {
    const j = JSON.parse(line.slice(6)) as { message: string; hint?: string; exit?: number };
    throw new PodError(j.message, { hint: j.hint, exit: j.exit });
  }
  const code = await proc.exited;
  throw new PodError(`the container's monitor exited with status ${code} before starting it`, {
    hint: "run `pod --log-level debug _monitor ID` by hand to see why",
  });
}

