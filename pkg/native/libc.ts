// Direct libc calls the JS runtime does not offer (flock, mknod, xattrs,
// waitpid). dlopen of the system libc costs well under a millisecond and,
// unlike cc(), compiles nothing, so commands that only need a lock stay fast.
import { dlopen, FFIType, ptr } from "bun:ffi";

const { i32, u32, u64, ptr: p, cstring } = FFIType;

let lib: ReturnType<typeof open> | undefined;

function open() {
  return dlopen("libc.so.6", {
    flock: { args: [i32, i32], returns: i32 },
    mknod: { args: [p, u32, u64], returns: i32 },
    lsetxattr: { args: [p, p, p, u64, i32], returns: i32 },
    lgetxattr: { args: [p, p, p, u64], returns: i32 },
    waitpid: { args: [i32, p, i32], returns: i32 },
    kill: { args: [i32, i32], returns: i32 },
    __errno_location: { args: [], returns: p },
    strerror: { args: [i32], returns: cstring },
    geteuid: { args: [], returns: u32 },
    getegid: { args: [], returns: u32 },
    ioctl: { args: [i32, u64, p], returns: i32 },
    pipe2: { args: [p, i32], returns: i32 },
    tcgetattr: { args: [i32, p], returns: i32 },
    tcsetattr: { args: [i32, i32, p], returns: i32 },
    cfmakeraw: { args: [p], returns: FFIType.void },
    dup2: { args: [i32, i32], returns: i32 },
  });
}

export function libc() {
  lib ??= open();
  return lib.symbols;
}

function cstr(s: string): Uint8Array {
  return Buffer.from(s + "\0");
}

export function errno(): number {
  const loc = libc().__errno_location();
  if (!loc) return 0;
  return new Int32Array(require("bun:ffi").toArrayBuffer(loc, 0, 4))[0] ?? 0;
}

export class SysError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: ${String(libc().strerror(errno))}`);
  }
}

function check(call: string, rc: number): number {
  if (rc < 0) throw new SysError(call, errno());
  return rc;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2); returns false when LOCK_NB was given and the lock is held elsewhere. */
export function flock(fd: number, op: number): boolean {
  const rc = libc().flock(fd, op);
  if (rc < 0) {
    const e = errno();
    if (e === 11 /* EWOULDBLOCK */ && op & LOCK_NB) return false;
    throw new SysError("flock", e);
  }
  return true;
}

const S_IFCHR = 0o020000;

/** Creates a character device node (the overlay whiteout is 0:0). */
export function mknodChar(path: string, mode: number, major: number, minor: number): void {
  const dev = (BigInt(major) << 8n) | BigInt(minor);
  check(`mknod ${path}`, libc().mknod(ptr(cstr(path)), S_IFCHR | mode, dev));
}

export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  const v = value.length ? value : new Uint8Array(1);
  check(`setxattr ${name} on ${path}`, libc().lsetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(v), value.length, 0));
}

export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const buf = new Uint8Array(4096);
  const n = libc().lgetxattr(ptr(cstr(path)), ptr(cstr(name)), ptr(buf), buf.length);
  if (n < 0) return undefined;
  return buf.slice(0, n);
}

const WNOHANG = 1;

export type WaitResult = { exited: true; code: number; signal: number } | { exited: false };

/** waitpid(2) for a child forked by the native core; nohang polls. */
export function waitChild(pid: number, nohang: boolean): WaitResult {
  const status = new Int32Array(1);
  const rc = check("waitpid", libc().waitpid(pid, ptr(status), nohang ? WNOHANG : 0));
  if (rc === 0) return { exited: false };
  const s = status[0]!;
  const signal = s & 0x7f;
  if (signal === 0) return { exited: true, code: (s >> 8) & 0xff, signal: 0 };
  return { exited: true, code: 128 + signal, signal };
}

/**
 * Resolves with a child's exit code (128+N for signal N). Bun cannot wait
 * for a pid it did not spawn, so this checks on every SIGCHLD, and on a
 * slowing timer in case one arrived before the listener.
 */
export function waitExit(pid: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let delay = 1;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const check = () => {
      let r: WaitResult;
      try {
        r = waitChild(pid, true);
      } catch (e) {
        done();
        reject(e);
        return;
      }
      if (r.exited) {
        done();
        resolve(r.code);
      } else {
        clearTimeout(timer);
        delay = Math.min(delay * 2, 1000);
        timer = setTimeout(check, delay);
      }
    };
    const done = () => {
      clearTimeout(timer);
      process.off("SIGCHLD", check);
    };
    process.on("SIGCHLD", check);
    check();
  });
}

export function killPid(pid: number, signal: number): void {
  libc().kill(pid, signal);
}

export function effectiveIds(): { uid: number; gid: number } {
  return { uid: libc().geteuid(), gid: libc().getegid() };
}

const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;

/** A terminal's window size, or undefined when fd is not a terminal. */
export function getWindowSize(fd: number): { rows: number; cols: number } | undefined {
  const ws = new Uint16Array(4);
  if (libc().ioctl(fd, TIOCGWINSZ, ptr(ws)) < 0 || !ws[0] || !ws[1]) return undefined;
  return { rows: ws[0], cols: ws[1] };
}

/** Sets a terminal's window size (the container sees SIGWINCH). */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = new Uint16Array([rows, cols, 0, 0]);
  libc().ioctl(fd, TIOCSWINSZ, ptr(ws));
}

/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  check("pipe2", libc().pipe2(ptr(fds), 0o2000000));
  return [fds[0]!, fds[1]!];
}

export function dup2(from: number, to: number): void {
  check("dup2", libc().dup2(from, to));
}

/** glibc's struct termios is 60 bytes; room to spare. */
const TERMIOS_SIZE = 128;

/**
 * Puts a terminal in raw mode as cfmakeraw(3) does, output processing (OPOST)
 * included, which libuv's raw mode keeps on (the container's own terminal
 * already turns \n into \r\n). Returns the previous settings, or undefined
 * when fd is not a terminal.
 */
export function makeRaw(fd: number): Uint8Array | undefined {
  const saved = new Uint8Array(TERMIOS_SIZE);
  if (libc().tcgetattr(fd, ptr(saved)) < 0) return undefined;
  const raw = saved.slice();
  libc().cfmakeraw(ptr(raw));
  check("tcsetattr", libc().tcsetattr(fd, 0 /* TCSANOW */, ptr(raw)));
  return saved;
}

export function restoreTerminal(fd: number, saved: Uint8Array): void {
  libc().tcsetattr(fd, 0, ptr(saved));
}
