// How a container's root filesystem is assembled from the store's layers:
// kernel overlay (mounted with `userxattr` inside the user namespace), else
// fuse-overlayfs, else a copy of the layers ("vfs"). The driver that worked
// last is remembered in the runtime dir, so the probe costs once per boot.
import { existsSync, readFileSync } from "node:fs";
import { writeFileAtomic } from "../store/atomic.ts";
import { join, relative } from "node:path";
import type { RootfsMount } from "../native/plan.ts";
import { log } from "../output/index.ts";
import type { EngineOptions } from "../config/index.ts";

export type RootfsDriver = "overlay" | "fuse-overlayfs" | "vfs";
export const driverOrder: RootfsDriver[] = ["overlay", "fuse-overlayfs", "vfs"];

export type RootfsLayout = { rootfs: string; rootfsMount: RootfsMount; rootfsHelper?: string[] };

/**
 * layerDirs: host paths of the layers' diff dirs, bottom first.
 * Paths for kernel overlay are relative to the storage root (mount(2) data must fit in a page).
 */
export function rootfsLayout(driver: RootfsDriver, storageRoot: string, layerDirs: string[], containerDir: string, mountProgram?: string): RootfsLayout {
  const merged = join(containerDir, "merged");
  const upper = join(containerDir, "upper");
  const work = join(containerDir, "work");
  const lowers = [...layerDirs].reverse();
  if (driver === "overlay") {
    const rel = (p: string) => relative(storageRoot, p);
    const data = `lowerdir=${lowers.map(rel).join(":")},upperdir=${rel(upper)},workdir=${rel(work)},userxattr`;
    return { rootfs: merged, rootfsMount: { kind: "overlay", cwd: storageRoot, data } };
  }
  if (driver === "fuse-overlayfs") {
    const fuse = mountProgram ?? ["/usr/bin/fuse-overlayfs", "/usr/local/bin/fuse-overlayfs"].find((p) => existsSync(p)) ?? "fuse-overlayfs";
    return {
      rootfs: merged,
      rootfsMount: { kind: "bind" },
      rootfsHelper: [fuse, "-o", `lowerdir=${lowers.join(":")},upperdir=${upper},workdir=${work}`, merged],
    };
  }
  return { rootfs: join(containerDir, "rootfs"), rootfsMount: { kind: "bind" } };
}

const cacheFile = (runroot: string) => join(runroot, "rootfs-driver");

type DriverChoice = Pick<EngineOptions, "storageDriver" | "mountProgram">;

export function pinnedDriver(choice: DriverChoice = {}): RootfsDriver | undefined {
  return choice.storageDriver === "vfs" ? "vfs" : choice.mountProgram ? "fuse-overlayfs" : undefined;
}

/**
 * The driver the global flags pin (--storage-driver vfs: the copy;
 * --storage-opt overlay.mount_program: fuse-overlayfs with that program), else
 * POD_ROOTFS_DRIVER (for tests and for hosts where the probe guesses wrong).
 * A pinned driver has no fallback and is not remembered.
 */
export function forcedDriver(choice: DriverChoice = {}, env = process.env): RootfsDriver | undefined {
  const pinned = pinnedDriver(choice);
  if (pinned) return pinned;
  const forced = env.POD_ROOTFS_DRIVER as RootfsDriver | undefined;
  return forced && driverOrder.includes(forced) ? forced : undefined;
}

export function preferredDriver(runroot: string, choice: DriverChoice = {}, env = process.env): RootfsDriver {
  const forced = forcedDriver(choice, env);
  if (forced) return forced;
  try {
    const d = readFileSync(cacheFile(runroot), "utf8").trim() as RootfsDriver;
    if (driverOrder.includes(d)) return d;
  } catch {
    return "overlay";
  }
  return "overlay";
}

export function rememberDriver(runroot: string, driver: RootfsDriver, why?: string): void {
  if (why) log.warn(`${why}; using ${driver} for container root filesystems`);
  if (!forcedDriver()) writeFileAtomic(cacheFile(runroot), driver + "\n");
}

export function nextDriver(d: RootfsDriver): RootfsDriver | undefined {
  const i = driverOrder.indexOf(d);
  const next = driverOrder[i + 1];
  if (next === "fuse-overlayfs" && !["/usr/bin/fuse-overlayfs", "/usr/local/bin/fuse-overlayfs"].some((p) => existsSync(p))) return "vfs";
  return next;
}
