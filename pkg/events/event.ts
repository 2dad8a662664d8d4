// podman's event (libpod/events Event) as pod writes it: one JSON object per
// line, field names and omitempty as podman marshals them, Time in RFC 3339
// with nanoseconds and the local offset (Go's time.Time JSON).
import { readlinkSync } from "node:fs";

export const EVENT_TYPES = ["container", "image", "volume", "network", "pod", "system"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type PodEvent = {
  /** podman's omitempty: 0 is left out */
  ContainerExitCode?: number;
  ID?: string;
  Image?: string;
  Name?: string;
  /** network events: the network's name */
  Network?: string;
  Status: string;
  Time: string;
  Type: EventType;
  /** health_status events: healthy, unhealthy, starting */
  HealthStatus?: string;
  /** the container's labels; a network's driver */
  Attributes?: Record<string, string>;
};

/** An event without its time; emit adds it. */
export type EventInput = Omit<PodEvent, "Time">;

/** Now, with the sub-millisecond part the clock gives, as nanoseconds since the epoch. */
export function nowNs(): bigint {
  const t = performance.timeOrigin + performance.now();
  const ms = Math.floor(t);
  return BigInt(ms) * 1_000_000n + BigInt(Math.min(999_999, Math.round((t - ms) * 1e6)));
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The wall-clock fields of an instant in a zone `offsetMin` east of UTC. */
function fields(ns: bigint, offsetMin: number) {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms + offsetMin * 60_000);
  const frac = String(ns % 1_000_000_000n).padStart(9, "0").replace(/0+$/, "");
  return {
    date: `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    clock: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac ? `.${frac}` : ""}`,
  };
}

/** Zone names that are UTC, as TZ or /etc/localtime's link names them. */
const UTC_ZONE = /^(?:(?:Etc\/)?(?:UTC|UCT|Universal|Zulu|Greenwich|GMT(?:[+-]0)?)|UTC0|GMT0)$/;

/**
 * Whether the local zone is UTC, told without ICU: its time zone set-up
 * costs more than a whole event write (6 ms of a `run --rm`). TZ when set
 * ("" is UTC for glibc), else the zone /etc/localtime links to (no file:
 * UTC); a zone it cannot tell is left to ICU.
 */
export function zoneIsUtc(env: Record<string, string | undefined> = process.env): boolean {
  const tz = env.TZ;
  if (tz !== undefined) return tz === "" || UTC_ZONE.test(tz.replace(/^:/, ""));
  try {
    return UTC_ZONE.test(readlinkSync("/etc/localtime").replace(/^.*zoneinfo\//, ""));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT";
  }
}

const localOffset = (ns: bigint) => (zoneIsUtc() ? 0 : -new Date(Number(ns / 1_000_000n)).getTimezoneOffset());

function offsetText(min: number, colon: boolean): string {
  const a = Math.abs(min);
  return `${min < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}${colon ? ":" : ""}${pad(a % 60)}`;
}

/** Go's RFC3339Nano in the local zone: 2024-01-01T12:00:00.123456789+02:00, or …Z at UTC. */
export function rfc3339Nano(ns: bigint): string {
  const off = localOffset(ns);
  const f = fields(ns, off);
  return `${f.date}T${f.clock}${off === 0 ? "Z" : offsetText(off, true)}`;
}

/** A stored Time back to nanoseconds and its offset; undefined when it is not RFC 3339. */
export function parseEventTime(s: string): { ns: bigint; offsetMin: number } | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|([+-])(\d\d):(\d\d))$/.exec(s);
  if (!m) return undefined;
  const offsetMin = m[8] === "Z" ? 0 : (m[9] === "-" ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) - offsetMin * 60_000;
  return { ns: BigInt(ms) * 1_000_000n + BigInt((m[7] ?? "").padEnd(9, "0") || "0"), offsetMin };
}

/** The local zone's abbreviation at an instant, as Intl names it (UTC, CET, GMT+2). */
function zoneName(ms: number): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(new Date(ms)).find((p) => p.type === "timeZoneName");
  return part?.value ?? "";
}

/**
 * Go's time.Time String() of a stored Time, as podman prints it:
 * `2024-01-01 12:00:00.123456789 +0000 UTC`. A zone other than the local one
 * has no name in Go and prints its offset twice.
 */
export function goTimeString(time: string): string {
  const t = parseEventTime(time);
  if (!t) return time;
  const f = fields(t.ns, t.offsetMin);
  const ms = Number(t.ns / 1_000_000n);
  const name = t.offsetMin === 0 ? "UTC" : t.offsetMin === localOffset(t.ns) ? zoneName(ms) : offsetText(t.offsetMin, false);
  return `${f.date} ${f.clock} ${offsetText(t.offsetMin, false)} ${name}`;
}

/** The JSON line podman writes (and prints for --format json): its field order, empty fields left out. */
export function eventJson(e: PodEvent): string {
  const o: Record<string, unknown> = {};
  if (e.ContainerExitCode) o.ContainerExitCode = e.ContainerExitCode;
  for (const k of ["ID", "Image", "Name", "Network"] as const) if (e[k]) o[k] = e[k];
  o.Status = e.Status;
  o.Time = e.Time;
  o.Type = e.Type;
  if (e.HealthStatus) o.HealthStatus = e.HealthStatus;
  if (e.Attributes && Object.keys(e.Attributes).length) o.Attributes = e.Attributes;
  return JSON.stringify(o);
}

/** One stored line back to an event; undefined for a line that is not one (a torn or foreign line). */
export function parseEventLine(line: string): PodEvent | undefined {
  try {
    const o = JSON.parse(line);
    if (!o || typeof o !== "object" || typeof o.Status !== "string" || typeof o.Type !== "string" || typeof o.Time !== "string") return undefined;
    return o as PodEvent;
  } catch {
    return undefined;
  }
}
