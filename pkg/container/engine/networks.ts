// What `pod network` needs to know of containers: which ones name a network
// (by name in their record), `network rm -f` removing them first, and
// inspect's and ls's views, podman's shapes.
import type { Paths } from "../../config/index.ts";
import { PodError } from "../../errors.ts";
import { createNetwork, findNetwork, formatNamed, requireMac, matchesNetworkFilter, parseNetworkMode, readNetworks, removeNetworkRecord, requireNetwork, DEFAULT_NETWORK, type NetworkOptions, type NetworkRecord } from "../../network/index.ts";
import { connectRunning, disconnectRunning, reloadUserNetworks } from "../../network/usernet.ts";
import { findContainer, listRecords, updateRecord, type ContainerRecord } from "../record/records.ts";
import { removeContainer, stopContainer } from "./lifecycle.ts";
import { stopSignalOf } from "../record/stop-signal.ts";
import { runtimeDir } from "../io/live.ts";
import { statusOf } from "../record/state.ts";
import { networkEvent } from "../../events/index.ts";

/** The containers whose --network names this network (the default `podman` too, rootless). */
export function containersOn(root: string, network: string): ContainerRecord[] {
  return listRecords(root).filter((r) => {
    const mode = parseNetworkMode(r.config?.opts.network);
    return mode.kind === "named" && mode.names.includes(network);
  });
}

/** podman's `network ls` row: the Go template fields of its entities.Network. */
export function networkRow(n: NetworkRecord) {
  return {
    Name: n.name,
    ID: n.id,
    Driver: n.driver,
    NetworkInterface: n.network_interface,
    Created: n.created,
    Subnets: n.subnets.map((s) => ({ Subnet: s.subnet, Gateway: s.gateway })),
    IPv6Enabled: n.ipv6_enabled,
    Internal: n.internal,
    DNSEnabled: n.dns_enabled,
    Labels: n.labels ?? {},
    Options: n.options ?? {},
    IPAMOptions: n.ipam_options,
  };
}

/** `network ls --filter`: podman's keys; dangling (no container names it) and until need the containers and the clock. */
export function listNetworks(paths: Paths, filters: string[] = []): NetworkRecord[] {
  const parsed = filters.map((f) => {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new PodError(`invalid filter ${JSON.stringify(f)}: filters are KEY=VALUE`, { exit: 125, hint: "pod network ls --filter name=web" });
    return [f.slice(0, eq), f.slice(eq + 1)] as const;
  });
  return readNetworks(paths.root).filter((n) => {
    // one key given several times matches any of its values; different keys must all match
    const byKey = new Map<string, string[]>();
    for (const [k, v] of parsed) byKey.set(k, [...(byKey.get(k) ?? []), v]);
    for (const [k, values] of byKey) {
      const ok = values.some((v) => {
        if (k === "dangling") {
          if (v !== "true" && v !== "false") throw new PodError(`invalid dangling filter value "${v}"`, { exit: 125, hint: "dangling=true or dangling=false" });
          return (containersOn(paths.root, n.name).length === 0) === (v === "true");
        }
        if (k === "until") {
          const t = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
          if (Number.isNaN(t)) throw new PodError(`invalid until filter value "${v}"`, { exit: 125, hint: "until=2024-01-01T00:00:00Z or a Unix time" });
          return Date.parse(n.created) < t;
        }
        return matchesNetworkFilter(n, k, v);
      });
      if (!ok) return false;
    }
    return true;
  });
}

/** `network create`: the network, and its create event (none when --ignore found it there). */
export async function createUserNetwork(paths: Paths, o: Parameters<typeof createNetwork>[1]): Promise<NetworkRecord> {
  const existed = o.name !== undefined && findNetwork(paths.root, o.name) !== undefined;
  const n = await createNetwork(paths.root, o);
  if (!existed) await networkEvent(paths, { id: n.id, network: n.name, status: "create", driver: n.driver });
  return n;
}

/** `network rm`: a network a container names is in use (exit 2) unless -f removes those containers first. */
export async function removeNetworks(paths: Paths, refs: string[], o: { force: boolean; timeoutSec?: number }): Promise<{ removed: string[]; errors: PodError[] }> {
  const removed: string[] = [];
  const errors: PodError[] = [];
  for (const ref of refs) {
    try {
      const n = requireNetwork(paths.root, ref);
      if (n.name === DEFAULT_NETWORK) throw new PodError(`default network ${DEFAULT_NETWORK} cannot be removed`, { exit: 125, hint: "remove only networks you created" });
      const users = containersOn(paths.root, n.name);
      if (users.length && !o.force)
        throw new PodError(`"${n.name}" has associated containers with it. Use -f to forcibly delete containers and pods: network is being used`, {
          exit: 2,
          hint: `remove ${users.map((u) => u.name).join(", ")} first, or use network rm -f`,
        });
      for (const c of users) {
        // -t: the containers get their stop signal and that long, as `stop -t` gives them, before rm -f kills them
        const s = statusOf(c);
        if (o.timeoutSec !== undefined && (s === "running" || s === "paused")) await stopContainer(paths, c, o.timeoutSec, stopSignalOf(paths, c));
        await removeContainer(paths, c, true);
      }
      await removeNetworkRecord(paths.root, n.name);
      await networkEvent(paths, { id: n.id, network: n.name, status: "remove", driver: n.driver });
      removed.push(n.name);
    } catch (e) {
      if (!(e instanceof PodError)) throw e;
      errors.push(e);
    }
  }
  return { removed, errors };
}

/** `network prune`: every network but the default that no container names. */
export async function pruneNetworks(paths: Paths, filters: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of listNetworks(paths, filters))
    if (n.name !== DEFAULT_NETWORK && containersOn(paths.root, n.name).length === 0) {
      await removeNetworkRecord(paths.root, n.name);
      await networkEvent(paths, { id: n.id, network: n.name, status: "remove", driver: n.driver });
      out.push(n.name);
    }
  return out;
}

const namesOf = (rec: ContainerRecord): string[] => {
  const mode = parseNetworkMode(rec.config?.opts.network);
  return mode.kind === "named" ? mode.names : [];
};

const optionsOf = (rec: ContainerRecord): Record<string, NetworkOptions> => {
  const mode = parseNetworkMode(rec.config?.opts.network);
  return mode.kind === "named" ? (mode.options ?? {}) : {};
};

/** `network connect NETWORK CONTAINER`: from the next start on, and now if it runs. */
export async function connectContainer(paths: Paths, networkRef: string, containerRef: string, o: { aliases: string[]; ip?: string; mac?: string }): Promise<void> {
  const n = requireNetwork(paths.root, networkRef);
  const rec = findContainer(paths.root, containerRef);
  const names = namesOf(rec);
  if (o.ip !== undefined && !/^\d+\.\d+\.\d+\.\d+$/.test(o.ip)) throw new PodError(`invalid --ip ${JSON.stringify(o.ip)}: not an IPv4 address`, { hint: "pod network connect --ip 10.89.0.5 NETWORK CONTAINER" });
  const mac = o.mac === undefined ? undefined : requireMac(o.mac, "pod network connect --mac-address 92:d0:c6:0a:29:33 NETWORK CONTAINER");
  if (!names.length)
    throw new PodError(`"${rec.name}" is not on a user network (its network is ${rec.config?.opts.network || "the default"}): network connect is for containers on user networks`, {
      hint: "create it with --network NAME to connect it to more networks later",
    });
  if (names.includes(n.name)) throw new PodError(`container ${rec.id.slice(0, 12)} is already connected to network "${n.name}": network is already connected`, { hint: "nothing to do" });
  const status = statusOf(rec);
  if ((status === "running" || status === "paused") && rec.pid) {
    const want = { network: n, ip: o.ip, mac, aliases: [...(rec.config?.opts.networkAlias ?? []), ...o.aliases] };
    const address = await connectRunning(paths.runroot, { id: rec.id, name: rec.name, pid: rec.pid }, want, runtimeDir(paths, rec.id));
    await updateRecord(paths.root, rec.id, (r) => ({ ...r, networks: [...(r.networks ?? []), address] }));
  }
  await updateRecord(paths.root, rec.id, (r) =>
    r.config
      ? { ...r, config: { ...r.config, opts: { ...r.config.opts, network: formatNamed([...namesOf(r), n.name], { ...optionsOf(r), [n.name]: { ip: o.ip, mac, aliases: o.aliases } }) } } }
      : r,
  );
  await networkEvent(paths, { id: rec.id, network: n.name, status: "connect" });
}

/**
 * `network reload [--all] CONTAINER…`: the rules and bridges of the user
 * networks are written again; prints (returns) the ids of the running
 * containers on user networks it covered, as podman does.
 */
export async function reloadNetworks(paths: Paths, refs: string[], all: boolean): Promise<string[]> {
  const recs = all ? listRecords(paths.root) : refs.map((r) => findContainer(paths.root, r));
  const onNetworks = recs.filter((r) => namesOf(r).length && (statusOf(r) === "running" || statusOf(r) === "paused"));
  const done = await reloadUserNetworks(paths.runroot, onNetworks.map((r) => r.id));
  for (const r of recs)
    if (!all && !done.includes(r.id))
      throw new PodError(`container ${r.name} is not running on a user network: nothing to reload`, { hint: "network reload is for running containers on user networks (--network NAME)" });
  return done;
}

/** `network disconnect NETWORK CONTAINER`: its interface on that network goes now, and from its config. */
export async function disconnectContainer(paths: Paths, networkRef: string, containerRef: string): Promise<void> {
  const n = requireNetwork(paths.root, networkRef);
  const rec = findContainer(paths.root, containerRef);
  const names = namesOf(rec);
  if (!names.includes(n.name)) throw new PodError(`container ${rec.id.slice(0, 12)} is not connected to network ${n.name}`, { hint: `pod inspect ${rec.name} shows its networks` });
  if (names.length === 1) throw new PodError(`cannot disconnect container ${rec.name} from its only network ${n.name}`, { hint: "connect it to another network first, or remove it" });
  await disconnectRunning(paths.runroot, rec.id, n.name);
  await updateRecord(paths.root, rec.id, (r) => ({
    ...r,
    networks: r.networks?.filter((a) => a.network !== n.name),
    ...(r.config ? { config: { ...r.config, opts: { ...r.config.opts, network: formatNamed(namesOf(r).filter((x) => x !== n.name), optionsOf(r)) } } } : {}),
  }));
  await networkEvent(paths, { id: rec.id, network: n.name, status: "disconnect" });
}
