// `-t`: the container gets a pseudo-terminal of its own. pod keeps the
// master, copies the user's keystrokes in and the output out, puts the
// user's terminal in raw mode (restored on every way out), and passes window
// size changes on (SIGWINCH).
import { openSync, writeSync, closeSync } from "node:fs";
import { read } from "node:fs";
import { openPty, setWindowSize } from "../native/libc.ts";
import { outBytes } from "../output/index.ts";

export class ContainerTerminal {
  readonly master: number;
  readonly slave: number;
  private rawSet = false;
  private done?: Promise<void>;
  private readonly onWinch = () => this.resize();
  private readonly onData = (chunk: Buffer) => writeAll(this.master, chunk);

  constructor() {
    const { master, slavePath } = openPty();
    this.master = master;
    this.slave = openSync(slavePath, "r+");
    this.resize();
  }

  private resize(): void {
    const rows = process.stdout.isTTY ? process.stdout.rows : 24;
    const cols = process.stdout.isTTY ? process.stdout.columns : 80;
    setWindowSize(this.master, rows || 24, cols || 80);
  }

  /** Starts copying; call after the container holds the slave (pod closes its own copy). */
  start(interactive: boolean): void {
    closeSync(this.slave);
    process.on("SIGWINCH", this.onWinch);
    if (interactive) {
      if (process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        this.rawSet = true;
      }
      process.stdin.on("data", this.onData);
      process.stdin.resume();
    }
    this.done = pumpOut(this.master);
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
    if (this.rawSet) {
      process.stdin.setRawMode(false);
      this.rawSet = false;
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off);
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
