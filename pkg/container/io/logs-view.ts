// `pod logs` over one or more containers: podman's selection (--tail, then
// --since/--until, per container), its line prefix when several containers
// are shown (the short ID, or the name with --names), --color, and --follow
// over all of them at once until each has ended.
import type { Paths } from "../../config/index.ts";
import { PodError, UsageError } from "../../errors.ts";
import { containerDir, findContainer, listRecords, readRecord, type ContainerRecord } from "../record/records.ts";
import { mayStillLog } from "../record/state.ts";
import { followLog, inWindow, logPath, readLogFrom, selectLines, type LogLine } from "./logs.ts";

export type LogsOptions = {
  tail?: number;
  since?: number;
  until?: number;
  timestamps: boolean;
  follow: boolean;
  /** --names: prefix lines with the container's name instead of its short ID (several containers only, as podman) */
  names: boolean;
  color: boolean;
};

/** podman's colors (libpod/logs getColor), picked by the container's place in the list. */
const COLORS = ["\x1b[37m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[32m"];
const RESET = "\x1b[0m";

export type LogSource = { rec: ContainerRecord; prefix: string; color?: string };

/** The containers `pod logs` reads: the names given, or the newest with --latest (podman's checks and messages). */
export function logTargets(paths: Paths, names: string[], latest: boolean): ContainerRecord[] {
  if (latest && names.length) throw new UsageError("--latest and containers cannot be used together", { hint: "drop the names, or drop --latest" });
  if (!latest && !names.length) throw new UsageError("specify at least one container name or ID to log", { hint: "pod logs NAME [NAME...], or pod logs -l" });
  const all = listRecords(paths.root);
  if (latest) {
    const newest = all.sort((a, b) => b.created.localeCompare(a.created))[0];
    if (!newest) throw new PodError("no containers to act on", { hint: "`pod ps -a` lists containers" });
    return [newest];
  }
  return names.map((n) => findContainer(paths.root, n, all));
}

/** What goes before each line of each container: nothing for one container, its short ID or name for several. */
export function logSources(recs: ContainerRecord[], o: Pick<LogsOptions, "names" | "color">): LogSource[] {
  const multi = recs.length > 1;
  return recs.map((rec, i) => ({
    rec,
    prefix: multi ? `${o.names ? rec.name : rec.id.slice(0, 12)} ` : "",
    color: o.color ? COLORS[i % COLORS.length] : undefined,
  }));
}

/** One log line as podman prints it: prefix, timestamp, text, colored as a whole with --color. */
export function renderSourceLine(s: Pick<LogSource, "prefix" | "color">, l: LogLine, timestamps: boolean): string {
  const body = `${s.prefix}${timestamps ? l.time + " " : ""}${l.text}`;
  const end = l.partial ? "" : "\n";
  return s.color ? `${s.color}${body}${RESET}${end}` : `${body}${end}`;
}

/**
 * Prints the logs of `sources` through `print` (stdout or stderr by the
 * line's stream): each container's selected lines in the order given, then,
 * with --follow, new lines of all of them as they come, until every one has
 * ended (or an --until still ahead is reached).
 */
export async function showLogs(paths: Paths, sources: LogSource[], o: LogsOptions, print: (stream: LogLine["stream"], text: string) => void): Promise<void> {
  const out = (s: LogSource) => (l: LogLine) => print(l.stream, renderSourceLine(s, l, o.timestamps));
  const offsets = sources.map((s) => {
    const { lines, next } = readLogFrom(logPath(containerDir(paths.root, s.rec.id)), 0);
    for (const l of selectLines(lines, { tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps })) out(s)(l);
    return next;
  });
  if (!o.follow) return;
  // podman stops following at an --until still ahead; past one, it follows to the end and prints nothing
  const stopAt = o.until !== undefined && o.until > Date.now() ? o.until : Infinity;
  await Promise.all(
    sources.map((s, i) => {
      const following = () => Date.now() < stopAt && mayStillLog(readRecord(paths.root, s.rec.id));
      const print1 = out(s);
      return followLog(logPath(containerDir(paths.root, s.rec.id)), offsets[i]!, following, (l) => inWindow(l, o) && print1(l));
    }),
  );
}
