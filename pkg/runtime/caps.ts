// Linux capabilities by name and number (include/uapi/linux/capability.h),
// podman's default set, and --cap-add/--cap-drop/--privileged merged the way
// podman does it (containers/common pkg/capabilities MergeCapabilities, and
// podman pkg/specgen/generate/security_linux.go for the per-user sets).
import { UsageError } from "../errors.ts";
import type { Capabilities } from "../native/plan.ts";

/** Every capability Linux 6.x knows; the index is the capability's number. */
export const CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

/** podman's default_capabilities (containers.conf of current releases: no NET_RAW, MKNOD or AUDIT_WRITE). */
export const DEFAULT_CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_NET_BIND_SERVICE",
  "CAP_SETFCAP",
  "CAP_SETGID",
  "CAP_SETPCAP",
  "CAP_SETUID",
  "CAP_SYS_CHROOT",
] as const;

const ALL_BITS = (1n << BigInt(CAPABILITIES.length)) - 1n;

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

function closeNames(name: string): string[] {
  const bare = name.replace(/^CAP_/, "");
  return CAPABILITIES.filter((c) => {
    const cb = c.slice(4);
    return editDistance(cb, bare) <= 2 || (bare.length >= 3 && (cb.includes(bare) || bare.includes(cb)));
  });
}

/** A capability's number from its name: case-insensitive, with or without CAP_. Throws UsageError. */
export function capabilityNumber(name: string): number {
  const upper = name.trim().toUpperCase();
  const full = upper.startsWith("CAP_") ? upper : `CAP_${upper}`;
  const n = (CAPABILITIES as readonly string[]).indexOf(full);
  if (n >= 0) return n;
  const close = closeNames(full);
  throw new UsageError(`unknown capability ${JSON.stringify(name)}`, {
    hint: close.length
      ? `did you mean ${close.join(", ")}?`
      : `capability names are CAP_CHOWN … CAP_CHECKPOINT_RESTORE (see capabilities(7)), or ALL`,
  });
}

/** Splits repeated, comma-separated flag values into names; "ALL" stays a name of its own. */
function names(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((s) => s.trim()).filter(Boolean);
}

function isAll(name: string): boolean {
  return name.toUpperCase() === "ALL" || name.toUpperCase() === "CAP_ALL";
}

function toBits(list: string[]): bigint {
  let bits = 0n;
  for (const n of list) bits |= 1n << BigInt(capabilityNumber(n));
  return bits;
}

/** The bit set of podman's MergeCapabilities(base, add, drop). */
function mergeCaps(base: bigint, add: string[], drop: string[]): bigint {
  const addAll = add.some(isAll);
  const dropAll = drop.some(isAll);
  if (addAll && dropAll) {
    throw new UsageError("adding all capabilities and dropping all capabilities is not allowed", {
      hint: "use --cap-drop=ALL with --cap-add for the few you need, or --cap-add=ALL with --cap-drop for the few you don't",
    });
  }
  const addBits = toBits(add.filter((n) => !isAll(n)));
  const dropBits = toBits(drop.filter((n) => !isAll(n)));
  const both = addBits & dropBits;
  if (both !== 0n && !addAll && !dropAll) {
    const name = CAPABILITIES[bitIndices(both)[0]!]!;
    throw new UsageError(`capability ${name} cannot be both added and dropped`, {
      hint: `remove ${name} from --cap-add or from --cap-drop`,
    });
  }
  if (dropAll) return addBits;
  const start = addAll ? ALL_BITS : base;
  return (start | addBits) & ~dropBits & ALL_BITS;
}

function bitIndices(bits: bigint): number[] {
  const out: number[] = [];
  for (let i = 0; i < CAPABILITIES.length; i++) if (bits & (1n << BigInt(i))) out.push(i);
  return out;
}

export type CapsInput = { add: string[]; drop: string[]; privileged: boolean; uid: number };

/**
 * The process's capability sets. Root in the container gets the merged set as
 * bounding, effective and permitted (no inheritable or ambient: podman dropped
 * those after CVE-2022-27649). Any other uid keeps the merged set as its
 * bounding set only, plus, as podman does, the capabilities named explicitly
 * in --cap-add in effective, permitted, inheritable and ambient (ambient is
 * the only way a non-root process keeps a capability across execve).
 */
export function computeCaps(o: CapsInput): Capabilities {
  const add = names(o.add);
  const drop = names(o.drop);
  const base = o.privileged ? ALL_BITS : toBits([...DEFAULT_CAPABILITIES]);
  const set = mergeCaps(base, add, drop);
  if (o.uid === 0) return { bounding: set, effective: set, permitted: set, inheritable: 0n, ambient: 0n };
  const user = add.some(isAll) ? set : toBits(add) & set;
  return { bounding: set, effective: user, permitted: user, inheritable: user, ambient: user };
}

/** Capability names of a bit set, lowest number first (for messages and tests). */
export function capabilityNames(bits: bigint): string[] {
  return bitIndices(bits).map((i) => CAPABILITIES[i]!);
}
