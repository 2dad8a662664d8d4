// Which cgroup hierarchy this process lives in, and which v2 controllers it
// may use. Read only: pod never writes to the host's cgroups.
//
// /proc/self/cgroup has one "ID:controllers:path" line per hierarchy; "0::"
// is the unified (v2) one. A pure v2 host has only that line. A hybrid host
// (systemd's default on older distributions, and these CI machines) also has
// v1 lines, and its v2 tree holds few or no controllers, so limits such as
// --memory cannot be enforced through it.
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { readText } from "./host.ts";

export type Cgroups = {
  version: "v2" | "hybrid" | "v1" | "unknown";
  /** where the unified hierarchy is mounted, if it is */
  unifiedMount?: string;
  /** this process's cgroup in the unified hierarchy */
  path?: string;
  /** controllers offered to this process's cgroup (its cgroup.controllers) */
  controllers: string[];
  /** controllers with a v1 hierarchy of their own */
  v1Controllers: string[];
  /** whether this user may create cgroups below its own (delegation) */
  writable: boolean;
};

/** The mount point of the cgroup2 file system, from /proc/self/mountinfo text. */
export function unifiedMountOf(mountinfo: string): string | undefined {
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (right?.split(" ")[0] === "cgroup2") return left!.split(" ")[4]?.replace(/\\040/g, " ");
  }
  return undefined;
}

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

function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export function readCgroups(procCgroup: string, mountinfo: string): Cgroups {
  const own = parseProcCgroup(readText(procCgroup) ?? "");
  const mount = unifiedMountOf(readText(mountinfo) ?? "");
  const version = mount && own.unified !== undefined ? (own.v1.length ? "hybrid" : "v2") : own.v1.length ? "v1" : "unknown";
  if (!mount || own.unified === undefined) return { version, unifiedMount: mount, controllers: [], v1Controllers: own.v1, writable: false };
  const dir = join(mount, own.unified);
  const controllers = (readText(join(dir, "cgroup.controllers")) ?? "").split(/\s+/).filter(Boolean);
  return { version, unifiedMount: mount, path: own.unified, controllers, v1Controllers: own.v1, writable: writable(dir) };
}
