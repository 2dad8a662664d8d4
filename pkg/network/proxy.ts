// `-p` for containers on user networks: their addresses live in the shared
// namespace, which no host socket reaches. The process that owns the
// container (the monitor, or `pod run` in the foreground) listens on the
// host port and hands each connection to the keeper over a unix socket; the
// keeper, inside the namespace, connects to the container and the bytes are
// copied both ways (podman's rootlessport does the same job). TCP only.
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { Socket } from "bun";
import { ensurePrivateDir } from "../config/index.ts";
import type { PortMapping } from "./mode.ts";

/** The keeper's proxy socket (a unix socket path holds at most 107 bytes: a long state dir moves it to a short private dir). */
export function proxySocket(dir: string): string {
  const p = join(dir, "proxy.sock");
  if (Buffer.byteLength(p) <= 100) return p;
  return join(ensurePrivateDir(`/tmp/pod-sock-${process.getuid?.() ?? 0}`), `net-${createHash("sha256").update(dir).digest("hex").slice(0, 16)}.sock`);
}

/** pending: queued for this socket; early: what a client sent before its keeper side was open */
type Peer = { other?: Socket<Peer>; pending: Uint8Array[]; early?: Uint8Array[]; header?: string; closed: boolean };

/** Writes what it can, keeping the rest for drain(). */
function send(to: Socket<Peer>, data: Uint8Array): void {
  if (to.data.pending.length) {
    to.data.pending.push(data);
    return;
  }
  const n = to.write(data);
  if (n < data.length) to.data.pending.push(data.subarray(Math.max(n, 0)));
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

/** In the keeper: each connection says "IP PORT\n" first, then is joined to a TCP connection to IP:PORT in the namespace. */
export function serveProxy(path: string): { stop(): void } {
  const server = Bun.listen<Peer>({
    unix: path,
    socket: {
      open(s) {
        s.data = { pending: [], header: "", closed: false };
      },
      data(s, chunk) {
        if (s.data.other) return send(s.data.other, chunk);
        if (s.data.header === undefined) return; // connecting: what comes meanwhile waits in the kernel's buffer
        s.data.header += new TextDecoder().decode(chunk);
        const nl = s.data.header.indexOf("\n");
        if (nl < 0) return;
        const [ip, port] = s.data.header.slice(0, nl).split(" ");
        const rest = new TextEncoder().encode(s.data.header.slice(nl + 1));
        s.data.header = undefined;
        Bun.connect<Peer>({
          hostname: ip!,
          port: Number(port),
          socket: {
            open(t) {
              t.data = { pending: [], closed: false, other: s };
              s.data.other = t;
              if (rest.length) send(t, rest);
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
      ...handlers,
    },
  });
  return { stop: () => server.stop(true) };
}

/** On the host: listens on each published TCP port and passes its connections to the keeper for ip. */
export function publishThroughKeeper(socketPath: string, ip: string, ports: PortMapping[]): { stop(): void } {
  const listeners = ports.map((p) =>
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
                send(k, new TextEncoder().encode(`${ip} ${p.containerPort}\n`));
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
  return { stop: () => listeners.forEach((l) => l.stop(true)) };
}
