// The user-mode helpers that join a rootless container's network namespace
// to the host: pasta (package passt) or slirp4netns. Which one runs, its
// command line (start_net_helper in core.c starts it before the container's
// command runs, as a child that dies with its owner), the container's view
// of DNS and of the host, and the ports published through it.
import { existsSync, readFileSync, statSync } from "node:fs";
import { confString } from "./conf.ts";
import { writeFileAtomic } from "../store/atomic.ts";
import { join } from "node:path";
import { createSocket } from "node:dgram";
import { PodError } from "../errors.ts";
import type { NetworkMode, PortMapping, SlirpOptions } from "./mode.ts";

export type HelperKind = "pasta" | "slirp4netns";

export function findOnPath(name: string, pathVar = process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin"): string | undefined {
  for (const dir of pathVar.split(":")) if (dir && existsSync(join(dir, name))) return join(dir, name);
  return undefined;
}

/** containers.conf's [network] default_rootless_network_cmd, from the files podman reads (the last one wins). */
export function configuredDefault(files: string[]): HelperKind | undefined {
  const v = confString(files, "network", "default_rootless_network_cmd");
  return v === "pasta" || v === "slirp4netns" ? v : undefined;
}

export type HelperChoice = { kind: HelperKind; path: string; slirp: SlirpOptions; pastaArgs: string[] };

/**
 * The helper a mode asks for: the default is containers.conf's choice, else
 * pasta when installed, else slirp4netns (slirpPath when given); a missing one is one clear error.
 */
export function chooseHelper(mode: NetworkMode, confFiles: string[], pathVar?: string, slirpPath?: string): HelperChoice {
  const slirpDefaults: SlirpOptions = { allowHostLoopback: false, enableIpv6: false, mtu: 65520 };
  const want: HelperKind[] =
    mode.kind === "pasta" ? ["pasta"] : mode.kind === "slirp4netns" ? ["slirp4netns"] : (() => {
      const conf = configuredDefault(confFiles);
      return conf ? [conf] : ["pasta", "slirp4netns"];
    })();
  for (const kind of want) {
    // --network-cmd-path names the slirp4netns binary (podman's meaning); pasta is still looked up
    const path = kind === "slirp4netns" && slirpPath ? slirpPath : findOnPath(kind, pathVar);
    if (path) return { kind, path, slirp: mode.kind === "slirp4netns" ? mode.opts : slirpDefaults, pastaArgs: mode.kind === "pasta" ? mode.args : [] };
  }
  if (want.length === 1)
    throw new PodError(`--network ${want[0]}: ${want[0]} is not installed (not found in $PATH)`, {
      hint: `install it (sudo apt-get install ${want[0] === "pasta" ? "passt" : "slirp4netns"}), or run with --network none`,
    });
  throw new PodError("rootless networking needs pasta or slirp4netns, and neither is installed (not found in $PATH)", {
    hint: "install one (sudo apt-get install passt, or slirp4netns), or run with --network none",
  });
}

/** podman's address for pasta's DNS forwarder, used when the host's resolvers are on its loopback. */
export const PASTA_DNS_FORWARD = "169.254.1.1";
/** podman's resolvers for a bridged container when the host has only loopback ones. */
export const BRIDGE_FALLBACK_DNS = ["8.8.8.8", "8.8.4.4"];
/** slirp4netns's fixed addresses (10.0.2.0/24 unless cidr=…): the host is .2, the DNS forwarder .3. */
export const SLIRP_HOST = "10.0.2.2";
export const SLIRP_DNS = "10.0.2.3";

function slirpAddress(opts: SlirpOptions, last: number): string {
  if (!opts.cidr) return `10.0.2.${last}`;
  const [a, b, c] = opts.cidr.split("/")[0]!.split(".");
  return `${a}.${b}.${c}.${last}`;
}

/** The host's IPv4 default gateway (pasta gives it to the container, and maps it to the host's loopback). */
export function hostGateway(routes = readFileSafe("/proc/net/route")): string | undefined {
  for (const line of routes.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== "00000000" || !f[2] || f[2] === "00000000") continue;
    const n = parseInt(f[2], 16);
    return [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >> 24) & 255].join(".");
  }
  return undefined;
}

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return "";
  }
}

export const nameservers = (resolv: string) =>
  resolv
    .split("\n")
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);

const isLoopback = (ip: string) => ip.startsWith("127.") || ip === "::1";

export type DnsOptions = { servers: string[]; search: string[]; options: string[] };

/**
 * The container's resolv.conf: --dns servers, else the host's (pasta: a
 * loopback resolver such as systemd-resolved's 127.0.0.53 becomes pasta's DNS
 * forwarder; slirp4netns: its own forwarder), then search and options.
 */
export function resolvConf(hostResolv: string, helper: HelperKind | "bridge" | undefined, dns: DnsOptions): string {
  const hostServers = nameservers(hostResolv);
  let servers = dns.servers.filter((s) => s !== "none");
  if (!dns.servers.length) {
    if (helper === "slirp4netns") servers = [SLIRP_DNS];
    else if (helper === "pasta") servers = hostServers.some(isLoopback) ? [PASTA_DNS_FORWARD, ...hostServers.filter((s) => !isLoopback(s))] : hostServers;
    else if (helper === "bridge") {
      // the host's loopback is not the container's: podman drops those servers, and falls back to public ones when none is left
      servers = hostServers.filter((s) => !isLoopback(s));
      if (!servers.length) servers = BRIDGE_FALLBACK_DNS;
    } else servers = hostServers;
  }
  const hostSearch = hostResolv.split("\n").map((l) => /^\s*search\s+(.+)/.exec(l)?.[1]).filter(Boolean).join(" ").split(/\s+/).filter(Boolean);
  const hostOptions = hostResolv.split("\n").map((l) => /^\s*options\s+(.+)/.exec(l)?.[1]).filter(Boolean).join(" ").split(/\s+/).filter(Boolean);
  const search = dns.search.length ? dns.search.filter((s) => s !== ".") : hostSearch;
  const options = dns.options.length ? dns.options : hostOptions;
  return (
    (search.length ? `search ${search.join(" ")}\n` : "") +
    servers.map((s) => `nameserver ${s}\n`).join("") +
    (options.length ? `options ${options.join(" ")}\n` : "")
  );
}

/** Where the container reaches the host (host.containers.internal), or undefined where the helper offers no way. */
export function hostAddress(choice: HelperChoice, gateway = hostGateway()): string | undefined {
  if (choice.kind === "slirp4netns") return choice.slirp.allowHostLoopback ? slirpAddress(choice.slirp, 2) : undefined;
  return gateway;
}

/**
 * Whether the installed pasta has an option: Debian 12 ships a 2023 snapshot
 * without options of later releases, and pasta prints no usable version, so
 * its --help is read (once per binary, cached by its mtime in cacheFile).
 */
export function pastaOffers(path: string, option: string, cacheFile?: string): boolean {
  let stamp = "";
  try {
    stamp = `${path} ${statSync(path).mtimeMs}`;
  } catch {
    return false;
  }
  let help: string | undefined;
  if (cacheFile) {
    try {
      const cached = readFileSync(cacheFile, "utf8");
      if (cached.startsWith(`${stamp}\n`)) help = cached;
    } catch {
      // not probed yet
    }
  }
  if (help === undefined) {
    const r = Bun.spawnSync([path, "--help"], { stdout: "pipe", stderr: "pipe" });
    help = `${stamp}\n${r.stdout.toString()}${r.stderr.toString()}`;
    if (cacheFile) {
      try {
        writeFileAtomic(cacheFile, help);
      } catch {
        // probing again next time is fine
      }
    }
  }
  return new RegExp(`(^|\\s)${option.replace(/[-]/g, "\\-")}(\\s|=|$)`, "m").test(help);
}

/** The helper's command line for start_net_helper: [ready mode, pid file, log file, path, args…]. */
export function helperCommand(
  choice: HelperChoice,
  ports: PortMapping[],
  files: { pidFile: string; logFile: string; apiSocket: string; probeCache?: string },
  hostResolv: string,
  asRoot = (process.getuid?.() ?? 1) === 0,
): string[] {
  if (choice.kind === "pasta") {
    const args = ["--config-net", "-f", "-q", "-P", files.pidFile];
    // as root pasta would turn itself into nobody, who may not join the container's namespaces
    if (asRoot && !choice.pastaArgs.includes("--runas")) args.push("--runas", "0:0");
    for (const proto of ["tcp", "udp"] as const) {
      const flag = proto === "tcp" ? "-t" : "-u";
      const mine = ports.filter((p) => p.protocol === proto);
      if (!mine.length && !choice.pastaArgs.includes(flag)) args.push(flag, "none");
      for (const p of mine) args.push(flag, `${p.hostIp ? `${p.hostIp}/` : ""}${p.hostPort}:${p.containerPort}`);
    }
    if (!choice.pastaArgs.includes("-T")) args.push("-T", "none");
    if (!choice.pastaArgs.includes("-U")) args.push("-U", "none");
    if (nameservers(hostResolv).some(isLoopback) && pastaOffers(choice.path, "--dns-forward", files.probeCache)) args.push("--dns-forward", PASTA_DNS_FORWARD);
    return ["pidfile", files.pidFile, files.logFile, choice.path, ...args, ...choice.pastaArgs, "@PID@"];
  }
  const o = choice.slirp;
  const args = ["--configure", `--mtu=${o.mtu}`, "--ready-fd", "@READY@"];
  if (!o.allowHostLoopback) args.push("--disable-host-loopback");
  if (o.enableIpv6) args.push("--enable-ipv6");
  if (o.cidr) args.push(`--cidr=${o.cidr}`);
  if (o.portHandler === "slirp4netns" && ports.length) args.push("--api-socket", files.apiSocket);
  return ["readyfd", "", files.logFile, choice.path, ...args, "@PID@", "tap0"];
}

/** port_handler=slirp4netns: slirp4netns forwards the published ports once it runs, one add_hostfwd each through its API socket. */
export async function addSlirpForwards(apiSocket: string, ports: PortMapping[]): Promise<void> {
  for (const p of ports) {
    const req = { execute: "add_hostfwd", arguments: { proto: p.protocol, host_addr: p.hostIp || "0.0.0.0", host_port: p.hostPort, guest_port: p.containerPort } };
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      Bun.connect({
        unix: apiSocket,
        socket: {
          open(s) {
            s.write(JSON.stringify(req));
          },
          data(_s, d) {
            got += new TextDecoder().decode(d);
          },
          close() {
            resolve(got);
          },
          error(_s, e) {
            reject(e);
          },
        },
      }).catch(reject);
    });
    const parsed = JSON.parse(answer || "{}") as { error?: { desc?: string } };
    if (parsed.error || answer === "")
      throw new PodError(`publishing ${p.hostIp || "0.0.0.0"}:${p.hostPort} through slirp4netns: ${parsed.error?.desc ?? "no answer from its API socket"}`, {
        hint: "pick another host port (-p), or leave the host port out to get a free one",
      });
  }
}

/** Binds each published host port once, so a port in use is an error before the container starts; 0 gets a free port. */
export async function claimHostPorts(ports: PortMapping[]): Promise<PortMapping[]> {
  const out: PortMapping[] = [];
  for (const p of ports) out.push({ ...p, hostPort: await tryBind(p) });
  return out;
}

async function tryBind(p: PortMapping): Promise<number> {
  const where = `${p.hostIp || "0.0.0.0"}:${p.hostPort}/${p.protocol}`;
  const fail = (e: unknown) =>
    new PodError(`cannot publish ${where}: ${(e as NodeJS.ErrnoException).code === "EADDRINUSE" ? "address already in use" : (e as Error).message}`, {
      hint: (e as NodeJS.ErrnoException).code === "EACCES" ? "ports below 1024 need root (or net.ipv4.ip_unprivileged_port_start)" : "pick another host port, or leave it out (-p CONTAINER_PORT) to get a free one",
      cause: e,
    });
  if (p.protocol === "tcp") {
    try {
      const l = Bun.listen({ hostname: p.hostIp || "0.0.0.0", port: p.hostPort, socket: { data() {} } });
      const port = l.port;
      l.stop(true);
      return port;
    } catch (e) {
      throw fail(e);
    }
  }
  return new Promise((resolve, reject) => {
    const s = createSocket(p.hostIp.includes(":") ? "udp6" : "udp4");
    s.once("error", (e) => {
      s.close();
      reject(fail(e));
    });
    s.bind(p.hostPort, p.hostIp || "0.0.0.0", () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}
