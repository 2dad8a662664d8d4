// Container records on disk: <root>/containers/<id>/container.json plus the
// container's upper/work/merged dirs and its hosts, hostname and resolv.conf.
// Names are unique: they are claimed under the containers lock.
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { NoSuchContainer, PodError } from "../../errors.ts";
import { withLock } from "../../store/lock.ts";
import { writeFileAtomic } from "../../store/atomic.ts";
import { removeCidFileOf } from "../engine/cidfile.ts";
import { reconcile } from "./reconcile.ts";
import type { RunOptions } from "../../runtime/index.ts";

/** What `create`/`run` asked for, kept so that `start` can launch the container again. */
export type ContainerConfig = {
  rm: boolean;
  /** run --rmi: the image as the user named it, removed with the container (that name only, as podman) */
  rmi?: string;
  interactive: boolean;
  opts: RunOptions;
  /** run/create --cidfile: removed along with the container */
  cidfile?: string;
  /** run/create --conmon-pidfile (absolute): the monitor's pid, written at each start and left in place, as conmon does */
  conmonPidfile?: string;
  /** --log-driver and --log-opt (log-driver.ts); absent: k8s-file at ctr.log */
  log?: import("../io/log-driver.ts").LogConfig;
};

export type ContainerRecord = {
  id: string;
  name: string;
  image: string;
  imageId: string;
  command: string[];
  created: string;
  /** the command line that made the container, as podman keeps it */
  createCommand?: string[];
  state: "created" | "running" | "exited";
  config?: ContainerConfig;
  /** host pid of the container's first process, and its start time (against pid reuse) */
  pid?: number;
  pidStartTime?: number;
  /** the environment the process got (image, defaults, -e), for inspect */
  env?: string[];
  /**
   * absolute path of the container's own cgroup (`…/pod.slice/pod-<id>.scope`,
   * pkg/cgroup) for its current or latest run; absent where the host offers no delegated
   * cgroup v2, and for containers started before pod made cgroups. Freezing it
   * is `pod pause`.
   */
  cgroup?: string;
  /** host pid of the monitor (detached containers) */
  monitorPid?: number;
  /** the network helper of its current or latest run (pasta, slirp4netns), for inspect's NetworkMode */
  networkHelper?: string;
  /** root's bridge: the address this start got (inspect's NetworkSettings) */
  bridge?: { ip: string; gateway: string; prefix: number; bridge: string };
  /** user networks: the address this start got on each (inspect's NetworkSettings.Networks) */
  networks?: { network: string; ip: string; ip6?: string; gateway6?: string; mac?: string; gateway: string; prefix: number; bridge: string }[];
  exitCode?: number;
  /** the latest run's cgroup saw an OOM kill (memory.events): inspect's State.OOMKilled */
  oomKilled?: boolean;
  startedAt?: string;
  finishedAt?: string;
  /** --restart: the starts its policy made (inspect's RestartCount), the latest back-off, and whether the user's stop or kill ended the cycle */
  restartCount?: number;
  restartDelayMs?: number;
  stoppedByUser?: boolean;
  /** the healthcheck's state in this run (health.ts) */
  health?: import("../engine/health.ts").HealthState;
};

export const containersDir = (root: string) => join(root, "containers");
export const containerDir = (root: string, id: string) => join(containersDir(root), id);
/** the latest start's monitor pid, alone in a file (a systemd unit's PIDFile) */
export const monitorPidFile = (root: string, id: string) => join(containerDir(root, id), "monitor.pid");

export function newContainerId(): string {
  return new Bun.CryptoHasher("sha256").update(crypto.getRandomValues(new Uint8Array(32))).digest("hex");
}

const adjectives = ["brave", "calm", "eager", "fervent", "gifted", "happy", "jolly", "keen", "lucid", "merry", "nifty", "quirky", "serene", "vibrant", "witty", "zealous"];
const nouns = ["turing", "hopper", "lovelace", "knuth", "ritchie", "thompson", "torvalds", "hamilton", "liskov", "dijkstra", "babbage", "curie", "noether", "shannon", "wozniak", "cerf"];

function randomName(): string {
  const r = crypto.getRandomValues(new Uint8Array(2));
  return `${adjectives[r[0]! % adjectives.length]}_${nouns[r[1]! % nouns.length]}`;
}

/** The record, reconciled with what is alive (reconcile.ts); `raw` as written, for updates. */
export function readRecord(root: string, id: string, raw = false): ContainerRecord | undefined {
  let rec: ContainerRecord;
  try {
    rec = JSON.parse(readFileSync(join(containerDir(root, id), "container.json"), "utf8")) as ContainerRecord;
  } catch {
    return undefined;
  }
  return raw ? rec : reconcile(containerDir(root, id), rec);
}

function containerIds(root: string): string[] {
  try {
    return readdirSync(containersDir(root)).filter((n) => /^[0-9a-f]{64}$/.test(n));
  } catch {
    return [];
  }
}

export function listRecords(root: string): ContainerRecord[] {
  return containerIds(root)
    .map((id) => readRecord(root, id))
    .filter((r): r is ContainerRecord => r !== undefined);
}

/**
 * Container directories without a readable record (a disk that filled up
 * while it was written, a crash of an older pod): no verb can name them, so
 * `rm -a`, `container prune` and `system reset` remove them. Read under the
 * containers lock, where a record being created is complete.
 */
export function unreadableContainerDirs(root: string): Promise<string[]> {
  return withLock(join(containersDir(root), "containers.lock"), "read", () => containerIds(root).filter((id) => !readRecord(root, id, true)));
}

export function writeRecord(root: string, rec: ContainerRecord): void {
  writeFileAtomic(join(containerDir(root, rec.id), "container.json"), JSON.stringify(rec, null, 2));
}

/** Creates the container's directory and record, claiming a unique name. */
export async function createRecord(
  root: string,
  rec: Omit<ContainerRecord, "name" | "id"> & { name?: string },
  /** checked under the lock `rmi` takes too: an image being deleted is not used */
  imagePresent: () => boolean = () => true,
): Promise<ContainerRecord> {
  mkdirSync(containersDir(root), { recursive: true, mode: 0o700 });
  if (rec.name !== undefined && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(rec.name))
    throw new PodError(`invalid container name "${rec.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`, { hint: "pick another --name" });
  return withLock(join(containersDir(root), "containers.lock"), "write", () => {
    if (!imagePresent())
      throw new PodError(`image ${rec.imageId.slice(0, 12)} was removed while the container was being created`, { hint: "pull it again and retry" });
    const taken = new Set(listRecords(root).map((r) => r.name));
    if (rec.name !== undefined && taken.has(rec.name))
      throw new PodError(`the container name "${rec.name}" is already in use`, { hint: "remove that container, or choose another --name" });
    let name = rec.name ?? randomName();
    for (let i = 0; taken.has(name); i++) name = `${randomName()}${i > 5 ? i : ""}`;
    const full: ContainerRecord = { ...rec, id: newContainerId(), name };
    // Made whole in tmp/ and renamed into place: a pod killed (or a disk full) half-way
    // leaves a tmp/ entry that sweeps remove, never a container directory without its record.
    const dir = join(root, "tmp", `${process.pid}-new-container-${full.id}`);
    try {
      // The upper dir's mode becomes the container's "/": 0755 like the images' roots, or non-root users cannot traverse it.
      mkdirSync(join(dir, "upper"), { recursive: true, mode: 0o755 });
      chmodSync(join(dir, "upper"), 0o755);
      for (const d of ["work", "merged"]) mkdirSync(join(dir, d), { mode: 0o700 });
      writeFileAtomic(join(dir, "container.json"), JSON.stringify(full, null, 2));
      renameSync(dir, containerDir(root, full.id));
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw new PodError(`creating container ${name}: ${(e as Error).message}`, { hint: diskHint(e), cause: e });
    }
    return full;
  });
}

function diskHint(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOSPC" || code === "EDQUOT") return "the disk holding pod's storage is full: free some space (pod system prune) and retry";
  return "check that pod's storage directory is writable (pod info shows where it is)";
}

/** Removes a container's directory; files owned by subordinate ids need the storage namespace. */
export async function removeContainerDir(root: string, id: string, removeTrees: (p: string[]) => Promise<void>): Promise<void> {
  let dir = containerDir(root, id);
  if (!existsSync(dir)) return;
  removeCidFileOf(readRecord(root, id));
  // First out of sight in one step (a rename into tmp/, which sweeps of dead pids clear):
  // a pod killed while deleting leaves no directory without its record.
  const trash = join(root, "tmp", `${process.pid}-rm-container-${id}`);
  try {
    mkdirSync(join(root, "tmp"), { recursive: true, mode: 0o700 });
    renameSync(dir, trash);
    dir = trash;
  } catch {
    // removed in place
  }
  // Overlay makes work/work with mode 000. When it is ours (the usual mapping) opening it up saves
  // starting the storage namespace; anything we may not touch goes to the namespace instead.
  try {
    for (const d of ["work/work", "work/index"]) if (existsSync(join(dir, d))) chmodSync(join(dir, d), 0o700);
    rmSync(dir, { recursive: true, force: true });
  } catch {
    await removeTrees([dir]);
  }
}

/** Finds a container by name, full ID or unique ID prefix. */
export function findContainer(root: string, input: string, all = listRecords(root)): ContainerRecord {
  const byName = all.find((r) => r.name === input);
  if (byName) return byName;
  const hits = all.filter((r) => r.id.startsWith(input));
  if (hits.length === 1 && input.length >= 1) return hits[0]!;
  if (hits.length > 1) throw new PodError(`container ID prefix "${input}" is ambiguous: ${hits.length} containers match`, { hint: "give more characters of the ID, or the name" });
  throw new NoSuchContainer(`no container with name or ID "${input}" found: no such container`, {
    hint: "`pod ps -a` lists containers",
  });
}

/** Updates a record under the containers lock, re-reading it first (another pod may have changed it). */
export async function updateRecord(root: string, id: string, fn: (r: ContainerRecord) => ContainerRecord | undefined): Promise<ContainerRecord | undefined> {
  return withLock(join(containersDir(root), "containers.lock"), "write", () => {
    const cur = readRecord(root, id, true);
    if (!cur) return undefined;
    const next = fn(cur);
    if (next) writeRecord(root, next);
    return next;
  });
}

/**
 * Serialises the verbs that change whether a container runs or exists
 * (start, rm): a remove waits for a start in progress and then sees the
 * running container, and two starts do not launch it twice.
 */
export function withContainerLock<T>(root: string, id: string, fn: () => Promise<T>): Promise<T> {
  return withLock(join(containersDir(root), `${id}.lock`), "write", fn);
}

/** What an event says of a container: podman's attributes are its labels. */
export const eventOf = (rec: ContainerRecord) => ({ id: rec.id, name: rec.name, image: rec.image, labels: rec.config?.opts.labels });
