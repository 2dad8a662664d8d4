// Reading the cgroup hierarchy from text and file metadata: which hierarchy
// this process lives in, where cgroup2 is mounted, and which part of the
// unified tree is delegated to the user. Pure apart from the Probe, which
// tests replace with a fake.
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The mount point of the cgroup2 file system, from /proc/self/mountinfo text:
 * /sys/fs/cgroup when cgroup2 is mounted there, else the first cgroup2 mount
 * (a hybrid host mounts it at /sys/fs/cgroup/unified).
 */
export function unifiedMountOf(mountinfo: string): string | undefined {
  const mounts: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] === "cgroup2") mounts.push(left!.split(" ")[4]!.replace(/\\040/g, " "));
  }
  return mounts.includes("/sys/fs/cgroup") ? "/sys/fs/cgroup" : mounts[0];
}

/**
 * /proc/self/cgroup has one "ID:controllers:path" line per hierarchy; "0::"
 * is the unified (v2) one. A pure v2 host has only that line; a hybrid host
 * also has v1 lines, whose controllers are returned in `v1` (named
 * hierarchies such as name=systemd count in `v1Hierarchies`, not in `v1`).
 */
export function parseProcCgroup(text: string): { unified?: string; v1: string[] } {
  let unified: string | undefined;
  const v1: string[] = [];
  for (const line of text.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "0" && m[2] === "") unified = m[3];
    else v1.push(...m[2]!.split(",").filter((c) => c && !c.startsWith("name=")));
  }
  return { unified, v1 };
}

/** How many v1 hierarchies (named ones included) /proc/self/cgroup lists. */
export function v1Hierarchies(text: string): number {
  return text.split("\n").filter((l) => /^\d+:/.test(l.trim()) && !l.trim().startsWith("0::")).length;
}

/** The `key value` lines of cgroup.events (populated, frozen). */
export function parseEvents(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) out[k] = v;
  }
  return out;
}

/** What the delegation search asks of the file system. */
export type Probe = {
  /** owner uid of a directory, undefined when it cannot be read */
  ownerOf(dir: string): number | undefined;
  /** whether this process may write the file */
  canWrite(file: string): boolean;
};

export const realProbe: Probe = {
  ownerOf(dir) {
    try {
      return statSync(dir).uid;
    } catch {
      return undefined;
    }
  },
  canWrite(file) {
    try {
      accessSync(file, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * The top of the subtree delegated to `uid`: walking up from this process's
 * cgroup (`own`, a path in the unified hierarchy mounted at `mount`), the
 * topmost ancestor that `uid` owns and whose cgroup.procs it may write.
 * Undefined when even `own` is not delegated.
 *
 * Why the topmost: moving a process between two cgroups needs write access to
 * cgroup.procs of their closest common ancestor, so a container cgroup made
 * beside our own one (not below it: our cgroup holds processes) only works
 * when some ancestor we own is that common ancestor. systemd delegates
 * user@UID.service this way (Delegate=yes chowns the directory and
 * cgroup.procs, cgroup.subtree_control, cgroup.threads).
 */
export function delegatedRoot(mount: string, own: string, uid: number, probe: Probe = realProbe): string | undefined {
  const parts = own.split("/").filter(Boolean);
  let root: string | undefined;
  for (let n = parts.length; n >= 0; n--) {
    const dir = n === 0 ? mount : join(mount, ...parts.slice(0, n));
    if (probe.ownerOf(dir) !== uid || !probe.canWrite(join(dir, "cgroup.procs"))) break;
    root = dir;
  }
  return root;
}
