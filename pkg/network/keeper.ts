// `pod _netns-keeper DIR`: the process that keeps the user networks' shared
// namespace (it runs inside it, as root of its user namespace; as root it
// runs on the host, whose bridges the networks are), answers DNS for the
// containers on its bridges, forwards other names upstream, and ends, with
// its pasta, once no container holds a lease.
import { appendFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../store/atomic.ts";
import { proxySocket, serveProxy } from "./proxy.ts";
import { withLock } from "../store/lock.ts";
import { bareName, buildAnswer, buildFailure, isLocalName, parseQuery, TYPE_A, TYPE_AAAA, type Question } from "./dns.ts";
import { clearHostNetworks, dnsReadyFile, interfacesOf, leaseAlive, readKeeper, readLeases, readyFile, stopKeeper, usernetLock, upstreamFile, type UserLease } from "./usernet.ts";

type Pending = { reply: (m: Uint8Array) => void; query: Uint8Array; q: Question; upstream: number; timer: ReturnType<typeof setTimeout> };

/** The addresses of `name` for a query from `from`: the containers on a network the querier is on (with DNS), by name, alias or short id. */
export function lookup(leases: UserLease[], from: string, name: string, type = TYPE_A): string[] | undefined {
  // the querier is a container (its address on any of its networks); it sees every network it is on
  const ids = new Set(leases.filter((l) => l.ip === from || l.ip6 === from).map((l) => l.id));
  const mine = new Set(leases.filter((l) => ids.has(l.id) && l.dns).map((l) => l.network));
  if (!mine.size) return undefined;
  const n = bareName(name);
  const hits = leases.filter(
    (l) => mine.has(l.network) && (l.name.toLowerCase() === n || l.aliases.some((a) => a.toLowerCase() === n) || (n.length >= 12 && l.id.startsWith(n))),
  );
  if (!hits.length) return undefined;
  // a known name without an address of the asked family: no data (NOERROR), not NXDOMAIN
  return [...new Set(hits.flatMap((l) => (type === TYPE_AAAA ? (l.ip6 ? [l.ip6] : []) : type === TYPE_A ? [l.ip] : [])))];
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
      data(_s, buf) {
        const msg = new Uint8Array(buf);
        const id = (msg[0]! << 8) | msg[1]!;
        const p = pending.get(id);
        if (!p) return;
        clearTimeout(p.timer);
        pending.delete(id);
        msg[0] = p.q.id >> 8;
        msg[1] = p.q.id & 0xff;
        p.reply(msg);
      },
    },
  });

  const forward = (p: Pending) => {
    const host = upstream[p.upstream];
    if (host === undefined) return p.reply(buildFailure(p.query, p.q));
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
    try {
      client.send(copy, 53, host);
    } catch {
      // an address this socket cannot reach: the timer moves on to the next one
    }
  };

  /** One query from `from`, over UDP or TCP: answered here, or sent upstream (over UDP) and the answer passed back. */
  const answer = (query: Uint8Array, from: string, reply: (m: Uint8Array) => void) => {
    const q = parseQuery(query);
    if (!q) return;
    leases = readLeases(dir);
    const local = lookup(leases, from, q.name, q.type);
    if (local) return reply(buildAnswer(query, q, local));
    // names of pod's own domain, and single labels, are container names or nothing: never asked upstream
    if (isLocalName(q.name)) return reply(buildAnswer(query, q, undefined));
    forward({ reply, query, q, upstream: 0, timer: setTimeout(() => {}, 0) });
  };

  /** A DNS responder on hostname:53, over UDP and TCP (a 2-byte length before each message, for resolvers that ask that way). */
  const listenDns = async (hostname: string) => {
    const udp = await Bun.udpSocket({
      hostname,
      port: 53,
      socket: {
        data(_s, buf, port, address) {
          answer(new Uint8Array(buf), address, (m) => udp.send(m, port, address));
        },
      },
    });
    const tcp = Bun.listen<{ buf: Uint8Array }>({
      hostname,
      port: 53,
      socket: {
        open(s) {
          s.data = { buf: new Uint8Array(0) };
        },
        data(s, chunk) {
          const buf = new Uint8Array(s.data.buf.length + chunk.length);
          buf.set(s.data.buf);
          buf.set(chunk, s.data.buf.length);
          let off = 0;
          while (buf.length - off >= 2 && buf.length - off - 2 >= ((buf[off]! << 8) | buf[off + 1]!)) {
            const len = (buf[off]! << 8) | buf[off + 1]!;
            answer(buf.slice(off + 2, off + 2 + len), s.remoteAddress, (m) => s.write(new Uint8Array([m.length >> 8, m.length & 0xff, ...m])));
            off += 2 + len;
          }
          s.data.buf = buf.slice(off);
        },
      },
    });
    return { close: () => (udp.close(), tcp.stop(true)) };
  };
  // Rootless the keeper has the shared namespace to itself: every address. As root it is on the host:
  // each DNS network's gateway only (never the host's port 53), bound again when the bridges change (SIGHUP).
  const listening = new Map<string, { close(): void }>();
  // root of pod's user namespace is uid 0 too: the host is where the whole id range maps to itself
  const onHost = /^\s*0\s+0\s+4294967295\s*$/.test(readFileSync("/proc/self/uid_map", "utf8"));
  const rebind = async () => {
    const want = new Set(onHost ? readLeases(dir).filter((l) => l.dns).map((l) => l.gateway) : ["0.0.0.0"]);
    for (const [ip, l] of listening) if (!want.has(ip)) (l.close(), listening.delete(ip));
    for (const ip of want)
      if (!listening.has(ip))
        try {
          listening.set(ip, await listenDns(ip));
        } catch (e) {
          log(`keeper ${process.pid}: cannot answer DNS on ${ip}: ${(e as Error).message}`);
        }
    writeFileAtomic(dnsReadyFile(dir), JSON.stringify([...listening.keys()]), 0o600);
  };
  let rebinding = Promise.resolve();
  process.on("SIGHUP", () => void (rebinding = rebinding.then(rebind)));
  await rebind();
  // -p of containers on user networks: the owner of each container passes its connections here
  rmSync(proxySocket(dir), { force: true });
  const proxy = serveProxy(proxySocket(dir));
  writeFileAtomic(readyFile(dir), JSON.stringify({ pid: process.pid }), 0o600);
  log(`keeper ${process.pid} answering DNS; upstream ${upstream.join(" ") || "(none)"}`);

  const quit = () => {
    stopKeeper(readKeeper(dir), false);
    clearHostNetworks(dir);
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
      clearHostNetworks(dir);
      for (const f of ["keeper.json", "leases.json", "keeper.ready", "upstream.json", "helper.pid", "dns.json"]) rmSync(join(dir, f), { force: true });
      return true;
    });
    if (done) {
      log(`keeper ${process.pid}: no container left, ending`);
      for (const l of listening.values()) l.close();
      client.close();
      proxy.stop();
      rmSync(proxySocket(dir), { force: true });
      return 0;
    }
    idle = 0;
  }
}
