// Reading the host: subordinate ids, cgroup hierarchies, os-release and
// devices from files the test writes; and the pure parts of `pod info`,
// `pod version` and `pod system df` that print them (golden).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultFiles, gatherFacts, parseProcCgroup, readCgroups, readDistro, unifiedMountOf, type HostContext } from "../../../pkg/doctor/index.ts";
import { ansicTime, compactSize, dfRow, toYaml, versionInfo } from "../../../pkg/system/index.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-doctor-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
};

const HYBRID_CGROUP = "9:name=systemd:/\n8:pids:/\n4:memory:/x\n1:cpu:/\n0::/\n";
const HYBRID_MOUNTS = "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n35 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
const V2_MOUNTS = "30 24 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

describe("cgroups", () => {
  test("a hybrid host: v1 controllers and the unified mount beside them", () => {
    expect(parseProcCgroup(HYBRID_CGROUP)).toEqual({ unified: "/", v1: ["pids", "memory", "cpu"] });
    expect(unifiedMountOf(HYBRID_MOUNTS)).toBe("/sys/fs/cgroup/unified");
    expect(readCgroups(file("hybrid-cgroup", HYBRID_CGROUP), file("hybrid-mounts", HYBRID_MOUNTS)).version).toBe("hybrid");
  });

  test("a v2 host: the process's own cgroup.controllers and whether it is writable", () => {
    const mount = join(tmp, "cg2");
    const own = join(mount, "user.slice", "app");
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, "cgroup.controllers"), "cpu io memory pids\n");
    const c = readCgroups(file("v2-cgroup", "0::/user.slice/app\n"), file("v2-mounts", V2_MOUNTS.replace("/sys/fs/cgroup", mount)));
    expect(c).toEqual({ version: "v2", unifiedMount: mount, path: "/user.slice/app", controllers: ["cpu", "io", "memory", "pids"], v1Controllers: [], writable: true });
  });

  test("pure v1", () => {
    expect(readCgroups(file("v1-cgroup", "4:memory:/\n"), file("v1-mounts", "")).version).toBe("v1");
  });
});

describe("host files", () => {
  test("os-release, and the tun device moved by POD_TUN_PATH", () => {
    expect(readDistro(file("os-release", 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'))).toEqual({
      id: "debian",
      like: [],
      version: "12",
      codename: "bookworm",
    });
    expect(defaultFiles({ POD_TUN_PATH: "/nonexistent" }).tun).toBe("/nonexistent");
    expect(defaultFiles({}).tun).toBe("/dev/net/tun");
  });

  test("facts from a made-up host: ranges, the next free range, devices, helpers off PATH", () => {
    const tun = file("tun", "");
    chmodSync(tun, 0o000);
    const ctx: HostContext = {
      env: { PATH: join(tmp, "no-bin") },
      uid: 4242,
      gid: 4242,
      user: "carol",
      paths: { root: join(tmp, "store", "pod"), runroot: join(tmp, "run") },
      files: {
        ...defaultFiles({}),
        subuid: file("subuid", "alice:100000:65536\ncarol:165536:1000\n4242:300000:5\n"),
        subgid: file("subgid", "alice:100000:65536\n"),
        tun,
        fuse: join(tmp, "no-fuse"),
        osRelease: file("os2", "ID=fedora\n"),
        maxUserNamespaces: file("max", "15000\n"),
        unprivilegedUsernsClone: join(tmp, "absent"),
      },
    };
    const f = gatherFacts(ctx);
    expect(f.subuid).toMatchObject({ count: 1005, nextFree: 300005, ranges: [{ start: 165536, count: 1000 }, { start: 300000, count: 5 }] });
    expect(f.subgid).toMatchObject({ count: 0, nextFree: 165536 });
    expect(f.maxUserNamespaces).toBe(15000);
    expect(f.unprivilegedUsernsClone).toBeUndefined();
    // root reads anything: only an unprivileged user sees mode 0000 as unusable
    expect(f.tun).toMatchObject({ exists: true, mode: "0000", usable: process.getuid!() === 0 });
    expect(f.fuse).toEqual({ path: join(tmp, "no-fuse"), exists: false, usable: false });
    expect(f.newuidmap.onPath).toBe(false);
    expect(f.disk?.free).toBeGreaterThan(0);
    expect(f.distro.id).toBe("fedora");
  });
});

describe("what info, version and df print", () => {
  test("YAML as podman prints it (golden)", () => {
    const y = toYaml({
      host: { arch: "amd64", cgroupControllers: [], distribution: { codename: "bookworm", distribution: "debian", version: "12" }, idMappings: { uidmap: [{ container_id: 0, host_id: 1001, size: 1 }, { container_id: 1, host_id: 100000, size: 65536 }] }, kernel: "6.18.44-fc-v669", rootless: true },
      registries: { search: ["docker.io"], authFile: "" },
    });
    expect(y).toBe(`host:
  arch: amd64
  cgroupControllers: []
  distribution:
    codename: bookworm
    distribution: debian
    version: "12"
  idMappings:
    uidmap:
    - container_id: 0
      host_id: 1001
      size: 1
    - container_id: 1
      host_id: 100000
      size: 65536
  kernel: 6.18.44-fc-v669
  rootless: true
registries:
  search:
  - docker.io
  authFile: ""
`);
  });

  test("df's sizes are go-units' HumanSize (four digits, no space)", () => {
    expect([0, 999, 8091000, 1234567890, 999950].map(compactSize)).toEqual(["0B", "999B", "8.091MB", "1.235GB", "1000kB"]);
    expect(dfRow("Images", 1, 0, 8091000, 8091000)).toEqual({ Type: "Images", Total: 1, Active: 0, RawSize: 8091000, RawReclaimable: 8091000, Size: "8.091MB", Reclaimable: "8.091MB (100%)" });
    expect(dfRow("Containers", 0, 0, 0, 0).Reclaimable).toBe("0B (0%)");
  });

  test("Built is Go's ANSIC time, 0 when unknown (as podman)", () => {
    const epoch = new Date(0);
    const v = versionInfo("1.2.3", epoch);
    expect(v).toMatchObject({ Version: "1.2.3", APIVersion: "1.2.3", Built: 0, BunVersion: Bun.version, Os: "linux" });
    expect(v.OsArch).toMatch(/^linux\/(amd64|arm64)$/);
    expect(ansicTime(new Date(2026, 0, 2, 3, 4, 5))).toBe("Fri Jan  2 03:04:05 2026");
  });
});
