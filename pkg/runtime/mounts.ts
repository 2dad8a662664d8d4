// The ordered mount steps of a rootless container, as podman sets them up:
// runc's default spec mounts (runtime-tools generate.go), podman's rootless
// changes (pkg/specgen/generate/oci_linux.go: host devices bound rather than
// created, devpts without gid=5, /sys bound from the host when the network
// namespace is the host's, since sysfs can only be mounted by the owner of the
// network namespace), the container's /etc files, the user's mounts, and
// containers.conf's masked and read-only paths last so nothing re-exposes them.
import { join } from "node:path";
import { UsageError } from "../errors.ts";
import { MS, type MountOp } from "../native/plan.ts";
import { imagePathIsDir, resolveImagePath } from "./imagefs.ts";
import { deviceOps, type DeviceMapping } from "./devices.ts";
import { parseTmpfs, parseVolume, type BindVolume, type UserMount, type VolumeMount } from "./volumes.ts";

/** containers.conf DefaultMaskedPaths (containers/common pkg/config), plus /proc/interrupts as newer releases mask it. */
export const MASKED_PATHS = [
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
] as const;

/** containers.conf DefaultReadOnlyPaths. */
export const READONLY_PATHS = ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"] as const;

/** Host device nodes bound into /dev: a user namespace cannot mknod them. */
const DEVICES = ["null", "zero", "full", "random", "urandom", "tty"] as const;

const DEV_SYMLINKS: [target: string, linkTarget: string][] = [
  ["/dev/fd", "/proc/self/fd"],
  ["/dev/stdin", "/proc/self/fd/0"],
  ["/dev/stdout", "/proc/self/fd/1"],
  ["/dev/stderr", "/proc/self/fd/2"],
  ["/dev/ptmx", "pts/ptmx"],
  ["/dev/core", "/proc/kcore"],
];

/** The files pod writes into the container directory and binds over the image's. */
const ETC_FILES = [
  ["hosts", "/etc/hosts"],
  ["hostname", "/etc/hostname"],
  ["resolv.conf", "/etc/resolv.conf"],
] as const;

/** podman's --read-only-tmpfs mounts (libpod container_internal_common.go); tmpcopyup is not done. */
const READ_ONLY_TMPFS: [target: string, flags: number, data: string][] = [
  ["/tmp", MS.NOSUID | MS.NODEV, ""],
  ["/var/tmp", MS.NOSUID | MS.NODEV, ""],
  ["/run", MS.NOSUID | MS.NODEV | MS.NOEXEC, "size=65536k"],
];

export type MountInput = {
  /** host directory holding the files of ETC_FILES */
  containerDir: string;
  layerDirs: string[];
  /** a new network namespace: sysfs can be mounted; otherwise the host's /sys is bound */
  newNetwork: boolean;
  /** the container has a cgroup and a cgroup namespace of its own: cgroup2 at /sys/fs/cgroup shows it (its limits), as podman mounts it */
  cgroupMount?: boolean;
  /** --no-hosts: the image's /etc/hosts stays */
  noHosts?: boolean;
  privileged: boolean;
  readOnly: boolean;
  readOnlyTmpfs: boolean;
  volumes: string[];
  tmpfs: string[];
  /** named and anonymous volumes, already resolved to their host directories */
  volumeMounts?: VolumeMount[];
  /** the process's working directory, created when the image lacks it */
  workdir: string;
  /** --shm-size in bytes (default 64 MiB) */
  shmSize?: number;
  /** --sysctl writes (sysctl.ts), made before /proc/sys is read-only */
  sysctls?: MountOp[];
  /** --pid host: proc can only be mounted by the pid namespace's owner, so the host's /proc is bound */
  pidHost?: boolean;
  /** --ipc: its own namespace ("own"), "none" (no /dev/shm), or the host's (its /dev/shm and /dev/mqueue bound) */
  ipc?: "own" | "none" | "host";
  /** whether the host has /dev/mqueue (bound with --ipc host; without it the container has none either) */
  hostMqueue?: boolean;
  /** --device: host nodes bound once /dev is mounted */
  devices?: DeviceMapping[];
  /** --security-opt mask=: more paths hidden */
  mask?: string[];
  /** --security-opt unmask= (and systempaths=unconfined: "ALL"): default masked or read-only paths left as they are */
  unmask?: string[] | "ALL";
  /** --security-opt proc-opts=: mount options of /proc (hidepid=2, subset=pid, …) */
  procOpts?: string;
};

/** podman's default /dev/shm size: 64 MiB. */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/**
 * A --shm-size value as podman reads it (go-units RAMInBytes): a number with
 * an optional b, k, m, g, t or p unit (powers of 1024), above 0.
 */
export function parseShmSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  const mult: Record<string, number> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };
  const n = m ? Math.floor(Number(m[1]) * (m[2] ? mult[m[2].toLowerCase()]! : 1)) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new UsageError(`invalid size: '${v}'`, { hint: "give --shm-size as a number with an optional unit: b, k, m or g (e.g. --shm-size 256m)" });
  return n;
}

function fsMount(fstype: string, target: string, flags: number, data = "", source = fstype): MountOp {
  return { op: "mount", fstype, source, target, flags, data };
}

function devOps(shmSize = DEFAULT_SHM_SIZE, ipc: MountInput["ipc"] = "own", hostMqueue = true): MountOp[] {
  const ops: MountOp[] = [fsMount("tmpfs", "/dev", MS.NOSUID | MS.STRICTATIME, "mode=755,size=65536k")];
  for (const d of DEVICES) {
    ops.push({ op: "touch", target: `/dev/${d}`, mode: 0o644 });
    ops.push({ op: "bind", source: `/dev/${d}`, target: `/dev/${d}`, recursive: false, readonly: false });
  }
  for (const [target, linkTarget] of DEV_SYMLINKS) ops.push({ op: "symlink", linkTarget, target });
  ops.push(fsMount("devpts", "/dev/pts", MS.NOSUID | MS.NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
  const size = shmSize % 1024 === 0 ? `${shmSize / 1024}k` : String(shmSize);
  if (ipc === "host") {
    // mqueue can only be mounted by the owner of the IPC namespace: the host's are bound, as podman does
    for (const d of hostMqueue ? ["/dev/shm", "/dev/mqueue"] : ["/dev/shm"]) ops.push({ op: "mkdir", target: d, mode: 0o755 }, { op: "bind", source: d, target: d, recursive: false, readonly: false });
    return ops;
  }
  if (ipc !== "none") ops.push(fsMount("tmpfs", "/dev/shm", MS.NOSUID | MS.NODEV | MS.NOEXEC, `mode=1777,size=${size}`, "shm"));
  ops.push(fsMount("mqueue", "/dev/mqueue", MS.NOSUID | MS.NODEV | MS.NOEXEC));
  return ops;
}

function sysOp(newNetwork: boolean, privileged: boolean): MountOp {
  if (!newNetwork) return { op: "bind", source: "/sys", target: "/sys", recursive: true, readonly: !privileged };
  return fsMount("sysfs", "/sys", MS.NOSUID | MS.NOEXEC | MS.NODEV | (privileged ? 0 : MS.RDONLY));
}

/**
 * A file bind target: when the image has a symlink there (/etc/resolv.conf ->
 * ../run/…), the file is created where the link points, inside the image, as
 * runc does; the core's touch does not follow a symlink in the last component.
 */
function fileTarget(layerDirs: string[], target: string): string {
  return resolveImagePath(layerDirs, target)?.path ?? target;
}

function etcOps(m: MountInput, taken: Set<string>): MountOp[] {
  return ETC_FILES.filter(([file, path]) => !taken.has(path) && !(m.noHosts && file === "hosts")).flatMap(([file, path]): MountOp[] => {
    const target = fileTarget(m.layerDirs, path);
    return [
      { op: "touch", target, mode: 0o644 },
      { op: "bind", source: join(m.containerDir, file), target, recursive: false, readonly: false },
    ];
  });
}

function depth(path: string): number {
  return path.split("/").filter(Boolean).length;
}

const volumeBind = (v: VolumeMount): UserMount =>
  v.tmpfs
    ? { kind: "tmpfs", target: v.target, flags: v.tmpfs.flags | (v.readonly ? MS.RDONLY : 0), data: v.tmpfs.data, source: v.tmpfs.source }
    : { kind: "bind", source: v.source, target: v.target, readonly: v.readonly, recursive: v.recursive ?? true, sourceIsDir: true };

/** Parses -v and --tmpfs values and adds the volumes; parents before children, so /a does not cover /a/b. */
function userMounts(m: MountInput): UserMount[] {
  const all: UserMount[] = [...m.volumes.map(parseVolume), ...m.tmpfs.map(parseTmpfs), ...(m.volumeMounts ?? []).map(volumeBind)];
  const seen = new Set<string>();
  for (const u of all) {
    if (seen.has(u.target)) {
      throw new UsageError(`duplicate mount destination ${u.target}`, { hint: "give each container path to one -v, --mount or --tmpfs only" });
    }
    seen.add(u.target);
  }
  return all.map((u, i) => ({ u, i })).sort((a, b) => depth(a.u.target) - depth(b.u.target) || a.i - b.i).map((x) => x.u);
}

function userMountOps(m: MountInput, mounts: UserMount[]): MountOp[] {
  return mounts.flatMap((u): MountOp[] => {
    if (u.kind === "tmpfs") return [{ op: "mkdir", target: u.target, mode: 0o755 }, fsMount("tmpfs", u.target, u.flags, u.data, u.source)];
    if (u.sourceIsDir) {
      return [
        { op: "mkdir", target: u.target, mode: 0o755 },
        { op: "bind", source: u.source, target: u.target, recursive: u.recursive, readonly: u.readonly },
      ];
    }
    const target = fileTarget(m.layerDirs, u.target);
    return [
      { op: "touch", target, mode: 0o644 },
      { op: "bind", source: u.source, target, recursive: u.recursive, readonly: u.readonly },
    ];
  });
}

function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : `${dir}/`);
}

function readOnlyTmpfsOps(m: MountInput, taken: Set<string>): MountOp[] {
  if (!m.readOnly || !m.readOnlyTmpfs) return [];
  return READ_ONLY_TMPFS.filter(([t]) => !taken.has(t)).map(([t, flags, data]) => fsMount("tmpfs", t, flags, data));
}

/**
 * Podman creates a missing working directory. Not when it lies in one of the
 * user's mounts: that would create it on the host (or in a throw-away tmpfs
 * before it is mounted).
 */
function workdirOps(m: MountInput, mounts: UserMount[]): MountOp[] {
  if (m.workdir === "/" || mounts.some((u) => isUnder(m.workdir, u.target))) return [];
  if (imagePathIsDir(m.layerDirs, m.workdir)) return [];
  return [{ op: "mkdir", target: m.workdir, mode: 0o755 }];
}

/** podman: --privileged and unmask=ALL leave every default path open; unmask=P only those (in both lists); mask= adds more. */
function securityOps(m: MountInput): MountOp[] {
  const open = (p: string) => m.privileged || m.unmask === "ALL" || (m.unmask ?? []).includes(p);
  return [
    ...MASKED_PATHS.filter((p) => !open(p)).map((target): MountOp => ({ op: "mask", target })),
    ...(m.mask ?? []).filter((p) => !(MASKED_PATHS as readonly string[]).includes(p)).map((target): MountOp => ({ op: "mask", target })),
    ...READONLY_PATHS.filter((p) => !open(p)).map((target): MountOp => ({ op: "readonly", target })),
  ];
}

/**
 * Every mount step of the container, in the order the core applies them. A
 * user mount on a path pod would otherwise mount itself (/dev/shm,
 * /etc/resolv.conf, …) replaces pod's mount there, as in podman.
 */
export function buildMountOps(m: MountInput): MountOp[] {
  const mounts = userMounts(m);
  const taken = new Set(mounts.map((u) => u.target));
  const base: MountOp[] = [
    m.pidHost ? ({ op: "bind", source: "/proc", target: "/proc", recursive: true, readonly: false } as MountOp) : fsMount("proc", "/proc", MS.NOSUID | MS.NOEXEC | MS.NODEV, m.procOpts ?? ""),
    ...devOps(m.shmSize, m.ipc, m.hostMqueue),
    sysOp(m.newNetwork, m.privileged),
    ...(m.cgroupMount && m.newNetwork ? [fsMount("cgroup2", "/sys/fs/cgroup", MS.NOSUID | MS.NOEXEC | MS.NODEV | (m.privileged ? 0 : MS.RDONLY), "", "cgroup2")] : []),
  ].filter((op) => op.op === "symlink" || !taken.has(op.target));
  return [
    ...base,
    ...deviceOps(m.devices ?? []),
    ...etcOps(m, taken),
    ...userMountOps(m, mounts),
    ...readOnlyTmpfsOps(m, taken),
    ...workdirOps(m, mounts),
    ...(m.sysctls ?? []),
    ...securityOps(m),
  ];
}
