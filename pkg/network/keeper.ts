// `pod _netns-keeper DIR`: the process that keeps the user networks' shared
// namespace (it runs inside it, as root of its user namespace), answers DNS
// for the containers on its bridges, forwards other names upstream, and
// ends, with its pasta, once no container holds a lease.
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic.ts";
import { proxySocket, serveProxy } from "./proxy.ts";
import { withLock } from "../store/lock.ts";
import { bareName, buildAnswer, buildFailure, isLocalName, parseQuery, TYPE_A, type Question } from "./dns.ts";
import { interfacesOf, leaseAlive, readKeeper, readLeases, readyFile, stopKeeper, usernetLock, upstreamFile, type UserLease } from "./usernet.ts";

type Pending = { client: { address: string; port: number }; query: Uint8Array; q: Question; upstream: number; timer: ReturnType<typeof setTimeout> };

/** The addresses of `name` for a query from `from`: the containers on a network the querier is on (with DNS), by name, alias or short id. */
export function lookup(leases: UserLease[], from: string, name: string): string[] | undefined {
  // the querier is a container (its address on any of its networks); it sees every network it is on
  const ids = new Set(leases.filter((l) => l.ip === from).map((l) => l.id));
  const mine = new Set(leases.filter((l) => ids.has(l.id) && l.dns).map((l) => l.network));
  if (!mine.size) return undefined;
  const n = bareName(name);
  const hits = leases.filter(
    (l) => mine.has(l.network) && (l.name.toLowerCase() === n || l.aliases.some((a) => a.toLowerCase() === n) || (n.length >= 12 && l.id.startsWith(n))),
  );
  return hits.length ? [...new Set(hits.map((l) => l.ip))] : undefined;
}

export async function runKeeper(dir: string): Promise<number> {
  const log = (m: string) => {
    try {
      appendFileSync(join(dir, "keeper.log"), `${new Date().toISOString()} ${m}\n`);
    } catch {
      // no log is no reason to stop
    }
  };
  const upstream: string[] = (() => {
    try {
      return JSON.parse(readFileSync(upstreamFile(dir), "utf8"));
    } catch {
      return [];
    }
  })();
  let leases = readLeases(dir);
  let nextId = 1;
  const pending = new Map<number, Pending>();

  const client = await Bun.udpSocket({
    socket: {
      data(_s, buf, _port, _addr) {
        const msg = new Uint8Array(buf);
        const id = (msg[0]! << 8) | msg[1]!;
        const p = pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        pending.delete(id);
        msg[0] = p.q.id >> 8;
        msg[1] = p.q.id & 0xff;
        server.send(msg, p.client.port, p.client.address);
      },
    },
  });

  const forward = (p: Pending) => {
    const host = upstream[p.upstream];
    if (host === undefined) {
      server.send(buildFailure(p.query, p.q), p.client.port, p.client.address);
      return;
    }
    const id = nextId;
    nextId = (nextId % 65535) + 1;
    const copy = new Uint8Array(p.query);
    copy[0] = id >> 8;
    copy[1] = id & 0xff;
    p.timer = setTimeout(() => {
      pending.delete(id);
      forward({ ...p, upstream: p.upstream + 1 });
    }, 2000);
    pending.set(id, p);
    client.send(copy, 53, host);
  };

  const server = await Bun.udpSocket({
    hostname: "0.0.0.0",
    port: 53,
    socket: {
      data(_s, buf, port, address) {
        const query = new Uint8Array(buf);
        const q = parseQuery(query);
        if (!q) return;
        leases = readLeases(dir);
        const local = lookup(leases, address, q.name);
        if (local) return void server.send(buildAnswer(query, q, q.type === TYPE_A ? local : []), port, address);
        // names of pod's own domain, and single labels, are container names or nothing: never asked upstream
        if (isLocalName(q.name)) return void server.send(buildAnswer(query, q, undefined), port, address);
        forward({ client: { address, port }, query, q, upstream: 0, timer: setTimeout(() => {}, 0) });
      },
    },
  });
  // -p of containers on user networks: the owner of each container passes its connections here
  rmSync(proxySocket(dir), { force: true });
  const proxy = serveProxy(proxySocket(dir));
  writeFileAtomic(readyFile(dir), JSON.stringify({ pid: process.pid }), 0o600);
  log(`keeper ${process.pid} answering DNS; upstream ${upstream.join(" ") || "(none)"}`);

  const quit = () => {
    stopKeeper(readKeeper(dir), false);
    process.exit(0);
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);

  // Ends once no lease is alive for two looks in a row (a container being set up holds its lease through its pod).
  let idle = 0;
  let known = readKeeper(dir);
  for (;;) {
    await Bun.sleep(1000);
    if (!existsSync(dir)) {
      // the state is gone (system reset): end, and the pasta this keeper had
      stopKeeper(known, false);
      log(`keeper ${process.pid}: state directory removed, ending`);
      return 0;
    }
    known = readKeeper(dir) ?? known;
    const ifaces = interfacesOf("self");
    if (readLeases(dir).some((l) => leaseAlive(l, ifaces))) {
      idle = 0;
      continue;
    }
    if (++idle < 2) continue;
    const done = await withLock(usernetLock(dir), "write", () => {
      const again = interfacesOf("self");
      if (readLeases(dir).some((l) => leaseAlive(l, again))) return false;
      const k = readKeeper(dir);
      if (k && k.pid !== process.pid) return true; // another keeper took over: just leave
      stopKeeper(k, false);
      for (const f of ["keeper.json", "leases.json", "keeper.ready", "upstream.json", "helper.pid"]) rmSync(join(dir, f), { force: true });
      return true;
    });
    if (done) {
      log(`keeper ${process.pid}: no container left, ending`);
      server.close();
      client.close();
      proxy.stop();
      rmSync(proxySocket(dir), { force: true });
      return 0;
    }
    idle = 0;
  }
}
