// --ipc, --pid, --uts and --cgroupns, with podman's modes and messages
// (specgen.ParseNamespace, ParseIPCNamespace): pure parsing and the checks
// that need no other container. Joining another container's namespace is
// resolved by pkg/container (join.ts): its ID at create, its pid at start.
import { UsageError } from "../errors.ts";

export type NamespaceFlag = "ipc" | "pid" | "uts" | "cgroupns";

export type NamespaceMode =
  | { kind: "private" }
  /** --ipc only: a private IPC namespace other containers may join (podman's default) */
  | { kind: "shareable" }
  /** --ipc only: a private IPC namespace without /dev/shm */
  | { kind: "none" }
  | { kind: "host" }
  | { kind: "container"; target: string }
  | { kind: "ns"; path: string };

/** The modes each flag takes, as podman lists them. */
export const NAMESPACE_MODES: Record<NamespaceFlag, string> = {
  ipc: "host, private, shareable, none, container:NAME, ns:PATH",
  pid: "host, private, container:NAME, ns:PATH",
  uts: "host, private, container:NAME, ns:PATH",
  cgroupns: "host, private, container:NAME, ns:PATH",
};

/** Parses one of the flags' values; "" (not given) is the default: shareable for --ipc, private otherwise. */
export function parseNamespaceMode(flag: NamespaceFlag, value: string | undefined): NamespaceMode {
  const v = value ?? "";
  if (v === "") return flag === "ipc" ? { kind: "shareable" } : { kind: "private" };
  if (v === "private" || v === "host") return { kind: v };
  if (flag === "ipc" && (v === "shareable" || v === "none")) return { kind: v };
  const colon = v.indexOf(":");
  const head = colon < 0 ? v : v.slice(0, colon);
  const rest = colon < 0 ? "" : v.slice(colon + 1);
  if (head === "container") {
    if (!rest) throw new UsageError(`must provide name or ID or a container when specifying "container:"`, { hint: `--${flag} container:NAME joins that container's namespace` });
    return { kind: "container", target: rest };
  }
  if (head === "ns") {
    if (!rest) throw new UsageError(`must provide a path to a namespace when specifying "ns:"`, { hint: `--${flag} ns:/proc/PID/ns/${nsFile(flag)} joins the namespace at that path` });
    if (!rest.startsWith("/")) throw new UsageError(`--${flag} ns:${rest}: the namespace path must be absolute`, { hint: `give the path of a namespace file, e.g. /proc/PID/ns/${nsFile(flag)}` });
    return { kind: "ns", path: rest };
  }
  throw new UsageError(`unrecognized namespace mode ${v} passed`, { hint: `--${flag} takes ${NAMESPACE_MODES[flag]}` });
}

/** The file under /proc/PID/ns/ of the flag's namespace. */
export function nsFile(flag: NamespaceFlag): string {
  return flag === "cgroupns" ? "cgroup" : flag;
}

/** The four modes of a container's options, parsed. */
export type NamespaceModes = Record<NamespaceFlag, NamespaceMode>;

export function namespaceModes(o: { ipc?: string; pid?: string; uts?: string; cgroupns?: string }): NamespaceModes {
  return {
    ipc: parseNamespaceMode("ipc", o.ipc),
    pid: parseNamespaceMode("pid", o.pid),
    uts: parseNamespaceMode("uts", o.uts),
    cgroupns: parseNamespaceMode("cgroupns", o.cgroupns),
  };
}

/** Whether the container gets an IPC namespace of its own (for the IPC sysctls). */
export function ownsIpc(mode: NamespaceMode): boolean {
  return mode.kind === "private" || mode.kind === "shareable" || mode.kind === "none";
}

/**
 * The checks podman makes at create: --hostname needs a UTS namespace of
 * the container's own, and --userns cannot be combined with joining another
 * container's namespaces (the container then runs in that one's user
 * namespace, whose id mapping it cannot change).
 */
export function checkNamespaceOptions(o: { ipc?: string; pid?: string; uts?: string; cgroupns?: string; hostname?: string; userns?: string }): NamespaceModes {
  const modes = namespaceModes(o);
  if (o.hostname && modes.uts.kind === "host")
    throw new UsageError("cannot set hostname when running in the host UTS namespace: invalid configuration", { hint: "drop --hostname, or --uts host" });
  if (o.hostname && (modes.uts.kind === "container" || modes.uts.kind === "ns"))
    throw new UsageError("cannot set hostname when joining another UTS namespace: invalid configuration", { hint: "the joined namespace keeps its hostname: drop --hostname" });
  for (const flag of ["ipc", "pid", "uts", "cgroupns"] as const) {
    const m = modes[flag];
    if (o.userns && m.kind === "container")
      throw new UsageError(`--userns ${o.userns} cannot be combined with --${flag} container:${m.target}`, {
        hint: `the container runs in ${m.target}'s user namespace and keeps its id mapping: leave --userns out`,
      });
  }
  return modes;
}
