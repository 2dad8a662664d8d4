// `pod run`: podman's flags, parsed here, handed to pkg/container as one request.
import type { PodArgs, PodCommand } from "./_args.ts";
import { commaList } from "./_args.ts";
import { openContext } from "./_context.ts";
import { limitArgs, limitFlags } from "./_limits.ts";
import { platformFrom } from "./image.ts";
import { createContainer, parseDetachKeys, runContainer, runDetached, type PullPolicy, type RunRequest } from "../pkg/container/index.ts";
import { out } from "../pkg/output/index.ts";
import { UsageError } from "../pkg/errors.ts";

export const runArgs = {
  detach: { type: "boolean", alias: "d", description: "Run the container in the background and print its ID" },
  "detach-keys": { type: "string", default: "ctrl-p,ctrl-q", description: "With -it: the key sequence that detaches from the container", valueHint: "keys" },
  rm: { type: "boolean", description: "Remove the container when it exits" },
  interactive: { type: "boolean", alias: "i", description: "Keep STDIN open" },
  tty: { type: "boolean", alias: "t", description: "Allocate a pseudo-TTY" },
  env: { type: "string", alias: "e", multiple: true, description: "Set environment variables (KEY=VALUE, or KEY to copy it)", valueHint: "env" },
  "env-file": { type: "string", multiple: true, description: "Read environment variables from a file", valueHint: "file" },
  workdir: { type: "string", alias: "w", description: "Working directory inside the container", valueHint: "dir" },
  user: { type: "string", alias: "u", description: "Username or UID (format: <name|uid>[:<group|gid>])", valueHint: "user" },
  hostname: { type: "string", alias: "h", description: "Set the container's hostname", valueHint: "name" },
  name: { type: "string", description: "Assign a name to the container", valueHint: "name" },
  cidfile: { type: "string", description: "Write the container ID to the file (removed along with the container)", valueHint: "file" },
  "conmon-pidfile": { type: "string", description: "Write the pid of the container's monitor (pod's conmon) to the file at each start", valueHint: "file" },
  entrypoint: { type: "string", description: "Overwrite the image's ENTRYPOINT (string or JSON array)", valueHint: "cmd" },
  init: { type: "boolean", description: "Run an init inside the container that forwards signals and reaps processes" },
  "read-only": { type: "boolean", description: "Mount the container's root filesystem read-only" },
  "read-only-tmpfs": { type: "boolean", default: true, description: "With --read-only, mount tmpfs on /run, /tmp and /var/tmp" },
  tmpfs: { type: "string", multiple: true, description: "Mount a tmpfs (/path[:options])", valueHint: "path" },
  volume: { type: "string", alias: "v", multiple: true, description: "Bind mount a host path or a volume (HOST:CTR[:ro], NAME:CTR[:ro], or CTR for an anonymous volume)", valueHint: "volume" },
  mount: { type: "string", multiple: true, description: "Attach a mount: type=bind|volume|tmpfs,source=SRC,target=DST[,readonly]", valueHint: "mount" },
  device: { type: "string", multiple: true, description: "Add a host device to the container: HOST[:CONTAINER][:PERMS] (bound from the host; PERMS without w: read-only)", valueHint: "device" },
  "cap-add": { type: "string", multiple: true, description: "Add capabilities (NAME, ALL)", valueHint: "cap" },
  "cap-drop": { type: "string", multiple: true, description: "Drop capabilities (NAME, ALL)", valueHint: "cap" },
  "security-opt": { type: "string", multiple: true, description: "Security options (seccomp=unconfined|PROFILE.json, no-new-privileges, label=disable, mask=, unmask=ALL|PATHS, proc-opts=)", valueHint: "opt" },
  privileged: { type: "boolean", description: "Give extended privileges to the container (rootless: all capabilities of the user namespace)" },
  pull: { type: "enum", options: ["always", "missing", "never", "newer"], default: "missing", description: "Pull image policy", valueHint: "policy" },
  platform: { type: "string", description: "Use this platform's image (os/arch[/variant])", valueHint: "os/arch" },
  arch: { type: "string", description: "Use ARCH instead of the host's architecture", valueHint: "arch" },
  os: { type: "string", description: "Use OS instead of the running OS", valueHint: "os" },
  variant: { type: "string", description: "Use VARIANT instead of the default variant", valueHint: "variant" },
  userns: { type: "string", description: "User namespace mode: host (the default: root inside is you), keep-id[:uid=N,gid=N] (you inside, as your ids or N)", valueHint: "mode" },
  uidmap: { type: "string", multiple: true, description: "UID map of the container: CONTAINER_ID:HOST_ID:AMOUNT (host 0 is you, 1.. your subordinate ids)", valueHint: "map" },
  gidmap: { type: "string", multiple: true, description: "GID map of the container: CONTAINER_ID:HOST_ID:AMOUNT (default: the --uidmap)", valueHint: "map" },
  "log-driver": { type: "string", description: "Logging driver: k8s-file (the default; json-file is its alias), none, passthrough (the container's output goes to pod's own)", valueHint: "driver" },
  "log-opt": { type: "string", multiple: true, description: "Logging driver option: path=FILE, max-size=SIZE (k8s-file)", valueHint: "opt" },
  ipc: { type: "string", description: "IPC namespace: shareable (the default), private, none (no /dev/shm), host, container:NAME, ns:PATH", valueHint: "mode" },
  pid: { type: "string", description: "PID namespace: private (the default), host, container:NAME, ns:PATH", valueHint: "mode" },
  uts: { type: "string", description: "UTS namespace (hostname): private (the default), host, container:NAME, ns:PATH", valueHint: "mode" },
  cgroupns: { type: "string", description: "Cgroup namespace: private (the default), host, container:NAME, ns:PATH", valueHint: "mode" },
  network: { type: "string", alias: "net", multiple: true, description: "Network mode: pasta[:OPTIONS], slirp4netns[:OPTIONS], private (the default), host, none, or user networks by name", valueHint: "pasta|slirp4netns|private|host|none" },
  ip: { type: "string", description: "The container's IPv4 address on its user network", valueHint: "ip" },
  "mac-address": { type: "string", description: "The container's MAC address on its user network (e.g. 92:d0:c6:0a:29:33)", valueHint: "mac" },
  "network-alias": { type: "string", multiple: true, description: "Another name the container answers to on its user networks", valueHint: "alias" },
  publish: { type: "string", alias: "p", multiple: true, description: "Publish a container's port to the host: [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp]", valueHint: "port" },
  "publish-all": { type: "boolean", alias: "P", description: "Publish every exposed port (EXPOSE, --expose) on a free host port" },
  expose: { type: "string", multiple: true, description: "Expose a port or range (PORT[-PORT][/PROTO]) for -P", valueHint: "port" },
  dns: { type: "string", multiple: true, description: "Set a DNS server (none: no resolv.conf entries)", valueHint: "ip" },
  "dns-search": { type: "string", multiple: true, description: "Set a DNS search domain", valueHint: "domain" },
  "dns-option": { type: "string", multiple: true, description: "Set a resolv.conf option", valueHint: "option" },
  "add-host": { type: "string", multiple: true, description: "Add a host:ip line to /etc/hosts (host-gateway: the host)", valueHint: "host:ip" },
  "no-hosts": { type: "boolean", description: "Do not write /etc/hosts: keep the image's" },
  label: { type: "string", alias: "l", multiple: true, description: "Set a label on the container (KEY=VALUE, or KEY for an empty value)", valueHint: "label" },
  "label-file": { type: "string", multiple: true, description: "Read labels from a file of KEY=VALUE lines", valueHint: "file" },
  annotation: { type: "string", multiple: true, description: "Add an annotation to the container (KEY=VALUE)", valueHint: "annotation" },
  "stop-signal": { type: "string", description: "Signal that stops the container (default: the image's STOPSIGNAL, else SIGTERM)", valueHint: "signal" },
  "stop-timeout": { type: "string", description: "Seconds stop waits for the container before killing it (default 10)", valueHint: "seconds" },
  "health-cmd": { type: "string", description: "Command that tells the container is healthy (a shell command, a JSON array, or none)", valueHint: "command" },
  "health-interval": { type: "string", description: "Time between healthchecks (default 30s; disable: none on a timer)", valueHint: "duration" },
  "health-retries": { type: "string", description: "Failures in a row that make the container unhealthy (default 3)", valueHint: "n" },
  "health-start-period": { type: "string", description: "Time after the start when failures do not count (default 0s)", valueHint: "duration" },
  "health-timeout": { type: "string", description: "Time a healthcheck may take before it counts as failed (default 30s)", valueHint: "duration" },
  "health-on-failure": { type: "string", description: "What happens once the container is unhealthy: none, kill, restart, stop", valueHint: "action" },
  "no-healthcheck": { type: "boolean", description: "No healthcheck, not even the image's" },
  restart: { type: "string", description: "Restart policy when the container exits: no, on-failure[:N], always, unless-stopped", valueHint: "policy" },
  "env-host": { type: "boolean", description: "Use the host's environment in the container" },
  unsetenv: { type: "string", multiple: true, description: "Unset a default environment variable (from pod or the image)", valueHint: "env" },
  "unsetenv-all": { type: "boolean", description: "Unset every default environment variable (from pod and the image)" },
  tz: { type: "string", description: "Set the container's timezone: local (the host's) or an IANA zone such as Europe/Berlin", valueHint: "timezone" },
  timeout: { type: "string", description: "Seconds the container may run before it is killed (0: no limit)", valueHint: "seconds" },
  replace: { type: "boolean", description: "Remove the container of the same --name first, if there is one" },
  rmi: { type: "boolean", description: "Remove the image once the container exits, unless another container uses it (implies --rm)" },
  "group-add": { type: "string", multiple: true, description: "Add a supplementary group (a name of the image's /etc/group or a gid), or keep-groups: keep your own groups", valueHint: "group" },
  "shm-size": { type: "string", description: "Size of /dev/shm (number with an optional unit b, k, m or g; default 64m)", valueHint: "size" },
  hostuser: { type: "string", multiple: true, description: "Add a user of the host (name or UID) to the container's /etc/passwd", valueHint: "user" },
  sysctl: { type: "string", multiple: true, description: "Set a namespaced kernel parameter: KEY=VALUE (net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)", valueHint: "key=value" },
  ulimit: { type: "string", multiple: true, description: "Set a resource limit: NAME=SOFT[:HARD] (-1: unlimited), or host", valueHint: "ulimit" },
  "image-volume": { type: "enum", options: ["bind", "tmpfs", "ignore"], default: "bind", description: "What the image's VOLUME paths get: bind (an anonymous volume), tmpfs, or ignore" },
  secret: { type: "string", multiple: true, description: "Give the container a secret: NAME[,type=mount|env][,target=PATH|VAR][,uid=,gid=,mode=] (mount: /run/secrets/NAME)", valueHint: "secret" },
  "sig-proxy": { type: "boolean", default: true, description: "Proxy the signals pod receives to the container's process (false: they end pod, the container runs on)" },
  "preserve-fds": { type: "string", description: "Pass N additional file descriptors into the container (3 .. 3+N-1)", valueHint: "n" },
  "passwd-entry": { type: "string", description: "The /etc/passwd entry pod adds for a user the image lacks ($USERNAME, $UID, $GID, $NAME, $HOME)", valueHint: "entry" },
  ...limitArgs,
  image: { type: "positional", description: "Image to run" },
  command: { type: "positional", description: "Command and arguments", required: false },
} satisfies PodArgs;

/** --ipc, --pid, --uts, --cgroupns as given (pkg/runtime parses them). */
const namespaceArgs = (args: Record<string, unknown>) =>
  Object.fromEntries((["ipc", "pid", "uts", "cgroupns"] as const).flatMap((k) => (args[k] === undefined ? [] : [[k, String(args[k])]])));

/** --preserve-fds: a count, as podman's uint flag takes it */
function preserveFdsArg(v: unknown): number {
  if (!/^\d+$/.test(String(v)))
    throw new UsageError(`invalid argument "${v}" for "--preserve-fds" flag: expected a number of descriptors`, { hint: "pod run --preserve-fds 1 IMAGE CMD 3<file" });
  return Number(v);
}

/** The request `run` and `create` build from their flags. */
export function runRequest(args: Record<string, unknown>): RunRequest {
  const [image, ...command] = args._ as string[];
  const list = (k: string) => (args[k] as string[] | undefined) ?? [];
  const platformSet = args.platform || args.arch || args.os || args.variant;
  const userns = (args.userns as string | undefined) ?? "";
  return {
    image: image!,
    pull: String(args.pull) as PullPolicy,
    platform: platformSet ? platformFrom(args) : undefined,
    rm: Boolean(args.rm),
    name: args.name as string | undefined,
    cidfile: args.cidfile as string | undefined,
    conmonPidfile: args["conmon-pidfile"] as string | undefined,
    createCommand: [process.argv0, ...process.argv.slice(2)],
    interactive: Boolean(args.interactive),
    detachKeys: parseDetachKeys(String(args["detach-keys"] ?? "ctrl-p,ctrl-q")),
    replace: Boolean(args.replace),
    rmi: Boolean(args.rmi),
    log: { driver: args["log-driver"] as string | undefined, opts: list("log-opt") },
    sigProxy: args["sig-proxy"] !== false,
    ...(args["preserve-fds"] !== undefined ? { preserveFds: preserveFdsArg(args["preserve-fds"]) } : {}),
    flags: {
      labels: list("label"),
      labelFiles: list("label-file"),
      annotations: list("annotation"),
      stopSignal: args["stop-signal"] as string | undefined,
      stopTimeout: args["stop-timeout"] as string | undefined,
      restart: args.restart as string | undefined,
      health: {
        cmd: args["health-cmd"] as string | undefined,
        interval: args["health-interval"] as string | undefined,
        retries: args["health-retries"] as string | undefined,
        startPeriod: args["health-start-period"] as string | undefined,
        timeout: args["health-timeout"] as string | undefined,
        onFailure: args["health-on-failure"] as string | undefined,
        none: Boolean(args["no-healthcheck"]),
      },
      envHost: Boolean(args["env-host"]),
      unsetenv: list("unsetenv"),
      unsetenvAll: Boolean(args["unsetenv-all"]),
      tz: args.tz as string | undefined,
      timeout: args.timeout as string | undefined,
      groupAdd: commaList(list("group-add")),
      shmSize: args["shm-size"] as string | undefined,
      hostuser: list("hostuser"),
      passwdEntry: args["passwd-entry"] as string | undefined,
      ulimits: list("ulimit"),
      sysctls: list("sysctl"),
      secrets: list("secret"),
      imageVolume: args["image-volume"] as "bind" | "tmpfs" | "ignore",
      devices: list("device"),
      limits: limitFlags(args),
    },
    opts: {
      command,
      entrypoint: args.entrypoint as string | undefined,
      env: list("env"),
      envFiles: list("env-file"),
      workdir: args.workdir as string | undefined,
      user: args.user as string | undefined,
      hostname: args.hostname as string | undefined,
      init: Boolean(args.init),
      readOnly: Boolean(args["read-only"]),
      readOnlyTmpfs: args["read-only-tmpfs"] !== false,
      tmpfs: list("tmpfs"),
      volumes: list("volume"),
      mounts: list("mount"),
      capAdd: commaList(list("cap-add")),
      capDrop: commaList(list("cap-drop")),
      securityOpt: list("security-opt"),
      privileged: Boolean(args.privileged),
      // given more than once: several user networks, as podman takes them (pkg/network splits on the spaces)
      network: list("network").join(" "),
      ip: args.ip as string | undefined,
      macAddress: args["mac-address"] as string | undefined,
      networkAlias: list("network-alias"),
      publish: list("publish"),
      publishAll: Boolean(args["publish-all"]),
      expose: list("expose"),
      dns: commaList(list("dns")),
      dnsSearch: commaList(list("dns-search")),
      dnsOption: list("dns-option"),
      addHost: list("add-host"),
      noHosts: args["no-hosts"] ? true : undefined,
      userns,
      ...namespaceArgs(args),
      ...(list("uidmap").length ? { uidmap: list("uidmap") } : {}),
      ...(list("gidmap").length ? { gidmap: list("gidmap") } : {}),
      tty: Boolean(args.tty),
    },
  };
}

export const run: PodCommand = {
  meta: { name: "run", description: "Run a command in a new container" },
  examples: ["pod run --rm -it alpine sh", "pod run -d --name web alpine sleep 1000", "pod run --rm -v $PWD:/src:ro -w /src alpine ls"],
  interspersed: false,
  args: runArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const req = runRequest(args);
    if (!args.detach) return runContainer(ctx.paths, req);
    const rec = await runDetached(ctx.paths, req);
    out(`${rec.id}\n`);
  },
};

export const create: PodCommand = {
  meta: { name: "create", description: "Create but do not start a container" },
  examples: ["pod create --name web alpine sleep 1000", "pod start web"],
  interspersed: false,
  // --rmi, --preserve-fds and --sig-proxy are run's alone (podman's create has no such flags)
  args: Object.fromEntries(Object.entries(runArgs).filter(([k]) => !["detach", "rmi", "preserve-fds", "sig-proxy"].includes(k))) as PodArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const rec = await createContainer(ctx.paths, runRequest(args));
    out(`${rec.id}\n`);
  },
};
