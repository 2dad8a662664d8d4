// `pod network`: create, ls, inspect, rm, prune, exists; and the hidden
// `_netns-keeper` that keeps the user networks' namespace.
import type { PodArgs, PodCommand } from "./_args.ts";
import { reportAll } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { connectContainer, createUserNetwork, disconnectContainer, listNetworks, reloadNetworks, networkRow, pruneNetworks, removeNetworks } from "../pkg/container/index.ts";
import { findNetwork, networkNotFound } from "../pkg/network/index.ts";
import { runKeeper } from "../pkg/network/keeper.ts";
import { serveProxy } from "../pkg/network/proxy.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, formatItems, formatValue, out } from "../pkg/output/index.ts";
import { existsCommand } from "./_exists.ts";

function keyValues(list: string[] | undefined, what: string): Record<string, string> {
  const o: Record<string, string> = {};
  for (const item of list ?? []) {
    const eq = item.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid ${what} ${JSON.stringify(item)}: the key is empty`, { hint: `--${what} KEY=VALUE` });
    if (eq < 0) o[item] = "";
    else o[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return o;
}

const createArgs = {
    driver: { type: "enum", alias: "d", options: ["bridge"], default: "bridge", description: "Network driver (pod has bridge)", valueHint: "driver" },
    subnet: { type: "string", description: "Subnet in CIDR notation (default: the next free /24 of 10.89.0.0/16)", valueHint: "subnet" },
    gateway: { type: "string", description: "Gateway address in the subnet (default: its first address)", valueHint: "ip" },
    "ip-range": { type: "string", description: "Range containers get addresses from, in CIDR notation, inside the subnet", valueHint: "range" },
    internal: { type: "boolean", description: "No access outside the network" },
    ipv6: { type: "boolean", description: "Give the network an IPv6 subnet too (a unique local /64)" },
    "disable-dns": { type: "boolean", description: "No DNS for container names on this network" },
    label: { type: "string", multiple: true, description: "Set a label on the network (KEY=VALUE)", valueHint: "label" },
    opt: { type: "string", alias: "o", multiple: true, description: "Driver option: mtu=N, metric=N, isolate=true|strict", valueHint: "option" },
    ignore: { type: "boolean", description: "Do not fail when a network of that name exists" },
    name: { type: "positional", description: "Network name (default: podmanN)", required: false },
} satisfies PodArgs;

const lsArgs = {
    quiet: { type: "boolean", alias: "q", description: "Print only network names" },
    filter: { type: "string", alias: "f", multiple: true, description: "Filter: name=, id=, driver=, label=, label!=, dangling=, until=", valueHint: "filter" },
    noheading: { type: "boolean", alias: "n", description: "Do not print headers" },
    "no-trunc": { type: "boolean", description: "Print full network IDs" },
    ...formatArg,
} satisfies PodArgs;

const inspectArgs = {
    format: { type: "string", alias: "f", description: "Output format: json or a Go template", valueHint: "format" },
    network: { type: "positional", description: "Networks (names or IDs)", required: false },
} satisfies PodArgs;

const rmArgs = {
    force: { type: "boolean", alias: "f", description: "Remove the containers that use the network first" },
    time: { type: "string", alias: "t", description: "Seconds to wait for those containers to stop before killing them", valueHint: "seconds" },
    network: { type: "positional", description: "Networks (names or IDs)", required: false },
} satisfies PodArgs;

const pruneArgs = {
    force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
    filter: { type: "string", multiple: true, description: "Filter: label=, label!=, until=", valueHint: "filter" },
} satisfies PodArgs;

export const create: PodCommand = {
  meta: { name: "create", description: "Create a network (a bridge; rootless, in pod's user networks namespace)" },
  examples: ["pod network create mynet", "pod network create --subnet 10.89.5.0/24 --internal backend", "pod run --network mynet --name web -d alpine httpd -f"],
  args: createArgs,
  async run({ args }) {
    const names = args._ as string[];
    if (names.length > 1) throw new UsageError("too many arguments: `pod network create` takes at most one NAME", { hint: "pod network create mynet" });
    const ctx = openContext(args);
    const n = await createUserNetwork(ctx.paths, {
      name: names[0],
      subnet: args.subnet as string | undefined,
      gateway: args.gateway as string | undefined,
      ipRange: args["ip-range"] as string | undefined,
      internal: Boolean(args.internal),
      disableDns: Boolean(args["disable-dns"]),
      labels: keyValues(args.label as unknown as string[], "label"),
      options: keyValues(args.opt as unknown as string[], "opt"),
      ipv6: Boolean(args.ipv6),
      ignore: Boolean(args.ignore),
    });
    out(`${n.name}\n`);
  },
};

const lsSpec = { table: "{{.ID}}\t{{.Name}}\t{{.Driver}}", headers: { ID: "NETWORK ID", Name: "NAME", Driver: "DRIVER" } };

export const ls: PodCommand = {
  meta: { name: "ls", description: "List networks" },
  examples: ["pod network ls", "pod network ls -q --filter dangling=true", "pod network ls --format '{{.Name}} {{.Subnets}}'"],
  args: lsArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const nets = listNetworks(ctx.paths, args.filter as unknown as string[]);
    if (args.quiet) return out(nets.map((n) => `${n.name}\n`).join(""));
    const rows = nets.map((n) => {
      const r = networkRow(n);
      return args["no-trunc"] || args.format ? r : { ...r, ID: r.ID.slice(0, 12) };
    });
    out(formatItems(args.format as string | undefined, rows, lsSpec, { noHeading: Boolean(args.noheading) }));
  },
};

export const inspect: PodCommand = {
  meta: { name: "inspect", description: "Display the configuration of networks" },
  examples: ["pod network inspect podman", "pod network inspect --format '{{range .Subnets}}{{.Subnet}}{{end}}' mynet"],
  args: inspectArgs,
  async run({ args }) {
    const refs = args._ as string[];
    if (!refs.length) throw new UsageError("provide at least one network name or ID", { hint: "pod network inspect podman" });
    const ctx = openContext(args);
    const found = [];
    const errors: PodError[] = [];
    for (const r of refs) {
      const n = findNetwork(ctx.paths.root, r);
      if (n) found.push(n);
      else errors.push(networkNotFound(r));
    }
    const f = (args.format as string | undefined)?.trim();
    if (found.length || !errors.length) out(formatValue(f, !f || f === "json" ? found : found.map(networkRow)));
    reportAll(errors);
  },
};

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove networks" },
  examples: ["pod network rm mynet", "pod network rm -f mynet"],
  args: rmArgs,
  async run({ args }) {
    const refs = args._ as string[];
    if (!refs.length) throw new UsageError("provide at least one network name or ID", { hint: "pod network rm mynet" });
    if (args.time !== undefined && !/^-?\d+$/.test(String(args.time))) throw new UsageError(`invalid argument "${args.time}" for "-t, --time" flag: not a number of seconds`, { hint: "pod network rm -f -t 0 mynet" });
    const ctx = openContext(args);
    const { removed, errors } = await removeNetworks(ctx.paths, refs, { force: Boolean(args.force), timeoutSec: args.time === undefined ? undefined : Number(args.time) });
    out(removed.map((n) => `${n}\n`).join(""));
    reportAll(errors);
  },
};

export const prune: PodCommand = {
  meta: { name: "prune", description: "Remove networks no container uses" },
  examples: ["pod network prune -f", "pod network prune -f --filter label=env=test"],
  args: pruneArgs,
  async run({ args }) {
    const ctx = openContext(args);
    if (!args.force) {
      err("WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ");
      let line = "";
      for await (const l of console) {
        line = l;
        break;
      }
      if (!/^y(es)?$/i.test(line.trim())) return 0;
    }
    out((await pruneNetworks(ctx.paths, (args.filter as unknown as string[]) ?? [])).map((n) => `${n}\n`).join(""));
  },
};

const connectArgs = {
  alias: { type: "string", multiple: true, description: "Another name the container answers to on this network", valueHint: "alias" },
  ip: { type: "string", description: "The container's IPv4 address on this network", valueHint: "ip" },
  "mac-address": { type: "string", description: "The container's MAC address on this network", valueHint: "mac" },
  network: { type: "positional", description: "Network (name or ID)" },
  container: { type: "positional", description: "Container (name or ID)" },
} satisfies PodArgs;

export const connect: PodCommand = {
  meta: { name: "connect", description: "Connect a container to a network (a running one at once)" },
  examples: ["pod network connect backend web", "pod network connect --alias api backend web"],
  args: connectArgs,
  async run({ args }) {
    const [net, ctr, ...rest] = args._ as string[];
    if (!net || !ctr || rest.length) throw new UsageError("`pod network connect` takes a network and a container", { hint: "pod network connect mynet web" });
    await connectContainer(openContext(args).paths, net, ctr, { aliases: (args.alias as unknown as string[]) ?? [], ip: args.ip as string | undefined, mac: args["mac-address"] as string | undefined });
  },
};

const disconnectArgs = {
  force: { type: "boolean", alias: "f", description: "Disconnect even if the container is not running (pod always can)" },
  network: { type: "positional", description: "Network (name or ID)" },
  container: { type: "positional", description: "Container (name or ID)" },
} satisfies PodArgs;

export const disconnect: PodCommand = {
  meta: { name: "disconnect", description: "Disconnect a container from a network" },
  examples: ["pod network disconnect backend web"],
  args: disconnectArgs,
  async run({ args }) {
    const [net, ctr, ...rest] = args._ as string[];
    if (!net || !ctr || rest.length) throw new UsageError("`pod network disconnect` takes a network and a container", { hint: "pod network disconnect mynet web" });
    await disconnectContainer(openContext(args).paths, net, ctr);
  },
};

const reloadArgs = {
  all: { type: "boolean", alias: "a", description: "Reload the networks of every running container" },
  container: { type: "positional", description: "Containers (names or IDs)", required: false },
} satisfies PodArgs;

export const reload: PodCommand = {
  meta: { name: "reload", description: "Write the user networks' bridges and firewall rules again for containers" },
  examples: ["pod network reload web", "pod network reload --all"],
  args: reloadArgs,
  async run({ args }) {
    const refs = args._ as string[];
    if (!refs.length && !args.all) throw new UsageError("provide at least one container name or ID, or --all", { hint: "pod network reload --all" });
    if (refs.length && args.all) throw new UsageError("--all and container names cannot be used together", { hint: "pod network reload --all" });
    out((await reloadNetworks(openContext(args).paths, refs, Boolean(args.all))).map((id) => `${id}\n`).join(""));
  },
};

export const exists = existsCommand("network", "mynet", (paths, name) => findNetwork(paths.root, name) !== undefined);

export const network: PodCommand = {
  meta: { name: "network", description: "Manage networks" },
  examples: ["pod network create mynet", "pod run -d --network mynet --name db alpine sleep 1000", "pod run --rm --network mynet alpine ping -c1 db"],
  subCommands: { connect, create, disconnect, exists, inspect, list: ls, ls, prune, reload, remove: rm, rm } as never,
};

export const proxy: PodCommand = {
  meta: { name: "_netns-proxy", description: "internal: inside a container's network namespace, connects -p's connections to its loopback", hidden: true },
  args: { socket: { type: "positional", description: "unix socket to serve" } } satisfies PodArgs,
  async run({ args }) {
    const socket = (args._ as string[])[0];
    if (!socket) throw new PodError("_netns-proxy is started by pod itself", { hint: "use pod run -p with --network slirp4netns" });
    serveProxy(socket);
    // serves until its parent-death signal (the container's owner ends) or a kill
    await new Promise(() => {});
  },
};

export const keeper: PodCommand = {
  meta: { name: "_netns-keeper", description: "internal: keeps the user networks' namespace and answers DNS in it", hidden: true },
  args: { dir: { type: "positional", description: "state directory" } } satisfies PodArgs,
  async run({ args }) {
    const dir = (args._ as string[])[0];
    if (!dir) throw new PodError("_netns-keeper is started by pod itself", { hint: "use pod run --network NAME" });
    return runKeeper(dir);
  },
};
