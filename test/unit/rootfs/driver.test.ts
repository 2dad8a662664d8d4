// Which root filesystem driver a launch starts with: the one the global flags
// pin, else POD_ROOTFS_DRIVER, else the one remembered for this runroot.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forcedDriver, pinnedDriver, preferredDriver, rootfsLayout } from "../../../pkg/rootfs/index.ts";

const runroot = mkdtempSync(join(tmpdir(), "pod-rootfs-"));
writeFileSync(join(runroot, "rootfs-driver"), "fuse-overlayfs\n");

describe("driver choice", () => {
  test("--storage-driver vfs and overlay.mount_program pin a driver; overlay leaves pod's own choice", () => {
    expect(pinnedDriver({ storageDriver: "vfs" })).toBe("vfs");
    expect(pinnedDriver({ mountProgram: "/x/fuse" })).toBe("fuse-overlayfs");
    expect(pinnedDriver({ storageDriver: "overlay" })).toBeUndefined();
    expect(pinnedDriver({})).toBeUndefined();
  });

  test("a pinned driver wins over POD_ROOTFS_DRIVER and the remembered one", () => {
    const env = { POD_ROOTFS_DRIVER: "overlay" };
    expect(preferredDriver(runroot, { storageDriver: "vfs" }, env)).toBe("vfs");
    expect(forcedDriver({ storageDriver: "vfs" }, env)).toBe("vfs");
    expect(preferredDriver(runroot, { storageDriver: "overlay" }, env)).toBe("overlay");
    expect(preferredDriver(runroot, { storageDriver: "overlay" }, {})).toBe("fuse-overlayfs");
    expect(preferredDriver(runroot, {}, {})).toBe("fuse-overlayfs");
    expect(preferredDriver(mkdtempSync(join(tmpdir(), "pod-rootfs-")), {}, {})).toBe("overlay");
  });

  test("fuse-overlayfs runs the given mount program", () => {
    const l = rootfsLayout("fuse-overlayfs", "/s", ["/s/layers/a/diff"], "/s/containers/c", "/opt/fuse-overlayfs");
    expect(l.rootfsHelper?.[0]).toBe("/opt/fuse-overlayfs");
    expect(l.rootfsHelper?.at(-1)).toBe("/s/containers/c/merged");
  });
});
