// `-p` for containers on user networks: their addresses live in the shared
// namespace, which no host socket reaches. The process that owns the
// container (the monitor, or `pod run` in the foreground) listens on the
// host port and hands each connection to the keeper over a unix socket; the
// keeper, inside the namespace, connects to the container and the bytes are
// copied both ways (podman's rootlessport does the same job); UDP datagrams
// go the same way, framed, one stream per client address.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Socket } from "bun";
import { existsSync, rmSync } from "node:fs";
import { ensurePrivateDir } from "../config/index.ts";
import { PodError } from "../errors.ts";
import { findOnPath } from "./helpers.ts";
import type { PortMapping } from "./mode.ts";
import { forwardTcp, NativeSpawnError } from "../native/core.ts";
import { waitChild } from "../native/libc.ts";

/** The proxy socket in dir (a unix socket path holds at most 107 bytes: a long dir moves it to a short private dir). */
export function proxySocket(dir: string): string {
  const p = join(dir, "proxy.sock");
  if (Buffer.byteLength(p) <= 100) return p;
  return join(ensurePrivateDir(`/tmp/pod-sock-${process.getuid?.() ?? 0}`), `net-${createHash("sha256").update(dir).digest("hex").slice(0, 16)}.sock`);
}

/** pending: queued for this socket; early: what a client sent before its keeper side was open */
type Peer = { other?: Socket<Peer>; pending: Uint8Array[]; early?: Uint8Array[]; header?: string; closed: boolean };

/** Writes what it can, keeping the rest for drain(); the side it came from stops reading until then (backpressure, not memory). */
function send(to: Socket<Peer>, data: Uint8Array): void {
  if (!to.data.pending.length) {
    const n = to.write(data);
    if (n >= data.length) return;
    data = data.subarray(Math.max(n, 0));
  }
  to.data.pending.push(data);
  to.data.other?.pause();
}

function flush(s: Socket<Peer>): void {
  while (s.data.pending.length) {
    const d = s.data.pending[0]!;
    const n = s.write(d);
    if (n < d.length) {
      s.data.pending[0] = d.subarray(Math.max(n, 0));
      return;
    }
    s.data.pending.shift();
  }
  s.data.other?.resume();
  if (s.data.closed) s.end();
}

/** Ends the other side once what is queued for it is written. */
function hangUp(s: Socket<Peer>): void {
  const o = s.data.other;
  if (!o) return;
  o.data.closed = true;
  if (!o.data.pending.length) o.end();
}

const handlers = {
  drain: flush,
  close: hangUp,
  error: hangUp,
};

/** A 2-byte length before each datagram: UDP over the keeper's stream socket. */
const frame = (d: Uint8Array) => {
  const out = new Uint8Array(d.length + 2);
  out[0] = d.length >> 8;
  out[1] = d.length & 0xff;
  out.set(d, 2);
  return out;
};

/** Whole datagrams out of what a stream has brought so far; the rest stays in buf for next time. */
function unframe(state: { buf: Uint8Array }, chunk: Uint8Array): Uint8Array[] {
  const buf = new Uint8Array(state.buf.length + chunk.length);
  buf.set(state.buf);
  buf.set(chunk, state.buf.length);
  const out: Uint8Array[] = [];
  let off = 0;
  while (buf.length - off >= 2 && buf.length - off - 2 >= ((buf[off]! << 8) | buf[off + 1]!)) {
    const len = (buf[off]! << 8) | buf[off + 1]!;
    out.push(buf.slice(off + 2, off + 2 + len));
    off += 2 + len;
  }
  state.buf = buf.slice(off);
  return out;
}

type KeeperSide = Peer & { head: Uint8Array; udp?: { send(d: Uint8Array): void; close(): void }; frames?: { buf: Uint8Array } };

/**
 * In the keeper: each connection says "tcp IP PORT\n" (then is joined to a
 * TCP connection to IP:PORT in the namespace) or "udp IP PORT\n" (then
 * carries one client's datagrams, framed, to and from IP:PORT).
 */
export function serveProxy(path: string): { stop(): void } {
  const server = Bun.listen<KeeperSide>({
    unix: path,
    socket: {
      open(s) {
        s.data = { pending: [], early: [], head: new Uint8Array(0), header: "", closed: false };
      },
      data(s, chunk) {
        if (s.data.udp) return void unframe(s.data.frames!, chunk).forEach((d) => s.data.udp!.send(d));
        if (s.data.other) return send(s.data.other, chunk);
        if (s.data.header === undefined) return void s.data.early!.push(chunk); // connecting: kept until it is open
        const head = new Uint8Array(s.data.head.length + chunk.length);
        head.set(s.data.head);
        head.set(chunk, s.data.head.length);
        const nl = head.indexOf(10);
        if (nl < 0) return void (s.data.head = head);
        const [proto, ip, port] = new TextDecoder().decode(head.subarray(0, nl)).split(" ");
        const rest = head.slice(nl + 1);
        s.data.header = undefined;
        if (proto === "udp") {
          s.data.frames = { buf: new Uint8Array(0) };
          void Bun.udpSocket({
            connect: { hostname: ip!, port: Number(port) },
            socket: { data: (_u, d) => void s.write(frame(new Uint8Array(d))) },
          }).then((u) => {
            s.data.udp = { send: (d) => void u.send(d), close: () => u.close() };
            for (const d of unframe(s.data.frames!, rest)) u.send(d);
            for (const c of s.data.early!.splice(0)) for (const d of unframe(s.data.frames!, c)) u.send(d);
          }, () => s.end());
          return;
        }
        Bun.connect<Peer>({
          hostname: ip!,
          port: Number(port),
          socket: {
            open(t) {
              t.data = { pending: [], closed: false, other: s };
              s.data.other = t;
              if (rest.length) send(t, rest);
              for (const c of s.data.early!.splice(0)) send(t, c);
            },
            data(t, d) {
              send(s, d);
            },
            ...handlers,
            connectError() {
              s.end();
            },
          },
        }).catch(() => s.end());
      },
      drain: flush,
      close(s) {
        s.data.udp?.close();
        hangUp(s);
      },
      error(s) {
        s.data.udp?.close();
        hangUp(s);
      },
    },
  });
  return { stop: () => server.stop(true) };
}

/** On the host: one published UDP port; each client (address and port) gets a stream to the keeper, closed after a minute of silence. */
function publishUdp(socketPath: string, ip: string, p: PortMapping): Promise<{ stop(): void }> {
  type Flow = { sock?: Socket<{ buf: Uint8Array }>; queue: Uint8Array[]; idle: ReturnType<typeof setTimeout> };
  const flows = new Map<string, Flow>();
  return Bun.udpSocket({
    hostname: p.hostIp || "0.0.0.0",
    port: p.hostPort,
    socket: {
      data(server, buf, port, address) {
        const key = `${address}:${port}`;
        let f = flows.get(key);
        const touch = (fl: Flow) => {
          clearTimeout(fl.idle);
          fl.idle = setTimeout(() => (fl.sock?.end(), flows.delete(key)), 60_000);
        };
        if (!f) {
          const fl: Flow = { queue: [], idle: setTimeout(() => {}, 0) };
          f = fl;
          flows.set(key, fl);
          Bun.connect<{ buf: Uint8Array }>({
            unix: socketPath,
            socket: {
              open(k) {
                k.data = { buf: new Uint8Array(0) };
                fl.sock = k;
                k.write(new TextEncoder().encode(`udp ${ip} ${p.containerPort}\n`));
                for (const d of fl.queue.splice(0)) k.write(frame(d));
              },
              data(k, d) {
                for (const m of unframe(k.data, d)) server.send(m, port, address);
              },
              close() {
                flows.delete(key);
              },
              connectError() {
                flows.delete(key);
              },
            },
          }).catch(() => flows.delete(key));
        }
        touch(f);
        const d = new Uint8Array(buf);
        if (f.sock) f.sock.write(frame(d));
        else f.queue.push(d);
      },
    },
  }).then((u) => ({
    stop: () => {
      u.close();
      for (const f of flows.values()) (clearTimeout(f.idle), f.sock?.end());
    },
  }));
}

/** On the host: listens on each published port and passes its connections (TCP) and datagrams (UDP) to the keeper for ip. */
export async function publishThroughKeeper(socketPath: string, ip: string, ports: PortMapping[]): Promise<{ stop(): void }> {
  const udp = await Promise.all(ports.filter((p) => p.protocol === "udp").map((p) => publishUdp(socketPath, ip, p)));
  const listeners = ports.filter((p) => p.protocol === "tcp").map((p) =>
    Bun.listen<Peer>({
      hostname: p.hostIp || "0.0.0.0",
      port: p.hostPort,
      socket: {
        open(s) {
          s.data = { pending: [], early: [], closed: false };
          Bun.connect<Peer>({
            unix: socketPath,
            socket: {
              open(k) {
                k.data = { pending: [], closed: false, other: s };
                s.data.other = k;
                send(k, new TextEncoder().encode(`tcp ${ip} ${p.containerPort}\n`));
                for (const d of s.data.early!.splice(0)) send(k, d);
              },
              data(_k, d) {
                send(s, d);
              },
              ...handlers,
              connectError() {
                s.end();
              },
            },
          }).catch(() => s.end());
        },
        data(s, d) {
          // before the keeper's side is open, what the client sends waits here
          if (s.data.other) send(s.data.other, d);
          else s.data.early!.push(d);
        },
        ...handlers,
      },
    }),
  );
  return {
    stop: () => {
      for (const l of listeners) l.stop(true);
      for (const u of udp) u.stop();
    },
  };
}

/**
 * slirp4netns's own port forwarding copies every byte through libslirp; as
 * podman's rootlessport does, `-p` of a slirp4netns container goes through
 * a proxy inside the container's network namespace instead (`pod
 * _netns-proxy`, entered with nsenter, a child of the container's owner with
 * a parent-death signal), which connects to the container's loopback.
 */
export async function startNamespaceProxy(pid: number, socketPath: string, self: string[]): Promise<{ stop(): void }> {
  const path = `${process.env.PATH ?? ""}:/usr/sbin:/sbin:/usr/bin:/bin`;
  const nsenter = findOnPath("nsenter", path);
  const setpriv = findOnPath("setpriv", path);
  if (!nsenter || !setpriv) throw new PodError("publishing ports through slirp4netns needs nsenter and setpriv (util-linux), which are not installed", { hint: "install util-linux, or use pasta (the default)" });
  rmSync(socketPath, { force: true });
  const asRoot = (process.getuid?.() ?? 1) === 0;
  const child = Bun.spawn([setpriv, "--pdeathsig", "KILL", nsenter, "-t", String(pid), ...(asRoot ? [] : ["-U", "--preserve-credentials"]), "-n", "--", ...self, "_netns-proxy", socketPath], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  for (let i = 0; i < 300 && !existsSync(socketPath); i++) {
    if (child.exitCode !== null) break;
    await Bun.sleep(10);
  }
  if (!existsSync(socketPath)) {
    child.kill(9);
    throw new PodError(`publishing ports through slirp4netns: the proxy in the container's namespace did not start: ${(await new Response(child.stderr).text()).trim() || "no message"}`, {
      hint: "the container may have ended at once; pod logs shows its output",
    });
  }
  return { stop: () => child.kill(9) };
}

/**
 * TCP ports of a container that no host socket reaches (slirp4netns, user
 * networks): a forwarder of pod's native core, a child of the caller (the
 * container's owner), listens on the host and connects each client to
 * target:port in the network namespace of process pid (the container's
 * first), moving the bytes with splice(2). target: 127.0.0.1 through
 * slirp4netns (as rootlessport does), the container's address on a user
 * network (as netavark's rootlessport does).
 */
export function forwardTcpPorts(pid: number, target: string, ports: PortMapping[], scratchDir: string): { pid: number; stop(): void } {
  let child: { pid: number; kill(sig: number): void };
  try {
    child = forwardTcp(pid, target, ports.map((p) => ({ hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort })), scratchDir);
  } catch (e) {
    if (!(e instanceof NativeSpawnError)) throw e;
    throw new PodError(`publishing the container's ports: ${e.message}`, {
      hint: /in use/i.test(e.message) ? "another process listens there: choose another host port with -p HOST:CONTAINER" : "the container may have ended at once; pod logs shows its output",
    });
  }
  return {
    pid: child.pid,
    stop: () => {
      child.kill(9);
      try {
        waitChild(child.pid, false);
      } catch {
        // reaped already
      }
    },
  };
}
