// `--network` values with podman's spelling, and `-p` specs. Pure: no
// process is started and no port is bound here.
import { isIP } from "node:net";
import { UsageError } from "../errors.ts";

export type SlirpOptions = {
  allowHostLoopback: boolean;
  enableIpv6: boolean;
  mtu: number;
  cidr?: string;
  /** who carries -p: pod's forwarder in rootlessport's place (podman's default, "rootlesskit"), or slirp4netns's own add_hostfwd */
  portHandler?: "rootlesskit" | "slirp4netns";
};

/** `--network NAME:ip=…,alias=…`: what one user network gives the container. */
export type NetworkOptions = { ip?: string; mac?: string; aliases: string[]; interfaceName?: string };

/** A name the kernel takes for an interface: 1-15 bytes, no slash, colon or white space, not "." or "..". */
const IFNAME = /^(?!\.{1,2}$)[^/:\s]{1,15}$/;

/** --mac-address's value, lower-cased, or a usage error. */
export function requireMac(v: string, example: string): string {
  const mac = parseMac(v);
  if (!mac) throw new UsageError(`invalid --mac-address ${JSON.stringify(v)}: not a unicast MAC address`, { hint: `six hex pairs, e.g. ${example}` });
  return mac;
}

/** A unicast MAC address, as podman takes it (`92:d0:c6:0a:29:33`), or undefined. */
export function parseMac(v: string): string | undefined {
  const m = v.toLowerCase();
  return /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(m) && !(parseInt(m.slice(0, 2), 16) & 1) ? m : undefined;
}

export type NetworkMode =
  | { kind: "default" }
  | { kind: "none" }
  | { kind: "host" }
  | { kind: "bridge" }
  | { kind: "container"; target: string }
  | { kind: "ns"; path: string }
  /** user networks (`pod network create`), by name or id; rootless `podman` is one too */
  | { kind: "named"; names: string[]; options?: Record<string, NetworkOptions> }
  | { kind: "pasta"; args: string[] }
  | { kind: "slirp4netns"; opts: SlirpOptions };

const SLIRP_DEFAULTS: SlirpOptions = { allowHostLoopback: false, enableIpv6: false, mtu: 65520 };

function bool(mode: string, key: string, v: string): boolean {
  if (v === "true") return true;
  if (v === "false") return false;
  throw new UsageError(`invalid --network ${mode}: ${key} must be true or false, not ${JSON.stringify(v)}`, { hint: `--network slirp4netns:${key}=true` });
}

function slirpOptions(mode: string, list: string): SlirpOptions {
  const o: SlirpOptions = { ...SLIRP_DEFAULTS };
  for (const item of list.split(",")) {
    const [k, v = ""] = item.split("=", 2) as [string, string?];
    if (k === "allow_host_loopback") o.allowHostLoopback = bool(mode, k, v);
    else if (k === "enable_ipv6") o.enableIpv6 = bool(mode, k, v);
    else if (k === "mtu" && /^\d+$/.test(v) && Number(v) >= 1280 && Number(v) <= 65521) o.mtu = Number(v);
    else if (k === "cidr" && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(v)) o.cidr = v;
    else if (k === "port_handler" && (v === "slirp4netns" || v === "rootlesskit")) o.portHandler = v;
    else
      throw new UsageError(`invalid --network ${mode}: unknown or malformed option ${JSON.stringify(item)}`, {
        hint: "slirp4netns takes allow_host_loopback=true|false, enable_ipv6=true|false, mtu=N, cidr=A.B.C.D/N, port_handler=rootlesskit|slirp4netns",
      });
  }
  return o;
}

/**
 * Parses a `--network` value; undefined, "" and "private" are the default:
 * pasta, else slirp4netns, rootless; the bridge as root.
 */
export function parseNetworkMode(value: string | undefined, asRoot = (process.getuid?.() ?? 1) === 0): NetworkMode {
  const v = value ?? "";
  if (v === "" || v === "private" || v === "default") return asRoot ? { kind: "bridge" } : { kind: "default" };
  if (v === "none") return { kind: "none" };
  if (v === "host") return { kind: "host" };
  // podman's default network as root: `bridge`, or its name `podman`
  if ((v === "bridge" || v === "podman") && asRoot) return { kind: "bridge" };
  // rootless, podman's bridge is its default network in the user networks' namespace
  if (v === "bridge") return { kind: "named", names: ["podman"] };
  if (v === "pasta" || v.startsWith("pasta:")) {
    const args = v === "pasta" ? [] : v.slice(6).split(",").filter((a) => a !== "");
    return { kind: "pasta", args };
  }
  if (v === "slirp4netns" || v.startsWith("slirp4netns:")) return { kind: "slirp4netns", opts: v === "slirp4netns" ? { ...SLIRP_DEFAULTS } : slirpOptions(v, v.slice(12)) };
  if (v.startsWith("container:") && v.length > 10) return { kind: "container", target: v.slice(10) };
  if (v.startsWith("ns:")) {
    if (!v.slice(3).startsWith("/")) throw new UsageError(`invalid --network ${v}: the namespace must be an absolute path`, { hint: "--network ns:/run/netns/NAME or ns:/proc/PID/ns/net" });
    return { kind: "ns", path: v.slice(3) };
  }
  if (v !== "bridge" && v !== "slirp" && !/^(container|ns):/.test(v) && /^[a-zA-Z0-9][a-zA-Z0-9_.-]*([:, ]|$)/.test(v)) return namedNetworks(v);
  if (/^(container|ns):/.test(v) || v === "bridge" || v === "slirp")
    throw new UsageError(`--network ${v}: not supported by pod yet`, {
      hint: "use the default (pasta, else slirp4netns), pasta[:OPTIONS], slirp4netns[:OPTIONS], host or none; docs/compat.md lists what is missing",
    });
  throw new UsageError(`invalid --network ${JSON.stringify(v)}`, { hint: "use pasta, slirp4netns, host, none or private" });
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * User networks: `a,b`, or several --network values (joined with spaces),
 * each NAME or NAME:ip=…,alias=… (podman's per-network options).
 */
function namedNetworks(v: string): NetworkMode {
  const names: string[] = [];
  const options: Record<string, NetworkOptions> = {};
  for (const item of v.split(" ").filter(Boolean)) {
    const colon = item.indexOf(":");
    const list = colon < 0 ? item.split(",") : [item.slice(0, colon)];
    for (const n of list) {
      if (!NAME.test(n)) throw new UsageError(`invalid --network ${JSON.stringify(item)}`, { hint: "--network NAME[,NAME…] or --network NAME:ip=IP,alias=ALIAS" });
      if (["none", "host", "pasta", "slirp4netns", "private", "bridge"].includes(n))
        throw new UsageError(`invalid --network ${v}: a mode cannot be combined with networks`, { hint: "--network NAME[,NAME…] names user networks only" });
      if (!names.includes(n)) names.push(n);
    }
    if (colon < 0) continue;
    const o: NetworkOptions = { aliases: [] };
    for (const kv of item.slice(colon + 1).split(",")) {
      const [k, val = ""] = kv.split("=", 2) as [string, string?];
      if (k === "ip" && isIP(val) === 4) o.ip = val;
      else if (k === "alias" && NAME.test(val)) o.aliases.push(val);
      else if (k === "mac" && parseMac(val)) o.mac = parseMac(val);
      else if (k === "interface_name" && IFNAME.test(val) && val !== "lo") o.interfaceName = val;
      else if (k === "ip6")
        throw new UsageError(`--network ${item}: the option ${k}= is not supported by pod yet`, { hint: "pod takes ip=, mac=, alias= and interface_name=; docs/compat.md lists what is missing" });
      else throw new UsageError(`invalid --network ${item}: unknown or malformed option ${JSON.stringify(kv)}`, { hint: "--network NAME:ip=10.89.0.5,mac=92:d0:c6:0a:29:33,alias=web,interface_name=eth0" });
    }
    options[list[0]!] = o;
  }
  return Object.keys(options).length ? { kind: "named", names, options } : { kind: "named", names };
}

/** The --network value a user-networks mode is recorded as (parseNetworkMode reads it back). */
export function formatNamed(names: string[], options: Record<string, NetworkOptions> = {}): string {
  return names
    .map((n) => {
      const o = options[n];
      const kv = [...(o?.ip ? [`ip=${o.ip}`] : []), ...(o?.mac ? [`mac=${o.mac}`] : []), ...(o?.aliases ?? []).map((a) => `alias=${a}`), ...(o?.interfaceName ? [`interface_name=${o.interfaceName}`] : [])];
      return kv.length ? `${n}:${kv.join(",")}` : n;
    })
    .join(" ");
}

/** Whether the container gets a network namespace of its own joined to the outside (a helper, or root's bridge), so -p applies. */
/** --network slirp4netns:port_handler=slirp4netns: slirp4netns's own add_hostfwd carries -p, not pod's forwarder. */
export function slirpForwardsPorts(network: string | undefined): boolean {
  try {
    const m = parseNetworkMode(network);
    return m.kind === "slirp4netns" && m.opts.portHandler === "slirp4netns";
  } catch {
    return false;
  }
}

export const joinsOutside = (m: NetworkMode) => m.kind === "default" || m.kind === "pasta" || m.kind === "slirp4netns" || m.kind === "bridge" || m.kind === "named";

export type Protocol = "tcp" | "udp";

/** One published port; hostPort 0 until a free one is chosen at create. */
export type PortMapping = { hostIp: string; hostPort: number; containerPort: number; protocol: Protocol };

function portNumber(spec: string, s: string, allowZero = false): number {
  if (!/^\d+$/.test(s) || Number(s) > 65535 || (!allowZero && Number(s) === 0))
    throw new UsageError(`invalid port ${JSON.stringify(s)} in -p ${spec}: ports are 1-65535`, { hint: "-p [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], e.g. -p 8080:80" });
  return Number(s);
}

function portRange(spec: string, s: string): [number, number] {
  const [a, b] = s.split("-", 2) as [string, string?];
  const lo = portNumber(spec, a);
  const hi = b === undefined ? lo : portNumber(spec, b);
  if (hi < lo) throw new UsageError(`invalid port range ${s} in -p ${spec}: the end is below the start`, { hint: "-p 8080-8082:80-82" });
  return [lo, hi];
}

/**
 * `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` with ranges (`8080-8082:80-82`,
 * `127.0.0.1::80`), as podman parses it; one mapping per port.
 */
export function parsePublish(spec: string): PortMapping[] {
  let rest = spec;
  let protocols: Protocol[] = ["tcp"];
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const p = rest.slice(slash + 1);
    const list = p.split(",");
    if (!list.every((x) => x === "tcp" || x === "udp"))
      throw new UsageError(`invalid protocol ${JSON.stringify(p)} in -p ${spec}`, { hint: "use /tcp or /udp (sctp is not supported)" });
    protocols = list as Protocol[];
    rest = rest.slice(0, slash);
  }
  let hostIp = "";
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(.*)$/.exec(rest);
  if (v6) {
    hostIp = v6[1]!;
    rest = v6[2]!;
  }
  const parts = rest.split(":");
  if (!v6 && parts.length === 3) hostIp = parts.shift()!;
  if (parts.length > 2 || (v6 && parts.length === 1 && rest === "")) throw new UsageError(`invalid -p ${spec}`, { hint: "-p [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], e.g. -p 127.0.0.1:8080:80" });
  if (hostIp !== "" && !isIP(hostIp)) throw new UsageError(`invalid host IP ${JSON.stringify(hostIp)} in -p ${spec}`, { hint: "give an IPv4 or IPv6 address, e.g. 127.0.0.1" });
  const [hostPart, ctrPart] = parts.length === 2 ? [parts[0]!, parts[1]!] : ["", parts[0]!];
  const [clo, chi] = portRange(spec, ctrPart);
  const [hlo, hhi] = hostPart === "" ? [0, 0] : portRange(spec, hostPart);
  if (hostPart !== "" && hhi - hlo !== chi - clo)
    throw new UsageError(`invalid -p ${spec}: the host range and the container range differ in length`, { hint: "-p 8080-8082:80-82" });
  const out: PortMapping[] = [];
  for (const protocol of protocols)
    for (let i = 0; i <= chi - clo; i++) out.push({ hostIp, hostPort: hostPart === "" ? 0 : hlo + i, containerPort: clo + i, protocol });
  return out;
}

/** podman's `port` and PORTS column: `0.0.0.0:8080->80/tcp`. */
export function formatPort(p: PortMapping): string {
  const ip = p.hostIp === "" ? "0.0.0.0" : p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp;
  return `${ip}:${p.hostPort}->${p.containerPort}/${p.protocol}`;
}
