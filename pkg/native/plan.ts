// The launch plan: everything the native core needs to start a container,
// decided in TypeScript (pkg/runtime builds it, purely) and applied by core.c
// in order. C decides nothing: it mounts, pivots, drops privileges and execs.

/**
 * One step of root filesystem set-up, applied in the container's new mount
 * namespace before pivot_root. `target` is a path inside the container
 * ("/proc", "/etc/hosts"); core.c resolves it with openat2(RESOLVE_IN_ROOT),
 * so symlinks in the image can never point a mount outside the root.
 * Host-side `source` paths are trusted (they come from pod or from the user).
 */
export type MountOp =
  /** mount(2) a filesystem: proc, tmpfs, devpts, mqueue, sysfs. flags: MS_* bits. */
  | { op: "mount"; fstype: string; source: string; target: string; flags: number; data: string }
  /** bind-mount a host path (a file onto a file, a directory onto a directory), then optionally make it read-only. */
  | { op: "bind"; source: string; target: string; recursive: boolean; readonly: boolean }
  /** create a directory (and its parents) if missing; `mode` for what it creates */
  | { op: "mkdir"; target: string; mode: number }
  /** create an empty file (and parent directories) if missing, as a bind-mount target */
  | { op: "touch"; target: string; mode: number }
  /** create a symbolic link `target` -> `linkTarget` if nothing is there */
  | { op: "symlink"; linkTarget: string; target: string }
  /** hide a path: /dev/null over a file, an empty read-only tmpfs over a directory; missing paths are skipped */
  | { op: "mask"; target: string }
  /** make an existing path read-only (bind onto itself, then MOUNT_ATTR_RDONLY); missing paths are skipped */
  | { op: "readonly"; target: string }
  /** write `data` to an existing file (a /proc/sys entry: --sysctl) */
  | { op: "write"; target: string; data: string };

/** How the root directory itself is mounted (in the new mount namespace, before any MountOp). */
export type RootfsMount =
  /** kernel overlay; `data` holds lowerdir/upperdir/workdir relative to `cwd` (keeps it under a page) */
  | { kind: "overlay"; cwd: string; data: string }
  /** a prepared directory (fuse-overlayfs mounted by a helper, or a copied tree): bind it onto itself */
  | { kind: "bind" };

export type Capabilities = {
  /** bit N set = capability N (CAP_CHOWN = 0 …) */
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
};

/**
 * Where one of the container's namespaces comes from: one of its own
 * ("private"), pod's own ("host": as root, the host's; rootless, the host's
 * too, since pod runs in the host's namespaces), or the namespace file to
 * join (/proc/PID/ns/ipc, a bind-mounted one).
 */
export type NamespaceSource = "private" | "host" | `/${string}`;

export type Namespaces = { pid: NamespaceSource; ipc: NamespaceSource; uts: NamespaceSource; cgroup: NamespaceSource };

export type LaunchPlan = {
  /** host path of the directory that becomes "/" */
  rootfs: string;
  rootfsMount: RootfsMount;
  /** helper to run (and wait for) inside the namespaces before the rootfs is used, e.g. fuse-overlayfs */
  rootfsHelper?: string[];
  ops: MountOp[];
  readonlyRoot: boolean;
  hostname: string;
  /** a new network namespace (every mode but host); otherwise the host's */
  newNetwork: boolean;
  /** the network namespace to join instead (--network container:NAME, ns:PATH): a path such as /proc/PID/ns/net */
  joinNetwork?: string;
  /**
   * the network helper started for the new network namespace before the
   * command runs: [ready mode ("pidfile" | "readyfd"), pid file, log file,
   * absolute path, args...]; "@PID@" is the container's pid, "@READY@" the
   * ready fd (start_net_helper in core.c)
   */
  netHelper?: string[];
  /** --pid, --ipc, --uts, --cgroupns (absent: all private) */
  namespaces?: Namespaces;
  argv: string[];
  /** KEY=VALUE; PATH in here is what the executable is searched with */
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** supplementary groups */
  groups: number[];
  /** --ulimit: setrlimit(2) before the ids change; limits as decimal strings (RLIM_INFINITY is 2^64-1) */
  rlimits?: { resource: number; soft: string; hard: string }[];
  /** --group-add keep-groups: no setgroups(2), the process keeps the groups pod has (`groups` unused) */
  keepGroups?: boolean;
  caps: Capabilities;
  noNewPrivileges: boolean;
  /** the session keyring joined (created) before exec, runc's "_ses.<container id>"; absent: the caller's stays */
  keyring?: string;
  /** the seccomp filter installed just before exec: classic BPF (struct sock_filter[], host byte order) as hex (pkg/security); absent: none */
  seccomp?: string;
  /** a built-in init as PID 1 that forwards signals and reaps zombies */
  init: boolean;
  /** newuidmap/newgidmap triples (inside, outside, count, …) for the container's user namespace;
   * [0, uid, 1] alone means the single-id fallback, written by the child itself */
  uidMap: number[];
  gidMap: number[];
  /** run --preserve-fds N: pod's fds 3 .. 3+N-1 stay open in the command (the caller checked they are open) */
  preserveFds?: number;
};

/** MS_* mount flags (linux/mount.h). */
export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  REMOUNT: 32,
  BIND: 4096,
  REC: 16384,
  PRIVATE: 1 << 18,
  STRICTATIME: 1 << 24,
} as const;
