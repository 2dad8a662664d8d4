// podman's event filters (libpod/events/filters.go): one predicate per
// --filter, values of one key OR'ed, different keys AND'ed; --since and
// --until in podman's time formats.
import { PodError } from "../errors.ts";
import { parseTime } from "../output/index.ts";
import { parseEventTime, type PodEvent } from "./event.ts";

type Match = (e: PodEvent, value: string) => boolean;

const nameOrId = (type: PodEvent["Type"]): Match => (e, v) => e.Type === type && (e.Name === v || (e.ID ?? "").startsWith(v));

const matchers: Record<string, Match> = {
  container: nameOrId("container"),
  event: (e, v) => e.Status === v,
  status: (e, v) => e.Status === v,
  image: nameOrId("image"),
  pod: nameOrId("pod"),
  // podman matches a prefix of the volume's name
  volume: (e, v) => e.Type === "volume" && (e.Name ?? "").startsWith(v),
  network: (e, v) => e.Type === "network" && (e.Network === v || (e.ID ?? "").startsWith(v)),
  type: (e, v) => e.Type === v,
  label: (e, v) => {
    const eq = v.indexOf("=");
    const [k, want] = eq < 0 ? [v, undefined] : [v.slice(0, eq), v.slice(eq + 1)];
    const have = e.Attributes?.[k];
    return have !== undefined && (want === undefined || have === want);
  },
};

export const EVENT_FILTER_KEYS = Object.keys(matchers);

/** The --filter values as one predicate; a malformed or unknown filter is an error, as in podman. */
export function compileEventFilters(specs: string[]): (e: PodEvent) => boolean {
  const byKey = new Map<string, string[]>();
  for (const s of specs) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new PodError(`${s} is an invalid filter`, { hint: `filters are KEY=VALUE; keys: ${EVENT_FILTER_KEYS.join(", ")}` });
    const key = s.slice(0, eq).toLowerCase();
    if (!matchers[key]) throw new PodError(`${s.slice(0, eq)} is an invalid filter`, { hint: `pod events filters by ${EVENT_FILTER_KEYS.join(", ")}` });
    byKey.set(key, [...(byKey.get(key) ?? []), s.slice(eq + 1)]);
  }
  const groups = [...byKey].map(([k, values]) => (e: PodEvent) => values.some((v) => matchers[k]!(e, v)));
  return (e) => groups.every((g) => g(e));
}

/** --since/--until as milliseconds; durations count back from now (podman's util.ParseInputTime). */
export function parseEventWindowTime(flag: "since" | "until", v: string, now = Date.now()): number {
  const t = parseTime(v, now, "ago");
  if (t === undefined)
    throw new PodError(`unable to convert ${flag} time of ${v}`, { hint: "use RFC 3339 (2026-11-23T10:00:00Z), Unix seconds, or a duration like 10m" });
  return t;
}

/** podman's window: strictly after since and strictly before until. */
export function inWindow(e: PodEvent, since: number | undefined, until: number | undefined): boolean {
  if (since === undefined && until === undefined) return true;
  const t = parseEventTime(e.Time);
  if (!t) return false;
  const ms = Number(t.ns) / 1e6;
  return (since === undefined || ms > since) && (until === undefined || ms < until);
}
