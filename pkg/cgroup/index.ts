// Container cgroups in the cgroup v2 subtree delegated to the user: one
// `pod-<id>.scope` per container under `<delegated root>/pod.slice`, and the
// freezer behind `pause`/`unpause`. Owns those directories and nothing else:
// it never writes to a cgroup pod did not create, and on a host without a
// pure, delegated v2 hierarchy (these CI machines are hybrid) it creates
// nothing at all. No bun:ffi here: a container's processes move themselves
// into their cgroup in pkg/native, through a cgroup.procs that pod opens.
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { PodError } from "../errors.ts";
import { log } from "../output/index.ts";
import { delegatedRoot, parseEvents, parseProcCgroup, realProbe, unifiedMountOf, v1Hierarchies, type Probe } from "./hierarchy.ts";
import { limitWrites, requestedControllers, type Resources } from "./limits.ts";

export { delegatedRoot, parseEvents, parseProcCgroup, unifiedMountOf, v1Hierarchies, type Probe } from "./hierarchy.ts";

export * from "./limits.ts";
export { readStats, type CgroupStats } from "./stats.ts";

/** parent: pod.slice; root: the top of the delegated subtree; own: this process's cgroup (all absolute). */
export type CgroupSupport = { ok: true; parent: string; root: string; own: string } | { ok: false; reason: string; hint: string };

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
  return { ok: true, parent: join(root, "pod.slice"), root, own: ownDir };
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

const DELEGATE_HINT =
  "delegate the controllers to your user: sudo mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=cpu cpuset io memory pids\\n' | sudo tee /etc/systemd/system/user@.service.d/delegate.conf && sudo systemctl daemon-reload, then log in again";

const words = (text: string) => text.split(/\s+/).filter(Boolean);

/** Where the container's scope goes: pod.slice, --cgroup-parent (inside the delegated subtree), or pod's own cgroup (--cgroups=split). */
export function scopeParent(support: Extract<CgroupSupport, { ok: true }>, r: Resources): string {
  if (r.cgroups === "split") return support.own;
  const p = r.cgroupParent;
  if (!p) return support.parent;
  const dir = p.startsWith("/") ? join("/sys/fs/cgroup", p) : join(support.root, p);
  const rel = relative(support.root, dir);
  if (rel === "" || rel.startsWith(".."))
    throw new PodError(`--cgroup-parent ${p}: it is outside the cgroup subtree delegated to you (${support.root})`, {
      hint: `give a path below ${support.root.replace(/^\/sys\/fs\/cgroup/, "")}, or a relative name (made below it)`,
    });
  return dir;
}

/** The controllers the container's cgroup can get: what the delegated root offers (split: what pod's own cgroup already passes down). */
export function offeredControllers(support: Extract<CgroupSupport, { ok: true }>, r: Resources = {}): string[] {
  return r.cgroups === "split" ? words(readOr(join(support.own, "cgroup.subtree_control"))) : words(readOr(join(support.root, "cgroup.controllers")));
}

/**
 * Refuses limits this host cannot enforce: one line naming the flag and what
 * is missing (a pure cgroup v2 hierarchy, a delegated subtree, a controller),
 * the fix as the hint, exit 125. Nothing to check without limit flags.
 */
export function checkEnforceable(r: Resources, support: CgroupSupport = cgroupSupport()): void {
  const req = requestedControllers(r);
  if (!req.length || r.cgroups === "disabled") return;
  if (!support.ok) throw new PodError(`cannot enforce ${req[0]!.flag}: ${support.reason}`, { hint: `${support.hint}; or run without ${req[0]!.flag}` });
  const offered = offeredControllers(support, r);
  const missing = req.find((q) => !offered.includes(q.controller));
  if (!missing) return;
  if (r.cgroups === "split")
    throw new PodError(`cannot enforce ${missing.flag}: with --cgroups=split the container's cgroup is below pod's own, which holds processes, so the ${missing.controller} controller cannot be enabled for it`, {
      hint: `drop --cgroups=split (the default puts the container in ${support.parent})`,
    });
  throw new PodError(`cannot enforce ${missing.flag}: the ${missing.controller} controller is not delegated to you (${support.root} offers: ${offered.join(" ") || "none"})`, {
    hint: `${DELEGATE_HINT}; or run without ${missing.flag}`,
  });
}

/** Whether podman's default pids limit applies here: the container gets a cgroup below the delegated root, and pids is delegated. */
export function pidsDelegated(r: Resources, support: CgroupSupport = cgroupSupport()): boolean {
  return support.ok && r.cgroups !== "disabled" && r.cgroups !== "split" && offeredControllers(support).includes("pids");
}

/**
 * Makes `<parent>/pod-<id>.scope` (and pod.slice itself on first use),
 * enables the controllers its limits need on the way down from the delegated
 * root, writes the limits, and returns its absolute path. Undefined where
 * containers get no cgroup of their own and no limit asks for one
 * (unsupported host, --cgroups=disabled, or the directory could not be
 * made: a warning says so, the container runs without one and cannot be
 * paused). With limits, every failure is an error and nothing is left. A
 * scope left by a container whose end nobody recorded is reused, thawed.
 */
export function createContainerCgroup(id: string, support: CgroupSupport = cgroupSupport(), r: Resources = {}): string | undefined {
  if (r.cgroups === "disabled") return undefined;
  checkEnforceable(r, support);
  if (!support.ok) {
    log.debug(`container ${id.slice(0, 12)} gets no cgroup of its own: ${support.reason}`);
    return undefined;
  }
  const limited = requestedControllers(r).length > 0;
  const parent = scopeParent(support, r);
  const dir = join(parent, `pod-${id}.scope`);
  const wanted = [...new Set([...requestedControllers(r).map((q) => q.controller), ...(r.pidsLimit !== undefined && pidsDelegated(r, support) ? ["pids"] : [])])];
  try {
    if (r.cgroups !== "split") makePath(support.root, parent, wanted);
    if (!mkdirIfMissing(dir)) writeFileSync(join(dir, "cgroup.freeze"), "0");
  } catch (e) {
    if (e instanceof PodError) throw e;
    const what = `creating ${dir}: ${errText(e)}`;
    if (limited) throw new PodError(`cannot enforce the container's limits: ${what}`, { hint: "`pod info` shows the delegated cgroup; run without the limit flags" });
    log.warn(`container ${id.slice(0, 12)} runs without a cgroup of its own, so it cannot be paused: ${what}`);
    return undefined;
  }
  try {
    applyLimits(dir, r, pidsDelegated(r, support));
  } catch (e) {
    removeContainerCgroup(dir);
    throw e;
  }
  return dir;
}

/**
 * Creates the levels from the delegated root down to `parent` and enables
 * `wanted` in each cgroup.subtree_control on the way (pod.slice, pod's own,
 * offers every controller it has). The no-internal-processes rule: a cgroup
 * with processes cannot pass controllers down, so the delegated root's own
 * processes (pod's, a shell's) move into its leaf `init` first, as podman's
 * cgroupfs manager moves itself.
 */
function makePath(root: string, parent: string, wanted: string[]): void {
  const levels = [root];
  for (const part of relative(root, parent).split("/").filter(Boolean)) levels.push(join(levels.at(-1)!, part));
  levels.forEach((dir, i) => {
    if (i > 0) mkdirIfMissing(dir);
    if (i < levels.length - 1) enableControllers(dir, wanted, i === 0);
  });
  // pod.slice is pod's own: its containers are offered everything it has
  const all = parent === join(root, "pod.slice") ? words(readOr(join(parent, "cgroup.controllers"))) : [];
  enableControllers(parent, [...new Set([...all, ...wanted])], false);
}

function applyLimits(dir: string, r: Resources, pids: boolean): void {
  const has = (f: string) => existsSync(join(dir, f));
  for (const w of limitWrites(r, has)) {
    if (w.file === "pids.max" && !pids && (r.pidsDefault || r.pidsLimit === -1)) continue;
    if (w.optional && !has(w.file)) continue;
    try {
      // r+: never create a file (a plain directory would take it); a missing interface file is ENOENT
      writeFileSync(join(dir, w.file), w.value, { flag: "r+" });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && w.file === "memory.swap.max")
        throw new PodError(`cannot enforce ${w.flag}: the kernel has no swap accounting (${dir} has no memory.swap.max)`, { hint: "drop --memory-swap, or boot with swapaccount=1" });
      if (code === "ENOENT")
        throw new PodError(`cannot enforce ${w.flag}: the container's cgroup has no ${w.file}`, { hint: w.flag.startsWith("--cgroup-conf") ? "check the file name against the kernel's cgroup v2 interface files" : "the controller is not enabled for the container's cgroup: `pod info` shows the delegated ones" });
      throw new PodError(`cannot enforce ${w.flag}: writing "${w.value}" to ${join(dir, w.file)}: ${errText(e)}`, { hint: "check the value against the host (CPUs and memory nodes that exist, a device's major:minor)" });
    }
  }
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
 * Enables the controllers in `dir`'s cgroup.subtree_control, one by one (the
 * file takes one +name at a time here). Refusals of what no flag asked for
 * are ignored: the freezer needs none (cgroup.freeze is core). `moveProcs`:
 * on EBUSY (the cgroup holds processes) they move into `dir/init` first.
 */
function enableControllers(dir: string, wanted: string[], moveProcs: boolean): void {
  const has = new Set(words(readOr(join(dir, "cgroup.subtree_control"))));
  for (const c of wanted) {
    if (has.has(c)) continue;
    try {
      writeFileSync(join(dir, "cgroup.subtree_control"), `+${c}`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EBUSY" && moveProcs && moveIntoLeaf(dir)) {
        writeFileSync(join(dir, "cgroup.subtree_control"), `+${c}`);
        continue;
      }
      log.debug(`cannot enable the ${c} controller in ${dir}: ${errText(e)}`);
    }
  }
}

/** Moves every process of `dir` into `dir/init` (no internal processes); false when there were none to move. */
function moveIntoLeaf(dir: string): boolean {
  const pids = words(readOr(join(dir, "cgroup.procs")));
  if (!pids.length) return false;
  const leaf = join(dir, "init");
  mkdirIfMissing(leaf);
  log.debug(`moving the ${pids.length} processes of ${dir} into ${leaf}, so that it may pass controllers down`);
  for (const pid of pids) {
    try {
      writeFileSync(join(leaf, "cgroup.procs"), pid);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
    }
  }
  return true;
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

/** Whether the kernel's OOM killer killed a process of the cgroup (memory.events oom_kill); false without the memory controller. */
export function oomKilled(path: string): boolean {
  return Number(parseEvents(readOr(join(path, "memory.events"))).oom_kill ?? 0) > 0;
}

/** The pids in the cgroup (cgroup.procs), empty when it is gone. */
export function cgroupPids(path: string): number[] {
  return words(readOr(join(path, "cgroup.procs"))).map(Number);
}

/**
 * SIGKILL to every process of the cgroup, forked children included: one write
 * to cgroup.kill (Linux 5.14), else the freezer holds them (no fork can race
 * the kill) while `kill` sends each one SIGKILL, then thaws them so they die.
 * Returns false where the cgroup is gone.
 */
export async function killCgroup(path: string, kill: (pids: number[]) => void): Promise<boolean> {
  if (!existsSync(path)) return false;
  try {
    writeFileSync(join(path, "cgroup.kill"), "1", { flag: "r+" });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.debug(`cgroup.kill in ${path}: ${errText(e)}`);
  }
  await setFrozen(path, true).catch((e) => log.debug(`freezing ${path} before the kill: ${(e as Error).message}`));
  try {
    kill(cgroupPids(path));
  } finally {
    try {
      writeFileSync(join(path, "cgroup.freeze"), "0");
    } catch {
      // gone with its processes
    }
  }
  return true;
}

/** Writes new limits into a running container's cgroup (pod update); the same checks as at start. */
export function updateLimits(path: string, r: Resources, support: CgroupSupport = cgroupSupport()): void {
  checkEnforceable(r, support);
  if (support.ok && r.cgroups !== "split") makePath(support.root, join(path, ".."), requestedControllers(r).map((q) => q.controller));
  applyLimits(path, r, pidsDelegated(r, support));
}

/** A block device's major:minor (--device-read-bps and friends); undefined when the path is no block device. */
export function statBlockDevice(path: string): { major: number; minor: number } | undefined {
  try {
    const st = statSync(path);
    if (!st.isBlockDevice()) return undefined;
    // glibc's gnu_dev_major/minor on the 64-bit dev_t
    const dev = st.rdev;
    const hi = Math.floor(dev / 2 ** 32);
    const lo = dev >>> 0;
    return { major: ((lo >>> 8) & 0xfff) | (hi & ~0xfff), minor: (lo & 0xff) | ((lo >>> 12) & ~0xff) };
  } catch {
    return undefined;
  }
}
