// `pod run` options plus an image config become one LaunchPlan and the small
// files the plan binds into the container (/etc/hosts, /etc/hostname,
// /etc/resolv.conf). Pure apart from reading the image's layers, host paths
// named by -v, and --env-file files; the caller writes the files into the
// container directory before handing the plan to the native core.
import { join } from "node:path";
import { isIP } from "node:net";
import { PodError, UsageError } from "../errors.ts";
import { readImageFile, resolveImagePath } from "./imagefs.ts";
import { timezoneFile } from "./tz.ts";
import { parseUlimits, rlimitsOf } from "./ulimits.ts";
import { parseSysctls, sysctlOps } from "./sysctl.ts";
import type { LaunchPlan, Namespaces, NamespaceSource, RootfsMount } from "../native/plan.ts";
import { namespaceModes, type NamespaceFlag, type NamespaceModes } from "./namespaces.ts";
import { capabilityNames, computeCaps } from "./caps.ts";
import { parseSecurityOpts, seccompFilter } from "../security/index.ts";
import { resolveArgv, resolveWorkdir } from "./command.ts";
import { buildEnv } from "./env.ts";
import { containerIdMaps, idIsMapped, isSingleIdMap, keepIdIds, type IdMaps } from "./idmap.ts";
import { buildMountOps } from "./mounts.ts";
import { resolveGroupAdd, resolveUser, type ResolvedUser } from "./user.ts";
import type { VolumeMount } from "./volumes.ts";
import type { DeviceMapping } from "./devices.ts";
import { secretMountOps, withSecretEnv, type SecretFacts, type SecretRef } from "./secrets.ts";

export type RunOptions = {
  command: string[];
  entrypoint?: string;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
  hostname?: string;
  init: boolean;
  readOnly: boolean;
  readOnlyTmpfs: boolean;
  tmpfs: string[];
  /** -v values; after create, only bind mounts (volumes move to volumeMounts) */
  volumes: string[];
  /** --mount values, turned into volumes, tmpfs and volumeMounts when the container is created */
  mounts?: string[];
  /** named and anonymous volumes, resolved when the container is created */
  volumeMounts?: VolumeMount[];
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
  /** the seccomp profile's text, settled at create (pkg/security settleSeccompProfile); absent: the built-in default */
  seccompProfile?: string;
  privileged: boolean;
  /** --network as given ("" = the default: pasta, else slirp4netns); pkg/network parses it */
  network: string;
  /** --network-alias: more names on the container's user networks */
  networkAlias?: string[];
  /** --ip: the address on its one user network (folded into --network NAME:ip= at create) */
  ip?: string;
  /** --mac-address: the MAC on its one user network (folded into --network NAME:mac= at create) */
  macAddress?: string;
  /** -p values, as given */
  publish?: string[];
  /** -P: publish every exposed port on a free host port */
  publishAll?: boolean;
  /** --expose values (PORT[-PORT][/PROTO]) */
  expose?: string[];
  /** the published ports, host ports chosen at create (pkg/network PortMapping) */
  ports?: { hostIp: string; hostPort: number; containerPort: number; protocol: "tcp" | "udp" }[];
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  /** --add-host HOST:IP values */
  addHost?: string[];
  noHosts?: boolean;
  userns: string;
  /** --uidmap/--gidmap CONTAINER_ID:HOST_ID:AMOUNT values (host ids of the rootless user namespace) */
  uidmap?: string[];
  gidmap?: string[];
  tty: boolean;
  /** --label/--label-file over the image's labels (merged at create) */
  labels?: Record<string, string>;
  /** --annotation KEY=VALUE */
  annotations?: Record<string, string>;
  /** --stop-signal, else the image's StopSignal (set at create): what stop sends first */
  stopSignal?: number;
  /** --stop-timeout: seconds stop waits before SIGKILL when -t is not given */
  stopTimeout?: number;
  /** --health-* and the image's HEALTHCHECK (pkg/container/health.ts), run by the monitor */
  healthcheck?: { test: string[]; intervalMs: number; timeoutMs: number; startPeriodMs: number; retries: number; onFailure: "none" | "kill" | "restart" | "stop" };
  /** --restart (pkg/container/restart-policy.ts), carried out by the monitor */
  restartPolicy?: { name: "no" | "on-failure" | "always" | "unless-stopped"; maxRetries: number };
  /** --env-host: the host's environment at create */
  envHost?: string[];
  /** --unsetenv names */
  unsetenv?: string[];
  unsetenvAll?: boolean;
  /** --tz: local or an IANA zone */
  tz?: string;
  /** --timeout: seconds the container may run before it is killed */
  timeout?: number;
  /** --group-add values: group names of the image, gids, or keep-groups alone */
  groupAdd?: string[];
  /** --shm-size in bytes */
  shmSize?: number;
  /** --hostuser: the host's passwd lines for those users, read at create */
  hostUsers?: string[];
  /** --sysctl KEY=VALUE values as given */
  sysctls?: string[];
  /** --ulimit values as given (checked at create) */
  ulimits?: string[];
  /** --ipc, --pid, --uts, --cgroupns as given (namespaces.ts; container:NAME holds the ID after create) */
  ipc?: string;
  pid?: string;
  uts?: string;
  cgroupns?: string;
  /** --passwd-entry: the template of the entry pod adds for a user the image lacks ($USERNAME, $UID, $GID, $NAME, $HOME) */
  passwdEntry?: string;
  /** the resource limits and --cgroups/--cgroup-parent/--cgroup-conf (pkg/cgroup/limits.ts), applied to the container's cgroup at each start */
  resources?: import("../cgroup/limits.ts").Resources;
  /** --secret values, resolved to the secrets' IDs at create (references only: the data is read at each start) */
  secrets?: SecretRef[];
  /** --device values, resolved to the host's nodes at create (devices.ts) */
  devices?: DeviceMapping[];
};

export type RunInput = {
  /** container id, 64 hex */
  id: string;
  /** the container runs in a cgroup of its own (pkg/cgroup): its cgroup2 is mounted at /sys/fs/cgroup */
  ownCgroup?: boolean;
  /** container name: /etc/hosts names it too */
  name?: string;
  /** OCI image config JSON: .config.{Env,Cmd,Entrypoint,WorkingDir,User} */
  imageConfig: any;
  /** host paths of the layers' diff directories, bottom first */
  layerDirs: string[];
  rootfs: string;
  rootfsMount: RootfsMount;
  containerDir: string;
  storageMaps: IdMaps;
  hostUid: number;
  hostGid: number;
  hostEnv: Record<string, string | undefined>;
  /** the host's /etc/hosts text */
  hostHosts: string;
  /** the host's /etc/resolv.conf text */
  hostResolv: string;
  /** the namespace files --ipc/--pid/--uts/--cgroupns container:NAME and ns:PATH join, resolved at start */
  joins?: Partial<Record<NamespaceFlag, NamespaceSource>>;
  /** whether the host has /dev/mqueue (--ipc host binds it) */
  hostMqueue?: boolean;
  /** the hostname of the UTS namespace joined or shared (--uts host: the host's; container:NAME: that one's) */
  sharedHostname?: string;
  /** the network the container gets (pkg/network decided it): none is a namespace with lo only */
  net?: NetworkFacts;
  /** the image as the container names it, and its ID: /run/.containerenv */
  image?: string;
  imageId?: string;
  /** pod's version, for /run/.containerenv's engine="pod-VERSION" */
  engineVersion?: string;
  /** where compiled seccomp filters are kept between starts (the runroot); absent: compiled every time */
  seccompCache?: string;
  /** the secrets of this start: their files, already written on the host, and their variables */
  secrets?: SecretFacts;
  opts: RunOptions;
};

/** What pkg/network decided for this start; without it: --network host or none, the host's resolv.conf. */
/** address: the container's own on root's bridge, which /etc/hosts gives its names. */
export type NetworkFacts = {
  mode: "host" | "none" | "helper" | "bridge" | "join" | "usernet";
  resolv: string;
  /** "join": the other container's /etc/hosts */
  hosts?: string;
  hostAddress?: string;
  address?: string;
};

const netOf = (input: RunInput): NetworkFacts => input.net ?? { mode: input.opts.network === "host" ? "host" : "none", resolv: input.hostResolv };

/** A file for the container directory; `path` is relative to it. */
export type ContainerFile = { path: string; content: string };

type ImageRuntimeConfig = { Env?: string[]; Cmd?: string[]; Entrypoint?: string[]; WorkingDir?: string; User?: string };

/** A hostname sethostname(2) takes and /etc/hosts can hold: 1-64 bytes, no whitespace or slash. */
function checkHostname(name: string): string {
  if (name.length === 0 || Buffer.byteLength(name) > 64 || /[\s/]/.test(name)) {
    throw new UsageError(`invalid hostname ${JSON.stringify(name)}`, { hint: "a hostname is 1-64 characters without spaces or slashes" });
  }
  return name;
}

/** --add-host HOST:IP (HOST may list several names with ";"; IP "host-gateway" is the host). */
function addedHosts(values: string[], hostAddress: string | undefined): string {
  let out = "";
  for (const v of values) {
    const i = v.indexOf(":");
    const names = i > 0 ? v.slice(0, i).split(";").filter(Boolean) : [];
    let ip = i > 0 ? v.slice(i + 1).replace(/^\[(.*)\]$/, "$1") : "";
    if (ip === "host-gateway") {
      if (!hostAddress)
        throw new UsageError(`--add-host ${v}: this network gives the container no address for the host`, { hint: "use the default network (pasta), or slirp4netns:allow_host_loopback=true" });
      ip = hostAddress;
    }
    if (!names.length || !(isIP(ip) || ip === ""))
      throw new UsageError(`invalid --add-host ${JSON.stringify(v)}`, { hint: "use --add-host NAME:IP, e.g. --add-host db:10.0.0.5" });
    if (ip === "") throw new UsageError(`invalid --add-host ${JSON.stringify(v)}: no IP address`, { hint: "use --add-host NAME:IP" });
    out += `${ip}\t${names.join(" ")}\n`;
  }
  return out;
}

function hostsFile(hostname: string, input: RunInput, name: string | undefined): string {
  const o = input.opts;
  const own = `${netOf(input).address ?? "127.0.1.1"}\t${[hostname, ...(name && name !== hostname ? [name] : [])].join(" ")}\n`;
  const added = addedHosts(o.addHost ?? [], netOf(input).hostAddress);
  // --network container:NAME shares the other container's hosts file, as podman does
  const joined = netOf(input).mode === "join" ? netOf(input).hosts : undefined;
  if (joined !== undefined) return added + joined;
  if (netOf(input).mode === "host") return added + (input.hostHosts === "" || input.hostHosts.endsWith("\n") ? input.hostHosts : `${input.hostHosts}\n`) + own;
  const host = netOf(input).hostAddress ? `${netOf(input).hostAddress}\thost.containers.internal host.docker.internal\n` : "";
  return (
    added +
    "127.0.0.1\tlocalhost localhost.localdomain localhost4 localhost4.localdomain4\n" +
    "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n" +
    host +
    own
  );
}

/**
 * resolv.conf: pkg/network's (the helper's DNS forwarder where the host's
 * resolvers are on its loopback, --dns, --dns-search, --dns-option); with
 * --network host or none, the host's as is.
 */
function containerFiles(hostname: string, input: RunInput, name: string | undefined): ContainerFile[] {
  return [
    ...(input.opts.noHosts ? [] : [{ path: "hosts", content: hostsFile(hostname, input, name) }]),
    { path: "hostname", content: `${hostname}\n` },
    { path: "resolv.conf", content: netOf(input).resolv },
  ];
}

/** Fails early, with the fix, when the user's ids have no host id (setresuid would fail with EINVAL). */
function checkMapped(user: ResolvedUser, maps: IdMaps): number[] {
  for (const [kind, id, map] of [["uid", user.uid, maps.uid], ["gid", user.gid, maps.gid]] as const) {
    if (idIsMapped(map, id)) continue;
    throw new PodError(`running as ${kind} ${id}: it is not mapped in the container's user namespace`, {
      hint: isSingleIdMap(map)
        ? `only root can run without subordinate ids: add a range with sudo usermod --add-sub${kind}s 100000-165535 $USER`
        : `pick a ${kind} inside the range your /etc/sub${kind} entry gives pod`,
    });
  }
  // The primary gid leads the group list (as podman and `id` show it); groups without a host gid
  // cannot be set and are left out.
  return [user.gid, ...user.groups.filter((g) => g !== user.gid)].filter((g) => idIsMapped(maps.gid, g));
}

/** The user spec in effect: --user, else the image's USER, else the keep-id user, else root. */
function userSpec(input: RunInput, image: ImageRuntimeConfig): string {
  if (input.opts.user) return input.opts.user;
  if (image.User) return image.User;
  const keep = keepIdIds(input.opts.userns, input.hostUid, input.hostGid);
  return keep ? `${keep.uid}:${keep.gid}` : "";
}

/** Where each namespace comes from: the container's own, pod's (host), or the file to join. */
function planNamespaces(modes: NamespaceModes, joins: Partial<Record<NamespaceFlag, NamespaceSource>>): Namespaces {
  const source = (flag: NamespaceFlag): NamespaceSource => {
    const m = modes[flag];
    if (m.kind === "host") return "host";
    if (m.kind === "container" || m.kind === "ns") {
      const path = joins[flag] ?? (m.kind === "ns" ? (m.path as `/${string}`) : undefined);
      if (!path) throw new PodError(`--${flag} container:${m.kind === "container" ? m.target : ""}: the namespace to join was not resolved`, { hint: "start the container again" });
      return path;
    }
    return "private";
  };
  return { ipc: source("ipc"), pid: source("pid"), uts: source("uts"), cgroup: source("cgroupns") };
}

/** Builds the launch plan for `pod run` and the files to write into the container directory. */
export function buildLaunchPlan(input: RunInput): { plan: LaunchPlan; files: ContainerFile[] } {
  const o = input.opts;
  const image: ImageRuntimeConfig = input.imageConfig?.config ?? {};
  const modes = namespaceModes(o);
  // a container:NAME whose namespace is the host's shares the host's, as with host itself
  const namespaces = planNamespaces(modes, input.joins ?? {});
  const hostname = checkHostname((modes.uts.kind === "private" ? o.hostname : input.sharedHostname) || input.id.slice(0, 12));
  const security = parseSecurityOpts(o.securityOpt);
  const { noNewPrivileges } = security;
  const maps = containerIdMaps(input.storageMaps, o.userns, input.hostUid, input.hostGid, { uidmap: o.uidmap, gidmap: o.gidmap });
  const user = resolveUser(userSpec(input, image), input.layerDirs);
  const added = resolveGroupAdd(o.groupAdd ?? [], input.layerDirs);
  const groups = [...new Set([...checkMapped(user, maps), ...added.gids.map((g) => checkGroupMapped(g, maps))])];
  const argv = resolveArgv({ imageEntrypoint: image.Entrypoint, imageCmd: image.Cmd, entrypoint: o.entrypoint, command: o.command });
  const cwd = resolveWorkdir(o.workdir, image.WorkingDir);
  const env = buildEnv({
    imageEnv: image.Env ?? [],
    envFiles: o.envFiles,
    env: o.env,
    hostEnv: input.hostEnv,
    home: user.home,
    hostname,
    envHost: o.envHost,
    unsetenv: o.unsetenv,
    unsetenvAll: o.unsetenvAll,
  });
  // a joined namespace is not the container's own: /sys is the host's, as with --network host
  const newNetwork = netOf(input).mode !== "host" && netOf(input).mode !== "join";
  const ops = buildMountOps({
    containerDir: input.containerDir,
    layerDirs: input.layerDirs,
    newNetwork,
    noHosts: o.noHosts,
    privileged: o.privileged,
    readOnly: o.readOnly,
    readOnlyTmpfs: o.readOnlyTmpfs,
    volumes: o.volumes,
    tmpfs: o.tmpfs,
    volumeMounts: o.volumeMounts,
    workdir: cwd,
    shmSize: o.shmSize,
    sysctls: sysctlOps(parseSysctls(o.sysctls ?? [], o.network, modes.ipc.kind)),
    pidHost: namespaces.pid === "host",
    ipc: namespaces.ipc === "host" ? "host" : modes.ipc.kind === "none" ? "none" : "own",
    hostMqueue: input.hostMqueue,
    devices: o.devices,
    mask: security.mask,
    unmask: security.unmask,
    procOpts: security.procOpts,
    cgroupMount: input.ownCgroup === true && namespaces.cgroup === "private",
  });
  const idFiles = idEntryFiles(user, input.layerDirs, o);
  for (const f of idFiles) {
    ops.push({ op: "touch", target: `/etc/${f.path}`, mode: 0o644 });
    ops.push({ op: "bind", source: join(input.containerDir, f.path), target: `/etc/${f.path}`, recursive: false, readonly: false });
  }
  const taken = new Set(ops.flatMap((op) => (op.op === "bind" || op.op === "mount" ? [op.target] : [])));
  if (o.tz && !taken.has("/etc/localtime")) {
    const target = resolveImagePath(input.layerDirs, "/etc/localtime")?.path ?? "/etc/localtime";
    ops.push({ op: "touch", target, mode: 0o644 }, { op: "bind", source: timezoneFile(o.tz), target, recursive: false, readonly: true });
  }
  const containerenv = containerEnvFile(input);
  // podman leaves it out where the user mounts it, or binds something over /run
  const runBound = ops.some((op) => op.op === "bind" && (op.target === "/run" || op.target === "/run/.containerenv"));
  if (!runBound)
    ops.push({ op: "touch", target: "/run/.containerenv", mode: 0o644 }, { op: "bind", source: join(input.containerDir, containerenv.path), target: "/run/.containerenv", recursive: false, readonly: true });
  ops.push(...secretMountOps(input.layerDirs, input.secrets));
  const caps = computeCaps({ add: o.capAdd, drop: o.capDrop, privileged: o.privileged, uid: user.uid });
  const seccomp = seccompFilter({ securityOpt: o.securityOpt, privileged: o.privileged, profile: o.seccompProfile, caps: capabilityNames(caps.bounding), cacheDir: input.seccompCache });
  const plan: LaunchPlan = {
    rootfs: input.rootfs,
    rootfsMount: input.rootfsMount,
    ops,
    readonlyRoot: o.readOnly,
    hostname,
    newNetwork,
    namespaces,
    argv,
    env: withSecretEnv(env, input.secrets),
    cwd,
    uid: user.uid,
    gid: user.gid,
    groups,
    ...(added.keep ? { keepGroups: true } : {}),
    ...(o.ulimits?.length ? { rlimits: rlimitsOf(parseUlimits(o.ulimits)) } : {}),
    caps,
    noNewPrivileges,
    // runc's name: exec sessions find the container's keyring by it; the user's login keys stay out
    keyring: `_ses.${input.id}`,
    ...(seccomp ? { seccomp } : {}),
    init: o.init,
    uidMap: maps.uid,
    gidMap: maps.gid,
  };
  return { plan, files: [...containerFiles(hostname, input, input.name), ...idFiles, containerenv] };
}

/**
 * /run/.containerenv, which tools test for to know they run in a container:
 * empty, and with --privileged the container's facts, as podman writes it.
 */
function containerEnvFile(input: RunInput): ContainerFile {
  if (!input.opts.privileged) return { path: "containerenv", content: "" };
  const q = (v: string | undefined) => JSON.stringify(v ?? "");
  const content = [
    `engine="pod-${input.engineVersion ?? "0.0.0-dev"}"`,
    `name=${q(input.name)}`,
    `id=${q(input.id)}`,
    `image=${q(input.image)}`,
    `imageid=${q(input.imageId)}`,
    `rootless=${input.hostUid === 0 ? 0 : 1}`,
    "",
  ].join("\n");
  return { path: "containerenv", content };
}

/**
 * A numeric user the image does not know gets a passwd (and group) entry, as
 * podman adds one, so `id` and programs that look the user up see a name:
 * the image's files plus one line, bound over /etc/passwd and /etc/group.
 */
function idEntryFiles(user: ResolvedUser, layerDirs: string[], o: Pick<RunOptions, "hostUsers" | "passwdEntry">): ContainerFile[] {
  const files: ContainerFile[] = [];
  const image = readImageFile(layerDirs, "/etc/passwd") ?? "";
  let passwd = withNewline(image);
  const named = new Set(image.split("\n").map((l) => l.split(":")[0]));
  // --hostuser: the host's line, unless the image has a user of that name
  for (const line of o.hostUsers ?? []) if (!named.has(line.split(":")[0])) passwd += `${line}\n`;
  if (user.uid !== 0 && user.name === undefined) {
    const vars: Record<string, string> = { USERNAME: String(user.uid), UID: String(user.uid), GID: String(user.gid), NAME: "container user", HOME: user.home };
    const template = o.passwdEntry ?? "$USERNAME:*:$UID:$GID:$NAME:$HOME:/bin/sh";
    passwd += withNewline(template.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => vars[(a ?? b)!] ?? ""));
  }
  if (passwd !== withNewline(image)) files.push({ path: "passwd", content: passwd });
  const group = readImageFile(layerDirs, "/etc/group") ?? "";
  if (!group.split("\n").some((l) => l.split(":")[2] === String(user.gid)))
    files.push({ path: "group", content: `${withNewline(group)}${user.gid}:x:${user.gid}:\n` });
  return files;
}

/** A --group-add gid must have a host gid, or setgroups(2) fails. */
function checkGroupMapped(gid: number, maps: IdMaps): number {
  if (idIsMapped(maps.gid, gid)) return gid;
  throw new PodError(`--group-add ${gid}: gid ${gid} is not mapped in the container's user namespace`, {
    hint: isSingleIdMap(maps.gid) ? "only gid 0 exists without subordinate ids: add a range with sudo usermod --add-subgids 100000-165535 $USER" : "pick a gid inside the range your /etc/subgid entry gives pod",
  });
}

const withNewline = (t: string) => (t && !t.endsWith("\n") ? `${t}\n` : t);
