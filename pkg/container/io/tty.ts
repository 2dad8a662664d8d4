// `-t`: the container gets a pseudo-terminal of its own, made from its own
// devpts (so `tty` works inside). pod holds the master end, copies the user's keystrokes in and the output out, puts the
// user's terminal in raw mode (restored on every way out), and passes window
// size changes on (SIGWINCH).
import { writeSync, closeSync, read } from "node:fs";
import { getWindowSize, makeRaw, restoreTerminal, setWindowSize } from "../../native/libc.ts";
import { outBytes } from "../../output/index.ts";

/** The user's terminal size now, read from the kernel (Bun's stdout.rows is not refreshed); 80x24 without one. */
export function hostWindowSize(): { rows: number; cols: number } {
  return getWindowSize(1) ?? getWindowSize(0) ?? { rows: 24, cols: 80 };
}

export class ContainerTerminal {
  private rawSet = false;
  private done?: Promise<void>;
  private readonly onWinch = () => this.resize();
  private closed = false;
  private saved?: Uint8Array;
  private readonly onData = (chunk: Buffer) => {
    // Keystrokes after the container's side has gone have nowhere to go.
    if (!this.closed) writeAll(this.master, chunk, () => (this.closed = true));
  };

  /** master: the terminal's master end, which the container made and handed over */
  constructor(readonly master: number) {}

  private resize(): void {
    const { rows, cols } = hostWindowSize();
    setWindowSize(this.master, rows, cols);
  }

  /** Starts copying between the user's terminal and the container's. */
  start(interactive: boolean): void {
    process.on("SIGWINCH", this.onWinch);
    if (interactive) {
      if (process.stdin.isTTY) {
        this.saved = makeRaw(0);
        this.rawSet = this.saved !== undefined;
      }
      process.stdin.on("data", this.onData);
      process.stdin.resume();
    }
    this.done = pumpOut(this.master).then(() => {
      this.closed = true;
    });
  }

  /** Waits until the container side is closed and all output is written, then restores the terminal. */
  async finish(): Promise<void> {
    await this.done;
    this.restore();
  }

  restore(): void {
    process.off("SIGWINCH", this.onWinch);
    process.stdin.off("data", this.onData);
    process.stdin.pause();
    if (this.rawSet && this.saved) {
      restoreTerminal(0, this.saved);
      this.rawSet = false;
    }
  }
}

function writeAll(fd: number, data: Uint8Array, onGone: () => void): void {
  let off = 0;
  try {
    while (off < data.length) off += writeSync(fd, data, off);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EBADF" && code !== "EIO") throw e;
    onGone();
  }
}

/** Copies master → stdout until the slave side is gone (read fails with EIO). */
function pumpOut(master: number): Promise<void> {
  const buf = Buffer.alloc(65536);
  return new Promise((resolve) => {
    const next = () =>
      read(master, buf, 0, buf.length, null, (err, n) => {
        if (err || n === 0) {
          closeSync(master);
          resolve();
          return;
        }
        outBytes(buf.subarray(0, n));
        next();
      });
    next();
  });
}
