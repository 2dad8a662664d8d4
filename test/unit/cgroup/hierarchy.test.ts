// Reading the cgroup hierarchy and finding the delegated subtree, from text and
// a fake file system: which hosts pod gives container cgroups to, and where.
import { describe, expect, test } from "bun:test";
import { assessSupport, delegatedRoot, parseEvents, parseProcCgroup, unifiedMountOf, v1Hierarchies, type Probe } from "../../../pkg/cgroup/index.ts";

const V2_MOUNTS = "30 24 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n";
const HYBRID_MOUNTS =
  "35 24 0:30 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755\n" +
  "36 35 0:31 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n" +
  "37 35 0:32 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,xattr,name=systemd\n" +
  "40 35 0:35 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";
const HYBRID_CGROUP = "12:memory:/user.slice/user-1000.slice/session-3.scope\n1:name=systemd:/user.slice/user-1000.slice/session-3.scope\n0::/user.slice/user-1000.slice/session-3.scope\n";

const USER = "/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service";
const OWN = "/user.slice/user-1000.slice/user@1000.service/app.slice/term.scope";

/** A fake cgroup tree: directories with owners, and which cgroup.procs files are writable. */
function fakeTree(owners: Record<string, number>, writable: string[] = Object.keys(owners)): Probe {
  return {
    ownerOf: (dir) => owners[dir],
    canWrite: (file) => file.endsWith("/cgroup.procs") && writable.includes(file.slice(0, -"/cgroup.procs".length)),
  };
}

/** systemd's layout: user@1000.service and below belong to uid 1000, the rest to root. */
const systemdTree = fakeTree({
  "/sys/fs/cgroup": 0,
  "/sys/fs/cgroup/user.slice": 0,
  "/sys/fs/cgroup/user.slice/user-1000.slice": 0,
  [USER]: 1000,
  [`${USER}/app.slice`]: 1000,
  [`${USER}/app.slice/term.scope`]: 1000,
});

describe("parsing", () => {
  test("cgroup2 at /sys/fs/cgroup wins over other cgroup2 mounts; a hybrid host has it under unified/", () => {
    expect(unifiedMountOf(V2_MOUNTS)).toBe("/sys/fs/cgroup");
    expect(unifiedMountOf(HYBRID_MOUNTS)).toBe("/sys/fs/cgroup/unified");
    expect(unifiedMountOf("50 30 0:40 / /run/x rw - cgroup2 cgroup2 rw\n" + V2_MOUNTS)).toBe("/sys/fs/cgroup");
    expect(unifiedMountOf("50 30 0:40 / /mnt/with\\040space rw - cgroup2 cgroup2 rw\n")).toBe("/mnt/with space");
    expect(unifiedMountOf("")).toBeUndefined();
  });

  test("/proc/self/cgroup: the unified path, v1 controllers, and named v1 hierarchies counted apart", () => {
    expect(parseProcCgroup(`0::${OWN}\n`)).toEqual({ unified: OWN, v1: [] });
    expect(v1Hierarchies(`0::${OWN}\n`)).toBe(0);
    expect(parseProcCgroup(HYBRID_CGROUP)).toEqual({ unified: "/user.slice/user-1000.slice/session-3.scope", v1: ["memory"] });
    expect(v1Hierarchies(HYBRID_CGROUP)).toBe(2);
    expect(v1Hierarchies("1:name=systemd:/\n0::/\n")).toBe(1);
  });

  test("cgroup.events", () => {
    expect(parseEvents("populated 1\nfrozen 0\n")).toEqual({ populated: "1", frozen: "0" });
    expect(parseEvents("")).toEqual({});
  });
});

describe("the delegated root", () => {
  test("systemd's user@UID.service: the topmost ancestor we own with a writable cgroup.procs", () => {
    expect(delegatedRoot("/sys/fs/cgroup", OWN, 1000, systemdTree)).toBe(USER);
  });

  test("a login session scope owned by root is not delegated", () => {
    expect(delegatedRoot("/sys/fs/cgroup", "/user.slice/user-1000.slice/session-3.scope", 1000, systemdTree)).toBeUndefined();
  });

  test("ownership alone is not enough: the walk stops below an ancestor whose cgroup.procs we may not write", () => {
    const owners = { "/sys/fs/cgroup": 0, "/sys/fs/cgroup/a": 1000, "/sys/fs/cgroup/a/b": 1000, "/sys/fs/cgroup/a/b/c": 1000 };
    const probe = fakeTree(owners, ["/sys/fs/cgroup/a/b", "/sys/fs/cgroup/a/b/c"]);
    expect(delegatedRoot("/sys/fs/cgroup", "/a/b/c", 1000, probe)).toBe("/sys/fs/cgroup/a/b");
  });

  test("another user's tree, and root's whole hierarchy", () => {
    expect(delegatedRoot("/sys/fs/cgroup", OWN, 1001, systemdTree)).toBeUndefined();
    const rootTree = fakeTree({ "/sys/fs/cgroup": 0, "/sys/fs/cgroup/system.slice": 0, "/sys/fs/cgroup/system.slice/x.scope": 0 });
    expect(delegatedRoot("/sys/fs/cgroup", "/system.slice/x.scope", 0, rootTree)).toBe("/sys/fs/cgroup");
  });
});

describe("support", () => {
  const exists = () => true;

  test("pure v2 and delegated: container cgroups go under <delegated root>/pod.slice", () => {
    expect(assessSupport({ mountinfo: V2_MOUNTS, procCgroup: `0::${OWN}\n`, uid: 1000, probe: systemdTree, exists })).toEqual({ ok: true, parent: `${USER}/pod.slice`, root: USER, own: `/sys/fs/cgroup${OWN}` });
  });

  test("hybrid, v1 and a missing cgroup2 mount say why, with the kernel command line to change", () => {
    const hybrid = assessSupport({ mountinfo: HYBRID_MOUNTS, procCgroup: HYBRID_CGROUP, uid: 1000, probe: systemdTree, exists });
    expect(hybrid).toMatchObject({ ok: false, reason: expect.stringContaining("hybrid"), hint: expect.stringContaining("systemd.unified_cgroup_hierarchy=1") });
    const v1 = assessSupport({ mountinfo: "", procCgroup: "4:memory:/\n", uid: 1000, probe: systemdTree, exists });
    expect(v1).toMatchObject({ ok: false, reason: expect.stringContaining("cgroup v1 only") });
    const none = assessSupport({ mountinfo: "", procCgroup: "0::/\n", uid: 1000, probe: systemdTree, exists });
    expect(none).toMatchObject({ ok: false, reason: "no cgroup2 file system is mounted at /sys/fs/cgroup" });
  });

  test("a session scope not delegated to us: the hint names systemd-run --user --scope", () => {
    const r = assessSupport({ mountinfo: V2_MOUNTS, procCgroup: "0::/user.slice/user-1000.slice/session-3.scope\n", uid: 1000, probe: systemdTree, exists });
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("session-3.scope is not delegated to you"), hint: expect.stringContaining("systemd-run --user --scope") });
  });

  test("a kernel without cgroup.freeze (before 5.2)", () => {
    const r = assessSupport({ mountinfo: V2_MOUNTS, procCgroup: `0::${OWN}\n`, uid: 1000, probe: systemdTree, exists: () => false });
    expect(r).toMatchObject({ ok: false, reason: expect.stringContaining("no cgroup v2 freezer") });
  });
});
