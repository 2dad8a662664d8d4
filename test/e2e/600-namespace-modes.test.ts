// pod run --ipc, --pid, --uts, --cgroupns: each mode checked for real, by
// comparing the namespaces' inodes (readlink /proc/self/ns/*) inside the
// container with the host's (this test process runs on the host as the
// same user) or another container's, and each refusal with podman's words.
import { describe } from "bun:test";
import { readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { useSuite, requires, runPod, expect, expectExit, expectPodError, lines, safeName } from "./helpers.ts";
import { useLifecycle, runD, create, track, inspectFmt } from "./lifecycle-helpers.ts";

useSuite("600-namespace-modes");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const T = requires("subuid", "alpine-fixture", "tun");

const KINDS = ["pid", "ipc", "uts", "cgroup", "mnt", "user"] as const;
const host = (k: string) => readlinkSync(`/proc/self/ns/${k}`);
const nsScript = KINDS.map((k) => `readlink /proc/self/ns/${k}`).join("; ");

/** The container's namespaces, by kind. */
async function nsOf(args: string[]): Promise<Record<string, string>> {
  const r = await runPod(["run", "--rm", "--network", "none", ...args, "alpine", "sh", "-c", nsScript]);
  expectExit(r, 0);
  return Object.fromEntries(lines(r.stdout).map((l, i) => [KINDS[i]!, l]));
}

/** A running container's namespaces, read through exec. */
async function nsOfRunning(name: string): Promise<Record<string, string>> {
  const r = await runPod(["exec", name, "sh", "-c", nsScript]);
  expectExit(r, 0);
  return Object.fromEntries(lines(r.stdout).map((l, i) => [KINDS[i]!, l]));
}

describe("private and host namespaces", () => {
  A("by default every namespace is the container's own", async () => {
    const ns = await nsOf([]);
    for (const k of KINDS) expect(ns[k], k).not.toBe(host(k));
  });

  A("--pid host: the host's PID namespace, the host's processes in /proc", async () => {
    const ns = await nsOf(["--pid", "host"]);
    expect(ns.pid).toBe(host("pid"));
    expect(ns.ipc).not.toBe(host("ipc"));
    const r = await runPod(["run", "--rm", "--network", "none", "--pid", "host", "alpine", "sh", "-c", `echo $$; test -d /proc/${process.pid} && echo seen`]);
    expectExit(r, 0);
    const [self, seen] = lines(r.stdout);
    expect(Number(self)).toBeGreaterThan(1);
    expect(seen).toBe("seen");
  });

  A("--pid private is the default's own namespace: the command is PID 1", async () => {
    const r = await runPod(["run", "--rm", "--network", "none", "--pid", "private", "alpine", "sh", "-c", "echo $$"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe("1");
  });

  A("--ipc host: the host's IPC namespace and its /dev/shm", async () => {
    const ns = await nsOf(["--ipc", "host"]);
    expect(ns.ipc).toBe(host("ipc"));
    expect(ns.pid).not.toBe(host("pid"));
  });

  A("--ipc none: an IPC namespace of its own without /dev/shm; private and shareable have one", async () => {
    expect((await nsOf(["--ipc", "none"])).ipc).not.toBe(host("ipc"));
    const none = await runPod(["run", "--rm", "--network", "none", "--ipc", "none", "alpine", "sh", "-c", "grep -c ' /dev/shm ' /proc/self/mounts || true"]);
    expectExit(none, 0);
    expect(none.stdout.trim()).toBe("0");
    for (const mode of ["private", "shareable"]) {
      const r = await runPod(["run", "--rm", "--network", "none", "--ipc", mode, "alpine", "sh", "-c", "grep -c ' /dev/shm ' /proc/self/mounts"]);
      expectExit(r, 0);
      expect(r.stdout.trim()).toBe("1");
    }
  });

  A("--uts host: the host's UTS namespace and hostname", async () => {
    const ns = await nsOf(["--uts", "host"]);
    expect(ns.uts).toBe(host("uts"));
    const r = await runPod(["run", "--rm", "--network", "none", "--uts", "host", "alpine", "sh", "-c", "hostname; cat /etc/hostname"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual([hostname(), hostname()]);
  });

  A("--cgroupns host: the host's cgroup namespace; private: its own", async () => {
    expect((await nsOf(["--cgroupns", "host"])).cgroup).toBe(host("cgroup"));
    expect((await nsOf(["--cgroupns", "private"])).cgroup).not.toBe(host("cgroup"));
  });

  A("all four host modes at once, and exec into such a container", async () => {
    const name = safeName("hostns");
    await runD(name, ["--network", "none", "--pid", "host", "--ipc", "host", "--uts", "host", "--cgroupns", "host", "alpine", "sleep", "1000"]);
    const ns = await nsOfRunning(name);
    for (const k of ["pid", "ipc", "uts", "cgroup"]) expect(ns[k], k).toBe(host(k));
    expect(ns.user).not.toBe(host("user"));
  });
});

describe("joining another container's namespaces", () => {
  A("--ipc, --pid, --uts, --cgroupns container:NAME join a running container's namespaces", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "--hostname", "donorhost", "alpine", "sleep", "1000"]);
    const theirs = await nsOfRunning(a);
    const ns = await nsOf(["--ipc", `container:${a}`, "--pid", `container:${a}`, "--uts", `container:${a}`, "--cgroupns", `container:${a}`]);
    for (const k of ["pid", "ipc", "uts", "cgroup", "user"]) expect(ns[k], k).toBe(theirs[k]);
    expect(ns.mnt).not.toBe(theirs.mnt);
    // the joined PID namespace: the donor's sleep is PID 1; its hostname is the donor's
    const r = await runPod(["run", "--rm", "--network", "none", "--pid", `container:${a}`, "--uts", `container:${a}`, "alpine", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; hostname; cat /etc/hostname"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["sleep 1000 ", "donorhost", "donorhost"]);
  });

  A("the user namespace and id map come with the joined container's", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    const theirs = await runPod(["exec", a, "cat", "/proc/self/uid_map"]);
    expectExit(theirs, 0);
    const r = await runPod(["run", "--rm", "--network", "none", "--ipc", `container:${a}`, "alpine", "cat", "/proc/self/uid_map"]);
    expectExit(r, 0);
    expect(r.stdout).toBe(theirs.stdout);
  });

  A("a message queue made in one container is seen in the one that joined its IPC namespace", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    expectExit(await runPod(["exec", a, "touch", "/dev/mqueue/podq"]), 0);
    const r = await runPod(["run", "--rm", "--network", "none", "--ipc", `container:${a}`, "alpine", "ls", "/dev/mqueue"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe("podq");
    const own = await runPod(["run", "--rm", "--network", "none", "alpine", "ls", "/dev/mqueue"]);
    expectExit(own, 0);
    expect(own.stdout.trim()).toBe("");
  });

  A("--network container:NAME together with --ipc/--pid container:NAME", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    const theirs = await runPod(["exec", a, "readlink", "/proc/self/ns/net"]);
    expectExit(theirs, 0);
    const r = await runPod(["run", "--rm", "--network", `container:${a}`, "--ipc", `container:${a}`, "--pid", `container:${a}`, "alpine", "sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"]);
    expectExit(r, 0);
    const ipc = await runPod(["exec", a, "readlink", "/proc/self/ns/ipc"]);
    expect(lines(r.stdout)).toEqual([theirs.stdout.trim(), ipc.stdout.trim()]);
  });

  A("a detached container in another's PID namespace, and exec into it", async () => {
    const a = safeName("donor");
    const b = safeName("joiner");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    await runD(b, ["--network", "none", "--pid", `container:${a}`, "alpine", "sleep", "1001"]);
    const r = await runPod(["exec", b, "sh", "-c", "cat /proc/*/cmdline | tr '\\0' ' '"]);
    expectExit(r, 0);
    expect(r.stdout).toContain("sleep 1000");
    expect(r.stdout).toContain("sleep 1001");
  });

  A("inspect shows the modes, container:NAME as the other's ID", async () => {
    const a = safeName("donor");
    const id = await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    const b = safeName("joiner");
    await create(b, ["--network", "none", "--ipc", `container:${a}`, "--pid", "host", "--uts", `container:${a}`, "alpine", "true"]);
    expect(await inspectFmt(b, "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}} {{.HostConfig.UTSMode}} {{.HostConfig.CgroupMode}}")).toBe(`container:${id} host container:${id} private`);
    expect(await inspectFmt(a, "{{.HostConfig.IpcMode}} {{.HostConfig.PidMode}}")).toBe("shareable private");
  });

  T("a joined PID namespace with a network namespace of its own and its helper", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    const r = await runPod(["run", "--rm", "--pid", `container:${a}`, "alpine", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; ip -o link | grep -c -v ': lo:'"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["sleep 1000 ", "1"]);
  });

  A("ns:PATH joins the namespace at the path", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(a, "{{.State.Pid}}"));
    const theirs = await nsOfRunning(a);
    const ns = await nsOf(["--uts", `ns:/proc/${pid}/ns/uts`, "--ipc", `ns:/proc/${pid}/ns/ipc`]);
    expect(ns.uts).toBe(theirs.uts);
    expect(ns.ipc).toBe(theirs.ipc);
    expect(ns.pid).not.toBe(theirs.pid);
  });
});

describe("refusals", () => {
  A("an unknown mode, container: and ns: without a value", async () => {
    expectPodError(await runPod(["run", "--rm", "--pid", "badpid", "alpine", "true"]), "unrecognized namespace mode badpid passed");
    expectPodError(await runPod(["run", "--rm", "--pid", "none", "alpine", "true"]), "unrecognized namespace mode none passed");
    expectPodError(await runPod(["run", "--rm", "--uts", "container:", "alpine", "true"]), 'must provide name or ID or a container when specifying "container:"');
    expectPodError(await runPod(["run", "--rm", "--cgroupns", "ns:", "alpine", "true"]), 'must provide a path to a namespace when specifying "ns:"');
    expectPodError(await runPod(["run", "--rm", "--ipc", "ns:/nonexistent/ipc", "alpine", "true"]), "no such file or directory");
  });

  A("--hostname with --uts host or a joined UTS namespace", async () => {
    expectPodError(await runPod(["run", "--rm", "--uts", "host", "--hostname", "x", "alpine", "true"]), "cannot set hostname when running in the host UTS namespace");
  });

  A("a container that does not exist, one that is not running, a non-shareable IPC namespace", async () => {
    expectPodError(await runPod(["run", "--rm", "--pid", "container:nosuchctr", "alpine", "true"]), "no such container");
    const c = safeName("created");
    await create(c, ["--network", "none", "alpine", "sleep", "1000"]);
    expectPodError(await runPod(["run", "--rm", "--network", "none", "--pid", `container:${c}`, "alpine", "true"]), `cannot join the PID namespace of container ${c}: it is not running`);
    const p = safeName("private");
    await runD(p, ["--network", "none", "--ipc", "private", "alpine", "sleep", "1000"]);
    expectPodError(await runPod(["run", "--rm", "--network", "none", "--ipc", `container:${p}`, "alpine", "true"]), "non-shareable IPC");
  });

  A("--userns with a joined namespace, IPC sysctls without an IPC namespace of its own", async () => {
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    expectPodError(await runPod(["run", "--rm", "--userns", "keep-id", "--pid", `container:${a}`, "alpine", "true"]), "cannot be combined with --pid container:");
    expectPodError(await runPod(["run", "--rm", "--ipc", "host", "--sysctl", "kernel.shmmax=1000000", "alpine", "true"]), "can't be set since IPC Namespace set to host");
  });

  A("a host namespace cannot be joined by path rootless: the error says to use host", async () => {
    const r = await runPod(["run", "--rm", "--network", "none", "--uts", `ns:/proc/${process.pid}/ns/uts`, "alpine", "true"]);
    expectPodError(r, "joining the container's namespaces", "use host for that namespace instead");
  });

  A("container:NAME of a container that shares the host's namespace shares the host's", async () => {
    const a = safeName("hostpid");
    await runD(a, ["--network", "none", "--pid", "host", "--uts", "host", "alpine", "sleep", "1000"]);
    const ns = await nsOf(["--pid", `container:${a}`, "--uts", `container:${a}`]);
    expect(ns.pid).toBe(host("pid"));
    expect(ns.uts).toBe(host("uts"));
  });

  A("create checks the modes before anything is recorded", async () => {
    const name = track(safeName("bad"));
    expectPodError(await runPod(["create", "--name", name, "--ipc", "bogus", "alpine", "true"]), "unrecognized namespace mode bogus passed");
    expectExit(await runPod(["container", "exists", name]), 1);
  });
});

describe("--userns modes and --uidmap/--gidmap", () => {
  const idOut = async (args: string[], script = "id -u; id -g; cat /proc/self/uid_map") => {
    const r = await runPod(["run", "--rm", "--network", "none", ...args, "alpine", "sh", "-c", script]);
    expectExit(r, 0);
    return lines(r.stdout);
  };
  const norm = (l: string) => l.trim().split(/\s+/).join(" ");

  A("--userns host is the default mapping: root inside is you, then your subordinate ids", async () => {
    const def = await idOut([]);
    const host = await idOut(["--userns", "host"]);
    expect(host).toEqual(def);
    expect(host.slice(0, 2)).toEqual(["0", "0"]);
    expect(norm(host[2]!)).toBe(`0 ${process.getuid!()} 1`);
  });

  A("--userns keep-id:uid=N,gid=N: you are N inside, container 0 is a subordinate id", async () => {
    const o = await idOut(["--userns", "keep-id:uid=200,gid=210"], "id -u; id -g; cat /proc/self/uid_map; stat -c %u /proc/self/uid_map");
    expect(o.slice(0, 2)).toEqual(["200", "210"]);
    const maps = o.slice(2, -1).map(norm);
    expect(maps).toContain(`200 ${process.getuid!()} 1`);
    expect(maps.find((m) => m.startsWith("0 "))).not.toBe(`0 ${process.getuid!()} 1`);
  });

  A("--uidmap/--gidmap: the container's map from host ids of the rootless user namespace", async () => {
    const uid = process.getuid!();
    const o = await idOut(["--uidmap", "0:0:1", "--uidmap", "1:1:500", "--gidmap", "0:0:1,1:1:10"], "cat /proc/self/uid_map; echo --; cat /proc/self/gid_map");
    const sep = o.indexOf("--");
    const uids = o.slice(0, sep).map(norm);
    const gids = o.slice(sep + 1).map(norm);
    expect(uids[0]).toBe(`0 ${uid} 1`);
    expect(uids.length).toBe(2);
    expect(uids[1]).toMatch(/^1 \d+ 500$/);
    expect(gids[1]).toMatch(/^1 \d+ 10$/);
    // a uid outside the map is nobody's
    const r = await runPod(["run", "--rm", "--network", "none", "--uidmap", "0:0:1,1:1:500", "--user", "600", "alpine", "true"]);
    expectPodError(r, "600");
  });

  A("refusals: nomap, auto, bad keep-id options, bad maps, maps with --userns or a joined container", async () => {
    expectPodError(await runPod(["run", "--rm", "--userns", "nomap", "alpine", "true"]), "--userns nomap is not supported by pod");
    expectPodError(await runPod(["run", "--rm", "--userns", "auto", "alpine", "true"]), "--userns auto is not supported by pod");
    expectPodError(await runPod(["run", "--rm", "--userns", "keep-id:size=5", "alpine", "true"]), "unknown or malformed option");
    expectPodError(await runPod(["run", "--rm", "--uidmap", "0:0", "alpine", "true"]), "want CONTAINER_ID:HOST_ID:AMOUNT");
    expectPodError(await runPod(["run", "--rm", "--uidmap", "0:1:100", "alpine", "true"]), "does not map host uid 0 (you)");
    expectPodError(await runPod(["run", "--rm", "--uidmap", "0:0:99999999", "alpine", "true"]), "outside the");
    expectPodError(await runPod(["run", "--rm", "--userns", "keep-id", "--uidmap", "0:0:1", "alpine", "true"]), "cannot be used together");
    const a = safeName("donor");
    await runD(a, ["--network", "none", "alpine", "sleep", "1000"]);
    expectPodError(await runPod(["run", "--rm", "--uidmap", "0:0:1", "--ipc", `container:${a}`, "alpine", "true"]), "cannot be combined with --ipc container:");
    expectPodError(await runPod(["run", "--rm", "--userns", "keep-id", "--network", `container:${a}`, "alpine", "true"]), "cannot be combined with --network");
  });
});
