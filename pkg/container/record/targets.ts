// Which containers a bulk verb (start, stop, kill, restart, rm) acts on:
// names or IDs, --all, --latest, --cidfile files and --filter, combined the
// way podman combines them (cmd/podman/validate CheckAllLatestAndIDFile and
// abi getContainersAndInputByContext). `input` is what podman prints for a
// success: the name or ID given, or the full ID when the container was
// picked by --all, --latest, --cidfile or --filter.
import { readFileSync } from "node:fs";
import { NoSuchContainer, PodError, UsageError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { findContainer, listRecords, type ContainerRecord } from "./records.ts";
import { statusOf, type Status } from "./state.ts";
import { compileFilters, type ContainerFilter } from "./filters.ts";
import { imageResolver } from "./ps.ts";
import { err, out } from "../../output/index.ts";

export type TargetFlags = {
  names: string[];
  all?: boolean;
  latest?: boolean;
  /** --cidfile values (the files, not yet read) */
  cidfiles?: string[];
  /** --filter values */
  filters?: string[];
};

export type Target = { input: string; rec?: ContainerRecord; error?: PodError };

/**
 * podman's rules for stop, kill, restart and rm: --filter stands alone;
 * --all, --latest and --cidfile exclude each other and names. `start` has
 * its own (`startRules`).
 */
export function checkTargetFlags(f: TargetFlags): void {
  const cid = (f.cidfiles?.length ?? 0) > 0;
  const n = f.names.length;
  if (f.filters?.length) {
    if (n) throw new UsageError("--filter takes no arguments", { hint: "give either container names or --filter" });
    return;
  }
  if (cid && (f.all || f.latest)) throw new UsageError("--all, --latest, and --cidfile cannot be used together", { hint: "pick one way to name the containers" });
  if (f.all && f.latest) throw new UsageError("--all and --latest cannot be used together", { hint: "pick one of them" });
  if (n && f.all) throw new UsageError("no arguments are needed with --all", { hint: "drop the names, or drop --all" });
  if (n && f.latest) throw new UsageError("--latest and containers cannot be used together", { hint: "drop the names, or drop --latest" });
  if (n && cid) throw new UsageError("no arguments are needed with --latest or --cidfile", { hint: "drop the names, or drop --cidfile" });
  if (!n && !f.all && !f.latest && !cid) throw new UsageError("you must provide at least one name or ID", { hint: "or use --all / --latest" });
}

/** podman's validateStart: --filter may narrow names; --all, --latest and names exclude each other. */
export function startRules(f: TargetFlags & { attach?: boolean }): void {
  const n = f.names.length;
  if (!n && !f.all && !f.latest && !f.filters?.length) throw new UsageError("start requires at least one argument", { hint: "name a container, or use --all / --latest" });
  if (f.all && f.latest) throw new UsageError("--all and --latest cannot be used together", { hint: "pick one of them" });
  if (n && f.latest) throw new UsageError("--latest and containers cannot be used together", { hint: "drop the names, or drop --latest" });
  if ((n || f.latest) && f.all) throw new UsageError("either start all containers or the container(s) provided in the arguments", { hint: "drop the names, or drop --all" });
  if (f.attach && n > 1) throw new UsageError("you cannot start and attach multiple containers at once", { hint: "name one container" });
  if (f.attach && f.all) throw new UsageError("you cannot start and attach all containers at once", { hint: "name one container" });
}

/**
 * The first line of each --cidfile: podman's `strings.Split(content, "\n")[0]`.
 * A missing file is skipped with `ignoreMissing` (stop -i, rm -i), else an error.
 */
export function readCidFiles(files: string[], ignoreMissing = false): string[] {
  const ids: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (ignoreMissing && code === "ENOENT") continue;
      throw new PodError(`reading CIDFile: ${f}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, {
        hint: "--cidfile takes the file `pod run --cidfile` or `pod create --cidfile` wrote",
      });
    }
    ids.push(text.split("\n")[0]!);
  }
  return ids;
}

/**
 * Resolves the targets among `all` records. `names` already includes the IDs
 * read from --cidfile files. With a filter, names (full ID or name) only
 * narrow what it matched; `allFilter` narrows --all (kill -a: running ones).
 */
export function selectTargets(
  all: ContainerRecord[],
  f: { names: string[]; all?: boolean; latest?: boolean; filter?: ContainerFilter; status: (r: ContainerRecord) => Status; allFilter?: (r: ContainerRecord) => boolean },
): Target[] {
  if (f.filter) {
    const hits = all.filter((rec) => f.filter!({ rec, status: f.status(rec) }));
    const picked = f.names.length ? hits.filter((r) => f.names.some((n) => r.id === n || r.name === n)) : hits;
    return newestFirst(picked).map((rec) => ({ input: rec.id, rec }));
  }
  if (f.all) return newestFirst(all.filter(f.allFilter ?? (() => true))).map((rec) => ({ input: rec.id, rec }));
  if (f.latest) {
    const rec = newestFirst(all)[0];
    if (!rec) throw new PodError("no containers to act on", { hint: "`pod ps -a` lists containers" });
    return [{ input: rec.id, rec }];
  }
  return f.names.map((input) => {
    try {
      return { input, rec: findContainer("", input, all) };
    } catch (e) {
      if (e instanceof PodError) return { input, error: e };
      throw e;
    }
  });
}

function newestFirst(recs: ContainerRecord[]): ContainerRecord[] {
  return [...recs].sort((a, b) => b.created.localeCompare(a.created));
}

/**
 * The targets of a bulk verb, after podman's flag rules (`start` has its
 * own): --cidfile files are read (a missing one skipped with `ignore`),
 * --filter compiled against every container. `allFilter` narrows --all.
 */
export function resolveTargets(
  paths: Paths,
  f: TargetFlags & { ignore?: boolean; attach?: boolean },
  o: { rules?: "start" | "bulk"; allFilter?: (r: ContainerRecord) => boolean } = {},
): Target[] {
  if (o.rules === "start") startRules(f);
  else checkTargetFlags(f);
  const all = listRecords(paths.root);
  const names = [...f.names, ...readCidFiles(f.cidfiles ?? [], f.ignore)];
  const filter = f.filters?.length ? compileFilters(f.filters, { all, now: Date.now(), resolveImage: imageResolver(paths) }) : undefined;
  return selectTargets(all, { names, all: f.all, latest: f.latest, filter, status: statusOf, allFilter: o.allFilter });
}

/** Whether an error is podman's "no such container" (what -i and rm -f forgive). */
export const isNoSuchContainer = (e: unknown) => e instanceof NoSuchContainer || /no such container/.test((e as Error)?.message ?? "");

export type EachOptions = { rules?: "start" | "bulk"; allFilter?: (r: ContainerRecord) => boolean; forgive?: (e: PodError) => boolean };

/** How many containers a bulk verb works on at once, as podman (`stop -a` takes one timeout, not one per container). */
const PARALLEL = 8;

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs fn over items, at most `limit` at a time; results in the items' order. */
export async function inParallel<I, T>(items: I[], limit: number, fn: (item: I) => Promise<T>): Promise<Settled<T>[]> {
  const results: Settled<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { ok: true, value: await fn(items[i]!) };
      } catch (error) {
        results[i] = { ok: false, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A bulk verb (start, stop, kill, rm, …) over its targets: fn runs on each
 * (given the container and the input podman echoes), what it returns is
 * printed in the order given, every failure is reported and the last one
 * thrown; `forgive` drops the errors -i and rm -f allow.
 */
export async function eachTarget(
  paths: Paths,
  f: TargetFlags & { ignore?: boolean; attach?: boolean },
  fn: (rec: ContainerRecord, input: string) => Promise<string | undefined> | string | undefined,
  o: EachOptions = {},
): Promise<void> {
  const list = resolveTargets(paths, f, o);
  const results = await inParallel(list, PARALLEL, async (t) => {
    if (t.error) throw t.error;
    return fn(t.rec!, t.input);
  });
  const errors: PodError[] = [];
  for (const r of results) {
    if (r.ok) {
      if (r.value !== undefined) out(`${r.value}\n`);
      continue;
    }
    if (!(r.error instanceof PodError)) throw r.error;
    if (!o.forgive?.(r.error)) errors.push(r.error);
  }
  for (const e of errors.slice(0, -1)) err(`Error: ${e.message}\n`);
  if (errors.length) throw errors.at(-1)!;
}
