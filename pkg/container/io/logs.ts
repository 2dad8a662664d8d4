// Container logs in podman's k8s-file format, one line per record:
//   2026-11-23T06:00:44.380Z stdout F hello
// F marks a full line, P a partial one (no newline yet when it was written).
// The log lives in the container's storage dir, so it outlives the monitor.
import { appendFileSync, existsSync, readFileSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";

export const logPath = (containerDir: string) => join(containerDir, "ctr.log");

export class LogWriter {
  private partial: Record<string, string> = {};
  private size = -1;
  /** maxSize (--log-opt max-size): past it the file starts over, as conmon truncates it */
  constructor(
    private readonly file: string,
    private readonly maxSize?: number,
  ) {}

  private append(text: string): void {
    if (this.maxSize) {
      if (this.size < 0) this.size = logSize(this.file);
      const n = Buffer.byteLength(text);
      if (this.size + n > this.maxSize) {
        truncateSync(this.file, 0);
        this.size = 0;
      }
      this.size += n;
    }
    appendFileSync(this.file, text);
  }

  write(stream: "stdout" | "stderr", data: Uint8Array): void {
    const text = (this.partial[stream] ?? "") + new TextDecoder().decode(data);
    const lines = text.split("\n");
    this.partial[stream] = lines.pop()!;
    if (!lines.length) return;
    const ts = new Date().toISOString();
    if (this.maxSize) for (const l of lines) this.append(`${ts} ${stream} F ${l.replace(/\r$/, "")}\n`);
    else this.append(lines.map((l) => `${ts} ${stream} F ${l.replace(/\r$/, "")}\n`).join(""));
  }

  flush(): void {
    const ts = new Date().toISOString();
    for (const [stream, rest] of Object.entries(this.partial)) if (rest) this.append(`${ts} ${stream} P ${rest}\n`);
    this.partial = {};
  }
}

export type LogLine = { time: string; stream: "stdout" | "stderr"; text: string; partial: boolean };

export function parseLogLines(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\S+) (stdout|stderr) ([FP]) (.*)$/.exec(line);
    if (m) out.push({ time: m[1]!, stream: m[2] as "stdout" | "stderr", partial: m[3] === "P", text: m[4]! });
  }
  return out;
}

export type LogQuery = { tail?: number; since?: number; until?: number; timestamps: boolean };

/** Whether a line falls in [since, until): podman's LogLine.Since and .Until. */
export function inWindow(l: LogLine, q: { since?: number; until?: number }): boolean {
  const t = Date.parse(l.time);
  return (q.since === undefined || t >= q.since) && (q.until === undefined || t < q.until);
}

/** podman's order: the last `tail` lines first, then the time window over them. */
export function selectLines(lines: LogLine[], q: LogQuery): LogLine[] {
  const tailed = q.tail === undefined || q.tail < 0 ? lines : q.tail === 0 ? [] : lines.slice(-q.tail);
  return tailed.filter((l) => inWindow(l, q));
}

export function renderLine(l: LogLine, timestamps: boolean): string {
  return `${timestamps ? l.time + " " : ""}${l.text}${l.partial ? "" : "\n"}`;
}

/** Reads the log from byte offset `from`; returns the whole lines and the offset after them. */
export function readLogFrom(file: string, from: number): { lines: LogLine[]; next: number } {
  if (!existsSync(file)) return { lines: [], next: from };
  const size = statSync(file).size;
  if (size <= from) return { lines: [], next: from };
  const buf = readFileSync(file).subarray(from);
  const end = buf.lastIndexOf(10);
  if (end < 0) return { lines: [], next: from };
  return { lines: parseLogLines(new TextDecoder().decode(buf.subarray(0, end + 1))), next: from + end + 1 };
}

export { parseGoDuration, parseTime } from "../../output/index.ts";
import { parseTime } from "../../output/index.ts";

/** `logs --since`: a duration counts back from now. */
export const parseSince = (v: string, now = Date.now()) => parseTime(v, now, "ago");
/** `logs --until`: a duration counts forward from now (podman's ParseInputTime with since=false). */
export const parseUntil = (v: string, now = Date.now()) => parseTime(v, now, "ahead");

/** Prints new log lines from `from` until `running()` turns false and nothing is left. */
export async function followLog(file: string, from: number, running: () => boolean, print: (l: LogLine) => void): Promise<void> {
  let next = from;
  for (;;) {
    const alive = running();
    const r = readLogFrom(file, next);
    next = r.next;
    for (const l of r.lines) print(l);
    if (!alive && !r.lines.length) return;
    await Bun.sleep(50);
  }
}

export function logSize(file: string): number {
  return existsSync(file) ? statSync(file).size : 0;
}
