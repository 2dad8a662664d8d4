// The global engine flags: what pod honours becomes EngineOptions, anything
// else is one PodError with a hint, and the monitor gets the same flags back.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { engineArgv, engineOptions, type EngineFlags } from "../../../pkg/config/engine.ts";
import { containersRunPath, volumesPath } from "../../../pkg/config/paths.ts";
import { PodError } from "../../../pkg/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "pod-engine-"));
const exe = join(dir, "fuse-overlayfs");
writeFileSync(exe, "#!/bin/sh\n");
chmodSync(exe, 0o755);
const plain = join(dir, "not-executable");
writeFileSync(plain, "");

function refusal(f: EngineFlags): PodError {
  try {
    engineOptions(f);
  } catch (e) {
    expect(e).toBeInstanceOf(PodError);
    expect((e as PodError).exit).toBe(125);
    expect((e as PodError).hint).toBeTruthy();
    return e as PodError;
  }
  throw new Error(`accepted: ${JSON.stringify(f)}`);
}

describe("engineOptions", () => {
  test("no flags, no settings", () => {
    expect(engineOptions({})).toEqual({});
  });

  test("--storage-driver overlay and vfs; any other driver is refused", () => {
    expect(engineOptions({ "storage-driver": "overlay" })).toEqual({ storageDriver: "overlay" });
    expect(engineOptions({ "storage-driver": "vfs" })).toEqual({ storageDriver: "vfs" });
    for (const d of ["btrfs", "zfs", "devicemapper", "aufs", "overlay2", ""]) expect(refusal({ "storage-driver": d }).message).toBe(`unsupported storage driver "${d}"`);
  });

  test("--storage-opt overlay.mount_program must name an executable; other options are refused", () => {
    expect(engineOptions({ "storage-opt": [`overlay.mount_program=${exe}`] })).toEqual({ mountProgram: exe });
    expect(engineOptions({ "storage-driver": "overlay", "storage-opt": [`mount_program=${exe}`] }).mountProgram).toBe(exe);
    expect(engineOptions({ "storage-opt": [""] })).toEqual({});
    expect(refusal({ "storage-opt": [`overlay.mount_program=${dir}/missing`] }).message).toContain("no such file");
    expect(refusal({ "storage-opt": [`overlay.mount_program=${plain}`] }).message).toContain("not executable");
    expect(refusal({ "storage-opt": [`overlay.mount_program=${dir}`] }).message).toContain("not a regular file");
    expect(refusal({ "storage-opt": ["overlay.mount_program="] }).message).toContain("needs a path");
    expect(refusal({ "storage-driver": "vfs", "storage-opt": [`overlay.mount_program=${exe}`] }).message).toContain("--storage-driver is vfs");
    expect(refusal({ "storage-opt": ["overlay.size=5G"] }).message).toBe('unsupported storage option "overlay.size=5G"');
    expect(refusal({ "storage-opt": ["vfs.ignore_chown_errors=true"] }).message).toContain("unsupported storage option");
  });

  test("--tmpdir and --volumepath become absolute paths", () => {
    expect(engineOptions({ tmpdir: "rel/t", volumepath: "/v" })).toEqual({ tmpdir: resolve("rel/t"), volumepath: "/v" });
    expect(refusal({ tmpdir: "" }).message).toContain("--tmpdir");
    expect(refusal({ volumepath: "" }).message).toContain("--volumepath");
  });

  test("--cgroup-manager cgroupfs is what pod does; systemd and others are refused", () => {
    expect(engineOptions({ "cgroup-manager": "cgroupfs" })).toEqual({});
    expect(refusal({ "cgroup-manager": "systemd" }).message).toContain("D-Bus");
    expect(refusal({ "cgroup-manager": "x" }).message).toBe('invalid cgroup manager "x"');
  });

  test("--runtime and --conmon are refused whatever the value; --network-cmd-path must be an executable", () => {
    expect(refusal({ runtime: "crun" }).message).toContain("OCI runtime");
    expect(refusal({ conmon: "/usr/bin/conmon" }).message).toContain("conmon");
    expect(engineOptions({ "network-cmd-path": exe })).toEqual({ networkCmdPath: exe });
    expect(engineOptions({ "network-cmd-path": "" })).toEqual({});
    expect(refusal({ "network-cmd-path": `${dir}/nope` }).message).toContain("no such file");
  });
});

describe("--events-backend", () => {
  test("file and none are kept; journald and others are refused with a hint", () => {
    expect(engineOptions({ "events-backend": "file" })).toEqual({ eventsBackend: "file" });
    expect(engineOptions({ "events-backend": "none" })).toEqual({ eventsBackend: "none" });
    expect(refusal({ "events-backend": "journald" }).message).toContain("journal");
    expect(refusal({ "events-backend": "syslog" }).message).toBe('invalid events backend "syslog"');
  });

  test("the monitor gets it back, so it writes no events either", () => {
    expect(engineArgv({ eventsBackend: "none" })).toEqual(["--events-backend", "none"]);
  });
});

describe("engineArgv", () => {
  test("gives back flags that parse to the same settings", () => {
    const e = engineOptions({ "storage-opt": [`overlay.mount_program=${exe}`], tmpdir: "/t", volumepath: "/v", "network-cmd-path": exe });
    const argv = engineArgv(e);
    expect(argv).toEqual(["--storage-opt", `overlay.mount_program=${exe}`, "--tmpdir", "/t", "--volumepath", "/v", "--network-cmd-path", exe]);
    expect(engineOptions({ "storage-opt": [argv[1]!], tmpdir: argv[3], volumepath: argv[5], "network-cmd-path": argv[7] })).toEqual(e);
    expect(engineArgv({ storageDriver: "vfs" })).toEqual(["--storage-driver", "vfs"]);
    expect(engineArgv(undefined)).toEqual([]);
  });
});

describe("paths the engine settings move", () => {
  test("volumes: --volumepath, else <root>/volumes; containers' runtime dirs: --tmpdir, else the runroot", () => {
    const p = { root: "/r", runroot: "/run/pod" };
    expect(volumesPath(p)).toBe("/r/volumes");
    expect(containersRunPath(p)).toBe("/run/pod/containers");
    expect(volumesPath({ ...p, engine: { volumepath: "/v" } })).toBe("/v");
    expect(containersRunPath({ ...p, engine: { tmpdir: "/t" } })).toBe("/t/containers");
  });
});
