// --device's grammar (podman's ParseDevice and IsValidDeviceMode), the host
// nodes one value names, and the bind steps they become.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceOps, parseDevice, resolveDevice } from "../../../pkg/runtime/index.ts";
import { isDeviceMode } from "../../../pkg/runtime/devices.ts";

describe("--device grammar", () => {
  test("modes are r, w and m, each once", () => {
    for (const m of ["r", "w", "m", "rw", "rwm", "mwr"]) expect(isDeviceMode(m)).toBe(true);
    for (const m of ["", "rr", "x", "rwx", "rwmr"]) expect(isDeviceMode(m)).toBe(false);
  });

  test("HOST, HOST:CONTAINER, HOST:PERMS and HOST:CONTAINER:PERMS", () => {
    expect(parseDevice("/dev/fuse")).toEqual({ source: "/dev/fuse", target: "/dev/fuse", perms: "rwm" });
    expect(parseDevice("/dev/fuse:/dev/f")).toEqual({ source: "/dev/fuse", target: "/dev/f", perms: "rwm" });
    expect(parseDevice("/dev/fuse:r")).toEqual({ source: "/dev/fuse", target: "/dev/fuse", perms: "r" });
    expect(parseDevice("/dev/fuse:/dev/f:rw")).toEqual({ source: "/dev/fuse", target: "/dev/f", perms: "rw" });
  });

  test("bad values name what is wrong, as podman's do", () => {
    expect(() => parseDevice("/dev/fuse:rwx")).toThrow("invalid device mode: rwx");
    expect(() => parseDevice("/dev/fuse:/dev/f:x")).toThrow("invalid device mode: x");
    expect(() => parseDevice("/dev/fuse:dev/f")).toThrow("invalid device mode: dev/f");
    expect(() => parseDevice("/a:/b:r:w")).toThrow("invalid device specification: /a:/b:r:w");
  });
});

describe("the host nodes a value names", () => {
  test("a node as given; a missing path and a regular file are refused", () => {
    expect(resolveDevice("/dev/null:/dev/n:r")).toEqual([{ source: "/dev/null", target: "/dev/n", perms: "r" }]);
    expect(() => resolveDevice("/dev/no-such-device")).toThrow("stat /dev/no-such-device: no such file or directory");
    const dir = mkdtempSync(join(tmpdir(), "pod-dev-"));
    try {
      writeFileSync(join(dir, "file"), "");
      expect(() => resolveDevice(join(dir, "file"))).toThrow(`${join(dir, "file")} is not a valid device: not a device node`);
      expect(() => resolveDevice(dir)).toThrow(`no devices found in ${dir}: invalid argument`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the bind steps: an empty file, then the node; read-only without w", () => {
    expect(deviceOps([{ source: "/dev/zero", target: "/dev/z", perms: "r" }, { source: "/dev/null", target: "/dev/null", perms: "rwm" }])).toEqual([
      { op: "touch", target: "/dev/z", mode: 0o644 },
      { op: "bind", source: "/dev/zero", target: "/dev/z", recursive: false, readonly: true },
      { op: "touch", target: "/dev/null", mode: 0o644 },
      { op: "bind", source: "/dev/null", target: "/dev/null", recursive: false, readonly: false },
    ]);
  });
});
