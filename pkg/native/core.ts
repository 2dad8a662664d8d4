// The TypeScript side of core.c: loads it on first use (the compiled binary
// carries core.c built by the C compiler at build time; from source, or where
// that cannot be loaded, Bun's built-in TinyCC compiles it) and forks
// children into new user namespaces.
import { cc, dlopen, ptr, CString, FFIType } from "bun:ffi";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import coreSource from "./core.c" with { type: "text" };
import { waitExit, killPid, flock, LOCK_EX, LOCK_UN } from "./libc.ts";
import { PlanField, SpawnFlag, Stage, stageText } from "./protocol.ts";
import type { LaunchPlan, MountOp, NamespaceSource } from "./plan.ts";

type Core = {
  pod_spawn_userns: (...a: unknown[]) => number;
  pod_spawn_container: (...a: unknown[]) => number;
  pod_spawn_monitored: (...a: unknown[]) => number;
  pod_exec_container: (...a: unknown[]) => number;
  pod_signal_container: (userns: number, target: number, sig: number) => number;
  pod_spawn_join_userns: (...a: unknown[]) => number;
  pod_forward_tcp: (...a: unknown[]) => number;
};

let core: Core | undefined;
/** how long the last spawn spent loading core.c (for --log-level debug) */
export let compileMs = 0;
/** how it was loaded: "prebuilt" (the build's shared object) or "tinycc" */
export let coreKind = "";

/** core.c built by the C compiler at build time (scripts/build.ts), base64, and its hash; undefined from source. */
declare const POD_CORE_SO: string | undefined;
declare const POD_CORE_SO_ID: string | undefined;

const SYMBOLS = {
  pod_spawn_userns: {
    args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32],
    returns: FFIType.i32,
  },
  pod_spawn_container: {
    args: [...Array(8).fill(FFIType.ptr), ...Array(5).fill(FFIType.i32), FFIType.ptr, FFIType.ptr, FFIType.i32],
    returns: FFIType.i32,
  },
  pod_spawn_monitored: {
    args: [
      ...Array(8).fill(FFIType.ptr),
      ...Array(6).fill(FFIType.i32),
      ...Array(5).fill(FFIType.ptr),
      FFIType.i32,
      FFIType.ptr,
      FFIType.ptr,
      FFIType.i32,
    ],
    returns: FFIType.i32,
  },
  pod_signal_container: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
  pod_spawn_join_userns: { args: [FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  pod_forward_tcp: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
  pod_exec_container: {
    args: [FFIType.i32, ...Array(3).fill(FFIType.ptr), ...Array(6).fill(FFIType.i32), FFIType.ptr, FFIType.ptr, FFIType.i32],
    returns: FFIType.i32,
  },
} as const;

/**
 * The build's shared object, written once per runtime dir (temp file and
 * rename, under a name of its hash) and dlopen'ed: TinyCC's compile is 5-10 ms
 * of every command that starts a container. Undefined where there is none
 * or it cannot be loaded (a noexec runtime dir), so TinyCC compiles instead.
 */
function prebuilt(workDir: string): Core | undefined {
  if (typeof POD_CORE_SO !== "string" || !POD_CORE_SO || typeof POD_CORE_SO_ID !== "string" || process.env.POD_NATIVE_TINYCC === "1") return undefined;
  try {
    const path = join(workDir, `core-${POD_CORE_SO_ID}.so`);
    if (!existsSync(path)) {
      mkdirSync(workDir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, Buffer.from(POD_CORE_SO, "base64"), { mode: 0o700 });
      renameSync(tmp, path);
    }
    return dlopen(path, SYMBOLS).symbols as unknown as Core;
  } catch {
    return undefined;
  }
}

function loadCore(workDir: string): Core {
  const lib = prebuilt(workDir);
  coreKind = lib ? "prebuilt" : "tinycc";
  return lib ?? compile(workDir);
}

/**
 * cc() cannot read a source embedded at /$bunfs, so the source goes to a
 * private file first. cc() also unpacks TinyCC's headers into
 * $TMPDIR/bun-cc-<uid>, with the TMPDIR Bun saw at start-up, and keeps them;
 * pod removes that directory again when it was not there before. A lock in
 * the runtime dir keeps a concurrent pod from losing the headers mid-compile.
 */
function compile(workDir: string): Core {
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const lockFd = openSync(join(workDir, "cc.lock"), "a", 0o600);
  flock(lockFd, LOCK_EX);
  const headers = join(tmpdir(), `bun-cc-${process.getuid?.() ?? 0}`);
  const hadHeaders = existsSync(headers);
  const dir = mkdtempSync(join(workDir, "cc-"));
  try {
    const src = join(dir, "core.c");
    writeFileSync(src, coreSource as unknown as string, { mode: 0o600 });
    const lib = cc({
      source: src,
      library: ["c"],
      symbols: SYMBOLS,
    });
    return lib.symbols as unknown as Core;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!hadHeaders) rmSync(headers, { recursive: true, force: true });
    flock(lockFd, LOCK_UN);
    closeSync(lockFd);
  }
}

/** The C side holds raw pointers into these buffers: they must outlive the call, so the caller touches them after it. */
let kept: unknown;
function keepAlive(holders: unknown): void {
  kept = holders;
  kept = undefined;
}

/** A NULL-terminated char*[] whose backing buffers stay alive with the returned holder. */
function cArray(items: string[] | undefined): { ptr: number | null; keep: unknown[] } {
  if (!items) return { ptr: null, keep: [] };
  const bufs = items.map((s) => Buffer.from(s + "\0"));
  const arr = new BigUint64Array(items.length + 1);
  bufs.forEach((b, i) => (arr[i] = BigInt(ptr(b))));
  arr[items.length] = 0n;
  return { ptr: ptr(arr), keep: [bufs, arr] };
}

export type IdMapArgs = {
  /** newuidmap-style triples "inside outside count", flattened; undefined = single-id fallback */
  uid?: number[];
  gid?: number[];
};

export type UsernsSpawnOptions = {
  path: string;
  argv: string[];
  env: Record<string, string | undefined>;
  cwd?: string;
  maps: IdMapArgs;
  newMountNs?: boolean;
  newSession?: boolean;
  /** also a new network namespace (a user network's shared one) */
  newNetwork?: boolean;
  /** outlive the caller (a second fork, no parent-death signal): the returned child is the first fork, which ends at once */
  daemon?: boolean;
  /** where cc() may write its scratch files (pod's runtime dir) */
  scratchDir: string;
};

export class UsernsChild {
  constructor(readonly pid: number) {}

  /** Resolves with the exit code (128+N for signal N). */
  wait(): Promise<number> {
    return waitExit(this.pid);
  }

  kill(signal: number): void {
    killPid(this.pid, signal);
  }
}

export class NativeSpawnError extends Error {
  constructor(
    message: string,
    /** the Stage the child failed at, or 0 for the parent's own failure */
    readonly stage: number,
    readonly errno: number,
    /** for Stage.Mount: index of the failing op in the flattened op list */
    readonly opIndex = 0,
  ) {
    super(message);
  }
}

/** Child failures come as "STAGE:ERRNO:OPINDEX:strerror", the parent's own as plain text. */
function spawnFailure(rc: number, errbuf: Buffer): NativeSpawnError {
  const stage = rc === -1 ? 0 : -rc - 1;
  const msg = new CString(ptr(errbuf)).toString();
  const m = /^(\d+):(\d+):(\d+):(.*)$/.exec(msg);
  if (!m) return new NativeSpawnError(msg, 0, 0);
  return new NativeSpawnError(`${stageText[stage] ?? `stage ${stage}`}: ${m[4]}`, stage, Number(m[2]), Number(m[3]));
}

/** newuidmap/newgidmap are run by absolute path with an empty environment. */
function mapHelperArgv(helper: string, triples: number[] | undefined, env: Record<string, string | undefined>) {
  if (!triples) return cArray(undefined);
  const path = whichOnPath(helper, env.PATH) ?? `/usr/bin/${helper}`;
  return cArray([path, "", ...triples.map(String)]);
}

function whichOnPath(name: string, pathVar = "/usr/local/bin:/usr/bin:/bin"): string | undefined {
  for (const dir of pathVar.split(":")) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

const envList = (env: Record<string, string | undefined>) =>
  Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);

export function spawnInUserNamespace(o: UsernsSpawnOptions): UsernsChild {
  core ??= loadCore(o.scratchDir);
  const argv = cArray(o.argv);
  const envp = cArray(envList(o.env));
  const uidArgv = mapHelperArgv("newuidmap", o.maps.uid, process.env);
  const gidArgv = mapHelperArgv("newgidmap", o.maps.gid, process.env);
  const path = Buffer.from(o.path + "\0");
  const cwd = o.cwd ? Buffer.from(o.cwd + "\0") : null;
  const errbuf = Buffer.alloc(512);
  const flags =
    (o.newMountNs ? SpawnFlag.NewMountNs : 0) | (o.newSession ? SpawnFlag.NewSession : 0) | (o.newNetwork ? SpawnFlag.NewNetwork : 0) | (o.daemon ? SpawnFlag.Daemon : 0);
  const pid = core.pod_spawn_userns(
    flags,
    ptr(path),
    argv.ptr,
    envp.ptr,
    uidArgv.ptr,
    gidArgv.ptr,
    cwd ? ptr(cwd) : null,
    ptr(errbuf),
    errbuf.length,
  );
  keepAlive([argv, envp, uidArgv, gidArgv, path, cwd]);
  if (pid < 0) throw spawnFailure(pid, errbuf);
  return new UsernsChild(pid);
}

/**
 * Starts `argv` as uid 0 of the user namespace of process `usernsOf` (a
 * running container's PID 1), with pod's stdio. Returns once it has exec'd.
 */
export function spawnJoiningUserns(usernsOf: number, o: Pick<UsernsSpawnOptions, "path" | "argv" | "env" | "scratchDir" | "newNetwork" | "daemon">): UsernsChild {
  core ??= loadCore(o.scratchDir);
  const argv = cArray(o.argv);
  const envp = cArray(envList(o.env));
  const path = Buffer.from(o.path + "\0");
  const errbuf = Buffer.alloc(512);
  const flags = (o.newNetwork ? SpawnFlag.NewNetwork : 0) | (o.daemon ? SpawnFlag.Daemon : 0);
  const pid = core.pod_spawn_join_userns(usernsOf, flags, ptr(path), argv.ptr, envp.ptr, ptr(errbuf), errbuf.length);
  keepAlive([argv, envp, path]);
  if (pid < 0) throw spawnFailure(pid, errbuf);
  return new UsernsChild(pid);
}

export type ContainerStdio = {
  /** fds dup'ed onto the container's 0, 1, 2; -1 keeps pod's own */
  stdin: number;
  stdout: number;
  stderr: number;
  /** a terminal made inside the container (its 0, 1, 2 and controlling terminal), of this size */
  tty?: { rows: number; cols: number };
};

const bit = (b: bigint) => b.toString();

/** The plan as core.c reads it: header strings at fixed indexes, then the ops flattened. */
export function flattenPlan(plan: LaunchPlan): { header: string[]; ops: string[]; opStarts: number[] } {
  const h: string[] = [];
  h[PlanField.Rootfs] = plan.rootfs;
  h[PlanField.RootKind] = plan.rootfsMount.kind;
  h[PlanField.OverlayCwd] = plan.rootfsMount.kind === "overlay" ? plan.rootfsMount.cwd : "";
  h[PlanField.OverlayData] = plan.rootfsMount.kind === "overlay" ? plan.rootfsMount.data : "";
  h[PlanField.ReadonlyRoot] = plan.readonlyRoot ? "1" : "0";
  h[PlanField.Hostname] = plan.hostname;
  h[PlanField.NewNet] = plan.joinNetwork ?? (plan.newNetwork ? "1" : "0");
  h[PlanField.Cwd] = plan.cwd;
  h[PlanField.Uid] = String(plan.uid);
  h[PlanField.Gid] = String(plan.gid);
  h[PlanField.Groups] = plan.keepGroups ? "keep" : plan.groups.join(",");
  h[PlanField.CapBounding] = bit(plan.caps.bounding);
  h[PlanField.CapEffective] = bit(plan.caps.effective);
  h[PlanField.CapPermitted] = bit(plan.caps.permitted);
  h[PlanField.CapInheritable] = bit(plan.caps.inheritable);
  h[PlanField.CapAmbient] = bit(plan.caps.ambient);
  h[PlanField.NoNewPrivs] = plan.noNewPrivileges ? "1" : "0";
  h[PlanField.Init] = plan.init ? "1" : "0";
  h[PlanField.Rlimits] = (plan.rlimits ?? []).map((r) => `${r.resource}:${r.soft}:${r.hard}`).join(",");
  const ns = (s: NamespaceSource | undefined) => (s === undefined || s === "private" ? "1" : s === "host" ? "0" : s);
  h[PlanField.PidNs] = ns(plan.namespaces?.pid);
  h[PlanField.IpcNs] = ns(plan.namespaces?.ipc);
  h[PlanField.UtsNs] = ns(plan.namespaces?.uts);
  h[PlanField.CgroupNs] = ns(plan.namespaces?.cgroup);
  h[PlanField.PreserveFds] = String(plan.preserveFds ?? 0);
  h[PlanField.Keyring] = plan.keyring ?? "";
  h[PlanField.Seccomp] = plan.seccomp ?? "";
  const ops: string[] = [];
  const opStarts: number[] = [];
  for (const op of plan.ops) {
    opStarts.push(ops.length);
    switch (op.op) {
      case "mount":
        ops.push("mount", op.fstype, op.source, op.target, String(op.flags), op.data);
        break;
      case "bind":
        ops.push("bind", op.source, op.target, op.recursive ? "1" : "0", op.readonly ? "1" : "0");
        break;
      case "mkdir":
      case "touch":
        ops.push(op.op, op.target, String(op.mode));
        break;
      case "symlink":
        ops.push("symlink", op.linkTarget, op.target);
        break;
      case "mask":
      case "readonly":
        ops.push(op.op, op.target);
        break;
      case "write":
        ops.push("write", op.target, op.data);
        break;
    }
  }
  return { header: h, ops, opStarts };
}

export class ContainerSpawnError extends NativeSpawnError {
  constructor(
    base: NativeSpawnError,
    /** the MountOp that failed, for Stage.Mount */
    readonly op?: MountOp,
  ) {
    super(base.message, base.stage, base.errno, base.opIndex);
  }
}

/** The spawn arguments shared by a container started from pod and one started under its monitor. */
function containerSpawnArgs(plan: LaunchPlan, stdio: ContainerStdio, cgroupProcs: number) {
  const { header, ops, opStarts } = flattenPlan(plan);
  // the single-id fallback (no subordinate ids): the child writes "0 UID 1" itself
  const single = plan.uidMap.length === 3 && plan.gidMap.length === 3 && plan.uidMap[0] === 0 && plan.gidMap[0] === 0 && plan.uidMap[2] === 1 && plan.gidMap[2] === 1;
  const arrays = [
    cArray(header),
    cArray(ops),
    cArray(plan.rootfsHelper),
    cArray(plan.netHelper),
    cArray(plan.argv),
    cArray(plan.env),
    mapHelperArgv("newuidmap", single ? undefined : plan.uidMap, process.env),
    mapHelperArgv("newgidmap", single ? undefined : plan.gidMap, process.env),
  ];
  const args = [...arrays.map((a) => a.ptr), stdio.stdin, stdio.stdout, stdio.stderr, winsizeOf(stdio), cgroupProcs];
  const fail = (rc: number, errbuf: Buffer) => {
    const e = spawnFailure(rc, errbuf);
    const opNo = opStarts.indexOf(e.opIndex);
    return new ContainerSpawnError(e, e.stage === Stage.Mount && opNo >= 0 ? plan.ops[opNo] : undefined);
  };
  return { args, keep: arrays, fail };
}

const winsizeOf = (stdio: ContainerStdio) =>
  stdio.tty ? ((Math.max(1, stdio.tty.rows) & 0xffff) << 16) | (Math.max(1, stdio.tty.cols) & 0xffff) : 0;

function compiled(scratchDir: string): Core {
  const t0 = performance.now();
  core ??= loadCore(scratchDir);
  compileMs = performance.now() - t0;
  return core;
}

/**
 * Starts a container's first process from a plan, as pod's child. Returns
 * once the command has exec'd (or throws a ContainerSpawnError naming the
 * failed stage), with the terminal's master fd when stdio.tty asked for one.
 * cgroupProcs: an open cgroup.procs the process moves itself into (-1: none).
 */
export function spawnContainer(
  plan: LaunchPlan,
  stdio: ContainerStdio,
  scratchDir: string,
  cgroupProcs = -1,
): { child: UsernsChild; ttyMaster?: number; netHelperPid?: number } {
  const c = compiled(scratchDir);
  const { args, keep, fail } = containerSpawnArgs(plan, stdio, cgroupProcs);
  const errbuf = Buffer.alloc(512);
  const outs = new Int32Array([-1, -1]);
  const pid = c.pod_spawn_container(...args, ptr(outs), ptr(errbuf), errbuf.length);
  keepAlive(keep);
  if (pid < 0) throw fail(pid, errbuf);
  return { child: new UsernsChild(pid), ttyMaster: outs[0]! >= 0 ? outs[0] : undefined, netHelperPid: outs[1]! > 0 ? outs[1] : undefined };
}

export type MonitorExec = {
  /** argv[0] is the path; the child slot ("PID,TTY_MASTER_FD") goes between before and after */
  before: string[];
  after: string[];
  env: Record<string, string | undefined>;
  /** fds the monitor inherits (pipes of the container's stdio) */
  keepFds: number[];
  /** an open cgroup.procs the monitor moves itself into first (-1: it stays in pod's cgroup) */
  cgroupProcs: number;
  /** gets "MONITOR_PID MONITOR_START CHILD_PID CHILD_START" the moment the container runs */
  liveFile: string;
};

/**
 * Starts a container whose parent is a fresh exec of `monitor` (see
 * pod_spawn_monitored in core.c): returns the container's and the monitor's
 * pids once the container runs its command and the monitor has exec'd.
 */
export function spawnMonitoredContainer(
  plan: LaunchPlan,
  stdio: ContainerStdio,
  scratchDir: string,
  cgroupProcs: number,
  monitor: MonitorExec,
): { pid: number; monitorPid: number } {
  const c = compiled(scratchDir);
  const { args, keep, fail } = containerSpawnArgs(plan, stdio, cgroupProcs);
  const slot = Buffer.alloc(32);
  const before = monitor.before.map((a) => Buffer.from(a + "\0"));
  const after = monitor.after.map((a) => Buffer.from(a + "\0"));
  const parts = [...before, slot, ...after];
  const argv = new BigUint64Array(parts.length + 1);
  parts.forEach((b, i) => (argv[i] = BigInt(ptr(b))));
  const envp = cArray(envList(monitor.env));
  const keepFds = new Int32Array(Math.max(1, monitor.keepFds.length));
  monitor.keepFds.forEach((fd, i) => (keepFds[i] = fd));
  const monitorPid = new Int32Array([0]);
  const errbuf = Buffer.alloc(512);
  const livePath = Buffer.from(monitor.liveFile + "\0");
  const pid = c.pod_spawn_monitored(...args, monitor.cgroupProcs, ptr(argv), envp.ptr, ptr(slot), ptr(livePath), ptr(keepFds), monitor.keepFds.length, ptr(monitorPid), ptr(errbuf), errbuf.length);
  keepAlive([keep, parts, envp, livePath]);
  if (pid < 0) throw fail(pid, errbuf);
  return { pid, monitorPid: monitorPid[0]! };
}

/** What a process started inside a running container runs as: the fields of LaunchPlan that apply. */
export type ExecSpec = Pick<LaunchPlan, "argv" | "env" | "cwd" | "uid" | "gid" | "groups" | "keepGroups" | "caps" | "noNewPrivileges" | "rlimits" | "keyring" | "seccomp">;

/**
 * Starts a process in the namespaces of the running container whose PID 1 is
 * `target` (host pid). Returns once it has exec'd; the process is pod's child.
 */
/** `preserveFds`: pod's fds 3 .. 3+N-1 are passed on (exec --preserve-fds); the caller checks they are open. */
export function execInContainer(target: number, spec: ExecSpec, stdio: ContainerStdio, scratchDir: string, cgroupProcs = -1, preserveFds = 0): { child: UsernsChild; ttyMaster?: number } {
  core ??= loadCore(scratchDir);
  const { header } = flattenPlan({
    ...spec,
    rootfs: "",
    rootfsMount: { kind: "bind" },
    ops: [],
    readonlyRoot: false,
    hostname: "",
    newNetwork: false,
    init: false,
    uidMap: [],
    gidMap: [],
  });
  const arrays = [cArray(header), cArray(spec.argv), cArray(spec.env)];
  const errbuf = Buffer.alloc(512);
  const master = new Int32Array([-1]);
  const pid = core.pod_exec_container(
    target,
    ...arrays.map((a) => a.ptr),
    stdio.stdin,
    stdio.stdout,
    stdio.stderr,
    winsizeOf(stdio),
    cgroupProcs,
    preserveFds,
    ptr(master),
    ptr(errbuf),
    errbuf.length,
  );
  keepAlive(arrays);
  if (pid < 0) throw spawnFailure(pid, errbuf);
  return { child: new UsernsChild(pid), ttyMaster: master[0]! >= 0 ? master[0] : undefined };
}

/**
 * Signals a container process: directly when pod may (it runs as the user),
 * else from inside the container's user namespace (processes running as
 * subordinate ids). `pid1` is the container's first process, whose user
 * namespace is joined. Returns false when the process is gone.
 */
export function signalContainer(pid1: number, target: number, signal: number, scratchDir: string): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ESRCH") return false;
    if (code !== "EPERM") throw e;
  }
  core ??= loadCore(scratchDir);
  const rc = core.pod_signal_container(pid1, target, signal);
  if (rc === -3 /* ESRCH */) return false;
  if (rc < 0) throw new NativeSpawnError(`signalling process ${target}: errno ${-rc}`, 0, -rc);
  return true;
}

export type TcpForward = { hostIp: string; hostPort: number; containerPort: number };

/**
 * Starts a forwarder (a child of this process) that listens on each host
 * address and passes every connection to `target` (an address inside: the
 * loopback, or the container's own) in the network namespace of process
 * `nsOf` (joined through its user namespace), copying with splice(2). Returns its pid once it listens; the
 * caller kills and reaps it. Throws NativeSpawnError with the reason (a
 * port in use, the container gone).
 */
export function forwardTcp(nsOf: number, target: string, forwards: TcpForward[], scratchDir: string): UsernsChild {
  core ??= loadCore(scratchDir);
  const spec = cArray(forwards.flatMap((f) => [f.hostIp.replace(/^\[(.*)\]$/, "$1"), String(f.hostPort), String(f.containerPort)]));
  const errbuf = Buffer.alloc(512);
  const to = Buffer.from(target + "\0");
  const pid = core.pod_forward_tcp(nsOf, ptr(to), spec.ptr, ptr(errbuf), errbuf.length);
  keepAlive([spec, to]);
  if (pid < 0) throw new NativeSpawnError(new CString(ptr(errbuf)).toString(), 0, 0);
  return new UsernsChild(pid);
}
