// File-system calls node:fs does not offer, for layer extraction: mknod of a
// FIFO (node has no mkfifo). Same dlopen pattern as libc.ts, kept apart so
// that file stays about locks, devices and processes.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { errno, SysError } from "./libc.ts";

let lib: ReturnType<typeof open> | undefined;

function open() {
  return dlopen("libc.so.6", {
    mknod: { args: [FFIType.ptr, FFIType.u32, FFIType.u64], returns: FFIType.i32 },
  });
}

const S_IFIFO = 0o010000;

/** mkfifo(3) through mknod(2); the mode is filtered by the umask. Throws SysError. */
export function mknodFifo(path: string, mode: number): void {
  lib ??= open();
  const rc = lib.symbols.mknod(ptr(Buffer.from(path + "\0")), S_IFIFO | (mode & 0o7777), 0);
  if (rc < 0) throw new SysError(`mknod ${path}`, errno());
}
