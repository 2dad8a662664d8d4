// Sessions with a running container from the user's terminal: `attach`
// (through the monitor's socket, detach with ctrl-p ctrl-q) and `exec`
// (a new process joining the container's namespaces).
import { closeSync, existsSync, openSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { ContainerStateInvalid, PodError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { Store } from "../../store/index.ts";
import { execInContainer, signalContainer, ContainerSpawnError, NativeSpawnError, type ExecSpec } from "../../native/core.ts";
import { frozenEnv, resolveUser } from "../../runtime/index.ts";
import { err, out, outBytes } from "../../output/index.ts";
import { containerDir, readRecord, type ContainerRecord, eventOf } from "../record/records.ts";
import { isAlive, processStartTime, statusOf } from "../record/state.ts";
import { layerDirsOf, readExecSpec, spawnError } from "../engine/launch.ts";
import { attachSocket, endExecSession, openCgroupProcs, recordExecSession } from "./live.ts";
import { logPath, readLogFrom, renderLine } from "./logs.ts";
import { ContainerTerminal, hostWindowSize } from "./tty.ts";
import { makeRaw, restoreTerminal } from "../../native/libc.ts";
import { Frame, FrameReader, frame, resizePayload } from "./attach-protocol.ts";
import { containerEvent } from "../../events/index.ts";
import { proxySignals } from "./sig-proxy.ts";

/** ctrl-p ctrl-q, podman's default; `--detach-keys` accepts "ctrl-X,ctrl-Y" or letters. */
export function parseDetachKeys(spec: string): number[] {
  if (spec === "") return [];
  return spec.split(",").map((k) => {
    const m = /^ctrl-([a-z@\[\\\]^_])$/.exec(k);
    if (m) return m[1]!.charCodeAt(0) & 0x1f;
    if (k.length === 1) return k.charCodeAt(0);
    throw new PodError(`invalid detach key "${k}"`, { hint: 'use a list like "ctrl-p,ctrl-q"' });
  });
}

type MonitorHandlers = { data(s: unknown, d: Uint8Array): void; close(): void };

/**
 * Connects to the monitor's attach socket. The monitor opens it once it is
 * up, a few milliseconds after the container itself started (and a socket
 * just bound may not listen yet): retried while the monitor lives. Undefined
 * when the monitor ended first (a short-lived container).
 */
async function connectMonitor(paths: Paths, rec: ContainerRecord, socket: MonitorHandlers) {
  const path = attachSocket(paths, rec.id);
  let last: Error | undefined;
  for (let waited = 0; waited < 10_000; waited += 5) {
    if (existsSync(path)) {
      try {
        return await Bun.connect({ unix: path, socket });
      } catch (e) {
        last = e as Error;
      }
    }
    const monitorPid = readRecord(paths.root, rec.id)?.monitorPid;
    if (monitorPid === undefined || processStartTime(monitorPid) === undefined) return undefined;
    await Bun.sleep(5);
  }
  throw new PodError(`attaching to ${rec.name}: ${last?.message ?? "its monitor opened no attach socket in 10 s"}`, {
    hint: "`pod logs` shows its output; `pod ps -a` its state",
  });
}

/**
 * The container ended before attach reached its monitor: what the monitor
 * would have replayed (the output of this run) is in the log, and the exit
 * code in the record.
 */
async function replayEnded(paths: Paths, rec: ContainerRecord): Promise<AttachResult> {
  const { waitContainer } = await import("../engine/lifecycle.ts");
  const code = await waitContainer(paths, rec.id, 10_000);
  // The start is recorded just after the process starts; a second of slack keeps its first lines.
  const since = Date.parse(rec.startedAt ?? rec.created) - 1000;
  for (const l of readLogFrom(logPath(containerDir(paths.root, rec.id)), 0).lines)
    if (Date.parse(l.time) >= since) (l.stream === "stderr" ? err : out)(renderLine(l, false));
  return { detached: false, code: code ?? 0 };
}

export type AttachResult = { detached: true } | { detached: false; code: number };

export async function attachContainer(
  paths: Paths,
  rec: ContainerRecord,
  o: { stdin: boolean; detachKeys: number[]; justStarted?: boolean; sigProxy?: boolean },
): Promise<AttachResult> {
  // Right after `run -it` started it, a container that already ended still has its socket open.
  if (statusOf(rec) === "paused") throw new ContainerStateInvalid(`you can only attach to running containers: ${rec.name} is paused`, { hint: `pod unpause ${rec.name}` });
  if (!o.justStarted && !isAlive(rec)) throw new ContainerStateInvalid(`you can only attach to running containers: ${rec.name} is not running`, { hint: `pod start -a ${rec.name}` });
  const tty = rec.config?.opts.tty ?? false;
  const reader = new FrameReader();
  let resolveDone: (r: AttachResult) => void;
  const done = new Promise<AttachResult>((r) => (resolveDone = r));
  const socket = await connectMonitor(paths, rec, {
    data(_s, data) {
      for (const f of reader.push(data)) {
        if (f.type === Frame.Stdout) outBytes(f.payload);
        else if (f.type === Frame.Stderr) err(new TextDecoder().decode(f.payload));
        else if (f.type === Frame.Exit) resolveDone({ detached: false, code: Number(new TextDecoder().decode(f.payload)) });
      }
    },
    close() {
      resolveDone({ detached: false, code: 0 });
    },
  });
  if (!socket) return replayEnded(paths, rec);
  await containerEvent(paths, eventOf(rec), "attach");
  const stopProxy = o.sigProxy ? proxySignals(paths, rec.id) : undefined;
  const sendResize = () => {
    const { rows, cols } = hostWindowSize();
    socket.write(frame(Frame.Resize, resizePayload(rows, cols)));
  };
  let matched = 0;
  const onData = (chunk: Buffer) => {
    for (let i = 0; i < chunk.length && o.detachKeys.length; i++) {
      matched = chunk[i] === o.detachKeys[matched] ? matched + 1 : chunk[i] === o.detachKeys[0] ? 1 : 0;
      if (matched === o.detachKeys.length) {
        resolveDone({ detached: true });
        return;
      }
    }
    socket.write(frame(Frame.Stdin, chunk));
  };
  const raw = tty && o.stdin && process.stdin.isTTY;
  let saved: Uint8Array | undefined;
  if (tty) {
    sendResize();
    process.on("SIGWINCH", sendResize);
  }
  if (o.stdin) {
    if (raw) saved = makeRaw(0);
    process.stdin.on("data", onData);
    process.stdin.on("end", () => socket.write(frame(Frame.StdinEnd)));
    process.stdin.resume();
  }
  try {
    return await done;
  } finally {
    stopProxy?.();
    process.off("SIGWINCH", sendResize);
    process.stdin.off("data", onData);
    process.stdin.pause();
    if (saved) restoreTerminal(0, saved);
    socket.end();
  }
}

export type ExecOptions = {
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  /** -e values, after the --env-file entries (podman's order: files first, -e wins) */
  env: string[];
  envFiles?: string[];
  user?: string;
  workdir?: string;
  privileged: boolean;
  /** --preserve-fds N: pod's fds 3 .. 3+N-1 are passed on to the process */
  preserveFds?: number;
  /** --detach-keys as given (undefined: podman's default ctrl-p,ctrl-q) */
  detachKeys?: string;
};

/**
 * Checks what exec's flags ask before anything runs: the --preserve-fds
 * descriptors must all be open (podman's check and message), and the detach
 * keys must parse. A session with a terminal and stdin cannot be detached
 * from: pod exec holds the terminal's master end itself, so the process
 * would lose its terminal; only `--detach-keys ""` (no detaching) is
 * honoured there.
 */
export function checkExecOptions(o: Pick<ExecOptions, "interactive" | "tty" | "detach" | "preserveFds" | "detachKeys">, isOpen: (fd: number) => boolean): void {
  checkPreservedFds(o.preserveFds ?? 0, "pod exec --preserve-fds 1 CTR CMD 3<file", isOpen);
  if (o.detachKeys === undefined) return;
  const keys = parseDetachKeys(o.detachKeys);
  if (keys.length && o.interactive && o.tty && !o.detach)
    throw new PodError("pod exec -it cannot detach from its process: pod holds the process's terminal, which would end with it", {
      hint: 'use --detach-keys "" (no detaching), or `pod exec -d` for a process that runs on its own',
    });
}

/** --preserve-fds N (run, exec): every fd from 3 to 3+N-1 must have been handed to pod, podman's check and message. */
export function checkPreservedFds(n: number, example: string, isOpen: (fd: number) => boolean = fdInherited): void {
  for (let fd = 3; fd < 3 + n; fd++)
    if (!isOpen(fd))
      throw new PodError(`file descriptor ${fd} is not available - the preserve-fds option requires that file descriptors must be passed`, {
        hint: `open every descriptor from 3 to ${2 + n} in the calling shell (${example})`,
      });
}

/** Resolves with the process's exit code, or with `-d` at once with its exec session ID. */
export async function execContainer(paths: Paths, rec: ContainerRecord, argv: string[], o: ExecOptions): Promise<{ code: number } | { session: string }> {
  checkExecOptions(o, fdInherited);
  const paused = statusOf(rec) === "paused";
  if (paused) throw new ContainerStateInvalid(`can only create exec sessions on running containers: ${rec.name} is paused`, { hint: `pod unpause ${rec.name}` });
  const base = isAlive(rec) ? readExecSpec(paths, rec.id) : undefined;
  if (!base) throw new ContainerStateInvalid(`can only create exec sessions on running containers: ${rec.name} is not running`, { hint: `pod start ${rec.name}` });
    const extra = frozenEnv(o.envFiles ?? [], o.env, process.env);
  const spec: ExecSpec = { ...base, argv, env: mergeEnv(base.env, extra), cwd: o.workdir ?? base.cwd };
  if (o.user !== undefined) {
    const store = new Store(paths);
    const img = store.images().find((i) => i.id === rec.imageId);
    const layers = [...(img ? layerDirsOf(store, img.layers) : []), join(containerDir(paths.root, rec.id), "upper")];
    const u = resolveUser(o.user, layers);
    Object.assign(spec, { uid: u.uid, gid: u.gid, groups: u.groups });
    if (u.uid !== 0) spec.caps = { ...spec.caps, effective: 0n, permitted: 0n, ambient: 0n, inheritable: 0n };
  }
  if (o.privileged) {
    const all = (1n << 41n) - 1n;
    spec.caps = { bounding: all, effective: spec.uid === 0 ? all : 0n, permitted: spec.uid === 0 ? all : 0n, inheritable: 0n, ambient: 0n };
  }
  const devNull = o.interactive && !o.detach ? -1 : openSync("/dev/null", "r+");
  const stdio = o.tty && !o.detach
    ? { stdin: -1, stdout: -1, stderr: -1, tty: hostWindowSize() }
    : { stdin: devNull, stdout: o.detach ? devNull : -1, stderr: o.detach ? devNull : -1 };
  // Like `docker exec`, the process joins the container's cgroup (its limits, pause), not only its namespaces.
  const procs = rec.cgroup ? openCgroupProcs(rec.cgroup) : -1;
  let started;
  try {
    started = execInContainer(rec.pid!, spec, stdio, paths.runroot, procs, o.preserveFds ?? 0);
  } catch (e) {
    if (e instanceof NativeSpawnError) throw spawnError(e as ContainerSpawnError, argv[0] ?? "");
    throw e;
  } finally {
    if (devNull >= 0) closeSync(devNull);
    if (procs >= 0) closeSync(procs);
  }
  const session = recordExecSession(paths, rec.id, started.child.pid);
  await containerEvent(paths, eventOf(rec), "exec");
  if (o.detach) return { session };
  const { child, ttyMaster } = started;
  const term = ttyMaster !== undefined ? new ContainerTerminal(ttyMaster) : undefined;
  const forward = () => signalContainer(rec.pid!, child.pid, 15, paths.runroot);
  process.on("SIGTERM", forward);
  term?.start(o.interactive);
  try {
    const code = await child.wait();
    await term?.finish();
    await containerEvent(paths, eventOf(rec), "exec_died", code);
    return { code };
  } finally {
    term?.restore();
    process.off("SIGTERM", forward);
    endExecSession(paths, rec.id, session);
  }
}

/**
 * Whether fd was handed to pod by its caller (podman's IsFdInherited). The
 * close-on-exec flag proves nothing here: Bun sets it on every inherited fd
 * above 3 at startup, and its own descriptors (epoll, eventfd) are
 * anonymous inodes that take the lowest free numbers. So: open, and not an
 * anonymous inode; pod itself holds no other fd open when exec starts.
 */
function fdInherited(fd: number): boolean {
  try {
    return !readlinkSync(`/proc/self/fd/${fd}`).startsWith("anon_inode:");
  } catch {
    return false;
  }
}

function mergeEnv(base: string[], extra: string[]): string[] {
  const map = new Map(base.map((e) => [e.split("=")[0]!, e] as const));
  for (const e of extra) {
    const k = e.split("=")[0]!;
    if (e.includes("=")) map.set(k, e);
    else if (process.env[k] !== undefined) map.set(k, `${k}=${process.env[k]}`);
  }
  return [...map.values()];
}
