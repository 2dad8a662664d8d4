// podman's container filters (`ps`, `start`, `stop`, `restart`, `rm`
// --filter KEY=VALUE), as pure functions over records: values of one key
// are alternatives (any may match), different keys must all match
// (podman's pkg/domain/filters/containers.go), except `label`, where every
// value must match, and `label!`, which drops the containers `label` would
// keep (podman's MatchLabelFilters). Keys pod has no data for (pod, network)
// are refused, not ignored.
import { UsageError } from "../../errors.ts";
import type { ContainerRecord } from "./records.ts";
import { exitCodeOf, type Status } from "./state.ts";
import { parseTime } from "../io/logs.ts";

/** A record with its live status (state.ts statusOf), the view every filter reads. */
export type Candidate = { rec: ContainerRecord; status: Status };
export type ContainerFilter = (c: Candidate) => boolean;
type Ctx = { all: ContainerRecord[]; now: number; resolveImage?: (ref: string) => string | undefined };

export const FILTER_KEYS = ["id", "name", "status", "ancestor", "exited", "before", "since", "until", "volume", "command", "label", "label!", "restart-policy", "health"] as const;
// podman's define.StringToContainerStatus; "stopped" is what podman calls exited before cleanup
const STATUSES = ["created", "running", "exited", "stopped", "paused", "configured", "initialized", "stopping", "removing", "unknown"];
const HINT = `pod knows the filters ${FILTER_KEYS.join(", ")} (KEY=VALUE)`;

/** Groups `KEY=VALUE` flags by key, keeping each key's values in order. */
export function groupFilters(specs: string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const s of specs) {
    const i = s.indexOf("=");
    if (i <= 0) throw new UsageError(`invalid filter "${s}"`, { hint: HINT });
    const key = s.slice(0, i);
    if (!(FILTER_KEYS as readonly string[]).includes(key)) throw new UsageError(`${key} is an invalid filter`, { hint: HINT });
    groups.set(key, [...(groups.get(key) ?? []), s.slice(i + 1)]);
  }
  return groups;
}

/** The container a `before=`/`since=` value names: its creation time (the earliest of several). */
function createdOf(key: string, values: string[], all: ContainerRecord[]): number {
  const times = values.map((v) => {
    const hits = all.filter((r) => r.name === v || r.id.startsWith(v));
    const r = hits.find((h) => h.name === v) ?? (hits.length === 1 ? hits[0] : undefined);
    if (!r) throw new UsageError(`${key} filter: no container with name or ID "${v}" found: no such container`, { hint: "`pod ps -a` lists containers" });
    return Date.parse(r.created);
  });
  return Math.min(...times);
}

function regex(key: string, v: string): RegExp {
  try {
    return new RegExp(v);
  } catch {
    throw new UsageError(`${key} filter: "${v}" is not a valid regular expression`, { hint: `e.g. --filter ${key}=^web` });
  }
}

/** Image names a record's image answers to, as pod's `ancestor=` matches them without the store. */
function imageNameMatches(image: string, v: string): boolean {
  return image === v || image.startsWith(`${v}:`) || image.endsWith(`/${v}`) || image.includes(`/${v}:`);
}

/** Volume names, bind sources and destinations a container mounts: [source or name, destination]. */
function mountsOf(rec: ContainerRecord): { source: string; dest: string; name?: string }[] {
  const o = rec.config?.opts;
  const binds = (o?.volumes ?? []).map((v) => {
    const [source = "", dest = ""] = v.split(":");
    return { source, dest };
  });
  return [...binds, ...(o?.volumeMounts ?? []).map((m) => ({ source: m.source, dest: m.target, name: m.name }))];
}

/** A label key pattern as podman matches it (filepath.Match: `*`, `?`, `[…]`). */
function keyPattern(p: string): RegExp {
  const re = p.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  try {
    return new RegExp(`^${re}$`);
  } catch {
    throw new UsageError(`label filter: bad pattern "${p}"`, { hint: "e.g. --filter label=app or --filter label=app=web" });
  }
}

/** `KEY` (present, any value) or `KEY=VALUE`: does one of the labels match? */
export function labelMatches(spec: string, labels: Record<string, string> | undefined): boolean {
  const eq = spec.indexOf("=");
  const [key, value] = eq < 0 ? [spec, undefined] : [spec.slice(0, eq), spec.slice(eq + 1)];
  const k = keyPattern(key);
  return Object.entries(labels ?? {}).some(([lk, lv]) => (value === undefined || value === "" || lv === value) && (lk === key || k.test(lk)));
}

function keyFilter(key: string, values: string[], ctx: Ctx): ContainerFilter {
  switch (key) {
    case "id": {
      // podman: hex is an ID prefix, anything else a regular expression
      const tests = values.map((v) => (/^[0-9a-fA-F]+$/.test(v) ? (id: string) => id.startsWith(v.toLowerCase()) : (id: string) => regex(key, v).test(id)));
      return ({ rec }) => tests.some((t) => t(rec.id));
    }
    case "name": {
      const res = values.map((v) => regex(key, v.replaceAll("/", "")));
      return ({ rec }) => res.some((r) => r.test(rec.name));
    }
    case "status":
      for (const v of values)
        if (!STATUSES.includes(v)) throw new UsageError(`unknown container state: "${v}"`, { hint: "use created, running, exited, paused or stopped" });
      return ({ status }) => values.some((v) => (v === "stopped" ? "exited" : v) === status);
    case "ancestor": {
      const ids = values.map((v) => ctx.resolveImage?.(v));
      return ({ rec }) => values.some((v, i) => ids[i] === rec.imageId || imageNameMatches(rec.image, v) || rec.imageId.includes(v.replace(/^sha256:/, "")));
    }
    case "exited": {
      const codes = values.map((v) => {
        if (!/^-?\d+$/.test(v)) throw new UsageError(`exited code out of range "${v}"`, { hint: "use an exit code: --filter exited=0" });
        return Number(v);
      });
      return ({ rec, status }) => status === "exited" && codes.includes(exitCodeOf(rec));
    }
    case "before": {
      const t = createdOf(key, values, ctx.all);
      return ({ rec }) => Date.parse(rec.created) < t;
    }
    case "since": {
      const t = createdOf(key, values, ctx.all);
      return ({ rec }) => Date.parse(rec.created) > t;
    }
    case "until": {
      if (values.length !== 1) throw new UsageError("specify exactly one timestamp for until", { hint: "--filter until=10m" });
      const t = parseTime(values[0]!, ctx.now, "ago");
      if (t === undefined) throw new UsageError(`until filter: invalid time "${values[0]}"`, { hint: "use RFC 3339 (2026-11-23T10:00:00Z), Unix seconds, or a duration like 10m (that long ago)" });
      return ({ rec }) => Date.parse(rec.created) < t;
    }
    case "volume":
      return ({ rec }) =>
        values.some((v) => {
          const [src, dest = ""] = v.split(":");
          return mountsOf(rec).some((m) => (dest ? (m.name ?? m.source) === src && m.dest === dest : m.dest === src || m.name === src));
        });
    case "label":
      return ({ rec }) => values.every((v) => labelMatches(v, rec.config?.opts.labels));
    case "label!":
      return ({ rec }) => !values.every((v) => labelMatches(v, rec.config?.opts.labels));
    case "restart-policy": {
      for (const v of values)
        if (!["no", "on-failure", "always", "unless-stopped"].includes(v)) throw new UsageError(`${v} is an invalid restart policy`, { hint: "restart-policy=no, on-failure, always or unless-stopped" });
      return ({ rec }) => values.includes(rec.config?.opts.restartPolicy?.name ?? "no");
    }
    case "health":
      for (const v of values)
        if (!["healthy", "unhealthy", "starting", "none"].includes(v)) throw new UsageError(`${v} is an invalid health status`, { hint: "health=healthy, unhealthy, starting or none" });
      return ({ rec, status }) => values.includes(!rec.config?.opts.healthcheck ? "none" : status === "running" ? (rec.health?.status ?? "starting") : "none");
    case "command": {
      const res = values.map((v) => regex(key, v));
      return ({ rec }) => res.some((r) => r.test(rec.command[0] ?? ""));
    }
  }
  throw new UsageError(`${key} is an invalid filter`, { hint: HINT });
}

/**
 * Compiles `--filter` flags into one predicate. `all` is every container
 * (for before=/since=), `resolveImage` maps an image reference to its ID
 * when the store knows it (ancestor=). Bad keys and values are UsageErrors.
 */
export function compileFilters(specs: string[], ctx: Ctx): ContainerFilter {
  const fs = [...groupFilters(specs)].map(([k, v]) => keyFilter(k, v, ctx));
  return (c) => fs.every((f) => f(c));
}

/** Whether the flags filter on status (ps then looks beyond running containers, as podman does). */
export const filtersOnStatus = (specs: string[]) => specs.some((s) => s.startsWith("status="));
