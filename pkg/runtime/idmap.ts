// The container's user namespace mapping, derived from the storage mapping
// (pkg/userns: storage id 0 is the invoking user, 1..N its subordinate ids).
// Maps are newuidmap triples flattened: inside, outside, count, …; the
// outside ids are host ids. `[0, uid, 1]` alone is the single-id fallback.
//
// --userns=keep-id gives the invoking user its own uid inside (U) by swapping
// storage ids 0 and U: container 0 → storage U, 1..U-1 → storage 1..U-1,
// U → storage 0 (the user), U+1..N → storage U+1..N. Every other id keeps the
// storage id its files were written with, so only files owned by root or by U
// in the image change hands. podman instead shifts 0..U-1 up by one.
import { PodError, UsageError } from "../errors.ts";

export type IdMaps = { uid: number[]; gid: number[] };

type Triple = [inside: number, outside: number, count: number];

function triples(map: number[]): Triple[] {
  const out: Triple[] = [];
  for (let i = 0; i + 2 < map.length; i += 3) out.push([map[i]!, map[i + 1]!, map[i + 2]!]);
  return out;
}

/** True for the single-id fallback map `[0, id, 1]`. */
export function isSingleIdMap(map: number[]): boolean {
  return map.length === 3 && map[0] === 0 && map[2] === 1;
}

/** Whether container id `id` has a host id in `map`. */
export function idIsMapped(map: number[], id: number): boolean {
  return triples(map).some(([inside, , count]) => id >= inside && id < inside + count);
}

/** Number of consecutive ids from 0 the map covers. */
function coveredFromZero(map: number[]): number {
  const sorted = triples(map).sort((a, b) => a[0] - b[0]);
  let next = 0;
  for (const [inside, , count] of sorted) {
    if (inside !== next) break;
    next += count;
  }
  return next;
}

/**
 * Composes container→storage segments with the storage map (storage→host),
 * splitting a segment where the storage map's ranges end, and merging
 * neighbours that stay contiguous on both sides.
 */
function compose(segments: Triple[], storage: number[]): number[] {
  const out: Triple[] = [];
  for (const [cIn, sIn, count] of segments) {
    for (const [stIn, host, stCount] of triples(storage)) {
      const lo = Math.max(sIn, stIn);
      const hi = Math.min(sIn + count, stIn + stCount);
      if (lo < hi) out.push([cIn + (lo - sIn), host + (lo - stIn), hi - lo]);
    }
  }
  out.sort((a, b) => a[0] - b[0]);
  const merged: Triple[] = [];
  for (const t of out) {
    const last = merged[merged.length - 1];
    if (last && last[0] + last[2] === t[0] && last[1] + last[2] === t[1]) last[2] += t[2];
    else merged.push([...t]);
  }
  return merged.flat();
}

/** The keep-id map for one kind of id: `id` inside is the invoking user (storage 0). */
export function keepIdMap(storage: number[], id: number, kind: "uid" | "gid"): number[] {
  if (isSingleIdMap(storage)) {
    throw new PodError(`--userns=keep-id: no subordinate ${kind}s, only your own ${kind} is mapped`, {
      hint: `keep-id needs a subordinate ${kind} range: sudo usermod --add-sub${kind}s 100000-165535 $USER (then run pod again)`,
    });
  }
  const n = coveredFromZero(storage);
  if (id === 0) return storage.slice();
  if (id >= n) {
    throw new PodError(`--userns=keep-id: your ${kind} ${id} is outside the ${n} ids pod can map (0-${n - 1})`, {
      hint: `keep-id needs at least ${id + 1} ids: give your user a larger range in /etc/sub${kind}`,
    });
  }
  const segments: Triple[] = [[0, id, 1]];
  if (id > 1) segments.push([1, 1, id - 1]);
  segments.push([id, 0, 1]);
  if (id + 1 < n) segments.push([id + 1, id + 1, n - id - 1]);
  return compose(segments, storage);
}

/**
 * The container's uid and gid maps for a --userns value: "" for the storage
 * mapping itself, "keep-id" to run with the invoking user's ids inside.
 */
export function containerIdMaps(storage: IdMaps, userns: string, hostUid: number, hostGid: number): IdMaps {
  if (userns === "") return { uid: storage.uid.slice(), gid: storage.gid.slice() };
  if (userns === "keep-id") return { uid: keepIdMap(storage.uid, hostUid, "uid"), gid: keepIdMap(storage.gid, hostGid, "gid") };
  throw new UsageError(`unsupported --userns value ${JSON.stringify(userns)}`, {
    hint: "pod supports --userns=keep-id, or no --userns for the default mapping (root inside is you outside)",
  });
}
