import { writeSync } from "node:fs";

export const stdoutIsTTY = (): boolean => Boolean(process.stdout.isTTY);
export const stderrIsTTY = (): boolean => Boolean(process.stderr.isTTY);
export const useColor = (): boolean => stderrIsTTY() && !process.env.NO_COLOR && process.env.TERM !== "dumb";

/** Writes to stdout: results only. */
export function out(text: string): void {
  process.stdout.write(text);
}

/** Writes raw bytes to stdout (a container's terminal output). */
export function outBytes(data: Uint8Array): void {
  process.stdout.write(data);
}

/** Writes to stderr: everything that is not a result. */
export function err(text: string): void {
  process.stderr.write(text);
}

/** Writes to stdout at once; false when the reader has gone (EPIPE: `pod ps -w 1 | head`). */
export function outWhileRead(text: string): boolean {
  const data = Buffer.from(text);
  for (let off = 0; off < data.length; ) {
    try {
      off += writeSync(1, data, off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPIPE") return false;
      // a non-blocking pipe that is full: the reader is slow, not gone
      if (code !== "EAGAIN") throw e;
      Bun.sleepSync(5);
    }
  }
  return true;
}

/**
 * Prints render()'s text every `seconds`, each time on a cleared screen (the
 * escapes podman's goterm writes), until interrupted or until nobody reads.
 */
export async function repaint(seconds: number, render: () => string): Promise<void> {
  for (;;) {
    if (!outWhileRead(`\x1b[2J\x1b[1;1H${render()}`)) return;
    await Bun.sleep(seconds * 1000);
  }
}
