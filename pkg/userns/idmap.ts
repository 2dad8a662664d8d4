// The storage user namespace's id mapping: 0 -> the invoking user, 1..N -> the
// user's subordinate ranges from /etc/subuid and /etc/subgid (shadow-utils
// format `name-or-uid:start:count`, several lines allowed).
import { readFileSync } from "node:fs";

export type IdRange = { start: number; count: number };
/** newuidmap triples flattened: inside, outside, count, ... */
export type IdMap = number[];

export function parseSubIdFile(text: string, user: string, id: number): IdRange[] {
  const ranges: IdRange[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const [who, start, count] = line.split(":");
    if (who !== user && who !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && s >= 0 && c > 0) ranges.push({ start: s, count: c });
  }
  return ranges;
}

export function readSubIds(file: string, user: string, id: number): IdRange[] {
  try {
    return parseSubIdFile(readFileSync(file, "utf8"), user, id);
  } catch {
    return [];
  }
}

/** 0 -> hostId, then the ranges one after another from 1. */
export function buildIdMap(hostId: number, ranges: IdRange[]): IdMap {
  const map: IdMap = [0, hostId, 1];
  let next = 1;
  for (const r of ranges) {
    map.push(next, r.start, r.count);
    next += r.count;
  }
  return map;
}

/** Maps a container-side id to the host id through a flattened map; undefined when unmapped. */
export function toHostId(map: IdMap, id: number): number | undefined {
  for (let i = 0; i + 2 < map.length; i += 3) {
    const [inside, outside, count] = [map[i]!, map[i + 1]!, map[i + 2]!];
    if (id >= inside && id < inside + count) return outside + (id - inside);
  }
  return undefined;
}

/** Number of ids the map covers (1 for the single-id fallback). */
export function mappedCount(map: IdMap): number {
  let n = 0;
  for (let i = 2; i < map.length; i += 3) n += map[i]!;
  return n;
}
