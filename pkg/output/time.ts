// Times as podman reads them on the command line: Go durations, RFC 3339 and
// its shorter layouts, Unix seconds (logs --since/--until, the until= and
// since= filters of ps, images and prune).

const GO_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "\u00b5s": 1e-3, "\u03bcs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration in milliseconds: "10m", "1h30m", "1.5h", "-45s", "300ms", "0". */
export function parseGoDuration(v: string): number | undefined {
  const m = /^([+-]?)(.+)$/.exec(v);
  if (!m || !m[2]) return undefined;
  if (m[2] === "0") return 0;
  let total = 0;
  let rest = m[2];
  while (rest) {
    const p = /^(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(rest);
    if (!p) return undefined;
    total += Number(p[1]) * GO_UNITS[p[2]!]!;
    rest = rest.slice(p[0].length);
  }
  return m[1] === "-" ? -total : total;
}

/** An absolute time in one of podman's layouts (util.ParseInputTime); a time without a zone is UTC, as in Go. */
function parseLayout(v: string): number | undefined {
  let m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.exec(v);
  if (m) return Date.parse(`${m[1]}${(m[2] ?? "").slice(0, 4)}${m[3] ?? "Z"}`);
  m = /^(\d{4}-\d\d-\d\d)(Z|[+-]\d\d:\d\d)?$/.exec(v);
  if (m) return Date.parse(`${m[1]}T00:00:00${m[2] ?? "Z"}`);
  return undefined;
}

/**
 * `--since`/`--until` and the `until=` filter: RFC 3339 (and podman's shorter
 * layouts), Unix seconds, or a Go duration counted from `now`: back for
 * `ago` (--since, until=), forward for `ahead` (logs --until, as podman).
 * Undefined when the value is none of these.
 */
export function parseTime(v: string, now = Date.now(), duration: "ago" | "ahead" = "ago"): number | undefined {
  const t = parseLayout(v);
  if (t !== undefined && !Number.isNaN(t)) return t;
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(v)) return Number(v) * 1000;
  const d = parseGoDuration(v);
  if (d === undefined) return undefined;
  return duration === "ago" ? now - d : now + d;
}
