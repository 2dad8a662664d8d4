// `--noout`: stdout becomes /dev/null for the whole process, as podman points
// os.Stdout at /dev/null. At the descriptor, not in pkg/output, so what pod's
// children inherit (a foreground container, `exec`, `unshare`) is discarded too.
import { closeSync, openSync } from "node:fs";
import { dup2 } from "../native/libc.ts";

export function discardStdout(): void {
  const fd = openSync("/dev/null", "w");
  try {
    dup2(fd, 1);
  } finally {
    closeSync(fd);
  }
}
