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

/** Exit codes the child uses before exec, so the caller can say which stage failed. */
export const ChildStageExit: Record<number, string> = {
  120: "unshare(CLONE_NEWUSER) failed: user namespaces may be disabled",
  121: "writing the single-id map failed",
  122: "signalling the parent failed",
  123: "the id maps were not written",
  124: "becoming root in the user namespace failed",
};
