// The TypeScript side of core.c: compiles it with Bun's built-in TinyCC on
// first use and forks children into new user namespaces.
import { cc, ptr, CString, FFIType } from "bun:ffi";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import coreSource from "./core.c" with { type: "text" };
import { waitChild, killPid, flock, LOCK_EX, LOCK_UN, type WaitResult } from "./libc.ts";
import { SpawnFlag, stageText } from "./protocol.ts";

type Core = {
  pod_spawn_userns: (...a: unknown[]) => number;
};

let core: Core | undefined;

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
      symbols: {
        pod_spawn_userns: {
          args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.i32],
          returns: FFIType.i32,
        },
      },
    });
    return lib.symbols as unknown as Core;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!hadHeaders) rmSync(headers, { recursive: true, force: true });
    flock(lockFd, LOCK_UN);
    closeSync(lockFd);
  }
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
  /** where cc() may write its scratch files (pod's runtime dir) */
  scratchDir: string;
};

export class UsernsChild {
  constructor(readonly pid: number) {}

  /** Resolves with the exit code (128+N for signal N); polls, since Bun cannot wait for a pid it did not spawn. */
  wait(): Promise<number> {
    return new Promise((resolve, reject) => {
      let delay = 1;
      const poll = () => {
        let r: WaitResult;
        try {
          r = waitChild(this.pid, true);
        } catch (e) {
          reject(e);
          return;
        }
        if (r.exited) resolve(r.code);
        else {
          delay = Math.min(delay * 2, 20);
          setTimeout(poll, delay);
        }
      };
      poll();
    });
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
  ) {
    super(message);
  }
}

export function spawnInUserNamespace(o: UsernsSpawnOptions): UsernsChild {
  core ??= compile(o.scratchDir);
  const envList = Object.entries(o.env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`);
  const argv = cArray(o.argv);
  const envp = cArray(envList);
  const mapArgv = (helper: string, triples?: number[]) =>
    cArray(triples ? [helper, "", ...triples.map(String)] : undefined);
  const uidArgv = mapArgv("newuidmap", o.maps.uid);
  const gidArgv = mapArgv("newgidmap", o.maps.gid);
  const path = Buffer.from(o.path + "\0");
  const cwd = o.cwd ? Buffer.from(o.cwd + "\0") : null;
  const errbuf = Buffer.alloc(512);
  const flags = (o.newMountNs ? SpawnFlag.NewMountNs : 0) | (o.newSession ? SpawnFlag.NewSession : 0);
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
  if (pid < 0) {
    const stage = pid === -1 ? 0 : -pid - 1;
    const msg = new CString(ptr(errbuf)).toString();
    // Child failures come as "STAGE:ERRNO:strerror", the parent's own as plain text.
    const m = /^(\d+):(\d+):(.*)$/.exec(msg);
    if (!m) throw new NativeSpawnError(msg, 0, 0);
    throw new NativeSpawnError(`${stageText[stage] ?? `stage ${stage}`}: ${m[3]}`, stage, Number(m[2]));
  }
  return new UsernsChild(pid);
}
