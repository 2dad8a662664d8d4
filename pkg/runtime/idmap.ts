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

/** A --userns value, parsed: podman 4's modes that pod can honour, the others refused with the reason. */
export type UsernsMode = { kind: "default" } | { kind: "host" } | { kind: "keep-id"; uid?: number; gid?: number };

export function parseUserns(value: string): UsernsMode {
  if (value === "") return { kind: "default" };
  if (value === "host") return { kind: "host" };
  if (value === "keep-id" || value.startsWith("keep-id:")) {
    const out: UsernsMode = { kind: "keep-id" };
    for (const opt of value === "keep-id" ? [] : value.slice("keep-id:".length).split(",")) {
      const [k, v = ""] = opt.split("=", 2) as [string, string?];
      if ((k === "uid" || k === "gid") && /^\d+$/.test(v) && Number(v) < 2 ** 32) out[k] = Number(v);
      else
        throw new UsageError(`invalid --userns ${value}: unknown or malformed option ${JSON.stringify(opt)}`, {
          hint: "keep-id takes uid=N and gid=N: the ids you appear as inside (e.g. --userns keep-id:uid=1000,gid=1000)",
        });
    }
    return out;
  }
  if (value === "nomap" || value === "auto" || value.startsWith("auto:"))
    throw new UsageError(`--userns ${value} is not supported by pod: the container's ids would leave out yours, which own the image's files`, {
      hint: "pod shares the image's layers as stored (owned by you and your subordinate ids) and does not copy them with new owners as podman does, so that mapping would show every file of the image as nobody's: use --userns keep-id, host, or --uidmap/--gidmap maps that include host id 0",
    });
  if (value.startsWith("ns:") || value === "private" || value.startsWith("container:"))
    throw new UsageError(`--userns ${value} is not supported by pod yet`, {
      hint: "pod supports --userns host, keep-id[:uid=N,gid=N], and --uidmap/--gidmap; --network/--ipc/--pid container:NAME run in that container's user namespace",
    });
  throw new UsageError(`unrecognized namespace mode ${value} passed`, { hint: "--userns takes host, keep-id[:uid=N,gid=N] (podman's nomap and auto are refused by pod)" });
}

/** With keep-id, the ids the invoking user has inside (uid=, gid=, else the user's own). */
export function keepIdIds(userns: string, hostUid: number, hostGid: number): { uid: number; gid: number } | undefined {
  const m = parseUserns(userns);
  return m.kind === "keep-id" ? { uid: m.uid ?? hostUid, gid: m.gid ?? hostGid } : undefined;
}

/**
 * --uidmap/--gidmap CONTAINER_ID:HOST_ID:AMOUNT values (several flags, or
 * commas) as container→storage triples. Host ids are those of the rootless
 * user namespace, as podman defines them: 0 is you, 1.. your subordinate ids
 * (pod's storage mapping). Checked: numbers, no overlap, inside what pod can
 * map, container id 0 mapped (the core becomes root there first), and host
 * id 0 mapped (you own the image's files, which pod does not copy with new
 * owners as podman does).
 */
export function parseIdMapFlags(flag: "uidmap" | "gidmap", values: string[], storage: number[]): number[] {
  const items = values.flatMap((v) => v.split(",")).filter((v) => v !== "");
  const segs: Triple[] = items.map((item) => {
    const m = /^(\d+):(\d+):(\d+)$/.exec(item);
    if (!m || Number(m[3]) === 0 || [m[1], m[2], m[3]].some((n) => Number(n) >= 2 ** 32))
      throw new UsageError(`invalid --${flag} ${JSON.stringify(item)}: want CONTAINER_ID:HOST_ID:AMOUNT`, { hint: `e.g. --${flag} 0:0:1 --${flag} 1:1:65535 (host ids count from your own, 0, then your subordinate ids)` });
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  });
  const kind = flag === "uidmap" ? "uid" : "gid";
  const n = coveredFromZero(storage);
  const overlap = (i: 0 | 1) => {
    const sorted = [...segs].sort((a, b) => a[i] - b[i]);
    return sorted.some((t, k) => k > 0 && sorted[k - 1]![i] + sorted[k - 1]![2] > t[i]);
  };
  if (overlap(0) || overlap(1)) throw new UsageError(`--${flag}: the ranges overlap`, { hint: "each container id and each host id may appear in one range only" });
  for (const [c, h, count] of segs) {
    if (h + count > n)
      throw new PodError(`--${flag} ${c}:${h}:${count}: host ${kind}s ${h}-${h + count - 1} are outside the ${n} ids pod can map (0-${n - 1})`, {
        hint: n === 1 ? `you have no subordinate ${kind}s: only 0:0:1 can be mapped (sudo usermod --add-sub${kind}s 100000-165535 $USER)` : `give your user a larger range in /etc/sub${kind}, or map fewer ids`,
      });
  }
  if (!segs.some(([c]) => c === 0)) throw new UsageError(`--${flag} does not map container ${kind} 0`, { hint: `pod starts the container as its root first: map container id 0 (e.g. --${flag} 0:0:1)` });
  if (!segs.some(([, h, count]) => h === 0 && count > 0))
    throw new PodError(`--${flag} does not map host ${kind} 0 (you)`, {
      hint: "your id owns the image's files as pod stores them, and pod does not copy the image with new owners as podman does: map host id 0 somewhere (e.g. 0:0:1)",
    });
  return compose(segs, storage);
}

/**
 * The container's uid and gid maps for a --userns value: "" and "host" for
 * the storage mapping itself (rootless, podman's host is its own user
 * namespace, which is what pod's storage mapping is), keep-id to run with
 * the invoking user's ids inside (or uid=/gid=); --uidmap/--gidmap instead
 * of --userns (without --gidmap, the uid map serves both, as in podman).
 */
export function containerIdMaps(storage: IdMaps, userns: string, hostUid: number, hostGid: number, custom: { uidmap?: string[]; gidmap?: string[] } = {}): IdMaps {
  const uidmap = custom.uidmap ?? [];
  const gidmap = custom.gidmap ?? [];
  if (uidmap.length || gidmap.length) {
    if (userns) throw new UsageError(`--userns ${userns} and --uidmap/--gidmap cannot be used together`, { hint: "give either a --userns mode or the maps" });
    const u = uidmap.length ? uidmap : gidmap;
    const g = gidmap.length ? gidmap : uidmap;
    return { uid: parseIdMapFlags("uidmap", u, storage.uid), gid: parseIdMapFlags("gidmap", g, storage.gid) };
  }
  const mode = parseUserns(userns);
  if (mode.kind === "default" || mode.kind === "host") return { uid: storage.uid.slice(), gid: storage.gid.slice() };
  return { uid: keepIdMap(storage.uid, mode.uid ?? hostUid, "uid"), gid: keepIdMap(storage.gid, mode.gid ?? hostGid, "gid") };
}
