// pod doctor's judgement on made-up hosts: each broken prerequisite gives the
// right status and the exact fix, and the report reads as expected (golden).
import { describe, expect, test } from "bun:test";
import { checkHost, renderChecks, install, type Check, type HostFacts, type Probes } from "../../../pkg/doctor/index.ts";

const debian = { id: "debian", like: [], version: "12", codename: "bookworm" };
const helper = (name: string) => ({ name, path: `/usr/bin/${name}`, onPath: true, setuid: true, fileCaps: false });

function healthy(): HostFacts {
  return {
    user: "alice",
    uid: 1000,
    distro: debian,
    newuidmap: helper("newuidmap"),
    newgidmap: helper("newgidmap"),
    subuid: { file: "/etc/subuid", readable: true, ranges: [{ start: 100000, count: 65536 }], count: 65536, nextFree: 165536 },
    subgid: { file: "/etc/subgid", readable: true, ranges: [{ start: 100000, count: 65536 }], count: 65536, nextFree: 165536 },
    maxUserNamespaces: 63422,
    tun: { path: "/dev/net/tun", exists: true, usable: true, mode: "0666" },
    fuse: { path: "/dev/fuse", exists: true, usable: true, mode: "0666" },
    pasta: { name: "pasta", path: "/usr/bin/pasta", onPath: true },
    slirp4netns: { name: "slirp4netns", onPath: false },
    fuseOverlayfs: { name: "fuse-overlayfs", path: "/usr/bin/fuse-overlayfs", onPath: true },
    cgroups: { version: "v2", unifiedMount: "/sys/fs/cgroup", path: "/user.slice/user-1000.slice/user@1000.service/app.slice", controllers: ["cpu", "io", "memory", "pids"], v1Controllers: [], writable: true },
    runtimeDir: { path: "/run/user/1000", exists: true, owned: true, mode: "0700" },
    disk: { path: "/home/alice/.local/share/pod", free: 50e9, total: 100e9 },
  };
}

const fine: Probes = { storage: { ok: true }, overlay: { ok: true } };
const paths = { root: "/home/alice/.local/share/pod", runroot: "/run/user/1000/pod" };
const byName = (checks: Check[], name: string) => checks.find((c) => c.name === name)!;
const one = (f: HostFacts, name: string, p: Probes = fine) => byName(checkHost(f, p, paths), name);

describe("a healthy host", () => {
  test("every check is ok, and the report is golden", () => {
    const checks = checkHost(healthy(), fine, paths);
    expect(checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(renderChecks(checks)).toBe(`ok    userns       user namespaces are enabled (user.max_user_namespaces = 63422)
ok    newuidmap    /usr/bin/newuidmap (setuid root)
ok    newgidmap    /usr/bin/newgidmap (setuid root)
ok    subuid       65536 subordinate uids for alice in /etc/subuid (100000-165535)
ok    subgid       65536 subordinate gids for alice in /etc/subgid (100000-165535)
ok    storage      /home/alice/.local/share/pod is yours
ok    overlay      kernel overlay mounts in a user namespace (rootfs driver: overlay)
ok    fuse         /dev/fuse is readable and writable
ok    network      pasta: /usr/bin/pasta (the default network's helper)
ok    tun          /dev/net/tun is readable and writable
ok    cgroups      cgroup v2; controllers delegated to you: cpu io memory pids
ok    runtime-dir  XDG_RUNTIME_DIR=/run/user/1000 is yours (mode 0700)
ok    disk         50 GB free for /home/alice/.local/share/pod

13 checks: 13 ok, 0 warnings, 0 failed
`);
  });
});

describe("broken prerequisites name the fix", () => {
  test("no subordinate ids: fail, with a range that overlaps nobody's", () => {
    const f = healthy();
    f.subuid = { file: "/etc/subuid", readable: true, ranges: [], count: 0, nextFree: 231072 };
    const c = one(f, "subuid");
    expect(c).toEqual({
      name: "subuid",
      status: "fail",
      message: "no subordinate uid range for alice in /etc/subuid: pod falls back to a single-id user namespace",
      fix: "sudo usermod --add-subuids 231072-296607 alice",
    });
  });

  test("a small range: warn", () => {
    const f = healthy();
    f.subgid = { ...f.subgid, ranges: [{ start: 200000, count: 1000 }], count: 1000 };
    expect(one(f, "subgid").status).toBe("warn");
    expect(one(f, "subgid").message).toContain("only 1000 subordinate gids");
  });

  test("newuidmap missing, off PATH, or without privileges", () => {
    const f = healthy();
    f.newuidmap = { name: "newuidmap", onPath: false, setuid: false, fileCaps: false };
    expect(one(f, "newuidmap")).toMatchObject({ status: "fail", fix: "sudo apt-get install -y uidmap" });
    f.newuidmap = { name: "newuidmap", path: "/usr/bin/newuidmap", onPath: false, setuid: true, fileCaps: false };
    expect(one(f, "newuidmap")).toMatchObject({ status: "fail", fix: 'export PATH="$PATH:/usr/bin"' });
    f.newuidmap = { ...helper("newuidmap"), setuid: false };
    expect(one(f, "newuidmap")).toMatchObject({ status: "fail", fix: "sudo chmod u+s /usr/bin/newuidmap" });
    f.newuidmap = { ...helper("newuidmap"), setuid: false, fileCaps: true };
    expect(one(f, "newuidmap")).toMatchObject({ status: "ok", message: "/usr/bin/newuidmap (file capabilities)" });
  });

  test("the install command follows the distribution", () => {
    expect(install({ ...debian, id: "fedora" }, "uidmap")).toBe("sudo dnf install -y shadow-utils");
    expect(install({ ...debian, id: "ubuntu", like: ["debian"] }, "passt")).toBe("sudo apt-get install -y passt");
    expect(install({ ...debian, id: "alpine" }, "uidmap")).toBe("sudo apk add shadow-uidmap");
    expect(install({ ...debian, id: "opensuse-tumbleweed", like: ["opensuse", "suse"] }, "fuse-overlayfs")).toBe("sudo zypper install -y fuse-overlayfs");
  });

  test("user namespaces switched off", () => {
    const f = healthy();
    f.maxUserNamespaces = 0;
    expect(one(f, "userns").fix).toBe("echo 'user.max_user_namespaces=28633' | sudo tee /etc/sysctl.d/99-rootless.conf && sudo sysctl --system");
    f.maxUserNamespaces = 100;
    f.unprivilegedUsernsClone = 0;
    expect(one(f, "userns")).toMatchObject({ status: "fail", message: expect.stringContaining("kernel.unprivileged_userns_clone = 0") });
    f.unprivilegedUsernsClone = 1;
    f.apparmorRestrict = 1;
    expect(one(f, "userns").fix).toContain("kernel.apparmor_restrict_unprivileged_userns=0");
  });

  test("/dev/net/tun absent or not usable", () => {
    const f = healthy();
    f.tun = { path: "/nonexistent", exists: false, usable: false };
    expect(one(f, "tun")).toEqual({ name: "tun", status: "fail", message: "/nonexistent does not exist: pasta and slirp4netns need it", fix: "sudo modprobe tun" });
    f.tun = { path: "/dev/net/tun", exists: true, usable: false, mode: "0600" };
    expect(one(f, "tun")).toMatchObject({ status: "fail", fix: "sudo chmod 0666 /dev/net/tun", message: expect.stringContaining("mode 0600") });
  });

  test("no network helper, or one off PATH", () => {
    const f = healthy();
    f.pasta = { name: "pasta", onPath: false };
    expect(one(f, "network")).toMatchObject({ status: "fail", fix: "sudo apt-get install -y passt" });
    f.slirp4netns = { name: "slirp4netns", path: "/usr/bin/slirp4netns", onPath: false };
    expect(one(f, "network")).toMatchObject({ status: "fail", fix: 'export PATH="$PATH:/usr/bin"' });
  });

  test("cgroups: hybrid and undelegated v2 warn, never fail", () => {
    const f = healthy();
    f.cgroups = { version: "hybrid", unifiedMount: "/sys/fs/cgroup/unified", path: "/", controllers: ["hugetlb"], v1Controllers: ["cpu", "memory", "pids"], writable: false };
    expect(one(f, "cgroups")).toMatchObject({ status: "warn", message: "hybrid hierarchy (v1: cpu memory pids; v2 offers hugetlb): pod cannot enforce --memory, --cpus or --pids-limit" });
    expect(one(f, "cgroups").fix).toContain("systemd.unified_cgroup_hierarchy=1");
    f.cgroups = { ...healthy().cgroups, controllers: ["cpu"] };
    expect(one(f, "cgroups")).toMatchObject({ status: "warn", message: expect.stringContaining("memory, pids not delegated") });
    expect(one(f, "cgroups").fix).toContain("Delegate=cpu cpuset io memory pids");
  });

  test("overlay: fuse-overlayfs stands in, else a warning about vfs", () => {
    const f = healthy();
    const failed: Probes = { ...fine, overlay: { ok: false, error: "mount: permission denied" } };
    expect(one(f, "overlay", failed).status).toBe("ok");
    f.fuse = { path: "/dev/fuse", exists: true, usable: false, mode: "0600" };
    expect(one(f, "overlay", failed)).toMatchObject({ status: "warn", fix: "sudo chmod 0666 /dev/fuse" });
    expect(one(f, "fuse", failed)).toMatchObject({ status: "warn", fix: "sudo chmod 0666 /dev/fuse" });
    expect(one(f, "fuse", fine)).toMatchObject({ status: "ok", message: "/dev/fuse is not readable and writable by you (mode 0600); not needed while kernel overlay works" });
    f.fuseOverlayfs = { name: "fuse-overlayfs", onPath: false };
    expect(one(f, "overlay", failed)).toMatchObject({ status: "warn", fix: "sudo apt-get install -y fuse-overlayfs" });
  });

  test("runtime dir and disk space warn", () => {
    const f = healthy();
    f.runtimeDir = { exists: false, owned: false };
    expect(one(f, "runtime-dir")).toMatchObject({ status: "warn", message: "XDG_RUNTIME_DIR is not set: pod keeps runtime state in /run/user/1000/pod" });
    f.disk = { path: paths.root, free: 500e6, total: 100e9 };
    expect(one(f, "disk")).toMatchObject({ status: "warn", message: `only 500 MB free for ${paths.root} (less than 1 GB)` });
  });

  test("an unusable storage root fails with its hint", () => {
    const p: Probes = { storage: { ok: false, error: "/x belongs to uid 0, not to you (uid 1000)", hint: "remove it" }, overlay: { skipped: "the storage root is unusable" } };
    expect(one(healthy(), "storage", p)).toMatchObject({ status: "fail", fix: "remove it" });
  });

  test("the report puts each fix under its line, and counts", () => {
    const f = healthy();
    f.tun = { path: "/nonexistent", exists: false, usable: false };
    f.cgroups = { version: "hybrid", unifiedMount: "/sys/fs/cgroup/unified", path: "/", controllers: [], v1Controllers: ["memory"], writable: false };
    const text = renderChecks(checkHost(f, fine, paths));
    expect(text).toContain("fail  tun          /nonexistent does not exist: pasta and slirp4netns need it\n                   fix: sudo modprobe tun\n");
    expect(text).toContain("warn  cgroups      hybrid hierarchy (v1: memory; v2 offers none)");
    expect(text).toEndWith("\n13 checks: 11 ok, 1 warning, 1 failed\n");
  });
});
