// podman's `file` events backend: an append-only file of JSON lines under the
// runroot. Every event is one write(2) on an O_APPEND descriptor, so writers
// in several processes never interleave a line. Past MAX_BYTES the file is
// renamed to events.log.1 (replacing the older one) under a lock, so at most
// two generations are kept; readers read both, and a follower that sees the
// file replaced finishes the old one before opening the new.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, readFileSync, renameSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../config/index.ts";
import { withLock } from "../store/lock.ts";
import { log } from "../output/index.ts";
import { eventJson, nowNs, parseEventLine, rfc3339Nano, type EventInput, type PodEvent } from "./event.ts";

/** podman's events_logfile_max_size default (1m) */
export const MAX_BYTES = 1_000_000;

export const eventsDir = (p: Paths) => join(p.runroot, "events");
export const eventsFile = (p: Paths) => join(eventsDir(p), "events.log");
const previous = (file: string) => `${file}.1`;

/** Appends one line; past maxBytes the file is rotated first. */
export async function appendEvent(file: string, line: string, maxBytes = MAX_BYTES): Promise<void> {
  const data = Buffer.from(`${line}\n`);
  let fd = openSync(file, "a", 0o600);
  try {
    const size = fstatSync(fd).size;
    if (size > 0 && size + data.length > maxBytes) {
      closeSync(fd);
      fd = -1;
      await withLock(`${file}.lock`, "write", () => {
        // another writer may have rotated it while we waited
        const s = statSync(file, { throwIfNoEntry: false });
        if (s && s.size > 0 && s.size + data.length > maxBytes) renameSync(file, previous(file));
      });
      fd = openSync(file, "a", 0o600);
    }
    const n = writeSync(fd, data);
    if (n !== data.length) throw new Error(`short write (${n} of ${data.length} bytes)`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/**
 * Records an event, unless --events-backend none. Never fails the command:
 * an event that cannot be written is a warning, as in podman.
 */
export async function emitEvent(paths: Paths, e: EventInput): Promise<void> {
  if (paths.engine?.eventsBackend === "none") return;
  try {
    mkdirSync(eventsDir(paths), { recursive: true, mode: 0o700 });
    await appendEvent(eventsFile(paths), eventJson({ ...e, Time: rfc3339Nano(nowNs()) } as PodEvent));
  } catch (err) {
    log.warn(`writing the ${e.Type} ${e.Status} event: ${(err as Error).message}`);
  }
}

function linesOf(text: string): PodEvent[] {
  return text.split("\n").flatMap((l) => {
    const e = l ? parseEventLine(l) : undefined;
    return e ? [e] : [];
  });
}

const readText = (file: string) => (existsSync(file) ? readFileSync(file, "utf8") : "");

/** Every event kept: the previous generation, then the current file. */
export function readEvents(file: string): PodEvent[] {
  return [...linesOf(readText(previous(file))), ...linesOf(readText(file))];
}

/** Reads what was appended to an open file since `off`; whole lines only. */
class Tail {
  private pending = "";
  constructor(
    readonly fd: number,
    readonly ino: number,
    private off: number,
  ) {}

  static open(file: string, atEnd: boolean): Tail | undefined {
    let fd: number;
    try {
      fd = openSync(file, "r");
    } catch {
      return undefined;
    }
    const s = fstatSync(fd);
    return new Tail(fd, s.ino, atEnd ? s.size : 0);
  }

  drain(): PodEvent[] {
    const buf = Buffer.alloc(64 * 1024);
    let text = this.pending;
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.off);
      if (n <= 0) break;
      this.off += n;
      text += buf.subarray(0, n).toString("utf8");
    }
    const cut = text.lastIndexOf("\n");
    this.pending = text.slice(cut + 1);
    return linesOf(text.slice(0, cut + 1));
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * Follows the events file, across rotation, until `keepGoing` says stop or
 * `onEvent` returns false. fromStart: the events already kept come first.
 */
export async function followEvents(file: string, o: { fromStart: boolean; intervalMs?: number }, onEvent: (e: PodEvent) => boolean, keepGoing: () => boolean): Promise<void> {
  let tail = Tail.open(file, !o.fromStart);
  const deliver = (events: PodEvent[]) => events.every((e) => onEvent(e));
  try {
    if (o.fromStart && !deliver(linesOf(readText(previous(file))))) return;
    for (;;) {
      if (tail && !deliver(tail.drain())) return;
      const s = statSync(file, { throwIfNoEntry: false });
      if (s && s.ino !== tail?.ino) {
        // rotated (or made): what the old file got last, then the new one from its start
        if (tail) {
          const last = tail.drain();
          tail.close();
          tail = undefined;
          if (!deliver(last)) return;
        }
        tail = Tail.open(file, false);
        continue;
      }
      if (!keepGoing()) return;
      await Bun.sleep(o.intervalMs ?? 100);
    }
  } finally {
    tail?.close();
  }
}
