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
import { parseProcCgroup, unifiedMountOf } from "../cgroup/index.ts";
import { readText } from "./host.ts";

export { parseProcCgroup, unifiedMountOf };

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
