// --network container:NAME and ns:PATH: the namespace a container joins.
// The other container must exist at create and run at start; its
// resolv.conf and its way to the host come along, as podman shares them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { findNetwork, formatNamed, parseNetworkMode, type JoinTarget, type NetworkOptions } from "../network/index.ts";
import type { RunOptions } from "../runtime/index.ts";
import { containerDir, findContainer } from "./records.ts";
import { statusOf } from "./state.ts";

/** At create: the container named must exist (its ID is what the record keeps), the path must be there. */
export function checkJoinTarget(root: string, opts: RunOptions): RunOptions {
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
      options[names[0]!] = { aliases: options[names[0]!]?.aliases ?? [], ip: opts.ip };
    }
    return { ...opts, ip: undefined, network: formatNamed(names, options) };
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
  const hostAddress = /^(\S+)\thost\.containers\.internal/m.exec(read("hosts") ?? "")?.[1];
  return { path: `/proc/${other.pid}/ns/net`, resolv: read("resolv.conf"), hostAddress };
}
