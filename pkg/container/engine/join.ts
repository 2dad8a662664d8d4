// --network container:NAME and ns:PATH: the namespace a container joins.
// The other container must exist at create and run at start; its
// resolv.conf and its way to the host come along, as podman shares them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../../errors.ts";
import { storageMaps } from "../../userns/index.ts";
import type { NamespaceSource } from "../../native/plan.ts";
import { findNetwork, formatNamed, requireMac, parseNetworkMode, type JoinTarget, type NetworkOptions } from "../../network/index.ts";
import { checkNamespaceOptions, containerIdMaps, namespaceModes, nsFile, type NamespaceFlag, type RunOptions } from "../../runtime/index.ts";
import { containerDir, findContainer } from "../record/records.ts";
import { statusOf } from "../record/state.ts";

const NS_FLAGS = ["ipc", "pid", "uts", "cgroupns"] as const;

/**
 * At create, --ipc/--pid/--uts/--cgroupns: a container named must exist (its
 * ID is what the record keeps), a path must be there, and an IPC namespace
 * joined must be shareable, as podman checks.
 */
function checkNamespaceJoins(root: string, opts: RunOptions): RunOptions {
  const modes = checkNamespaceOptions(opts);
  const out: RunOptions = { ...opts };
  for (const flag of NS_FLAGS) {
    const m = modes[flag];
    if (m.kind === "ns" && !existsSync(m.path))
      throw new PodError(`--${flag} ns:${m.path}: no such file or directory`, { hint: `give the path of a namespace file, e.g. /proc/PID/ns/${nsFile(flag)}` });
    if (m.kind !== "container") continue;
    const other = findContainer(root, m.target);
    if (flag === "ipc") {
      const theirs = namespaceModes(other.config?.opts ?? {}).ipc.kind;
      if (theirs === "private" || theirs === "none")
        throw new PodError(`joining IPC of container ${other.id} is not allowed: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`, {
          hint: `create ${other.name} with --ipc shareable (the default) to share its IPC namespace`,
        });
    }
    out[flag] = `container:${other.id}`;
  }
  return out;
}

/**
 * At create, --userns, --uidmap, --gidmap: the mode and maps are checked
 * against the storage mapping, and maps (like --userns) are refused where the
 * container runs in another's user namespace.
 */
function checkUserns(opts: RunOptions): void {
  containerIdMaps(storageMaps(), opts.userns, process.getuid!(), process.getgid!(), { uidmap: opts.uidmap, gidmap: opts.gidmap });
  const net = parseNetworkMode(opts.network);
  if (opts.userns && net.kind === "container")
    throw new UsageError(`--userns ${opts.userns} cannot be combined with --network ${opts.network}`, {
      hint: "the container runs in the other container's user namespace and keeps its id mapping: leave --userns out",
    });
  if (!opts.uidmap?.length && !opts.gidmap?.length) return;
  if (net.kind === "named")
    throw new UsageError(`--uidmap/--gidmap with --network ${opts.network} is not supported by pod yet`, { hint: "containers on user networks share the networks' user namespace: leave the maps out" });
  const joined = net.kind === "container" ? "network" : NS_FLAGS.find((f) => namespaceModes(opts)[f].kind === "container");
  if (joined)
    throw new UsageError(`--uidmap/--gidmap cannot be combined with --${joined} container:…`, { hint: "the container runs in the other container's user namespace and keeps its id mapping: leave the maps out" });
}

/** At create: the container named must exist (its ID is what the record keeps), the path must be there. */
export function checkJoinTarget(root: string, given: RunOptions): RunOptions {
  const opts = checkNamespaceJoins(root, given);
  checkUserns(opts);
  const mode = parseNetworkMode(opts.network);
  if (mode.kind === "named") {
    // by name in the record, however it was given; a missing network is run's error (125)
    const options: Record<string, NetworkOptions> = {};
    const names = mode.names.map((n) => {
      const found = findNetwork(root, n);
      if (!found) throw new PodError(`unable to find network with name or ID ${n}: network not found`, { hint: "`pod network ls` lists the networks; `pod network create NAME` makes one" });
      if (mode.options?.[n]) options[found.name] = mode.options[n]!;
      return found.name;
    });
    if (opts.ip !== undefined) {
      if (names.length !== 1) throw new PodError("--ip can only be set for a single network", { hint: "use --network NAME:ip=IP for each network instead" });
      options[names[0]!] = { ...options[names[0]!], aliases: options[names[0]!]?.aliases ?? [], ip: opts.ip };
    }
    if (opts.macAddress !== undefined) {
      const mac = requireMac(opts.macAddress, "--mac-address 92:d0:c6:0a:29:33");
      if (names.length !== 1) throw new PodError("--mac-address can only be set for a single network", { hint: "use --network NAME:mac=MAC for each network instead" });
      options[names[0]!] = { ...options[names[0]!], aliases: options[names[0]!]?.aliases ?? [], mac };
    }
    return { ...opts, ip: undefined, macAddress: undefined, network: formatNamed(names, options) };
  }
  if (mode.kind === "container") return { ...opts, network: `container:${findContainer(root, mode.target).id}` };
  if (mode.kind === "ns" && !existsSync(mode.path))
    throw new PodError(`--network ns:${mode.path}: no such file or directory`, { hint: "give the path of a network namespace, e.g. /run/netns/NAME or /proc/PID/ns/net" });
  return opts;
}

/** At start: the joined namespace's path, and what its container shares. */
export function joinTarget(root: string, opts: RunOptions): JoinTarget | undefined {
  const mode = parseNetworkMode(opts.network);
  if (mode.kind === "ns") return { path: mode.path };
  if (mode.kind !== "container") return undefined;
  const other = findContainer(root, mode.target);
  const status = statusOf(other);
  if (status !== "running" && status !== "paused")
    throw new PodError(`cannot join the network namespace of container ${other.name}: it is ${status === "created" ? "not running" : status}`, {
      hint: `start it first (pod start ${other.name})`,
    });
  const dir = containerDir(root, other.id);
  const read = (f: string) => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch {
      return undefined;
    }
  };
  const hosts = read("hosts");
  const hostAddress = /^(\S+)\thost\.containers\.internal/m.exec(hosts ?? "")?.[1];
  return { path: `/proc/${other.pid}/ns/net`, resolv: read("resolv.conf"), hosts, hostAddress };
}

/** The running container a namespace is joined from, or an error saying why it cannot be. */
function runningTarget(root: string, id: string, what: string) {
  const other = findContainer(root, id);
  const status = statusOf(other);
  if (status !== "running" && status !== "paused")
    throw new PodError(`cannot join the ${what} namespace of container ${other.name}: it is ${status === "created" ? "not running" : status}`, {
      hint: `start it first (pod start ${other.name})`,
    });
  return other;
}

/**
 * At start, --ipc/--pid/--uts/--cgroupns container:ID and ns:PATH: the
 * namespace files to join, and the hostname of a UTS namespace shared with
 * the host or joined from a container.
 */
export function namespaceJoins(root: string, opts: RunOptions, hostHostname: string): { joins: Partial<Record<NamespaceFlag, NamespaceSource>>; sharedHostname?: string } {
  const modes = namespaceModes(opts);
  const joins: Partial<Record<NamespaceFlag, NamespaceSource>> = {};
  let sharedHostname = modes.uts.kind === "host" ? hostHostname : undefined;
  const names: Record<NamespaceFlag, string> = { ipc: "IPC", pid: "PID", uts: "UTS", cgroupns: "cgroup" };
  for (const flag of NS_FLAGS) {
    const m = modes[flag];
    if (m.kind === "ns") joins[flag] = m.path as `/${string}`;
    if (m.kind !== "container") continue;
    const other = runningTarget(root, m.target, names[flag]);
    // the other's namespace is the host's (--pid host, …): that is shared, not joined (setns would need the host's rights)
    const theirs = namespaceModes(other.config?.opts ?? {})[flag].kind;
    joins[flag] = theirs === "host" ? "host" : `/proc/${other.pid}/ns/${nsFile(flag)}`;
    if (flag === "uts" && theirs === "host") {
      sharedHostname = hostHostname;
      continue;
    }
    if (flag === "uts") {
      try {
        sharedHostname = readFileSync(join(containerDir(root, other.id), "hostname"), "utf8").trim() || undefined;
      } catch {
        sharedHostname = other.id.slice(0, 12);
      }
    }
  }
  return { joins, sharedHostname };
}
