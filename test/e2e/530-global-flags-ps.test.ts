// podman's global flags (before the command): --storage-driver, --storage-opt,
// --noout, --tmpdir, --volumepath, --cgroup-manager, --network-cmd-path, and
// the refused --runtime and --conmon, each value pod cannot honour an error
// with a hint; then ps --ns, --pod and -w/--watch.
import { describe } from "bun:test";
import { accessSync, chmodSync, constants, existsSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName, POD } from "./helpers.ts";
import { useLifecycle, create, runD, track, inspectFmt, until } from "./lifecycle-helpers.ts";

useSuite("530-global-flags-ps");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const N = requires("subuid", "alpine-fixture", "tun");
const U = requires("subuid");

function fuseUsable(): boolean {
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A shell script in the suite's tmp dir that logs its arguments to `log` and runs `target` with them. */
function wrapper(name: string, target: string): { path: string; log: string } {
  const path = join(pod().tmp, name);
  const log = join(pod().tmp, `${name}.log`);
  writeFileSync(path, `#!/bin/sh\necho "$@" >> ${log}\nexec ${target} "$@"\n`);
  chmodSync(path, 0o755);
  return { path, log };
}

describe("global flags", () => {
  U("global flags with values come before the command without being read as it", async () => {
    const root = join(pod().tmp, "other-root");
    const vols = join(pod().tmp, "other-vols");
    const r = await runPod(["--root", root, "--volumepath", vols, "--tmpdir", join(pod().tmp, "t"), "--storage-driver", "overlay", "info", "--format", "{{.Store.GraphRoot}} {{.Store.VolumePath}}"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(`${root} ${vols}`);
    const help = await runPod(["--root", root, "--volumepath", vols, "help", "ps"]);
    expectExit(help, 0);
    expect(help.stdout).toContain("List containers");
    expect((await runPod(["--root", root, "system", "reset", "-f"])).code).toBe(0);
  });

  U("each value pod cannot honour is one Error line and a Hint, exit 125, nothing on stdout", async () => {
    const cases: [string[], string][] = [
      [["--storage-driver", "btrfs", "ps"], 'unsupported storage driver "btrfs"'],
      [["--storage-driver", "zfs", "info"], 'unsupported storage driver "zfs"'],
      [["--storage-opt", "overlay.size=10G", "ps"], 'unsupported storage option "overlay.size=10G"'],
      [["--storage-opt", "vfs.ignore_chown_errors=true", "ps"], "unsupported storage option"],
      [["--storage-opt", "overlay.mount_program=/no/such/fuse", "ps"], "/no/such/fuse: no such file"],
      [["--storage-driver", "vfs", "--storage-opt", "overlay.mount_program=/usr/bin/fuse-overlayfs", "ps"], "--storage-driver is vfs"],
      [["--cgroup-manager", "systemd", "ps"], "pod talks to no D-Bus"],
      [["--cgroup-manager", "foo", "ps"], 'invalid cgroup manager "foo"'],
      [["--runtime", "crun", "ps"], "--runtime crun: pod starts containers with its own native core"],
      [["--runtime", "/usr/bin/runc", "version"], "not with an OCI runtime"],
      [["--conmon", "/usr/bin/conmon", "ps"], "not with conmon"],
      [["--network-cmd-path", "/no/such/slirp4netns", "ps"], "--network-cmd-path: /no/such/slirp4netns: no such file"],
    ];
    for (const [args, mention] of cases) {
      const r = await runPod(args);
      expectPodError(r, mention);
      expect(r.stderr, `pod ${args.join(" ")}`).toMatch(/\nHint: /);
      expect(r.stdout).toBe("");
    }
  });

  U("--cgroup-manager cgroupfs and an empty --storage-opt are what pod does anyway: accepted", async () => {
    expectExit(await runPod(["--cgroup-manager", "cgroupfs", "ps"]), 0);
    expectExit(await runPod(["--storage-opt", "", "ps"]), 0);
    expectExit(await runPod(["--cgroup-manager=cgroupfs", "--storage-driver=overlay", "ps", "-a"]), 0);
  });

  A("--noout discards stdout (pod's and the container's); errors still reach stderr", async () => {
    expect((await runPod(["run", "--rm", "alpine", "echo", "hello"])).stdout).toBe("hello\n");
    const r = await runPod(["--noout", "run", "--rm", "alpine", "echo", "hello"]);
    expectExit(r, 0);
    expect(r.stdout).toBe("");
    const name = safeName("noout");
    track(name);
    const d = await runPod(["--noout", "run", "-d", "--name", name, "alpine", "echo", "hello"]);
    expectExit(d, 0);
    expect(d.stdout).toBe("");
    const ps = await runPod(["--noout", "ps", "-a"]);
    expectExit(ps, 0);
    expect(ps.stdout).toBe("");
    expect((await runPod(["ps", "-a", "--format", "{{.Names}}"])).stdout).toContain(name);
    const bad = await runPod(["--noout", "rm", "no-such-container-530"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toContain("no such container");
  });

  A("--storage-driver vfs gives the container a copied root, and is not remembered", async () => {
    const driver = async (flags: string[] = []) => (await runPod([...flags, "info", "--format", "{{.Store.GraphDriverName}}"])).stdout.trim();
    const before = await driver();
    const v = safeName("vfs2");
    track(v);
    const r = await runPod(["--storage-driver", "vfs", "run", "-d", "--name", v, "alpine", "sleep", "1000"]);
    expectExit(r, 0);
    const vid = r.stdout.trim();
    expect(existsSync(join(pod().storage, "containers", vid, "rootfs", "etc", "alpine-release"))).toBe(true);
    expect(await inspectFmt(v, "{{.State.Status}}")).toBe("running");
    expect(await driver(["--storage-driver", "vfs"])).toBe("vfs");
    // the choice pod remembers for this host is left as it was
    expect(await driver()).toBe(before);
    expect(await driver(["--storage-driver", "overlay"])).toBe(before);
  });

  A("--storage-opt overlay.mount_program=PATH mounts the root with that fuse-overlayfs, with no fallback", async () => {
    const w = wrapper("fuse-wrapper", "/usr/bin/fuse-overlayfs");
    const r = await runPod(["--storage-opt", `overlay.mount_program=${w.path}`, "run", "--rm", "alpine", "cat", "/etc/alpine-release"]);
    // the program ran, with the layers as its lower dirs
    expect(readFileSync(w.log, "utf8")).toContain("lowerdir=");
    if (fuseUsable()) {
      expectExit(r, 0);
      expect(r.stdout).toMatch(/^\d+\.\d+/);
    } else {
      // where this user cannot open /dev/fuse the mount fails, and pod does not quietly copy the layers instead
      expectPodError(r, `overlay.mount_program=${w.path}`, "/dev/fuse");
      expect(r.stdout).toBe("");
    }
  });

  A("--volumepath keeps volumes there: create, mount, inspect, ls and rm", async () => {
    const vols = join(pod().tmp, "vols");
    const name = safeName("vp");
    const at = ["--volumepath", vols];
    expectExit(await runPod([...at, "volume", "create", name]), 0);
    expect(existsSync(join(vols, name, "_data"))).toBe(true);
    expect((await runPod(["volume", "ls", "-q"])).stdout).not.toContain(name);
    expect((await runPod([...at, "volume", "ls", "-q"])).stdout).toContain(name);
    expect((await runPod([...at, "volume", "inspect", "--format", "{{.Mountpoint}}", name])).stdout.trim()).toBe(join(vols, name, "_data"));
    const c = safeName("vpc");
    track(c);
    expectExit(await runPod([...at, "run", "--rm", "--name", c, "-v", `${name}:/data`, "alpine", "sh", "-c", "echo kept > /data/f"]), 0);
    expect(readFileSync(join(vols, name, "_data", "f"), "utf8")).toBe("kept\n");
    expectExit(await runPod([...at, "volume", "rm", name]), 0);
    expect(existsSync(join(vols, name))).toBe(false);
  });

  U("system reset with --volumepath removes the volumes there too", async () => {
    const root = join(pod().tmp, "reset-root");
    const vols = join(pod().tmp, "reset-vols");
    const at = ["--root", root, "--volumepath", vols];
    expectExit(await runPod([...at, "volume", "create", "v1"]), 0);
    expect(existsSync(join(vols, "v1", "_data"))).toBe(true);
    expectExit(await runPod([...at, "system", "reset", "-f"]), 0);
    expect(existsSync(vols)).toBe(false);
    expect(existsSync(root)).toBe(false);
  });

  A("--tmpdir holds the containers' runtime state; exec and stop find it there", async () => {
    const tmp = join(pod().tmp, "podtmp");
    const name = safeName("tmpdir");
    track(name);
    const r = await runPod(["--tmpdir", tmp, "run", "-d", "--name", name, "alpine", "sleep", "1000"]);
    expectExit(r, 0);
    const id = r.stdout.trim();
    expect(existsSync(join(tmp, "containers", id, "exec.json"))).toBe(true);
    // the monitor got --tmpdir too: its attach socket is there, not under the runroot
    await until("the monitor's attach socket in --tmpdir", () => existsSync(join(tmp, "containers", id, "attach.sock")));
    expect(existsSync(join(pod().runtimeDir, "pod", "containers", id))).toBe(false);
    const ex = await runPod(["--tmpdir", tmp, "exec", name, "echo", "in"]);
    expectExit(ex, 0);
    expect(ex.stdout).toBe("in\n");
    expectExit(await runPod(["--tmpdir", tmp, "stop", "-t", "0", name]), 0);
    // the monitor, which got --tmpdir too, removes it once it has recorded the exit
    await until(`${tmp}/containers/${id} is removed`, () => !existsSync(join(tmp, "containers", id)));
  });

  N("--network-cmd-path names the slirp4netns binary pod runs", async () => {
    const w = wrapper("slirp-wrapper", "/usr/bin/slirp4netns");
    const r = await runPod(["--network-cmd-path", w.path, "run", "--rm", "--network", "slirp4netns", "alpine", "true"]);
    expectExit(r, 0);
    expect(existsSync(w.log)).toBe(true);
  });
});

describe("ps --ns, --pod, --watch", () => {
  A("--ns prints podman's namespace columns with the first process's inode numbers", async () => {
    const name = safeName("ns");
    await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const table = await runPod(["ps", "--ns", "--filter", `name=${name}`]);
    expectExit(table, 0);
    const [head, row] = lines(table.stdout);
    expect(head!.split(/\s{2,}/)).toEqual(["CONTAINER ID", "NAMES", "PID", "CGROUPNS", "IPC", "MNT", "NET", "PIDNS", "USERNS", "UTS"]);
    const inode = (f: string) => /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${f}`))![1]!;
    expect(row!.split(/\s+/)).toEqual([expect.any(String), name, String(pid), ...["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"].map(inode)]);
    const json = JSON.parse((await runPod(["ps", "--ns", "--format", "json", "--filter", `name=${name}`])).stdout);
    expect(json[0].Namespaces.NET).toBe(inode("net"));
    expect(json[0].Namespaces.User).toBe(inode("user"));
    // another user namespace than the host's
    expect(inode("user")).not.toBe(/\[(\d+)\]/.exec(readlinkSync("/proc/self/ns/user"))![1]);
    expectPodError(await runPod(["ps", "--ns", "-q"]), "quiet conflicts with size and namespace");
    expectPodError(await runPod(["ps", "--ns", "--size"]), "size and namespace options conflict");
  });

  A("--ns -a leaves the namespaces of a container that does not run empty", async () => {
    const name = safeName("nsx");
    await create(name, ["alpine", "true"]);
    const r = await runPod(["ps", "-a", "--ns", "--format", "{{.Names}}|{{.Pid}}|{{.NET}}|{{.UTS}}", "--filter", `name=${name}`]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`${name}|0||\n`);
  });

  A("--pod adds POD ID and PODNAME, empty until pods exist", async () => {
    const name = safeName("pod");
    await create(name, ["alpine", "true"]);
    const r = await runPod(["ps", "-a", "--pod", "--filter", `name=${name}`]);
    expectExit(r, 0);
    const [head] = lines(r.stdout);
    expect(head!.split(/\s{2,}/).slice(-3)).toEqual(["NAMES", "POD ID", "PODNAME"]);
    expect((await runPod(["ps", "-a", "-p", "--format", "{{.Names}}|{{.Pod}}|{{.PodName}}", "--filter", `name=${name}`])).stdout).toBe(`${name}||\n`);
    const json = JSON.parse((await runPod(["ps", "-a", "--format", "json", "--filter", `name=${name}`])).stdout);
    expect([json[0].Pod, json[0].PodName]).toEqual(["", ""]);
  });

  A("-w N reprints the list every N seconds and ends quietly when piped into head", async () => {
    const name = safeName("watch");
    await runD(name, ["alpine", "sleep", "1000"]);
    const t0 = performance.now();
    const p = Bun.spawn(["bash", "-c", `"$POD" ps -w 1 --format '{{.Names}}' | head -n 4; echo "pod exited \${PIPESTATUS[0]}"`], {
      env: { ...pod().env, POD },
      cwd: pod().home,
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
    await p.exited;
    clearTimeout(timer);
    expect(err).toBe("");
    // each frame starts on a cleared screen; head saw at least two frames before it left
    expect(out.split("\x1b[2J\x1b[1;1H").length).toBeGreaterThanOrEqual(3);
    expect(out).toContain(name);
    expect(out).toContain("pod exited 0");
    expect(performance.now() - t0).toBeLessThan(15_000);
    expectPodError(await runPod(["ps", "--watch", "soon"]), 'invalid argument "soon" for "-w, --watch" flag');
  });
});
