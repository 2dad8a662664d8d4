// A container's network: the mode of --network, the ports of -p, and for a
// rootless container in a namespace of its own the helper (pasta, else
// slirp4netns) that the native core attaches before the command runs.
import { join } from "node:path";
import { ensurePrivateDir } from "../config/index.ts";
import { confBool, confList, containersConfFiles } from "./conf.ts";
import { PodError, UsageError } from "../errors.ts";
import type { RunOptions } from "../runtime/index.ts";
import { parseNetworkMode, parsePublish, joinsOutside, slirpForwardsPorts, type NetworkMode, type PortMapping } from "./mode.ts";
import { attachBridge } from "./bridge.ts";
import { requireNetwork } from "./networks.ts";
import { attachUserNetworks } from "./usernet.ts";
import { chooseHelper, claimHostPorts, helperCommand, hostAddress, resolvConf, type HelperChoice, type HelperKind } from "./helpers.ts";

export { parseNetworkMode, parsePublish, parseMac, requireMac, formatPort, formatNamed, joinsOutside, slirpForwardsPorts, type NetworkMode, type NetworkOptions, type PortMapping, type Protocol } from "./mode.ts";
export { containersConfFiles } from "./conf.ts";
export { releaseBridge } from "./bridge.ts";
export { releaseUserNetworks, reloadUserNetworks, stopUserNetworks } from "./usernet.ts";
export { createNetwork, defaultNetwork, findNetwork, matchesNetworkFilter, networkNotFound, readNetworks, removeNetworkRecord, requireNetwork, DEFAULT_NETWORK, type NetworkRecord } from "./networks.ts";
export { addSlirpForwards, chooseHelper, claimHostPorts, resolvConf, type HelperKind } from "./helpers.ts";

/**
 * At create: the mode is checked and every -p parsed, host ports chosen
 * where none was given and checked free, so `port` and `ps` show them and a
 * port in use is an error before anything is recorded.
 */
export async function planPorts(opts: RunOptions, imageExposed: string[] = []): Promise<PortMapping[]> {
  const mode = parseNetworkMode(opts.network);
  const ports = (opts.publish ?? []).flatMap(parsePublish);
  if (opts.publishAll) {
    // -P: every port the image EXPOSEs and --expose names, each on a free host port
    for (const e of [...imageExposed, ...(opts.expose ?? [])])
      for (const p of parsePublish(e))
        if (!ports.some((q) => q.containerPort === p.containerPort && q.protocol === p.protocol)) ports.push({ ...p, hostPort: 0 });
  } else for (const e of opts.expose ?? []) parsePublish(e);
  if (opts.ip !== undefined && mode.kind !== "named")
    throw new UsageError("--ip can only be used with user networks (--network NAME)", { hint: "pod network create NAME, then --network NAME --ip IP" });
  if (opts.macAddress !== undefined && mode.kind !== "named")
    throw new UsageError("--mac-address can only be used with user networks (--network NAME)", { hint: "pod network create NAME, then --network NAME --mac-address MAC" });
  if (opts.networkAlias?.length && mode.kind !== "named")
    throw new UsageError("--network-alias can only be used with user networks (--network NAME)", { hint: "pod network create NAME, then --network NAME --network-alias ALIAS" });
  if (ports.length && !joinsOutside(mode))
    throw new UsageError(`-p cannot be used with --network ${opts.network}`, {
      hint: mode.kind === "host" ? "with --network host the container's ports are the host's already" : "leave out --network none, or -p",
    });
  return claimHostPorts(ports);
}

/** The namespace --network container:NAME or ns:PATH joins (pkg/container finds a container's), with what it shares. */
export type JoinTarget = { path: string; resolv?: string; hosts?: string; hostAddress?: string };

export type NetworkSetup = {
  mode: "host" | "none" | "helper" | "bridge" | "join" | "usernet";
  /** the network namespace to join */
  join?: string;
  helper?: { kind: HelperKind; command: string[]; apiSocket: string };
  /** root's bridge: the veth's oneshot command and the address the container got */
  bridge?: { command: string[]; ip: string; gateway: string; prefix: number; name: string };
  /** user networks: the veths' oneshot command and each address */
  usernet?: { command: string[]; addresses: { network: string; ip: string; gateway: string; prefix: number; bridge: string }[] };
  resolv: string;
  /** --network container:NAME: the other container's /etc/hosts, which the joining one shares */
  hosts?: string;
  hostAddress?: string;
};

export type NetworkFiles = { dir: string; pidFile: string; logFile: string; apiSocket: string; probeCache: string };

/** The files of a container's network helper, in its runtime dir. */
export function networkFiles(runtimeDir: string, id: string, runroot: string): NetworkFiles {
  // A unix socket path holds at most 107 bytes: a long runtime dir moves the socket to a short private dir.
  let apiSocket = join(runtimeDir, "slirp4netns.sock");
  if (Buffer.byteLength(apiSocket) > 100) apiSocket = join(ensurePrivateDir(`/tmp/pod-sock-${process.getuid?.() ?? 0}`), `${id.slice(0, 16)}.sock`);
  return { dir: runtimeDir, pidFile: join(runtimeDir, "net.pid"), logFile: join(runtimeDir, "net.log"), apiSocket, probeCache: join(runroot, "pasta-help") };
}

/**
 * What a start of the container needs: its helper's command line (as root,
 * its place on the bridge), its resolv.conf and where it reaches the host.
 * `avoid` skips a helper that just failed (pasta on a host without a usable
 * external interface), so the default mode falls back to slirp4netns.
 */
export async function networkSetup(
  id: string,
  opts: RunOptions,
  hostResolv: string,
  files: NetworkFiles,
  avoid?: HelperKind,
  join?: JoinTarget,
  slirpPath?: string,
  where?: { root: string; runroot: string; name: string },
): Promise<NetworkSetup> {
  const mode: NetworkMode = parseNetworkMode(opts.network);
  const conf = containersConfFiles();
  // --dns and friends, else containers.conf's [containers] dns_servers, dns_searches, dns_options
  const either = (flag: string[] | undefined, key: string) => (flag?.length ? flag : (confList(conf, "containers", key) ?? []));
  const dns = { servers: either(opts.dns, "dns_servers"), search: either(opts.dnsSearch, "dns_searches"), options: either(opts.dnsOption, "dns_options") };
  if (mode.kind === "host") return { mode: "host", resolv: hostResolv };
  if (mode.kind === "none") return { mode: "none", resolv: resolvConf(hostResolv, undefined, dns) };
  if (mode.kind === "container" || mode.kind === "ns") {
    if (!join) throw new PodError(`--network ${opts.network}: no namespace to join`, { hint: "this is a bug in pod" });
    // another container's network: its resolv.conf, /etc/hosts and way to the host, as podman shares them
    return { mode: "join", join: join.path, resolv: join.resolv ?? resolvConf(hostResolv, undefined, dns), hosts: join.hosts, hostAddress: join.hostAddress };
  }
  if (mode.kind === "named") {
    if (!where) throw new PodError(`--network ${opts.network}: no store to find the network in`, { hint: "this is a bug in pod" });
    if (opts.userns) throw new UsageError(`--userns ${opts.userns} with --network ${opts.network} is not supported by pod yet`, { hint: "containers on user networks share the networks' user namespace: leave --userns out" });
    const networks = mode.names.map((n) => requireNetwork(where.root, n));
    const wants = mode.names.map((n) => ({
      ip: mode.options?.[n]?.ip,
      mac: mode.options?.[n]?.mac,
      interfaceName: mode.options?.[n]?.interfaceName,
      aliases: [...(opts.networkAlias ?? []), ...(mode.options?.[n]?.aliases ?? [])],
    }));
    const named = wants.map((w, i) => w.interfaceName ?? `eth${i}`);
    if (new Set(named).size !== named.length) throw new UsageError(`--network ${opts.network}: two networks would both be interface ${named.find((x, i) => named.indexOf(x) !== i)}`, { hint: "give each network its own interface_name=" });
    const u = await attachUserNetworks(where.runroot, { id, name: where.name }, networks.map((n, i) => ({ network: n, ...wants[i]! })), files, hostResolv, dns, opts.ports ?? []);
    return { mode: "usernet", join: u.join, usernet: { command: u.command, addresses: u.addresses }, resolv: u.resolv };
  }
  if (mode.kind === "bridge") {
    const b = await attachBridge(id, opts.ports ?? [], files);
    return {
      mode: "bridge",
      bridge: { command: b.command, ip: b.ip, gateway: b.gateway, prefix: b.prefix, name: b.bridge },
      resolv: resolvConf(hostResolv, "bridge", dns),
      hostAddress: b.gateway,
    };
  }
  let choice: HelperChoice = chooseHelper(mode, conf, undefined, slirpPath);
  if (avoid === choice.kind && mode.kind === "default")
    choice = chooseHelper({ kind: avoid === "pasta" ? "slirp4netns" : "pasta", ...(avoid === "pasta" ? { opts: choice.slirp } : { args: [] }) } as NetworkMode, [], undefined, slirpPath);
  return {
    mode: "helper",
    helper: { kind: choice.kind, command: helperCommand(choice, opts.ports ?? [], files, hostResolv), apiSocket: files.apiSocket },
    resolv: resolvConf(hostResolv, choice.kind, dns),
    hostAddress: hostAddress(choice),
  };
}

/** --no-hosts, else containers.conf's [containers] no_hosts. */
export const noHosts = (opts: RunOptions) => opts.noHosts ?? confBool(containersConfFiles(), "containers", "no_hosts") ?? false;

/** Whether a failed helper may be retried with the other one: only the default mode chooses for the user. */
export const mayFallBack = (opts: RunOptions) => parseNetworkMode(opts.network).kind === "default";
