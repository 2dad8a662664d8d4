// Mirrors the constants of core.c; test/unit/native/protocol.test.ts keeps them equal.
export const Sync = {
  UsermapPls: 0x40,
  UsermapAck: 0x41,
  UsermapFail: 0x4e,
} as const;

export const SpawnFlag = {
  NewMountNs: 1,
  NewSession: 2,
  NewNetwork: 4,
  Daemon: 8,
} as const;

/** Stages the child reports on its close-on-exec status pipe when it fails before exec. */
export const Stage = {
  Unshare: 1,
  SingleMap: 2,
  Sync: 3,
  SetId: 4,
  Chdir: 5,
  Exec: 6,
  Rootfs: 7,
  Mount: 8,
  Pivot: 9,
  Hostname: 10,
  Creds: 11,
  Caps: 12,
  Tty: 13,
  Helper: 14,
  Init: 15,
  Join: 16,
  Cgroup: 17,
  Network: 18,
} as const;

export const stageText: Record<number, string> = {
  [Stage.Unshare]: "creating the user namespace",
  [Stage.SingleMap]: "writing the single-id map",
  [Stage.Sync]: "signalling the parent",
  [Stage.SetId]: "becoming root in the user namespace",
  [Stage.Chdir]: "changing to the working directory",
  [Stage.Exec]: "executing the command",
  [Stage.Rootfs]: "mounting the root filesystem",
  [Stage.Mount]: "setting up a mount",
  [Stage.Pivot]: "switching to the container's root (pivot_root)",
  [Stage.Hostname]: "setting the hostname",
  [Stage.Creds]: "switching to the container's user",
  [Stage.Caps]: "setting capabilities",
  [Stage.Tty]: "setting up the terminal and standard streams",
  [Stage.Helper]: "running the root filesystem helper",
  [Stage.Init]: "starting the init process",
  [Stage.Join]: "joining the container's namespaces",
  [Stage.Cgroup]: "entering the container's cgroup",
  [Stage.Network]: "setting up the network",
};

/** Indexes of the plan header strings handed to pod_spawn_container (P_* in core.c). */
export const PlanField = {
  Rootfs: 0,
  RootKind: 1,
  OverlayCwd: 2,
  OverlayData: 3,
  ReadonlyRoot: 4,
  Hostname: 5,
  NewNet: 6,
  Cwd: 7,
  Uid: 8,
  Gid: 9,
  Groups: 10,
  CapBounding: 11,
  CapEffective: 12,
  CapPermitted: 13,
  CapInheritable: 14,
  CapAmbient: 15,
  NoNewPrivs: 16,
  Init: 17,
  Rlimits: 18,
  PidNs: 19,
  IpcNs: 20,
  UtsNs: 21,
  CgroupNs: 22,
  PreserveFds: 23,
  HeaderLen: 24,
} as const;
