// `pod system check`: finds what a killed or interrupted pod left inconsistent
// and, with --repair, removes what provably nothing uses.
//
// Found: layers whose directory, layer.json or files (entries and bytes, as
// recorded when stored) are not what was stored; images whose blobs or layers
// are missing or do not match their digest; layers and blobs no image uses
// (older than --max, as podman: a younger one may belong to a pull in
// progress); container directories without a readable container.json;
// records whose image is gone; tmp/ entries, atomic-write temp files and
// storage job files of dead pids; lock files of containers that no longer exist.
//
// Repaired: only what no readable record names. A damaged container directory
// needs --force. Damaged images, damaged layers an image uses and records whose
// image is gone are reported with the command that fixes them, never removed.
// Everything is re-checked under the lock that guards it right before removal.
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import type { Paths } from "../config/index.ts";
import {
  Store,
  atomicTempPid,
  jobFilePid,
  removeLockIfFree,
  staleAtomicTemps,
  staleJobFiles,
  staleTmpEntries,
  tmpEntryPid,
  treeMismatch,
  tryWithLock,
  withLock,
  type ImageRecord,
  type LayerInfo,
} from "../store/index.ts";
// records.ts, logs.ts and state.ts, not the folder's index: the index pulls in `run` and the native core
import { containerDir, containersDir, readRecord, type ContainerRecord } from "../container/record/records.ts";
import { parseGoDuration } from "../container/io/logs.ts";
import { isRunning } from "./containers.ts";

export type ProblemKind = "layer" | "unused-layer" | "image" | "container" | "unused-blob" | "temp" | "job" | "lock" | "index";

/**
 * One thing found. `repair`: "repair" when --repair removes it, "force" when
 * only --force does, absent when pod never removes it (a record names it).
 */
export type Problem = { kind: ProblemKind; subject: string; reason: string; repair?: "repair" | "force"; hint?: string };

export type CheckOptions = {
  /** skip hashing blobs and summing up layer trees */
  quick?: boolean;
  repair?: boolean;
  /** also remove damaged container directories; implies repair (podman's --force) */
  force?: boolean;
  /** unused layers and blobs younger than this are left alone (ms; podman's default 24h) */
  maxAgeMs?: number;
  now?: number;
};

export type CheckReport = {
  found: Problem[];
  removed: Problem[];
  /** what is still wrong after the repair (equals found without one) */
  remaining: Problem[];
  /** removals that failed, one line each */
  failures: string[];
};

export const DEFAULT_MAX_AGE_MS = 24 * 3_600_000;

/** --max: a Go duration ("24h", "90m", "0"), as podman takes it. */
export function parseMaxAge(v: string): number {
  const ms = parseGoDuration(v);
  if (ms === undefined || ms < 0)
    throw new UsageError(`invalid argument "${v}" for "-m, --max": not a duration`, { hint: "give a Go duration such as 24h, 90m or 0" });
  return ms;
}

const LABELS: Record<ProblemKind, string> = {
  layer: "damaged layer",
  "unused-layer": "unused layer",
  image: "damaged image",
  container: "damaged container",
  "unused-blob": "unused blob",
  temp: "leftover temporary file",
  job: "leftover job file",
  lock: "stale lock file",
  index: "damaged image index",
};

const capital = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** podman's shape, one line per problem: `Damaged layer <id>: <why>`. */
export const problemLine = (p: Problem) => `${capital(LABELS[p.kind])} ${p.subject}: ${p.reason}`;
/** `Deleted damaged container: <id>`. */
export const removedLine = (p: Problem) => `Deleted ${LABELS[p.kind]}: ${p.subject}`;

export function ago(ms: number): string {
  const h = Math.floor(ms / 3_600_000);
  if (h >= 48) return `${Math.floor(h / 24)} days ago`;
  if (h >= 1) return `${h} hour${h === 1 ? "" : "s"} ago`;
  const m = Math.floor(ms / 60_000);
  return m >= 1 ? `${m} minute${m === 1 ? "" : "s"} ago` : "just now";
}

const HEX = /^[0-9a-f]{64}$/;
const short = (hex: string) => hex.slice(0, 12);

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const isDir = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

function mtimeOf(p: string): number {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return 0;
  }
}

function sha256File(path: string): string | undefined {
  try {
    return `sha256:${new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex")}`;
  } catch {
    return undefined;
  }
}

/** What is wrong with a stored layer's directory and layer.json, or undefined. */
function layerDamage(store: Store, hex: string): string | undefined {
  const dir = join(store.root, "layers", hex);
  let info: LayerInfo;
  try {
    info = JSON.parse(readFileSync(join(dir, "layer.json"), "utf8")) as LayerInfo;
  } catch (e) {
    return `layer.json is unreadable: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "it is missing" : (e as Error).message}`;
  }
  if (info.diffID !== `sha256:${hex}`) return `layer.json records the digest ${info.diffID}, not sha256:${hex}`;
  if (!isDir(join(dir, "diff"))) return "its diff/ directory is missing";
  return undefined;
}

type Inventory = { images: ImageRecord[] | undefined; records: ContainerRecord[]; problems: Problem[] };

async function checkLayersAndImages(store: Store, o: CheckOptions, inv: Inventory): Promise<void> {
  const now = o.now ?? Date.now();
  const maxAge = o.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const images = inv.images;
  const layerHexes = list(join(store.root, "layers")).filter((h) => HEX.test(h));
  const used = new Set((images ?? []).flatMap((i) => i.layers.map((d) => d.replace(/^sha256:/, ""))));
  const damaged = new Map<string, string>();
  for (const h of layerHexes) {
    const why = layerDamage(store, h);
    if (why) damaged.set(h, why);
  }
  if (!o.quick) {
    const withTree = layerHexes.filter((h) => used.has(h) && !damaged.has(h) && store.layerInfo(`sha256:${h}`)?.tree);
    const sums = await store.summarizeLayers(withTree.map((h) => `sha256:${h}`));
    withTree.forEach((h, i) => {
      const s = sums[i]!;
      const why = "error" in s ? `summing up its files: ${s.error}` : treeMismatch(store.layerInfo(`sha256:${h}`)!.tree!, s);
      if (why) damaged.set(h, why);
    });
  }
  // Layers of a running container whose image is gone are still its lower dirs: nothing can prove a layer unused then.
  const blind = inv.records.filter((r) => isRunning(r) && !(images ?? []).some((i) => i.id === r.imageId));
  for (const [h, why] of damaged) {
    const usedHere = used.has(h) || images === undefined;
    inv.problems.push({
      kind: "layer",
      subject: h,
      reason: why,
      repair: usedHere || blind.length ? undefined : "repair",
      hint: usedHere ? "remove the images that use it (`pod rmi -f`) and pull them again" : undefined,
    });
  }
  if (images === undefined) return;
  for (const h of layerHexes) {
    if (used.has(h) || damaged.has(h)) continue;
    const stored = Date.parse(store.layerInfo(`sha256:${h}`)?.created ?? "") || mtimeOf(join(store.root, "layers", h));
    if (now - stored < maxAge) continue;
    inv.problems.push({
      kind: "unused-layer",
      subject: h,
      reason: blind.length
        ? `no image uses it, but it is kept: the image of running container ${blind[0]!.name} is gone, and it may use this layer`
        : `no image uses it (stored ${ago(now - stored)})`,
      repair: blind.length ? undefined : "repair",
    });
  }
  const blobs = join(store.root, "blobs", "sha256");
  const named = new Set(images.flatMap((i) => [i.id, i.manifestDigest.replace(/^sha256:/, "")]));
  for (const h of list(blobs)) {
    if (!HEX.test(h) || named.has(h)) continue;
    const t = mtimeOf(join(blobs, h));
    if (now - t < maxAge) continue;
    inv.problems.push({ kind: "unused-blob", subject: `sha256:${h}`, reason: `no image uses it (stored ${ago(now - t)})`, repair: "repair" });
  }
  for (const img of images) {
    const whys: string[] = [];
    // a manifest list (pkg/manifest) has no config: its ID is random
    const isList = /manifest\.list\.v2\+json$|image\.index\.v1\+json$/.test(img.manifestMediaType);
    const blobs = isList ? ([["manifest", img.manifestDigest]] as const) : ([["config", `sha256:${img.id}`], ["manifest", img.manifestDigest]] as const);
    for (const [what, digest] of blobs) {
      if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
        whys.push(`its ${what} digest ${digest} is not a sha256 digest`);
        continue;
      }
      const path = store.blobPath(digest);
      if (!existsSync(path)) whys.push(`its ${what} blob ${digest} is missing`);
      else if (!o.quick) {
        const actual = sha256File(path);
        if (actual !== digest) whys.push(`its ${what} blob ${digest} ${actual ? `hashes to ${actual}` : "is unreadable"}`);
      }
    }
    for (const d of img.layers) {
      const h = d.replace(/^sha256:/, "");
      if (!existsSync(join(store.root, "layers", h))) whys.push(`its layer ${d} is missing`);
      else if (damaged.has(h)) whys.push(`its layer ${d} is damaged`);
    }
    const name = img.names[0] ?? short(img.id);
    for (const why of whys)
      inv.problems.push({ kind: "image", subject: img.id, reason: why, hint: `\`pod rmi -f ${short(img.id)}\`, then \`pod pull ${name}\`` });
  }
}

/** A container dir without a readable record, looked at again while nobody starts or removes it; undefined when busy or fine. */
async function brokenContainer(root: string, id: string): Promise<string | undefined> {
  const lockFile = join(containersDir(root), `${id}.lock`);
  const look = () => {
    if (!isDir(containerDir(root, id))) return undefined;
    const file = join(containerDir(root, id), "container.json");
    try {
      JSON.parse(readFileSync(file, "utf8"));
      return undefined;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === "ENOENT" ? "container.json is missing" : `container.json is unreadable: ${(e as Error).message}`;
    }
  };
  // No lock file: nobody is starting or removing it (a check makes no lock files).
  if (!existsSync(lockFile)) return look();
  return (await tryWithLock(lockFile, look))?.value;
}

async function checkContainers(paths: Paths, inv: Inventory): Promise<void> {
  const dir = containersDir(paths.root);
  if (!existsSync(dir)) return;
  // createRecord makes the directory and writes its record under this lock: no half-made container is seen.
  const names = await withLock(join(dir, "containers.lock"), "read", () => list(dir));
  for (const n of names) {
    const lock = /^([0-9a-f]{64})\.lock$/.exec(n);
    if (lock) {
      if (!existsSync(join(dir, lock[1]!)))
        inv.problems.push({ kind: "lock", subject: join(dir, n), reason: `container ${short(lock[1]!)} does not exist`, repair: "repair" });
      continue;
    }
    if (!HEX.test(n) || !isDir(join(dir, n))) continue;
    const rec = readRecord(paths.root, n);
    if (!rec) {
      const why = await brokenContainer(paths.root, n);
      if (why) inv.problems.push({ kind: "container", subject: n, reason: why, repair: "force", hint: "`pod system check --repair --force` removes its directory" });
      continue;
    }
    inv.records.push(rec);
    if (inv.images && !inv.images.some((i) => i.id === rec.imageId))
      inv.problems.push({
        kind: "container",
        subject: n,
        reason: `its image ${short(rec.imageId)} (${rec.image}) is not in storage`,
        hint: `\`pod pull ${rec.image}\` brings it back if it is the same image; \`pod rm ${rec.name}\` removes the container`,
      });
  }
}

function checkLeftovers(paths: Paths, inv: Inventory): void {
  for (const p of staleTmpEntries(paths.root)) {
    const pid = tmpEntryPid(p.slice(p.lastIndexOf("/") + 1));
    inv.problems.push({ kind: "temp", subject: p, reason: Number.isNaN(pid) ? "no pod process made it" : `its process ${pid} is gone`, repair: "repair" });
  }
  const dirs = [paths.root, join(paths.root, "blobs", "sha256"), containersDir(paths.root), ...inv.records.map((r) => containerDir(paths.root, r.id))];
  for (const d of dirs)
    for (const p of staleAtomicTemps(d))
      inv.problems.push({ kind: "temp", subject: p, reason: `its process ${atomicTempPid(p.slice(p.lastIndexOf("/") + 1))} is gone`, repair: "repair" });
  for (const p of staleJobFiles(paths.runroot)) {
    const n = p.slice(p.lastIndexOf("/") + 1);
    inv.problems.push({ kind: "job", subject: p, reason: `its process ${jobFilePid(n) ?? atomicTempPid(n)} is gone`, repair: "repair" });
  }
  for (const p of staleAtomicTemps(paths.runroot))
    if (!p.slice(p.lastIndexOf("/") + 1).startsWith(".job-"))
      inv.problems.push({ kind: "temp", subject: p, reason: `its process ${atomicTempPid(p.slice(p.lastIndexOf("/") + 1))} is gone`, repair: "repair" });
}

/** Everything wrong with the store, without changing it. */
export async function findProblems(paths: Paths, o: CheckOptions = {}): Promise<Problem[]> {
  if (!existsSync(paths.root)) return [];
  const store = new Store(paths);
  const inv: Inventory = { images: undefined, records: [], problems: [] };
  try {
    inv.images = store.images();
  } catch (e) {
    inv.problems.push({ kind: "index", subject: store.indexFile, reason: (e as Error).message, hint: "`pod system reset -f` starts afresh" });
  }
  await checkContainers(paths, inv);
  await checkLayersAndImages(store, o, inv);
  checkLeftovers(paths, inv);
  return inv.problems;
}

/** Removes one problem's subject after checking again, under its lock, that nothing uses it. false: kept (in use now). */
async function repairOne(paths: Paths, store: Store, p: Problem): Promise<boolean> {
  switch (p.kind) {
    case "unused-layer":
    case "layer": {
      const diffID = `sha256:${p.subject}`;
      // Under the layer lock (no pull is extracting it) and the store lock (no pull records an image with it meanwhile).
      const doomed = await store.withLayerLock(diffID, () =>
        store.updateImages((images) => ({ images, result: images.some((i) => i.layers.includes(diffID)) ? [] : store.takeLayersOut([diffID]) })),
      );
      await store.removeTrees(doomed);
      return doomed.length > 0;
    }
    case "unused-blob":
      return store.updateImages((images) => {
        const used = images.some((i) => `sha256:${i.id}` === p.subject || i.manifestDigest === p.subject);
        if (!used) rmSync(store.blobPath(p.subject), { force: true });
        return { images, result: !used };
      });
    case "temp":
      if (!p.subject.startsWith(join(paths.root, "tmp") + "/")) {
        rmSync(p.subject, { force: true });
        return true;
      }
      await store.removeTrees([p.subject]);
      return true;
    case "job":
      rmSync(p.subject, { force: true });
      return true;
    case "lock": {
      const id = p.subject.slice(p.subject.lastIndexOf("/") + 1, -".lock".length);
      return withLock(join(containersDir(paths.root), "containers.lock"), "write", () =>
        existsSync(containerDir(paths.root, id)) ? false : removeLockIfFree(p.subject),
      );
    }
    case "container": {
      const id = p.subject;
      const lockFile = join(containersDir(paths.root), `${id}.lock`);
      const doomed = await tryWithLock(lockFile, async () => {
        if (readRecord(paths.root, id) || !isDir(containerDir(paths.root, id))) return undefined;
        // Renamed into tmp/ first: the name is gone at once, and a killed pod leaves a sweepable tmp/ entry.
        const to = join(paths.root, "tmp", `${process.pid}-rm-container-${id}`);
        renameSync(containerDir(paths.root, id), to);
        return to;
      });
      if (!doomed?.value) return false;
      await store.removeTrees([doomed.value]);
      removeLockIfFree(lockFile);
      return true;
    }
    default:
      return false;
  }
}

const repairable = (p: Problem, force: boolean) => p.repair === "repair" || (p.repair === "force" && force);

export async function checkStorage(paths: Paths, o: CheckOptions = {}): Promise<CheckReport> {
  const found = await findProblems(paths, o);
  const repair = Boolean(o.repair || o.force);
  if (!repair || !found.some((p) => repairable(p, Boolean(o.force)))) return { found, removed: [], remaining: found, failures: [] };
  const store = new Store(paths).init();
  const removed: Problem[] = [];
  const failures: string[] = [];
  for (const p of found.filter((x) => repairable(x, Boolean(o.force)))) {
    try {
      if (await repairOne(paths, store, p)) removed.push(p);
    } catch (e) {
      failures.push(`removing ${LABELS[p.kind]} ${p.subject}: ${e instanceof PodError ? e.message : (e as Error).message}`);
    }
  }
  return { found, removed, remaining: await findProblems(paths, o), failures };
}
