// `pod ps`: which containers to list and in what order, as podman's
// ps.GetContainerLists and entities.SortPsOutput decide. Without -a only
// running ones, unless a status filter, -n or -l asks for others; newest
// first; -n/-l keep the newest; --sort then orders what is left, ascending.
import type { Paths } from "../../config/index.ts";
import { Store } from "../../store/index.ts";
import { lookupImage } from "../../catalog/index.ts";
import { UsageError } from "../../errors.ts";
import { listRecords, type ContainerRecord } from "./records.ts";
import { containerRwSize } from "../fs/disk.ts";
import { statusOf, type Status } from "./state.ts";
import { compileFilters, filtersOnStatus } from "./filters.ts";
import { commandLine, psRow, type ContainerNamespaces, type ContainerSize, type PsRow } from "./views.ts";
import { readlinkSync } from "node:fs";

export const PS_SORT_KEYS = ["command", "created", "id", "image", "names", "runningfor", "size", "status"] as const;
export type PsSortKey = (typeof PS_SORT_KEYS)[number];

export type PsQuery = { all: boolean; filters: string[]; last?: number; latest: boolean; sort?: PsSortKey; size: boolean; noTrunc: boolean; ns?: boolean };

type Entry = { rec: ContainerRecord; status: Status; size?: ContainerSize };

/** /proc/PID/ns/<file> for each of podman's --ns columns, in its order. */
const NS_FILES: [keyof ContainerNamespaces, string][] = [
  ["Cgroup", "cgroup"],
  ["IPC", "ipc"],
  ["MNT", "mnt"],
  ["NET", "net"],
  ["PIDNS", "pid"],
  ["User", "user"],
  ["UTS", "uts"],
];

/** "net:[4026531992]" → "4026531992"; "" where the link cannot be read (the process is gone, or not ours). */
export function namespaceInode(link: string): string {
  return /^\w+:\[(\d+)\]$/.exec(link)?.[1] ?? "";
}

/** The namespaces of a running container's first process, read from /proc/PID/ns (podman's `ps --ns`). */
export function containerNamespaces(pid: number | undefined, proc = "/proc"): ContainerNamespaces {
  const read = (f: string) => {
    if (!pid) return "";
    try {
      return namespaceInode(readlinkSync(`${proc}/${pid}/ns/${f}`));
    } catch {
      return "";
    }
  };
  return Object.fromEntries(NS_FILES.map(([k, f]) => [k, read(f)])) as ContainerNamespaces;
}

/** Ascending by the key, as podman's sort.Sort over ListContainer; ties keep the newest-first order. */
export function sortEntries<T extends Entry>(entries: T[], key: PsSortKey): T[] {
  const by: Record<PsSortKey, (e: Entry) => string | number> = {
    command: (e) => commandLine(e.rec),
    created: (e) => Date.parse(e.rec.created),
    id: (e) => e.rec.id,
    image: (e) => e.rec.image,
    names: (e) => e.rec.name,
    runningfor: (e) => (e.rec.startedAt ? Date.parse(e.rec.startedAt) : 0),
    // podman compares the virtual (image) size, and only when --size measured it
    size: (e) => e.size?.rootFsSize ?? 0,
    status: (e) => e.status,
  };
  const f = by[key];
  return [...entries].sort((a, b) => {
    const x = f(a);
    const y = f(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** RW: the container's upper dir (for vfs, its whole copied root, as `system df` counts it); virtual: its image's layers. */
export function containerSize(store: Store, root: string, rec: ContainerRecord): ContainerSize {
  const img = store.images().find((i) => i.id === rec.imageId);
  return { rwSize: containerRwSize(root, rec.id), rootFsSize: img?.size ?? 0 };
}

export function checkPsQuery(q: PsQuery & { quiet: boolean }): void {
  if (q.last !== undefined && !Number.isInteger(q.last)) throw new UsageError(`invalid --last "${q.last}": expected a whole number`, { hint: "pod ps -n 3" });
  if (q.last !== undefined && q.last >= 0 && q.latest) throw new UsageError("last and latest are mutually exclusive", { hint: "use -n N or -l" });
  if (q.quiet && (q.size || q.ns)) throw new UsageError("quiet conflicts with size and namespace", { hint: q.size ? "drop -q or --size" : "drop -q or --ns" });
  if (q.size && q.ns) throw new UsageError("size and namespace options conflict", { hint: "drop --size or --ns" });
}

/** `ancestor=`: an image reference to the ID of the image the store has under it. */
export function imageResolver(paths: Paths): (ref: string) => string | undefined {
  const store = new Store(paths);
  return (ref) => {
    try {
      return lookupImage(store, ref).id;
    } catch {
      return undefined;
    }
  };
}

/** The rows `pod ps` prints for the query. */
export function listContainers(paths: Paths, q: PsQuery, now = Date.now()): PsRow[] {
  const recs = listRecords(paths.root);
  const store = new Store(paths);
  const match = compileFilters(q.filters, { all: recs, now, resolveImage: imageResolver(paths) });
  // podman: --last/--latest pick among all containers, like -a, and so does a status filter
  const last = q.last !== undefined && q.last >= 0 ? q.last : undefined;
  const everything = q.all || last !== undefined || q.latest || filtersOnStatus(q.filters);
  let entries: Entry[] = recs
    .sort((a, b) => b.created.localeCompare(a.created))
    .map((rec) => ({ rec, status: statusOf(rec) }))
    .filter((e) => (everything || e.status === "running") && match(e));
  if (last !== undefined) entries = entries.slice(0, last);
  if (q.latest) entries = entries.slice(0, 1);
  if (q.size) entries = entries.map((e) => ({ ...e, size: containerSize(store, paths.root, e.rec) }));
  if (q.sort) entries = sortEntries(entries, q.sort);
  return entries.map((e) => {
    const live = e.status === "running" || e.status === "paused";
    return psRow(e.rec, now, q.noTrunc, e.size, q.ns ? containerNamespaces(live ? e.rec.pid : undefined) : undefined);
  });
}
