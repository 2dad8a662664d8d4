// `volume prune --filter`: podman's keys for it (label=, label!=, until=).
// Values of one key match any of them, except label and label!, which must
// all hold; different keys must all match. Pure: tested in test/unit/volume.
import { UsageError } from "../errors.ts";
import { parseTime } from "../output/index.ts";
import type { VolumeRecord } from "./records.ts";

export type PruneFilter = (v: VolumeRecord) => boolean;

const KEYS = ["label", "label!", "until"];

function labelMatch(labels: Record<string, string>, value: string): boolean {
  const eq = value.indexOf("=");
  const key = eq < 0 ? value : value.slice(0, eq);
  return labels[key] !== undefined && (eq < 0 || labels[key] === value.slice(eq + 1));
}

/** Parses `--filter` values into one predicate; an unknown key or a bad time fails here, before anything is removed. */
export function parsePruneFilters(values: string[], now = Date.now()): PruneFilter {
  const tests: { key: string; test: PruneFilter }[] = values.map((f) => {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    const value = eq < 0 ? "" : f.slice(eq + 1);
    if (eq <= 0 || !KEYS.includes(key))
      throw new UsageError(`invalid filter ${JSON.stringify(f)}: ${JSON.stringify(key)} is not a volume prune filter`, {
        hint: "volume prune filters: label=KEY[=VALUE], label!=KEY[=VALUE], until=TIME",
      });
    if (value === "") throw new UsageError(`invalid filter ${JSON.stringify(f)}: ${key} needs a value`, { hint: `--filter ${key}=${key === "until" ? "24h" : "KEY=VALUE"}` });
    if (key === "label") return { key, test: (v) => labelMatch(v.labels, value) };
    if (key === "label!") return { key, test: (v) => !labelMatch(v.labels, value) };
    const t = parseTime(value, now);
    if (t === undefined)
      throw new UsageError(`failed to parse value as time or duration: ${JSON.stringify(value)}`, { hint: "until= takes a duration (24h), an RFC 3339 time or Unix seconds" });
    return { key, test: (v) => Date.parse(v.createdAt) < t };
  });
  return (v) => {
    const untils = tests.filter((t) => t.key === "until");
    return tests.filter((t) => t.key !== "until").every((t) => t.test(v)) && (!untils.length || untils.some((t) => t.test(v)));
  };
}
