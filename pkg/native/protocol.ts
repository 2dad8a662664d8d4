// Mirrors the constants of core.c; test/unit/native/protocol.test.ts keeps them equal.
export const Sync = {
  UsermapPls: 0x40,
  UsermapAck: 0x41,
  UsermapFail: 0x4e,
} as const;

export const SpawnFlag = {
  NewMountNs: 1,
  NewSession: 2,
} as const;

/** Stages the child reports on its close-on-exec status pipe when it fails before exec. */
export const Stage = {
  Unshare: 1,
  SingleMap: 2,
  Sync: 3,
  SetId: 4,
  Chdir: 5,
  Exec: 6,
} as const;

export const stageText: Record<number, string> = {
  [Stage.Unshare]: "creating the user namespace",
  [Stage.SingleMap]: "writing the single-id map",
  [Stage.Sync]: "signalling the parent",
  [Stage.SetId]: "becoming root in the user namespace",
  [Stage.Chdir]: "changing to the working directory",
  [Stage.Exec]: "executing the command",
};
