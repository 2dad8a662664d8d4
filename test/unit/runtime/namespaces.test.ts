// --ipc, --pid, --uts, --cgroupns: podman's modes and messages, and what they change in the plan.
import { describe, expect, test } from "bun:test";
import { checkNamespaceOptions, parseNamespaceMode } from "../../../pkg/runtime/namespaces.ts";
import { buildMountOps } from "../../../pkg/runtime/mounts.ts";
import { parseSysctls } from "../../../pkg/runtime/sysctl.ts";

describe("parseNamespaceMode", () => {
  test("defaults: shareable for --ipc, private for the others", () => {
    expect(parseNamespaceMode("ipc", undefined)).toEqual({ kind: "shareable" });
    expect(parseNamespaceMode("pid", "")).toEqual({ kind: "private" });
  });
  test("host, private, container:NAME, ns:PATH", () => {
    expect(parseNamespaceMode("uts", "host")).toEqual({ kind: "host" });
    expect(parseNamespaceMode("cgroupns", "private")).toEqual({ kind: "private" });
    expect(parseNamespaceMode("pid", "container:web")).toEqual({ kind: "container", target: "web" });
    expect(parseNamespaceMode("ipc", "ns:/proc/1/ns/ipc")).toEqual({ kind: "ns", path: "/proc/1/ns/ipc" });
  });
  test("none and shareable are --ipc's alone", () => {
    expect(parseNamespaceMode("ipc", "none")).toEqual({ kind: "none" });
    expect(() => parseNamespaceMode("pid", "none")).toThrow("unrecognized namespace mode none passed");
    expect(() => parseNamespaceMode("uts", "shareable")).toThrow("unrecognized namespace mode shareable passed");
  });
  test("podman's messages for a missing value, a relative path, an unknown mode", () => {
    expect(() => parseNamespaceMode("pid", "container:")).toThrow('must provide name or ID or a container when specifying "container:"');
    expect(() => parseNamespaceMode("pid", "ns:")).toThrow('must provide a path to a namespace when specifying "ns:"');
    expect(() => parseNamespaceMode("pid", "ns:proc/1/ns/pid")).toThrow("must be absolute");
    expect(() => parseNamespaceMode("pid", "badpid")).toThrow("unrecognized namespace mode badpid passed");
  });
});

describe("checkNamespaceOptions", () => {
  test("--hostname needs a UTS namespace of the container's own", () => {
    expect(() => checkNamespaceOptions({ uts: "host", hostname: "x" })).toThrow("cannot set hostname when running in the host UTS namespace");
    expect(() => checkNamespaceOptions({ uts: "container:a", hostname: "x" })).toThrow("cannot set hostname when joining another UTS namespace");
    expect(checkNamespaceOptions({ uts: "private", hostname: "x" }).uts).toEqual({ kind: "private" });
  });
  test("--userns with a joined container's namespace is refused", () => {
    expect(() => checkNamespaceOptions({ userns: "keep-id", ipc: "container:a" })).toThrow("--userns keep-id cannot be combined with --ipc container:a");
    expect(checkNamespaceOptions({ userns: "keep-id", pid: "host" }).pid).toEqual({ kind: "host" });
  });
});

describe("mounts for the modes", () => {
  const base = { containerDir: "/c", layerDirs: [], newNetwork: true, privileged: false, readOnly: false, readOnlyTmpfs: false, volumes: [], tmpfs: [], workdir: "/" };
  const at = (ops: ReturnType<typeof buildMountOps>, target: string) => ops.filter((o) => "target" in o && o.target === target && (o.op === "mount" || o.op === "bind"));
  test("--pid host binds the host's /proc (proc can only be mounted by the pid namespace's owner)", () => {
    expect(at(buildMountOps({ ...base, pidHost: true }), "/proc")).toEqual([{ op: "bind", source: "/proc", target: "/proc", recursive: true, readonly: false }]);
    expect(at(buildMountOps(base), "/proc")[0]).toMatchObject({ op: "mount", fstype: "proc" });
  });
  test("--ipc host binds /dev/shm and /dev/mqueue, none has no /dev/shm", () => {
    expect(at(buildMountOps({ ...base, ipc: "host", hostMqueue: true }), "/dev/shm")).toEqual([{ op: "bind", source: "/dev/shm", target: "/dev/shm", recursive: false, readonly: false }]);
    expect(at(buildMountOps({ ...base, ipc: "host", hostMqueue: true }), "/dev/mqueue")[0]).toMatchObject({ op: "bind" });
    expect(at(buildMountOps({ ...base, ipc: "host", hostMqueue: false }), "/dev/mqueue")).toEqual([]);
    expect(at(buildMountOps({ ...base, ipc: "none" }), "/dev/shm")).toEqual([]);
    expect(at(buildMountOps({ ...base, ipc: "none" }), "/dev/mqueue")[0]).toMatchObject({ op: "mount", fstype: "mqueue" });
  });
});

test("IPC sysctls need an IPC namespace of the container's own", () => {
  expect(() => parseSysctls(["kernel.shmmax=1"], "", "host")).toThrow("sysctl kernel.shmmax can't be set since IPC Namespace set to host");
  expect(() => parseSysctls(["fs.mqueue.msg_max=1"], "", "container")).toThrow("IPC Namespace set to container");
  expect(parseSysctls(["kernel.shmmax=1"], "", "shareable")).toEqual([["kernel.shmmax", "1"]]);
  expect(parseSysctls(["net.ipv4.ip_forward=1"], "", "host")).toEqual([["net.ipv4.ip_forward", "1"]]);
});
