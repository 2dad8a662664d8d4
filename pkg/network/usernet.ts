// Rootless user networks: one network namespace per user (and runroot) that
// holds a bridge per network in use, as podman's rootless netns does. Its
// keeper (`pod _netns-keeper`, a daemon in a user namespace with the storage
// maps) owns the namespace, answers DNS for the containers on its bridges
// and ends, with the pasta that gives the namespace outbound access, once no
// container is attached. A container on a user network runs in the
// keeper's user namespace with a network namespace of its own (core.c "+"
// mode), joined to its bridges by veth pairs the native core's oneshot
// command makes; its addresses are leases in a file under a lock.
//
// As root the networks are bridges on the host, as netavark makes them: the
// keeper runs in the host's network namespace (no outbound helper: the
// host routes), answers DNS on each network's gateway address only, and one
// nftables table of pod's (`inet pod_networks`) masquerades each network and
// keeps networks apart; the bridges pod made go with their last container.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import { log } from "../output/index.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { withLock } from "../store/lock.ts";
import { pidAlive, processStartTime } from "../store/leftovers.ts";
import { selfCommand, startNetworkNamespaceDaemon } from "../userns/index.ts";
import { findOnPath, nameservers, pastaOffers, PASTA_DNS_FORWARD, resolvConf } from "./helpers.ts";
import { addressRange, bridgeMtu, ipv6Of, routeMetric, toIp, toInt, type NetworkRecord } from "./networks.ts";
import { isIPv4 } from "node:net";
import { SEARCH_DOMAIN } from "./dns.ts";
import { BRIDGE_NAME, dnatRule, publishedChains, sysctl } from "./bridge.ts";
import type { PortMapping } from "./mode.ts";

/** One container's place on one network. */
export type UserLease = {
  id: string;
  name: string;
  aliases: string[];
  network: string;
  bridge: string;
  internal: boolean;
  dns: boolean;
  ip: string;
  /** the container side's MAC address: mac= or --mac-address, else one derived from the container and network */
  mac?: string;
  gateway: string;
  prefix: number;
  veth: string;
  /** the container side's interface name (interface_name=), else eth<n> */
  iface?: string;
  /** --ipv6 networks: the container's IPv6 address and the bridge's (a /64) */
  ip6?: string;
  gateway6?: string;
  /** the network's --opt mtu= and metric= */
  mtu?: number;
  metric?: number;
  /** as root, on the container's first network: its published ports, DNAT rules on the host */
  ports?: PortMapping[];
  /** the container's first process once it runs: a new keeper joins it again after a crash */
  pid?: number;
  pidStart?: number;
  /** the pod that took the lease: it counts as alive until the veth exists */
  owner: number;
  ownerStart?: number;
};

/** The keeper and its outbound helper (pasta; slirp4netns as root). */
export type KeeperState = { pid: number; start?: number; helper?: { pid: number; start?: number } };

export const stateDir = (runroot: string) => join(runroot, "networks");
export const usernetLock = (dir: string) => join(dir, "usernet.lock");
const leaseFile = (dir: string) => join(dir, "leases.json");
const keeperFile = (dir: string) => join(dir, "keeper.json");
export const readyFile = (dir: string) => join(dir, "keeper.ready");
export const upstreamFile = (dir: string) => join(dir, "upstream.json");
/** the addresses the keeper answers DNS on now */
export const dnsReadyFile = (dir: string) => join(dir, "dns.json");
/** the outbound helper's interface in the shared namespace */
export const TAP = "tap0";
export const NFT_TABLE = "pod";
/** as root: the host's table for the user networks' bridges (root's default bridge pod0 has `inet pod`) */
export const HOST_NFT_TABLE = "pod_networks";
const hostBridgesFile = (dir: string) => join(dir, "bridges.json");

function readJson<T>(path: string, fallback: T): T {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch {
    return fallback;
  }
}

export const readLeases = (dir: string) => readJson<UserLease[]>(leaseFile(dir), []);
export const readKeeper = (dir: string) => readJson<KeeperState | undefined>(keeperFile(dir), undefined);

const sameProcess = (p: { pid: number; start?: number } | undefined) => p !== undefined && pidAlive(p.pid) && processStartTime(p.pid) === p.start;

/** The interfaces of the keeper's namespace (from any process: /proc/PID/net is that process's namespace). */
export function interfacesOf(pid: number | "self"): Set<string> {
  try {
    const lines = readFileSync(`/proc/${pid}/net/dev`, "utf8").split("\n").slice(2);
    return new Set(lines.map((l) => l.split(":")[0]!.trim()).filter(Boolean));
  } catch {
    return new Set();
  }
}

export function leaseAlive(l: UserLease, ifaces: Set<string>): boolean {
  if (ifaces.has(l.veth)) return true;
  return l.ownerStart !== undefined && processStartTime(l.owner) === l.ownerStart;
}

/** The host end of a container's veth on its n-th network (IFNAMSIZ: 15 bytes). */
export const userVethName = (id: string, n: number) => `veth${id.slice(0, 9)}${n}`;

/** The whole `inet pod` table of the shared namespace: networks do not reach each other; internal ones reach nothing outside. */
export function userRuleset(leases: UserLease[]): string {
  const bridges = [...new Map(leases.map((l) => [l.bridge, l.internal])).entries()].sort();
  return [
    `table inet ${NFT_TABLE} {}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    "  chain forward {",
    "    type filter hook forward priority filter; policy drop;",
    "    ct state established,related accept",
    // within one network (bridged frames pass here too where br_netfilter is loaded)
    ...bridges.map(([b]) => `    iifname "${b}" oifname "${b}" accept`),
    ...bridges.filter(([, internal]) => !internal).map(([b]) => `    iifname "${b}" oifname "${TAP}" accept`),
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    oifname "${TAP}" masquerade`,
    "  }",
    "}",
    "",
  ].join("\n");
}

const subnetOf = (l: UserLease) => {
  const size = 2 ** (32 - l.prefix);
  return `${toIp(toInt(l.gateway) - (toInt(l.gateway) % size))}/${l.prefix}`;
};

/**
 * As root, the `inet pod_networks` table on the host: each network's
 * containers reach each other and (unless internal) the outside, masqueraded;
 * nothing new comes in from another network, root's pod0 or elsewhere; an
 * internal network reaches only itself. Base chains with policy accept: the
 * host's other rules still apply.
 */
export function hostRuleset(leases: UserLease[]): string {
  const nets = [...new Map(leases.map((l) => [l.bridge, l])).values()].sort((a, b) => a.bridge.localeCompare(b.bridge));
  return [
    `table inet ${HOST_NFT_TABLE} {}`,
    `delete table inet ${HOST_NFT_TABLE}`,
    `table inet ${HOST_NFT_TABLE} {`,
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    ...nets.flatMap((l) => [
      `    iifname "${l.bridge}" oifname "${l.bridge}" accept`,
      `    oifname "${l.bridge}" ct state established,related ${l.internal ? "drop" : "accept"}`,
      // published ports (DNAT) come in from anywhere
      `    oifname "${l.bridge}" ct status dnat accept`,
      `    oifname "${l.bridge}" drop`,
      // nor out to root's default bridge (whose own table lets everything through)
      `    iifname "${l.bridge}" oifname "${BRIDGE_NAME}" drop`,
      ...(l.internal ? [`    iifname "${l.bridge}" drop`] : []),
    ]),
    "  }",
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    ...nets.filter((l) => !l.internal).map((l) => `    ip saddr ${subnetOf(l)} ip daddr != ${subnetOf(l)} masquerade`),
    ...nets.filter((l) => !l.internal && l.gateway6).map((l) => `    ip6 saddr ${l.gateway6!.replace(/1$/, "")}/64 ip6 daddr != ${l.gateway6!.replace(/1$/, "")}/64 masquerade`),
    // the host's own loopback clients of a published port (route_localnet lets them out to the bridge)
    ...nets.map((l) => `    oifname "${l.bridge}" ip saddr 127.0.0.0/8 masquerade`),
    "  }",
    ...publishedChains(leases.flatMap((l) => (l.ports ?? []).map((p) => dnatRule(p, l.ip)))),
    "}",
    "",
  ].join("\n");
}

function tool(name: string, pkg: string): string {
  const p = findOnPath(name, `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`);
  if (!p) throw new PodError(`user networks need ${name}, which is not installed (not found in $PATH)`, { hint: `install it (sudo apt-get install ${pkg}), or use the default network` });
  return p;
}

/** Runs argv as root of the keeper's namespaces (nsenter into its user and network namespace). */
const asRoot = () => (process.getuid?.() ?? 1) === 0;

/** nsenter into the keeper: its network namespace, and rootless its user namespace (as root it has none of its own). */
const enterKeeper = (keeper: number) => [tool("nsenter", "util-linux"), "-t", String(keeper), ...(asRoot() ? [] : ["-U"]), "-n", "--"];

function inKeeper(keeper: number, argv: string[], input?: string): void {
  const r = Bun.spawnSync([...enterKeeper(keeper), ...argv], {
    stdin: input === undefined ? "ignore" : Buffer.from(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0)
    throw new PodError(`setting up the user network namespace: ${argv.join(" ")}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`, {
      hint: "user networks need nsenter, ip (iproute2) and nft (nftables); `pod doctor` checks the rest",
    });
}

/** The outbound helper of the shared namespace (rootless): pasta. */
function startOutbound(keeper: number, dir: string, pasta: string, dnsForward: boolean): { pid: number; start?: number } {
  {
    const pidFile = join(dir, "helper.pid");
    rmSync(pidFile, { force: true });
    const args = ["--config-net", "-q", "-P", pidFile, "-I", TAP, "-t", "none", "-u", "none", "-T", "none", "-U", "none"];
    if (dnsForward) args.push("--dns-forward", PASTA_DNS_FORWARD);
    const r = Bun.spawnSync([pasta!, ...args, String(keeper)], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const pid = Number(readJson<number>(pidFile, 0));
    if (r.exitCode !== 0 || !pid)
      throw new PodError(`starting pasta for the user networks: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`, {
        hint: "pasta needs /dev/net/tun read-writable by you (sudo chmod 666 /dev/net/tun); `pod doctor` checks it",
      });
    return { pid, start: processStartTime(pid) };
  }
}

/**
 * Where the keeper sends names it does not know, from inside the shared
 * namespace: the host's resolvers, a loopback or link-local one
 * (systemd-resolved's 127.0.0.53, a router's fe80::1%eth0: neither is on
 * the namespace's link) through pasta's DNS forwarder when it has one.
 */
export function keeperUpstreams(hostResolv: string, dnsForward: boolean): string[] {
  const host = nameservers(hostResolv);
  const unreachable = (s: string) => s.startsWith("127.") || s === "::1" || /^fe[89ab][0-9a-f]:/i.test(s);
  const out = host.filter((s) => !unreachable(s));
  return dnsForward && host.some(unreachable) ? [PASTA_DNS_FORWARD, ...out] : out;
}

/** Starts the keeper and its outbound helper, and sets the namespace up; returns the keeper's state. */
async function startKeeper(dir: string, runroot: string, hostResolv: string, joinUsernsOf?: number): Promise<KeeperState> {
  const pasta = asRoot() ? undefined : findOnPath("pasta");
  if (!pasta && !asRoot())
    throw new PodError("user networks need pasta for outbound access, and it is not installed (not found in $PATH)", {
      hint: "install it (sudo apt-get install passt), or use the default network",
    });
  const ip = tool("ip", "iproute2");
  tool("nft", "nftables");
  // the keeper forwards what it does not know to the resolvers a pasta container would use (slirp4netns's own as root)
  const dnsForward = !asRoot() && nameservers(hostResolv).some((s) => s.startsWith("127.") || s === "::1" || /^fe[89ab][0-9a-f]:/i.test(s)) && pastaOffers(pasta!, "--dns-forward", join(runroot, "pasta-help"));
  // as root the keeper is on the host: the host's own resolvers, loopback ones too
  const upstream = asRoot() ? nameservers(hostResolv) : keeperUpstreams(hostResolv, dnsForward);
  writeFileAtomic(upstreamFile(dir), JSON.stringify(upstream), 0o600);
  rmSync(readyFile(dir), { force: true });
  const argv = [...selfCommand(), "_netns-keeper", dir];
  if (asRoot()) {
    // root needs no namespace at all: the keeper runs on the host, in a session of its own, detached
    Bun.spawn([tool("setsid", "util-linux"), ...argv], { stdio: ["ignore", "ignore", "ignore"], env: process.env }).unref();
  } else await startNetworkNamespaceDaemon(argv, { runroot, env: process.env }, joinUsernsOf);
  let pid = 0;
  for (let i = 0; i < 500 && !pid; i++) {
    const t = readJson<{ pid?: number }>(readyFile(dir), {});
    if (t.pid && pidAlive(t.pid)) pid = t.pid;
    else await Bun.sleep(10);
  }
  if (!pid) throw new PodError("the user networks' namespace keeper did not start", { hint: `its log is ${join(dir, "keeper.log")}; run the command again with --log-level debug` });
  const keeper: KeeperState = { pid, start: processStartTime(pid) };
  try {
    if (asRoot()) {
      // the host routes for its bridges, as it does for pod0 (netavark sets the same)
      sysctl("net.ipv4.ip_forward", "1");
    } else {
      // the namespace is the keeper's own: forwarding on for both families there
      inKeeper(pid, ["/bin/sh", "-c", `"$1" link set lo up && echo 1 > /proc/sys/net/ipv4/ip_forward && { echo 1 > /proc/sys/net/ipv6/conf/all/forwarding || true; }`, "sh", ip]);
      keeper.helper = startOutbound(pid, dir, pasta!, dnsForward);
    }
  } catch (e) {
    process.kill(pid, "SIGTERM");
    throw e;
  }
  return keeper;
}

/** Stops what a keeper left: its outbound helper (and the keeper itself, if asked). */
export function stopKeeper(k: KeeperState | undefined, alsoKeeper: boolean): void {
  if (!k) return;
  for (const p of alsoKeeper ? [k.helper, k] : [k.helper])
    if (sameProcess(p))
      try {
        process.kill(p!.pid, "SIGTERM");
      } catch {
        // gone meanwhile
      }
}

async function locked<T>(dir: string, fn: () => Promise<T> | T): Promise<T> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return withLock(usernetLock(dir), "write", fn);
}

/** Rewrites the shared namespace's bridges and rules for these leases (under the lock). */
function applyLeases(dir: string, keeper: number, leases: UserLease[]): void {
  const have = interfacesOf(keeper);
  let batch = "";
  for (const l of new Map(leases.map((l) => [l.bridge, l])).values()) {
    if (have.has(l.bridge)) continue;
    have.add(l.bridge);
    batch += `link add ${l.bridge}${l.mtu ? ` mtu ${l.mtu}` : ""} type bridge\naddr add ${l.gateway}/${l.prefix} dev ${l.bridge}\n`;
    if (l.gateway6) batch += `addr add ${l.gateway6}/64 dev ${l.bridge} nodad\n`;
    batch += `link set ${l.bridge} up\n`;
  }
  if (asRoot()) {
    // on the host: the bridges pod made and no container uses any more go (a foreign podmanN is never touched)
    const used = new Set(leases.map((l) => l.bridge));
    const made = readJson<string[]>(hostBridgesFile(dir), []);
    for (const b of made) if (!used.has(b) && have.has(b)) batch += `link del ${b}\n`;
    writeFileAtomic(hostBridgesFile(dir), JSON.stringify([...new Set([...made.filter((b) => used.has(b)), ...used])]), 0o600);
  }
  if (batch) inKeeper(keeper, [tool("ip", "iproute2"), "-batch", "-"], batch);
  // a published port's clients on the host's loopback are routed out to the bridge
  if (asRoot()) for (const b of new Set(leases.filter((l) => l.ports?.length).map((l) => l.bridge))) sysctl(`net.ipv4.conf.${b}.route_localnet`, "1");
  inKeeper(keeper, [tool("nft", "nftables"), "-f", "-"], asRoot() ? hostRuleset(leases) : userRuleset(leases));
  writeFileAtomic(leaseFile(dir), JSON.stringify(leases, null, 1), 0o600);
  if (asRoot()) signalKeeper(dir);
}

/** As root, once no container is on a user network: the host's bridges of pod's and its table go. */
export function clearHostNetworks(dir: string): void {
  if (!asRoot() || !existsSync(hostBridgesFile(dir))) return;
  const have = interfacesOf("self");
  const gone = readJson<string[]>(hostBridgesFile(dir), []).filter((b) => have.has(b));
  const ip = findOnPath("ip", `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`);
  const nft = findOnPath("nft", `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`);
  if (ip && gone.length) Bun.spawnSync([ip, "-batch", "-"], { stdin: Buffer.from(gone.map((b) => `link del ${b}\n`).join("")), stdout: "ignore", stderr: "ignore" });
  if (nft) Bun.spawnSync([nft, "-f", "-"], { stdin: Buffer.from(`table inet ${HOST_NFT_TABLE} {}\ndelete table inet ${HOST_NFT_TABLE}\n`), stdout: "ignore", stderr: "ignore" });
  rmSync(hostBridgesFile(dir), { force: true });
}

/** As root the keeper answers DNS on each network's gateway: SIGHUP tells it the bridges changed. */
function signalKeeper(dir: string): void {
  const k = readKeeper(dir);
  if (k && sameProcess(k))
    try {
      process.kill(k.pid, "SIGHUP");
    } catch {
      // gone meanwhile: the next command starts another
    }
}

export type UserNetworkAttachment = {
  /** core.c's P_NEW_NET: "+" and the keeper's network namespace */
  join: string;
  command: string[];
  addresses: UserAddress[];
  resolv: string;
};

// The oneshot, as root of the keeper's namespaces: a veth pair per network with its far end
// (eth<first>, eth<first+1>, …) in the container's namespace, then the container's side set up from inside.
const ATTACH_SCRIPT =
  'set -e; ip=$1; nsenter=$2; pid=$3; batch=$4; shift 4; while [ $# -gt 0 ]; do "$ip" link add "$1" mtu "$3" type veth peer name "$4" mtu "$3" netns "$pid"; "$ip" link set "$1" master "$2" up; shift 4; done; exec "$nsenter" -t "$pid" -n "$ip" -batch "$batch"';

export type UserAddress = { network: string; ip: string; ip6?: string; gateway6?: string; mac?: string; gateway: string; prefix: number; bridge: string };

/** Takes an address on each network for the container, its interfaces numbered from `first` (under the lock). */
/** One network a container joins, with the address (--ip, ip=) and the aliases it asks for there. */
export type NetworkWant = { network: NetworkRecord; ip?: string; mac?: string; interfaceName?: string; aliases: string[] };

/** A stable, locally administered unicast MAC for a container on a network (netavark lets the kernel pick one at random; a fixed one is what inspect can show). */
export function derivedMac(id: string, network: string): string {
  const h = new Bun.CryptoHasher("sha256").update(`${id}/${network}`).digest();
  h[0] = (h[0]! & 0xfc) | 0x02;
  return [...h.subarray(0, 6)].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The address a container gets on n: the one it asks for, if free and in the range, else the lowest free one. */
export function chooseAddress(n: NetworkRecord, used: Set<string>, wanted?: string): string {
  const r = addressRange(n);
  if (wanted !== undefined) {
    if (!isIPv4(wanted) || toInt(wanted) < r.first || toInt(wanted) > r.last || wanted === r.gateway)
      throw new PodError(`requested ip address ${wanted} is not in the range of network ${n.name} (${n.subnets[0]!.subnet}, gateway ${r.gateway})`, { hint: "pick an address inside the network's subnet, or leave --ip out" });
    if (used.has(wanted)) throw new PodError(`requested ip address ${wanted} is already allocated to another container on network ${n.name}`, { hint: "pick another address, or leave --ip out" });
    return wanted;
  }
  for (let a = r.first; a <= r.last; a++) if (toIp(a) !== r.gateway && !used.has(toIp(a))) return toIp(a);
  throw new PodError(`no free address left in ${n.subnets[0]!.subnet} for another container on network ${n.name}`, { hint: "remove containers you no longer need, or create a network with a larger --subnet" });
}

function leaseOn(dir: string, keeper: KeeperState, c: { id: string; name: string }, wants: NetworkWant[], first: number, keepOwn: boolean, ports: PortMapping[] = []): UserLease[] {
  const ifaces = interfacesOf(keeper.pid);
  const leases = readLeases(dir).filter((l) => (keepOwn || l.id !== c.id) && leaseAlive(l, ifaces));
  // DNAT rules do not bind: a host port another container publishes must be refused here
  for (const p of ports)
    for (const l of leases)
      if ((l.ports ?? []).some((q) => q.protocol === p.protocol && q.hostPort === p.hostPort && (!q.hostIp || !p.hostIp || q.hostIp === p.hostIp)))
        throw new PodError(`cannot publish ${p.hostIp || "0.0.0.0"}:${p.hostPort}/${p.protocol}: address already in use by container ${l.name}`, {
          hint: "pick another host port, or leave it out (-p CONTAINER_PORT) to get a free one",
        });
  const mine: UserLease[] = wants.map(({ network: n, ip, mac, interfaceName, aliases }, i) => {
    const r = addressRange(n);
    const chosen = chooseAddress(n, new Set(leases.filter((l) => l.network === n.name).map((l) => l.ip)), ip);
    const v6 = ipv6Of(n, chosen);
    return {
      id: c.id,
      name: c.name,
      aliases,
      network: n.name,
      bridge: n.network_interface,
      internal: n.internal,
      dns: n.dns_enabled,
      ip: chosen,
      mac: mac ?? derivedMac(c.id, n.name),
      gateway: r.gateway,
      prefix: r.prefix,
      veth: userVethName(c.id, first + i),
      ...(interfaceName ? { iface: interfaceName } : {}),
      ...(v6 ? { ip6: v6.ip, gateway6: v6.gateway } : {}),
      ...(bridgeMtu(n) ? { mtu: bridgeMtu(n) } : {}),
      ...(routeMetric(n) !== undefined ? { metric: routeMetric(n) } : {}),
      ...(i === 0 && first === 0 && ports.length ? { ports } : {}),
      owner: process.pid,
      ownerStart: processStartTime(process.pid),
    };
  });
  const all = [...leases, ...mine];
  applyLeases(dir, keeper.pid, all);
  return mine;
}

const ifaceOf = (l: UserLease, n: number) => l.iface ?? `eth${n}`;

/** The container side of its interfaces eth<first>…: addresses, and the default route through the first network that has one out. */
function containerBatch(leases: UserLease[], first: number, withRoute: boolean): string {
  let b = first === 0 ? "link set lo up\n" : "";
  leases.forEach((a, i) => {
    const dev = ifaceOf(a, first + i);
    b += `addr add ${a.ip}/${a.prefix} dev ${dev}\n${a.ip6 ? `addr add ${a.ip6}/64 dev ${dev} nodad\n` : ""}${a.mac ? `link set ${dev} address ${a.mac}\n` : ""}link set ${dev} up\n`;
  });
  const routed = leases.find((l) => !l.internal);
  const metric = routed?.metric !== undefined ? ` metric ${routed.metric}` : "";
  if (withRoute && routed) b += `route add default via ${routed.gateway}${metric}\n`;
  if (withRoute && routed?.gateway6) b += `route add ::/0 via ${routed.gateway6}${metric}\n`;
  return b;
}

const toAddresses = (mine: UserLease[]): UserAddress[] =>
  mine.map((l) => ({ network: l.network, ip: l.ip, ...(l.ip6 ? { ip6: l.ip6, gateway6: l.gateway6 } : {}), mac: l.mac, gateway: l.gateway, prefix: l.prefix, bridge: l.bridge }));

const attachArgv = (keeper: number, batch: string, first: number, mine: UserLease[], pid: string) => {
  return [...enterKeeper(keeper), "/bin/sh", "-c", ATTACH_SCRIPT, "sh", tool("ip", "iproute2"), tool("nsenter", "util-linux"), pid, batch, ...mine.flatMap((l, i) => [l.veth, l.bridge, String(l.mtu ?? 1500), ifaceOf(l, first + i)])];
};

/**
 * The keeper, started when none runs. After a crash (the keeper killed with
 * -9) the containers still running on user networks are joined again: the
 * new keeper starts in their user namespace, the old namespace goes with its
 * pasta, and each gets its veths back with the addresses it had.
 */
async function liveKeeper(dir: string, runroot: string, hostResolv: string): Promise<KeeperState> {
  const old = readKeeper(dir);
  if (old && sameProcess(old)) return old;
  const survivors = readLeases(dir).filter((l) => l.pid !== undefined && sameProcess({ pid: l.pid, start: l.pidStart }));
  stopKeeper(old, false);
  rmSync(keeperFile(dir), { force: true });
  rmSync(leaseFile(dir), { force: true });
  const fresh = await startKeeper(dir, runroot, hostResolv, asRoot() ? undefined : survivors[0]?.pid);
  writeFileAtomic(keeperFile(dir), JSON.stringify(fresh), 0o600);
  if (!survivors.length) return fresh;
  applyLeases(dir, fresh.pid, survivors);
  const ifaces = interfacesOf(fresh.pid);
  for (const [id, mine] of Map.groupBy(survivors, (l) => l.id)) {
    // as root the veths are on the host's bridges and outlive a keeper: nothing to join again
    if (mine.every((l) => ifaces.has(l.veth))) continue;
    const batch = join(dir, `rejoin-${id.slice(0, 12)}.batch`);
    writeFileAtomic(batch, containerBatch(mine, 0, true).replace("link set lo up\n", ""), 0o600);
    // The container's old interfaces go only when the kernel has torn the dead namespace down (asynchronously,
    // after its pasta ended): until then their names are taken ("File exists"), so the join is tried again.
    const attach = () => Bun.spawnSync(attachArgv(fresh.pid, batch, 0, mine, String(mine[0]!.pid)), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    let r = attach();
    for (let tries = 0; r.exitCode !== 0 && r.stderr.toString().includes("File exists") && tries < 60; tries++) {
      await Bun.sleep(50);
      r = attach();
    }
    rmSync(batch, { force: true });
    if (r.exitCode !== 0) {
      log.warn(`container ${id.slice(0, 12)} could not be joined to the rebuilt user networks: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`);
      writeFileAtomic(leaseFile(dir), JSON.stringify(readLeases(dir).filter((l) => l.id !== id), null, 1), 0o600);
    }
  }
  return fresh;
}

/** Notes the container's first process on its leases once it runs (what a rebuilt namespace joins). */
export async function noteUserNetworkPid(runroot: string, id: string, pid: number): Promise<void> {
  const dir = stateDir(runroot);
  await locked(dir, () => {
    const leases = readLeases(dir);
    if (!leases.some((l) => l.id === id)) return;
    writeFileAtomic(leaseFile(dir), JSON.stringify(leases.map((l) => (l.id === id ? { ...l, pid, pidStart: processStartTime(pid) } : l)), null, 1), 0o600);
  });
}

/**
 * Leases the container an address on each network (starting the shared
 * namespace when it is the first) and returns how the native core puts it
 * there. `hostResolv` gives the keeper its upstream resolvers.
 */
export async function attachUserNetworks(
  runroot: string,
  c: { id: string; name: string },
  wants: NetworkWant[],
  files: { dir: string; logFile: string },
  hostResolv: string,
  dns: { servers: string[]; search: string[]; options: string[] },
  ports: PortMapping[] = [],
): Promise<UserNetworkAttachment> {
  const dir = stateDir(runroot);
  const { keeper, mine } = await locked(dir, async () => {
    const keeper = await liveKeeper(dir, runroot, hostResolv);
    // as root -p is DNAT on the host (netavark's way); rootless the container's owner forwards (pkg/container/publish.ts)
    return { keeper, mine: leaseOn(dir, keeper, c, wants, 0, false, asRoot() ? ports : []) };
  });
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const batch = join(files.dir, "netns.batch");
  const addresses = toAddresses(mine);
  writeFileAtomic(batch, containerBatch(mine, 0, true), 0o600);
  // DNS: the responder on the first network that has it (podman's aardvark-dns), else the resolvers a pasta container gets
  const dnsAt = addresses.find((_, i) => wants[i]!.network.dns_enabled);
  // as root the keeper binds a new network's gateway once told: the container's first query must find it there
  for (let i = 0; i < 200 && asRoot() && dnsAt && !readJson<string[]>(dnsReadyFile(dir), []).includes(dnsAt.gateway); i++) await Bun.sleep(10);
  const hostSearch = resolvConf(hostResolv, undefined, { servers: [], search: [], options: [] });
  const resolv = dns.servers.length || !dnsAt
    ? resolvConf(hostResolv, asRoot() ? "bridge" : "pasta", dns)
    : resolvConf(hostSearch, undefined, { servers: [dnsAt.gateway], search: dns.search.length ? dns.search : [SEARCH_DOMAIN, ...searchOf(hostResolv)], options: dns.options });
  return { join: `+/proc/${keeper.pid}/ns/net`, command: ["oneshot", "", files.logFile, ...attachArgv(keeper.pid, batch, 0, mine, "@PID@")], addresses, resolv };
}

/** `network connect` of a running container: one more veth (eth<first>) into its namespace now. */
export async function connectRunning(runroot: string, c: { id: string; name: string; pid: number }, want: NetworkWant, scratch: string): Promise<UserAddress> {
  const dir = stateDir(runroot);
  return locked(dir, () => {
    const keeper = readKeeper(dir);
    if (!keeper || !sameProcess(keeper))
      throw new PodError(`cannot connect container ${c.name}: the user networks' namespace it was on is gone`, { hint: `restart it (pod restart ${c.name}) and connect it again` });
    // the next interface number after the ones it has (a disconnect leaves a gap)
    const first = 1 + Math.max(-1, ...readLeases(dir).filter((l) => l.id === c.id).map((l) => Number(l.veth.slice(13))));
    const network = want.network;
    const mine = leaseOn(dir, keeper, c, [want], first, true);
    const [address] = toAddresses(mine);
    const batch = join(scratch, `netns-${first}.batch`);
    writeFileAtomic(batch, containerBatch(mine, first, false), 0o600);
    const r = Bun.spawnSync(attachArgv(keeper.pid, batch, first, mine, String(c.pid)), { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) {
      writeFileAtomic(leaseFile(dir), JSON.stringify(readLeases(dir).filter((l) => l.veth !== mine[0]!.veth), null, 1), 0o600);
      throw new PodError(`connecting container ${c.name} to network ${network.name}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`, { hint: "the container may have just stopped; check pod ps" });
    }
    return address!;
  });
}

/** `network disconnect` of a running container: its veth on that network goes (the kernel removes the pair), and the lease. */
export async function disconnectRunning(runroot: string, id: string, network: string): Promise<void> {
  const dir = stateDir(runroot);
  await locked(dir, () => {
    const keeper = readKeeper(dir);
    const leases = readLeases(dir);
    const gone = leases.filter((l) => l.id === id && l.network === network);
    if (keeper && sameProcess(keeper)) for (const l of gone) if (interfacesOf(keeper.pid).has(l.veth)) inKeeper(keeper.pid, [tool("ip", "iproute2"), "link", "del", l.veth]);
    writeFileAtomic(leaseFile(dir), JSON.stringify(leases.filter((l) => !gone.includes(l)), null, 1), 0o600);
  });
}

const searchOf = (resolv: string) =>
  resolv.split("\n").flatMap((l) => /^\s*search\s+(.+)/.exec(l)?.[1]?.split(/\s+/) ?? []).filter(Boolean);

/**
 * `network reload`: the shared namespace's bridges and nftables rules are
 * written again for the containers ids names (all live leases are kept);
 * returns the ids it did, and nothing when no keeper runs.
 */
export async function reloadUserNetworks(runroot: string, ids: string[]): Promise<string[]> {
  const dir = stateDir(runroot);
  if (!existsSync(dir)) return [];
  return locked(dir, () => {
    const keeper = readKeeper(dir);
    if (!keeper || !sameProcess(keeper)) return [];
    const ifaces = interfacesOf(keeper.pid);
    const live = readLeases(dir).filter((l) => leaseAlive(l, ifaces));
    applyLeases(dir, keeper.pid, live);
    return ids.filter((id) => live.some((l) => l.id === id));
  });
}

/** `system reset`: the keeper and its pasta end now (their containers are stopped already). */
export function stopUserNetworks(runroot: string): void {
  stopKeeper(readKeeper(stateDir(runroot)), true);
}

/** Gives back a container's leases; the keeper ends by itself once none is left. */
export async function releaseUserNetworks(runroot: string, id: string): Promise<void> {
  const dir = stateDir(runroot);
  if (!existsSync(leaseFile(dir)) || !readLeases(dir).some((l) => l.id === id)) return;
  await locked(dir, () => {
    const keeper = readKeeper(dir);
    const leases = readLeases(dir);
    const after = leases.filter((l) => l.id !== id);
    if (!keeper || !sameProcess(keeper)) return writeFileAtomic(leaseFile(dir), JSON.stringify(after, null, 1), 0o600);
    if (after.length !== leases.length) writeFileAtomic(leaseFile(dir), JSON.stringify(after, null, 1), 0o600);
  });
}
