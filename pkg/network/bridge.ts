// Root's containers on a bridge, as podman's default network: the bridge
// `pod0` with the subnet of containers.conf (podman's 10.88.0.0/16 unless
// default_subnet says otherwise), one veth pair per container with its end
// in the container's namespace as eth0, an address from a lease file kept
// under a lock, and one nftables table (`inet pod`) with the masquerade for
// outbound traffic and a DNAT rule per published port.
//
// Host-wide state, like the bridge itself, lives in /run/pod/network (gone
// at reboot with the interfaces it describes). A lease is live while its
// veth exists (the kernel removes the pair with the container's namespace)
// or, before that, while the pod that took it runs; whoever looks next drops
// the others, and the last one out removes the bridge and the table.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isIPv4 } from "node:net";
import { PodError } from "../errors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { withLock } from "../store/lock.ts";
import { processStartTime } from "../store/leftovers.ts";
import { confString, containersConfFiles } from "./conf.ts";
import { findOnPath } from "./helpers.ts";
import type { PortMapping } from "./mode.ts";

export const BRIDGE_NAME = "pod0";
export const NFT_TABLE = "pod";
const DEFAULT_SUBNET = "10.88.0.0/16";

export type BridgeConfig = { name: string; subnet: string; prefix: number; gateway: string; first: number; last: number };

const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

/** The bridge's subnet: containers.conf [network] default_subnet, else podman's 10.88.0.0/16. */
export function bridgeConfig(files = containersConfFiles()): BridgeConfig {
  const subnet = confString(files, "network", "default_subnet") ?? DEFAULT_SUBNET;
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) < 8 || Number(m[2]) > 30)
    throw new PodError(`containers.conf default_subnet ${JSON.stringify(subnet)} is not an IPv4 subnet between /8 and /30`, {
      hint: `set default_subnet = "${DEFAULT_SUBNET}" in [network], or remove it`,
    });
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  const base = toInt(m[1]!) - (toInt(m[1]!) % size);
  return { name: BRIDGE_NAME, subnet: `${toIp(base)}/${prefix}`, prefix, gateway: toIp(base + 1), first: base + 2, last: base + size - 2 };
}

export type Lease = { id: string; ip: string; veth: string; ports: PortMapping[]; owner: number; ownerStart?: number };

export const networkStateDir = (env: Record<string, string | undefined> = process.env) => env.POD_NETWORK_STATE_DIR || "/run/pod/network";
const leaseFile = (name: string) => join(networkStateDir(), `${name}.leases.json`);
const lockFile = (name: string) => join(networkStateDir(), `${name}.lock`);

/** The host end of a container's veth pair (at most 15 bytes, the kernel's IFNAMSIZ). */
export const vethName = (id: string) => `veth${id.slice(0, 11)}`;

const interfaceExists = (name: string) => existsSync(`/sys/class/net/${name}`);

export function leaseAlive(l: Lease, hasInterface = interfaceExists, startOf = processStartTime): boolean {
  if (hasInterface(l.veth)) return true;
  const t = startOf(l.owner);
  return t !== undefined && t === l.ownerStart;
}

/** The lowest address of the subnet no lease holds. */
export function pickAddress(cfg: BridgeConfig, taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let n = cfg.first; n <= cfg.last; n++) if (!used.has(toIp(n))) return toIp(n);
  throw new PodError(`no free address left in ${cfg.subnet} for another container on ${cfg.name}`, {
    hint: "remove containers you no longer need, or set a larger default_subnet in containers.conf",
  });
}

const sameHostPort = (a: PortMapping, b: PortMapping) =>
  a.protocol === b.protocol && a.hostPort === b.hostPort && (a.hostIp === "" || b.hostIp === "" || a.hostIp === b.hostIp);

/** The nat chains of a table that publishes ports: connections to a local address (from outside or from the host itself) go through `dnat`'s rules. */
export function publishedChains(dnat: string[]): string[] {
  return [
    "  chain prerouting {",
    "    type nat hook prerouting priority dstnat; policy accept;",
    "    fib daddr type local jump published",
    "  }",
    "  chain output {",
    "    type nat hook output priority -100; policy accept;",
    "    fib daddr type local jump published",
    "  }",
    "  chain published {",
    ...dnat,
    "  }",
  ];
}

/** The DNAT rule of one published port to addr. */
export const dnatRule = (p: PortMapping, addr: string) =>
  `    meta nfproto ipv4 ${p.hostIp ? `ip daddr ${p.hostIp} ` : ""}${p.protocol} dport ${p.hostPort} dnat ip to ${addr}:${p.containerPort}`;

/** The whole `inet pod` table for these leases: replaced at once (nft -f is one transaction). */
export function bridgeRuleset(cfg: BridgeConfig, leases: Lease[]): string {
  const dnat = leases.flatMap((l) => l.ports.map((p) => dnatRule(p, l.ip)));
  return [
    `table inet ${NFT_TABLE} {}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    "  chain postrouting {",
    "    type nat hook postrouting priority srcnat; policy accept;",
    `    ip saddr ${cfg.subnet} ip daddr != ${cfg.subnet} masquerade`,
    // the host's own loopback clients of a published port (route_localnet lets them out of the bridge)
    `    oifname "${cfg.name}" ip saddr 127.0.0.0/8 masquerade`,
    "  }",
    ...publishedChains(dnat),
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    `    iifname "${cfg.name}" accept`,
    `    oifname "${cfg.name}" accept`,
    "  }",
    "}",
    "",
  ].join("\n");
}

/** The commands below run as root: ip and nft from iproute2 and nftables. */
function tool(name: "ip" | "nft" | "nsenter"): string {
  const path = findOnPath(name, `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`);
  if (path) return path;
  const pkg = name === "ip" ? "iproute2" : name === "nft" ? "nftables" : "util-linux";
  throw new PodError(`the root bridge network needs ${name}, which is not installed (not found in $PATH)`, {
    hint: `install it (apt-get install ${pkg}), or run with --network host or --network none`,
  });
}

function run(argv: string[], input?: string): void {
  const r = Bun.spawnSync(argv, { stdin: input === undefined ? "ignore" : Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0)
    throw new PodError(`setting up the bridge network: ${argv.map((a) => (a === "-" ? "" : a)).join(" ").trim()}: ${r.stderr.toString().trim() || `exit ${r.exitCode}`}`, {
      hint: "pod needs root and the kernel's bridge, veth and nf_tables modules for the root network; --network host or none runs without it",
    });
}

/** Sets a host sysctl as root, in place (a rename cannot replace a /proc/sys file); nothing when it already has the value. */
export function sysctl(key: string, value: string): void {
  const path = `/proc/sys/${key.replaceAll(".", "/")}`;
  try {
    if (readFileSync(path, "utf8").trim() === value) return;
    writeFileSync(path, value); // in place: a rename cannot replace a /proc/sys file
  } catch (e) {
    throw new PodError(`setting ${key}=${value}: ${(e as Error).message}`, { hint: "the root bridge network needs it for outbound traffic and published ports" });
  }
}

function ensureBridge(cfg: BridgeConfig): void {
  if (!interfaceExists(cfg.name))
    run([tool("ip"), "-batch", "-"], `link add ${cfg.name} type bridge\naddr add ${cfg.gateway}/${cfg.prefix} dev ${cfg.name}\nlink set ${cfg.name} up\n`);
  sysctl("net.ipv4.ip_forward", "1");
  sysctl(`net.ipv4.conf.${cfg.name}.route_localnet`, "1");
}

function readLeases(cfg: BridgeConfig): Lease[] {
  try {
    const l = JSON.parse(readFileSync(leaseFile(cfg.name), "utf8"));
    return Array.isArray(l) ? l : [];
  } catch {
    return [];
  }
}

/** Writes what the leases need, or removes the bridge, the table and the file once none is left. */
function apply(cfg: BridgeConfig, leases: Lease[]): void {
  if (leases.length) {
    writeFileAtomic(leaseFile(cfg.name), JSON.stringify(leases, null, 1), 0o600);
    run([tool("nft"), "-f", "-"], bridgeRuleset(cfg, leases));
    return;
  }
  // the file goes last: while it is there, the next command finishes what a killed pod left half done
  if (interfaceExists(cfg.name)) run([tool("ip"), "link", "del", cfg.name]);
  run([tool("nft"), "-f", "-"], `table inet ${NFT_TABLE} {}\ndelete table inet ${NFT_TABLE}\n`);
  rmSync(leaseFile(cfg.name), { force: true });
}

async function locked<T>(cfg: BridgeConfig, fn: () => T): Promise<T> {
  mkdirSync(networkStateDir(), { recursive: true, mode: 0o700 });
  return withLock(lockFile(cfg.name), "write", fn);
}

export type BridgeAttachment = { ip: string; gateway: string; prefix: number; bridge: string; command: string[] };

// Runs as the oneshot of start_net_helper once the container's namespace exists: the
// pair is made with its far end already in the namespace, then set up from inside.
const ATTACH_SCRIPT =
  'set -e; "$5" link add "$1" type veth peer name eth0 netns "$2"; "$5" link set "$1" master "$4" up; exec "$6" -t "$2" -n "$5" -batch "$3"';

/**
 * Takes an address for the container and publishes its ports on the bridge,
 * and returns the command that puts its veth pair in place once its
 * namespace exists (`@PID@`). A host port another bridged container
 * publishes is an error here: DNAT rules do not bind, so nothing else would
 * notice.
 */
export async function attachBridge(id: string, ports: PortMapping[], files: { dir: string; logFile: string }): Promise<BridgeAttachment> {
  const cfg = bridgeConfig();
  const ip = tool("ip");
  const nsenter = tool("nsenter");
  tool("nft");
  for (const p of ports)
    if (p.hostIp.includes(":"))
      throw new PodError(`cannot publish [${p.hostIp}]:${p.hostPort}: the root bridge network has no IPv6 yet`, { hint: "publish on an IPv4 address, or on all addresses (-p HOST:CONTAINER)" });
  const address = await locked(cfg, () => {
    const leases = readLeases(cfg).filter((l) => l.id !== id && leaseAlive(l));
    for (const p of ports)
      for (const l of leases)
        if (l.ports.some((q) => sameHostPort(p, q)))
          throw new PodError(`cannot publish ${p.hostIp || "0.0.0.0"}:${p.hostPort}/${p.protocol}: address already in use by container ${l.id.slice(0, 12)}`, {
            hint: "pick another host port, or leave it out (-p CONTAINER_PORT) to get a free one",
          });
    const chosen = pickAddress(cfg, leases.map((l) => l.ip));
    ensureBridge(cfg);
    leases.push({ id, ip: chosen, veth: vethName(id), ports, owner: process.pid, ownerStart: processStartTime(process.pid) });
    apply(cfg, leases);
    return chosen;
  });
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const batch = join(files.dir, "netns.batch");
  writeFileAtomic(batch, `link set lo up\naddr add ${address}/${cfg.prefix} dev eth0\nlink set eth0 up\nroute add default via ${cfg.gateway}\n`, 0o600);
  return {
    ip: address,
    gateway: cfg.gateway,
    prefix: cfg.prefix,
    bridge: cfg.name,
    command: ["oneshot", "", files.logFile, "/bin/sh", "-c", ATTACH_SCRIPT, "sh", vethName(id), "@PID@", batch, cfg.name, ip, nsenter],
  };
}

/**
 * Gives back a container's address and ports (id), and those of containers
 * that are gone without saying so (a monitor killed with -9): their veth
 * went with their namespace. Does nothing when no container is on the bridge.
 */
export async function releaseBridge(id?: string): Promise<void> {
  let cfg: BridgeConfig;
  try {
    cfg = bridgeConfig();
  } catch {
    return;
  }
  if (!existsSync(leaseFile(cfg.name)) && !(id && interfaceExists(vethName(id)))) return;
  // every command as root looks (cmd/_dispatch.ts): the lock only when there is something to drop
  const seen = readLeases(cfg);
  if (!id && seen.length > 0 && seen.every((l) => leaseAlive(l))) return;
  await locked(cfg, () => {
    const before = readLeases(cfg);
    // the pair may go with the container's namespace between the look and the del: gone is what we want
    if (id && interfaceExists(vethName(id))) Bun.spawnSync([tool("ip"), "link", "del", vethName(id)], { stdout: "ignore", stderr: "ignore" });
    const after = before.filter((l) => l.id !== id && leaseAlive(l));
    if (after.length !== before.length || after.length === 0) apply(cfg, after);
  });
}
