// User-defined networks (`pod network create`): one JSON file per network in
// <root>/networks/, in podman's (netavark's) shape, so `network inspect`
// prints what podman prints. The default network `podman` is not a file:
// it always exists, with podman's id, interface and subnet.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { isIPv4 } from "node:net";
import { PodError, UsageError } from "../errors.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { withLock } from "../store/lock.ts";

export type Subnet = { subnet: string; gateway: string; lease_range?: { start_ip: string; end_ip: string } };

/** A network as podman's `network inspect` shows it. */
export type NetworkRecord = {
  name: string;
  id: string;
  driver: "bridge";
  network_interface: string;
  created: string;
  subnets: Subnet[];
  ipv6_enabled: boolean;
  internal: boolean;
  dns_enabled: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  ipam_options: { driver: string };
};

export const DEFAULT_NETWORK = "podman";
/** podman's id of its default network, the same on every host */
const DEFAULT_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9";
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const networksDir = (root: string) => join(root, "networks");
const lockFile = (root: string) => join(networksDir(root), "networks.lock");
const recordFile = (root: string, name: string) => join(networksDir(root), `${name}.json`);

export const toInt = (ip: string) => ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
export const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join(".");

export function defaultNetwork(): NetworkRecord {
  return {
    name: DEFAULT_NETWORK,
    id: DEFAULT_ID,
    driver: "bridge",
    network_interface: "podman0",
    created: new Date(0).toISOString(),
    subnets: [{ subnet: "10.88.0.0/16", gateway: "10.88.0.1" }],
    ipv6_enabled: false,
    internal: false,
    dns_enabled: false,
    ipam_options: { driver: "host-local" },
  };
}

/** A CIDR as base address and prefix; the base is the network's own (host bits cleared). */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m || !isIPv4(m[1]!) || Number(m[2]) < 8 || Number(m[2]) > 30)
    throw new UsageError(`invalid subnet ${JSON.stringify(cidr)}: pod takes IPv4 subnets from /8 to /30`, { hint: "--subnet 10.89.5.0/24" });
  const prefix = Number(m[2]);
  const size = 2 ** (32 - prefix);
  return { base: toInt(m[1]!) - (toInt(m[1]!) % size), prefix };
}

export const subnetSize = (prefix: number) => 2 ** (32 - prefix);

const overlaps = (a: string, b: string) => {
  // IPv6 subnets are /64s pod picks unique (ula64): only IPv4 ones can overlap
  if (a.includes(":") || b.includes(":")) return a === b;
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.base < y.base + subnetSize(y.prefix) && y.base < x.base + subnetSize(x.prefix);
};

export function readNetworks(root: string): NetworkRecord[] {
  const out = [defaultNetwork()];
  let names: string[] = [];
  try {
    names = readdirSync(networksDir(root)).filter((f) => f.endsWith(".json"));
  } catch {
    return out;
  }
  for (const f of names.sort()) {
    try {
      const r = JSON.parse(readFileSync(join(networksDir(root), f), "utf8")) as NetworkRecord;
      if (r.name !== DEFAULT_NETWORK) out.push(r);
    } catch {
      // a file another tool left half-written is not a network
    }
  }
  return out;
}

/** A network by name, full id or unique id prefix, as podman finds them; undefined if none. */
export function findNetwork(root: string, ref: string): NetworkRecord | undefined {
  const all = readNetworks(root);
  const byName = all.find((n) => n.name === ref);
  if (byName) return byName;
  const byId = all.filter((n) => n.id.startsWith(ref));
  return /^[0-9a-f]+$/.test(ref) && byId.length === 1 ? byId[0] : undefined;
}

export function networkNotFound(ref: string): PodError {
  return new PodError(`unable to find network with name or ID ${ref}: network not found`, { exit: 1, hint: "`pod network ls` lists the networks" });
}

export function requireNetwork(root: string, ref: string): NetworkRecord {
  const n = findNetwork(root, ref);
  if (!n) throw networkNotFound(ref);
  return n;
}

export type CreateNetworkOptions = {
  name?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  disableDns?: boolean;
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** --ipv6: a second, IPv6 subnet (a unique local /64 pod picks) */
  ipv6?: boolean;
  ignore?: boolean;
};

/** --ipv6's subnet: a unique local fdXX:XXXX:XXXX:XXXX::/64 from the network's id (RFC 4193's random global id), not one another network has. */
export function ula64(id: string, taken: string[]): string {
  for (let i = 0; ; i++) {
    const h = new Bun.CryptoHasher("sha256").update(`${id}/${i}`).digest();
    const group = (n: number) => ((h[n]! << 8) | h[n + 1]!).toString(16);
    const s = `fd${h[0]!.toString(16).padStart(2, "0")}:${group(1)}:${group(3)}:${group(5)}::/64`;
    if (!taken.includes(s)) return s;
  }
}

const ipv6Subnet = (n: NetworkRecord) => n.subnets.find((s) => s.subnet.includes(":"));

/** A container's IPv6 address on a dual-stack network: the /64 with the same host number as its IPv4 lease (no second allocation to keep). */
export function ipv6Of(n: NetworkRecord, ip4: string): { ip: string; gateway: string; prefix: number } | undefined {
  const s = ipv6Subnet(n);
  if (!n.ipv6_enabled || !s) return undefined;
  const host = toInt(ip4) - parseCidr(n.subnets[0]!.subnet).base;
  const net = s.subnet.replace(/::\/64$/, "");
  return { ip: `${net}::${host >= 0x10000 ? `${(host >>> 16).toString(16)}:` : ""}${(host & 0xffff).toString(16)}`, gateway: s.gateway, prefix: 64 };
}

/** The first free /24 of podman's default pool 10.89.0.0/16 that no network uses. */
export function freeSubnet(taken: string[]): string {
  for (let i = 0; i < 256; i++) {
    const s = `10.89.${i}.0/24`;
    if (!taken.some((t) => overlaps(t, s))) return s;
  }
  throw new PodError("no free subnet left in 10.89.0.0/16 for another network", { hint: "remove networks you no longer need, or give one with --subnet" });
}

/** podman's names for the bridges of new networks: podman1, podman2, … (podman0 is the default's). */
function freeInterface(all: NetworkRecord[]): string {
  for (let i = 1; ; i++) if (!all.some((n) => n.network_interface === `podman${i}`)) return `podman${i}`;
}

export async function createNetwork(root: string, o: CreateNetworkOptions): Promise<NetworkRecord> {
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  return withLock(lockFile(root), "write", () => {
    const all = readNetworks(root);
    let name = o.name;
    if (name === undefined) for (let i = 1; !name || all.some((n) => n.name === name); i++) name = `podman${i}`;
    if (!NAME_RE.test(name) || name.length > 255)
      throw new UsageError(`network name ${name} invalid: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid argument`, { hint: "pod network create mynet" });
    const existing = all.find((n) => n.name === name);
    if (existing) {
      if (o.ignore) return existing;
      throw new PodError(`network name ${name} already used: network already exists`, { hint: "pick another name, remove the network first, or add --ignore" });
    }
    if (o.subnet?.includes(":"))
      throw new UsageError(`--subnet ${o.subnet}: pod does not take an IPv6 subnet yet`, { hint: "give an IPv4 --subnet and add --ipv6: pod picks a unique local /64 for it" });
    const subnet = o.subnet ? (() => {
      const c = parseCidr(o.subnet);
      return `${toIp(c.base)}/${c.prefix}`;
    })() : freeSubnet(all.flatMap((n) => n.subnets.map((s) => s.subnet)));
    const clash = all.find((n) => n.subnets.some((s) => overlaps(s.subnet, subnet)));
    if (clash) throw new PodError(`subnet ${subnet} is already used on the host or by another config`, { hint: `network ${clash.name} uses ${clash.subnets[0]!.subnet}: pick another --subnet` });
    const { base, prefix } = parseCidr(subnet);
    const inside = (ip: string) => isIPv4(ip) && toInt(ip) > base && toInt(ip) < base + subnetSize(prefix) - 1;
    if (o.gateway !== undefined && !inside(o.gateway))
      throw new UsageError(`gateway ${o.gateway} is not in subnet ${subnet}`, { hint: "give an address inside the subnet, or leave --gateway out" });
    const entry: Subnet = { subnet, gateway: o.gateway ?? toIp(base + 1) };
    if (o.ipRange) {
      const r = parseCidr(o.ipRange);
      if (r.base < base || r.base + subnetSize(r.prefix) > base + subnetSize(prefix))
        throw new UsageError(`ip-range ${o.ipRange} is not in subnet ${subnet}`, { hint: "give a range inside the subnet, e.g. 10.89.5.128/25" });
      entry.lease_range = { start_ip: toIp(Math.max(r.base, base + 1)), end_ip: toIp(Math.min(r.base + subnetSize(r.prefix) - 1, base + subnetSize(prefix) - 2)) };
    }
    checkBridgeOptions(o.options ?? {});
    const id = randomBytes(32).toString("hex");
    const subnets = [entry];
    if (o.ipv6) {
      const v6 = ula64(id, all.flatMap((n) => n.subnets.map((s) => s.subnet)));
      subnets.push({ subnet: v6, gateway: v6.replace(/::\/64$/, "::1") });
    }
    const rec: NetworkRecord = {
      name,
      id,
      driver: "bridge",
      network_interface: freeInterface(all),
      created: new Date().toISOString(),
      subnets,
      ipv6_enabled: Boolean(o.ipv6),
      internal: o.internal ?? false,
      dns_enabled: !o.disableDns,
      ...(o.labels && Object.keys(o.labels).length ? { labels: o.labels } : {}),
      ...(o.options && Object.keys(o.options).length ? { options: o.options } : {}),
      ipam_options: { driver: "host-local" },
    };
    writeFileAtomic(recordFile(root, name), JSON.stringify(rec, null, 2) + "\n", 0o600);
    return rec;
  });
}

/** Removes a network's file; the caller has made sure no container uses it. */
export async function removeNetworkRecord(root: string, name: string): Promise<void> {
  if (name === DEFAULT_NETWORK) throw new PodError(`default network ${DEFAULT_NETWORK} cannot be removed`, { exit: 125, hint: "remove only networks you created" });
  if (!existsSync(networksDir(root))) return;
  await withLock(lockFile(root), "write", () => rmSync(recordFile(root, name), { force: true }));
}

/** The address range containers get: the lease range, else the subnet without its network, gateway and broadcast addresses. */
/**
 * netavark's bridge options that pod honours: mtu (bridge and veths),
 * metric (the default route's in the container), isolate=true|strict (pod
 * always keeps networks apart, so false cannot be honoured).
 */
export function checkBridgeOptions(options: Record<string, string>): void {
  for (const [k, v] of Object.entries(options)) {
    if (k === "mtu" && /^\d+$/.test(v) && Number(v) >= 68 && Number(v) <= 65535) continue;
    if (k === "metric" && /^\d+$/.test(v) && Number(v) <= 4294967295) continue;
    if (k === "isolate" && (v === "true" || v === "strict")) continue;
    if (k === "isolate" && v === "false")
      throw new UsageError("unsupported bridge network option isolate=false: pod always keeps networks from reaching each other", { hint: "leave isolate out (or set isolate=true)" });
    if (k === "mtu" || k === "metric" || k === "isolate")
      throw new UsageError(`invalid bridge network option ${k}=${JSON.stringify(v)}`, {
        hint: k === "mtu" ? "mtu takes a number from 68 to 65535" : k === "metric" ? "metric takes a route metric (a whole number)" : "isolate takes true or strict",
      });
    throw new UsageError(`unsupported bridge network option ${k}`, { hint: "pod takes mtu, metric and isolate; docs/compat.md lists what is missing" });
  }
}

/** A network's bridge MTU and its containers' default-route metric (--opt mtu=, metric=). */
export const bridgeMtu = (n: NetworkRecord) => (n.options?.mtu ? Number(n.options.mtu) : undefined);
export const routeMetric = (n: NetworkRecord) => (n.options?.metric ? Number(n.options.metric) : undefined);

export function addressRange(n: NetworkRecord): { first: number; last: number; gateway: string; prefix: number } {
  const s = n.subnets[0]!;
  const { base, prefix } = parseCidr(s.subnet);
  const first = s.lease_range ? toInt(s.lease_range.start_ip) : base + 1;
  const last = s.lease_range ? toInt(s.lease_range.end_ip) : base + subnetSize(prefix) - 2;
  return { first, last, gateway: s.gateway, prefix };
}

/** podman's `network ls --filter`: name, id, driver, label, dangling is not here (pkg/container knows the users). */
export function matchesNetworkFilter(n: NetworkRecord, key: string, value: string): boolean {
  switch (key) {
    case "name":
      return new RegExp(value).test(n.name);
    case "id":
      return n.id.startsWith(value);
    case "driver":
      return n.driver === value;
    case "label": {
      const [k, v] = value.split("=", 2) as [string, string?];
      return n.labels?.[k] !== undefined && (v === undefined || n.labels[k] === v);
    }
    case "label!": {
      const [k, v] = value.split("=", 2) as [string, string?];
      return !(n.labels?.[k] !== undefined && (v === undefined || n.labels[k] === v));
    }
    default:
      throw new UsageError(`invalid filter "${key}"`, { hint: "network filters: name, id, driver, label, label!, dangling, until" });
  }
}
