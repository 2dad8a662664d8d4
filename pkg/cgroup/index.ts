// Container cgroups in the cgroup v2 subtree delegated to the user: one
// `pod-<id>.scope` per container under `<delegated root>/pod.slice`, and the
// freezer behind `pause`/`unpause`. Owns those directories and nothing else:
// it never writes to a cgroup pod did not create, and on a host without a
// pure, delegated v2 hierarchy (these CI machines are hybrid) it creates
// nothing at all. No bun:ffi here: a container's processes move themselves
// into their cgroup in pkg/native, through a cgroup.procs that pod opens.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { log } from "../output/index.ts";
import { delegatedRoot, parseEvents, parseProcCgroup, realProbe, unifiedMountOf, v1Hierarchies, type Probe } from "./hierarchy.ts";

export { delegatedRoot, parseEvents, parseProcCgroup, unifiedMountOf, v1Hierarchies, type Probe } from "./hierarchy.ts";

export type CgroupSupport = { ok: true; parent: string } | { ok: false; reason: string; hint: string };

/** What assessSupport looks at; cgroupSupport() fills it from /proc and the real file system. */
export type HostView = {
  mountinfo: string;
  procCgroup: string;
  uid: number;
  probe?: Probe;
  exists?: (path: string) => boolean;
};

const UNIFIED_HINT = "boot with a pure cgroup v2 hierarchy: add systemd.unified_cgroup_hierarchy=1 to the kernel command line (the default since systemd 247)";

/** Judges whether pod can give containers cgroups of their own here, and where (pure: tests pass fake views). */
export function assessSupport(v: HostView): CgroupSupport {
  const own = parseProcCgroup(v.procCgroup);
  const mount = unifiedMountOf(v.mountinfo);
  if (v1Hierarchies(v.procCgroup) > 0) {
    const what = own.unified !== undefined ? "hybrid (cgroup v1 hierarchies beside the unified one)" : "cgroup v1 only";
    return { ok: false, reason: `the host's cgroups are ${what}, and pod needs a pure cgroup v2 hierarchy`, hint: UNIFIED_HINT };
  }
  if (own.unified === undefined || mount !== "/sys/fs/cgroup")
    return { ok: false, reason: "no cgroup2 file system is mounted at /sys/fs/cgroup", hint: UNIFIED_HINT };
  const exists = v.exists ?? existsSync;
  const ownDir = join(mount, own.unified);
  if (own.unified !== "/" && !exists(join(ownDir, "cgroup.freeze")))
    return { ok: false, reason: "the kernel has no cgroup v2 freezer (cgroup.freeze arrived in Linux 5.2)", hint: "run pod on Linux 5.2 or later" };
  const root = delegatedRoot(mount, own.unified, v.uid, v.probe ?? realProbe);
  if (!root)
    return {
      ok: false,
      reason: `your cgroup ${own.unified} is not delegated to you (uid ${v.uid} does not own it and its cgroup.procs)`,
      hint: "start pod inside a cgroup systemd delegated to you: from a systemd user session (user@UID.service), or as `systemd-run --user --scope pod …`",
    };
  return { ok: true, parent: join(root, "pod.slice") };
}

let cached: CgroupSupport | undefined;

/** Whether (and where) this process can create container cgroups; checked once per process. */
export function cgroupSupport(): CgroupSupport {
  cached ??= assessSupport({
    mountinfo: readOr("/proc/self/mountinfo"),
    procCgroup: readOr("/proc/self/cgroup"),
    uid: process.getuid?.() ?? -1,
  });
  return cached;
}

function readOr(file: string, fallback = ""): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

const errText = (e: unknown) => ((e as NodeJS.ErrnoException).code ?? (e as Error).message);

/**
 * Makes `<parent>/pod-<id>.scope` (and pod.slice itself on first use) and
 * returns its absolute path; undefined where containers get no cgroup of their
 * own (unsupported host, or the directory could not be made: a warning says
 * so, the container runs without one and cannot be paused). A scope left by
 * a container whose end nobody recorded is reused, thawed.
 */
export function createContainerCgroup(id: string, support: CgroupSupport = cgroupSupport()): string | undefined {
  if (!support.ok) {
    log.debug(`container ${id.slice(0, 12)} gets no cgroup of its own: ${support.reason}`);
    return undefined;
  }
  const dir = join(support.parent, `pod-${id}.scope`);
  try {
    mkdirIfMissing(support.parent);
    enableControllers(support.parent);
    if (!mkdirIfMissing(dir)) writeFileSync(join(dir, "cgroup.freeze"), "0");
  } catch (e) {
    log.warn(`container ${id.slice(0, 12)} runs without a cgroup of its own, so it cannot be paused: creating ${dir}: ${errText(e)}`);
    return undefined;
  }
  return dir;
}

/**
 * `<parent>/pod-monitors.scope`, where detached containers' monitors live:
 * out of the cgroup of whoever started them (a terminal's scope, which
 * systemd ends with the window), as podman moves conmon into a scope of its
 * own. Undefined where containers get no cgroups.
 */
export function monitorsCgroup(support: CgroupSupport = cgroupSupport()): string | undefined {
  if (!support.ok) return undefined;
  const dir = join(support.parent, "pod-monitors.scope");
  try {
    mkdirIfMissing(support.parent);
    mkdirIfMissing(dir);
  } catch (e) {
    log.warn(`monitors stay in the cgroup of the pod that starts them: creating ${dir}: ${errText(e)}`);
    return undefined;
  }
  return dir;
}

/** mkdir that tolerates an existing directory; true when it made one. */
function mkdirIfMissing(dir: string): boolean {
  try {
    mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Offers the containers below pod.slice every controller pod.slice has, one
 * by one, ignoring refusals: the freezer needs none (cgroup.freeze is core),
 * limits would.
 */
function enableControllers(slice: string): void {
  const has = new Set(readOr(join(slice, "cgroup.subtree_control")).split(/\s+/).filter(Boolean));
  for (const c of readOr(join(slice, "cgroup.controllers")).split(/\s+/).filter(Boolean)) {
    if (has.has(c)) continue;
    try {
      writeFileSync(join(slice, "cgroup.subtree_control"), `+${c}`);
    } catch (e) {
      log.debug(`cannot enable the ${c} controller in ${slice}: ${errText(e)}`);
    }
  }
}

/**
 * Removes a container's cgroup once its processes are gone. rmdir fails with
 * EBUSY while the kernel still counts exiting tasks in it: retried for about
 * a second; anything still inside then (it belongs to the ended container) is
 * killed through cgroup.kill. Never throws: a cgroup that cannot be removed is
 * reported as a warning, a missing one is fine.
 */
export function removeContainerCgroup(path: string | undefined): void {
  if (!path) return;
  for (let i = 0; ; i++) {
    try {
      rmdirSync(path);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || i >= 150) {
        log.warn(`cannot remove the container cgroup ${path}: ${errText(e)}`);
        return;
      }
    }
    if (i === 100) {
      try {
        writeFileSync(join(path, "cgroup.kill"), "1");
      } catch (e) {
        log.debug(`cgroup.kill in ${path}: ${errText(e)}`);
      }
    }
    Bun.sleepSync(10);
  }
}

/**
 * Freezes (or thaws) every process in the cgroup and waits until the kernel
 * says it is done (`frozen 1`/`frozen 0` in cgroup.events), at most
 * `timeoutMs`. A freeze that does not complete in time (a task stuck in
 * uninterruptible sleep) is undone and reported.
 */
export async function setFrozen(path: string, frozen: boolean, timeoutMs = 5000): Promise<void> {
  const want = frozen ? "1" : "0";
  const verb = frozen ? "freezing" : "thawing";
  try {
    writeFileSync(join(path, "cgroup.freeze"), want);
  } catch (e) {
    throw new PodError(`${verb} ${path}: writing cgroup.freeze: ${errText(e)}`, { cause: e });
  }
  const until = Date.now() + timeoutMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    if (parseEvents(readOr(join(path, "cgroup.events"))).frozen === want) return;
    if (Date.now() >= until) break;
    await Bun.sleep(delay);
  }
  if (frozen) {
    try {
      writeFileSync(join(path, "cgroup.freeze"), "0");
    } catch (e) {
      log.warn(`thawing ${path} after a failed freeze: ${errText(e)}`);
    }
  }
  throw new PodError(`${verb} ${path}: cgroup.events still does not say "frozen ${want}" after ${timeoutMs / 1000} s`, {
    hint: "a process in uninterruptible sleep (state D) delays the freezer; try again",
  });
}

/** Whether a freeze is in effect for the cgroup (its cgroup.freeze says 1); false when it is gone. */
export function isFrozen(path: string): boolean {
  return readOr(join(path, "cgroup.freeze")).trim() === "1";
}
