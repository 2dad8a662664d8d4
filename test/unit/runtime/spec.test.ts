// The whole launch plan for an Alpine-like image, and how options change it.
import { afterAll, describe, expect, test } from "bun:test";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { MS } from "../../../pkg/native/plan.ts";
import { buildLaunchPlan, capabilityNames, DEFAULT_PATH, parseShmSize, type RunInput, type RunOptions } from "../../../pkg/runtime/index.ts";
import { ALPINE_ETC, makeLayers, removeScratch, thrown } from "./_layers.ts";

afterAll(removeScratch);

const id = "0123456789ab" + "c".repeat(52);
const layers = makeLayers({ ...ALPINE_ETC, "bin/sh": "#!", "root/": { dir: true } });
const alpineConfig = {
  architecture: "amd64",
  os: "linux",
  config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"] },
};
const opts: RunOptions = {
  command: [],
  env: [],
  envFiles: [],
  init: false,
  readOnly: false,
  readOnlyTmpfs: true,
  tmpfs: [],
  volumes: [],
  capAdd: [],
  capDrop: [],
  securityOpt: [],
  privileged: false,
  network: "none",
  userns: "",
  tty: false,
};
const storageMaps = { uid: [0, 1000, 1, 1, 100000, 65536], gid: [0, 1000, 1, 1, 100000, 65536] };
const input = (o: Partial<RunOptions> = {}, more: Partial<RunInput> = {}): RunInput => ({
  id,
  imageConfig: alpineConfig,
  layerDirs: layers,
  rootfs: "/home/u/.local/share/pod/containers/c/merged",
  rootfsMount: { kind: "overlay", cwd: "/home/u/.local/share/pod/layers", data: "lowerdir=a/diff,upperdir=u,workdir=w" },
  containerDir: "/home/u/.local/share/pod/containers/c",
  storageMaps,
  hostUid: 1000,
  hostGid: 1000,
  hostEnv: { HOME: "/home/u", FOO: "bar" },
  hostHosts: "127.0.0.1 localhost\n10.0.0.5 buildbox\n",
  hostResolv: "nameserver 127.0.0.53\noptions edns0\n",
  opts: { ...opts, ...o },
  ...more,
});

describe("pod run alpine", () => {
  const { plan, files } = buildLaunchPlan(input());

  test("process", () => {
    expect(plan.argv).toEqual(["/bin/sh"]);
    expect(plan.cwd).toBe("/");
    expect(plan.env).toEqual([`PATH=${DEFAULT_PATH}`, "TERM=xterm", "container=podman", "HOSTNAME=0123456789ab", "HOME=/root"]);
    expect([plan.uid, plan.gid, plan.groups]).toEqual([0, 0, [0, 1, 2, 3, 4, 10]]);
    expect(capabilityNames(plan.caps.effective)).toEqual([
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_FOWNER",
      "CAP_FSETID",
      "CAP_KILL",
      "CAP_SETGID",
      "CAP_SETUID",
      "CAP_SETPCAP",
      "CAP_NET_BIND_SERVICE",
      "CAP_SYS_CHROOT",
      "CAP_SETFCAP",
    ]);
    expect([plan.noNewPrivileges, plan.init, plan.readonlyRoot]).toEqual([false, false, false]);
  });

  test("namespaces, root and maps", () => {
    expect(plan.hostname).toBe("0123456789ab");
    expect(plan.newNetwork).toBe(true);
    expect(plan.rootfs).toBe("/home/u/.local/share/pod/containers/c/merged");
    expect(plan.rootfsMount.kind).toBe("overlay");
    expect(plan.uidMap).toEqual(storageMaps.uid);
    expect(plan.gidMap).toEqual(storageMaps.gid);
  });

  test("mount steps", () => {
    expect(plan.ops.map((o) => `${o.op} ${o.target}`)).toEqual([
      "mount /proc",
      "mount /dev",
      ...["null", "zero", "full", "random", "urandom", "tty"].flatMap((d) => [`touch /dev/${d}`, `bind /dev/${d}`]),
      ...["fd", "stdin", "stdout", "stderr", "ptmx", "core"].map((d) => `symlink /dev/${d}`),
      "mount /dev/pts",
      "mount /dev/shm",
      "mount /dev/mqueue",
      "mount /sys",
      ...["hosts", "hostname", "resolv.conf"].flatMap((f) => [`touch /etc/${f}`, `bind /etc/${f}`]),
      ...[
        "/proc/acpi",
        "/proc/kcore",
        "/proc/keys",
        "/proc/latency_stats",
        "/proc/sched_debug",
        "/proc/scsi",
        "/proc/timer_list",
        "/proc/timer_stats",
        "/proc/interrupts",
        "/sys/dev/block",
        "/sys/devices/virtual/powercap",
        "/sys/firmware",
        "/sys/fs/selinux",
      ].map((p) => `mask ${p}`),
      ...["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"].map((p) => `readonly ${p}`),
      "touch /run/.containerenv",
      "bind /run/.containerenv",
    ]);
  });

  test("files for the container directory", () => {
    expect(files).toEqual([
      {
        path: "hosts",
        content:
          "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n" +
          "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n" +
          "127.0.1.1\t0123456789ab\n",
      },
      { path: "hostname", content: "0123456789ab\n" },
      { path: "resolv.conf", content: "nameserver 127.0.0.53\noptions edns0\n" },
      { path: "containerenv", content: "" },
    ]);
  });
});

describe("options", () => {
  test("-it sh -c, -e, -w, --hostname, --init, --read-only, --security-opt", () => {
    const { plan, files } = buildLaunchPlan(
      input({
        command: ["sh", "-c", "echo hi"],
        env: ["FOO", "A=1"],
        workdir: "/work",
        hostname: "web",
        init: true,
        readOnly: true,
        tty: true,
        securityOpt: ["no-new-privileges", "label=disable", "seccomp=unconfined"],
      }),
    );
    expect(plan.argv).toEqual(["sh", "-c", "echo hi"]);
    expect(plan.env).toContain("FOO=bar");
    expect(plan.env).toContain("A=1");
    expect(plan.env).toContain("HOSTNAME=web");
    expect(plan.cwd).toBe("/work");
    expect(plan.ops).toContainEqual({ op: "mkdir", target: "/work", mode: 0o755 });
    expect(plan.ops.filter((o) => o.op === "mount" && o.fstype === "tmpfs").map((o) => o.target)).toEqual(["/dev", "/dev/shm", "/tmp", "/var/tmp", "/run"]);
    expect([plan.hostname, plan.init, plan.readonlyRoot, plan.noNewPrivileges]).toEqual(["web", true, true, true]);
    expect(files[1]).toEqual({ path: "hostname", content: "web\n" });
  });

  test("no-new-privileges=false and unsupported security options", () => {
    expect(buildLaunchPlan(input({ securityOpt: ["no-new-privileges=true", "no-new-privileges=false"] })).plan.noNewPrivileges).toBe(false);
    for (const v of ["apparmor=docker-default", "seccomp=", "no-new-privileges=maybe", "label", "label=bogus", "mask=relative/path", "unmask=", "systempaths=confined", "proc-opts=", "bogus=1"]) {
      const e = thrown(() => buildLaunchPlan(input({ securityOpt: [v] })));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain(JSON.stringify(v));
    }
  });

  test("confinement: the default seccomp filter, none with unconfined or --privileged; the keyring _ses.<id>", () => {
    const { plan } = buildLaunchPlan(input({}));
    expect(plan.seccomp).toMatch(/^([0-9a-f]{16})+$/);
    expect(plan.keyring).toMatch(/^_ses\.[0-9a-f]+$/);
    expect(buildLaunchPlan(input({ securityOpt: ["seccomp=unconfined"] })).plan.seccomp).toBeUndefined();
    expect(buildLaunchPlan(input({ privileged: true })).plan.seccomp).toBeUndefined();
    // a settled profile of one's own is kept under --privileged, as podman keeps it
    const own = JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW" });
    expect(buildLaunchPlan(input({ privileged: true, securityOpt: ["seccomp=/p.json"], seccompProfile: own })).plan.seccomp).toMatch(/^[0-9a-f]+$/);
  });

  test("mask=, unmask= and proc-opts= change the mount steps", () => {
    const ops = (securityOpt: string[]) => buildLaunchPlan(input({ securityOpt })).plan.ops;
    const masked = (o: ReturnType<typeof ops>) => o.filter((x) => x.op === "mask").map((x) => x.target);
    expect(masked(ops([]))).toContain("/proc/kcore");
    expect(masked(ops(["unmask=/proc/kcore:/sys/firmware"]))).not.toContain("/proc/kcore");
    expect(masked(ops(["unmask=/proc/kcore:/sys/firmware"]))).toContain("/proc/acpi");
    expect(ops(["unmask=ALL"]).filter((x) => x.op === "mask" || x.op === "readonly")).toEqual([]);
    expect(masked(ops(["mask=/etc/secret:/opt/x"]))).toEqual(expect.arrayContaining(["/etc/secret", "/opt/x"]));
    expect(ops(["proc-opts=hidepid=2"]).find((x) => x.op === "mount" && x.fstype === "proc")).toMatchObject({ data: "hidepid=2" });
  });

  test("--network host: the host's /sys and hosts file, plus the hostname", () => {
    const { plan, files } = buildLaunchPlan(input({ network: "host" }));
    expect(plan.newNetwork).toBe(false);
    expect(plan.ops.find((o) => o.target === "/sys")).toEqual({ op: "bind", source: "/sys", target: "/sys", recursive: true, readonly: true });
    expect(files[0]!.content).toBe("127.0.0.1 localhost\n10.0.0.5 buildbox\n127.0.1.1\t0123456789ab\n");
  });

  test("--user guest: non-root caps and HOME", () => {
    const { plan } = buildLaunchPlan(input({ user: "guest", capAdd: ["net_raw"] }));
    expect([plan.uid, plan.gid, plan.groups]).toEqual([405, 100, [100]]);
    expect(plan.env).toContain("HOME=/dev/null");
    expect(capabilityNames(plan.caps.effective)).toEqual(["CAP_NET_RAW"]);
    expect(capabilityNames(plan.caps.bounding)).toContain("CAP_CHOWN");
  });

  test("the image's USER, overridden by --user", () => {
    const cfg = { config: { ...alpineConfig.config, User: "daemon", WorkingDir: "/srv", Entrypoint: ["/bin/sh", "-c"], Cmd: ["exec app"] } };
    const { plan } = buildLaunchPlan(input({}, { imageConfig: cfg }));
    expect([plan.uid, plan.cwd, plan.argv]).toEqual([2, "/srv", ["/bin/sh", "-c", "exec app"]]);
    expect(buildLaunchPlan(input({ user: "root" }, { imageConfig: cfg })).plan.uid).toBe(0);
  });

  test("--userns=keep-id runs as the invoking user with swapped maps", () => {
    const { plan } = buildLaunchPlan(input({ userns: "keep-id" }));
    expect([plan.uid, plan.gid]).toEqual([1000, 1000]);
    expect(plan.uidMap).toEqual([0, 100999, 1, 1, 100000, 999, 1000, 1000, 1, 1001, 101000, 64536]);
    expect(plan.env).toContain("HOME=/");
    expect(plan.caps.effective).toBe(0n);
  });

  test("a user outside the mapping fails early with a hint", () => {
    const single = { uid: [0, 1000, 1], gid: [0, 1000, 1] };
    const e = thrown(() => buildLaunchPlan(input({ user: "guest" }, { storageMaps: single })));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe("running as uid 405: it is not mapped in the container's user namespace");
    expect(e.hint).toContain("usermod");
    const root = buildLaunchPlan(input({}, { storageMaps: single })).plan;
    expect([root.uid, root.groups]).toEqual([0, [0]]);
  });

  test("--privileged", () => {
    const { plan } = buildLaunchPlan(input({ privileged: true }));
    expect(plan.caps.bounding).toBe((1n << 41n) - 1n);
    expect(plan.ops.some((o) => o.op === "mask" || o.op === "readonly")).toBe(false);
    expect(plan.ops.find((o) => o.target === "/sys")).toMatchObject({ flags: MS.NOSUID | MS.NOEXEC | MS.NODEV });
  });

  test("bad hostname, no command", () => {
    expect(thrown(() => buildLaunchPlan(input({ hostname: "a b" })))).toBeInstanceOf(UsageError);
    expect(thrown(() => buildLaunchPlan(input({}, { imageConfig: { config: {} } }))).message).toBe("no command specified");
    expect(buildLaunchPlan(input({ command: ["true"] }, { imageConfig: {} })).plan.argv).toEqual(["true"]);
  });
});

describe("issue 12 flags in the plan", () => {
  test("/run/.containerenv: empty, and with --privileged podman's facts", () => {
    const empty = buildLaunchPlan(input()).files.find((f) => f.path === "containerenv");
    expect(empty?.content).toBe("");
    const { plan, files } = buildLaunchPlan(input({ privileged: true }, { name: "web", image: "docker.io/library/alpine:latest", imageId: "f".repeat(64), engineVersion: "1.2.3" }));
    expect(files.find((f) => f.path === "containerenv")?.content).toBe(
      `engine="pod-1.2.3"\nname="web"\nid="${id}"\nimage="docker.io/library/alpine:latest"\nimageid="${"f".repeat(64)}"\nrootless=1\n`,
    );
    const bind = plan.ops.find((o) => o.target === "/run/.containerenv" && o.op === "bind");
    expect(bind).toMatchObject({ source: "/home/u/.local/share/pod/containers/c/containerenv", readonly: true });
  });

  test("a -v on /run leaves .containerenv out", () => {
    const { plan } = buildLaunchPlan(input({ volumes: ["/tmp:/run"] }));
    expect(plan.ops.some((o) => o.target === "/run/.containerenv")).toBe(false);
  });

  test("--group-add adds names and gids after the user's groups; keep-groups keeps pod's", () => {
    const { plan } = buildLaunchPlan(input({ groupAdd: ["wheel", "1234"] }));
    expect(plan.groups).toEqual([0, 1, 2, 3, 4, 10, 1234]);
    const keep = buildLaunchPlan(input({ groupAdd: ["keep-groups"] })).plan;
    expect(keep.keepGroups).toBe(true);
    expect(thrown(() => buildLaunchPlan(input({ groupAdd: ["nope"] }))).message).toBe("unable to find group nope: no matching entries in group file");
    expect(thrown(() => buildLaunchPlan(input({ groupAdd: ["keep-groups", "10"] })))).toBeInstanceOf(UsageError);
  });

  test("--shm-size sizes /dev/shm", () => {
    const shm = (o: Partial<RunOptions>) => buildLaunchPlan(input(o)).plan.ops.find((op) => op.target === "/dev/shm");
    expect(shm({})).toMatchObject({ data: "mode=1777,size=65536k" });
    expect(shm({ shmSize: parseShmSize("1g") })).toMatchObject({ data: "mode=1777,size=1048576k" });
    expect(shm({ shmSize: parseShmSize("1000") })).toMatchObject({ data: "mode=1777,size=1000" });
    for (const bad of ["", "0", "x", "1q", "-5"]) expect(thrown(() => parseShmSize(bad))).toBeInstanceOf(UsageError);
    expect(parseShmSize("1.5k")).toBe(1536);
    expect(parseShmSize("64MB")).toBe(64 * 2 ** 20);
  });

  test("--hostuser lines and --passwd-entry go into the passwd file", () => {
    const host = "me:x:1000:1000:Me:/home/me:/bin/bash";
    const { files } = buildLaunchPlan(input({ hostUsers: [host, "root:x:0:0:root:/root:/bin/sh"] }));
    const passwd = files.find((f) => f.path === "passwd")!.content;
    expect(passwd.endsWith(`${host}\n`)).toBe(true);
    expect(passwd.split("\n").filter((l) => l.startsWith("root:")).length).toBe(1);
    const custom = buildLaunchPlan(input({ user: "4321:4321", passwdEntry: "$USERNAME:x:${UID}:$GID:$NAME:$HOME:/bin/false $NOPE" })).files.find((f) => f.path === "passwd")!.content;
    expect(custom.endsWith("4321:x:4321:4321:container user:/:/bin/false \n")).toBe(true);
  });

  test("--tz binds the zone file read-only; --unsetenv and --env-host shape the environment", () => {
    const { plan } = buildLaunchPlan(input({ tz: "local" }));
    const bind = plan.ops.find((o) => o.op === "bind" && o.target === "/etc/localtime");
    expect(bind).toMatchObject({ readonly: true });
    const env = buildLaunchPlan(input({ unsetenv: ["TERM"], envHost: ["FROM_HOST=1"] })).plan.env;
    expect(env).toContain("FROM_HOST=1");
    expect(env.some((e) => e.startsWith("TERM="))).toBe(false);
  });
});
