// -p of a container on user networks or slirp4netns: its owner (the
// monitor, or `pod run` in the foreground) starts the TCP forwarder of the
// native core, and for UDP listens on the host ports and passes datagrams to
// the keeper of the shared namespace or to a proxy in the container's
// namespace (pkg/network/proxy.ts); the CLI of `run -d`/`start` returns once
// everything listens.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../../config/index.ts";
import { PodError } from "../../errors.ts";
import { forwardTcpPorts, proxySocket, publishThroughKeeper, startNamespaceProxy } from "../../network/proxy.ts";
import { selfCommand } from "../../userns/index.ts";
import { stateDir } from "../../network/usernet.ts";
import { slirpForwardsPorts } from "../../network/mode.ts";
import type { ContainerRecord } from "../record/records.ts";
import { runtimeDir } from "../io/live.ts";

const readyFile = (paths: Paths, id: string) => join(runtimeDir(paths, id), "ports.ready");

/** Whether the container's owner publishes its ports (user networks, slirp4netns), not its network helper or the kernel. */
// as root, user networks publish by DNAT rules on the host (pkg/network/usernet.ts)
const ownerPublishes = (rec: ContainerRecord) =>
  ((rec.networks?.length && process.getuid?.() !== 0) || (rec.networkHelper === "slirp4netns" && !slirpForwardsPorts(rec.config?.opts.network))) && !!rec.config?.opts.ports?.length;

/**
 * Starts listening on the published ports of a container on user networks
 * or slirp4netns (pid: its first process): TCP through the forwarder into
 * its namespace, UDP through the keeper or a proxy in its namespace;
 * undefined when it has none to.
 */
export async function publishPorts(paths: Paths, rec: ContainerRecord | undefined, pid: number): Promise<{ stop(): void } | undefined> {
  if (!rec || !ownerPublishes(rec)) return undefined;
  const ports = rec.config!.opts.ports!;
  const tcp = ports.filter((p) => p.protocol === "tcp");
  const udp = ports.filter((p) => p.protocol === "udp");
  const parts: { stop(): void }[] = [];
  const stop = () => parts.splice(0).forEach((p) => p.stop());
  try {
    if (tcp.length) {
      parts.push(forwardTcpPorts(pid, rec.networks?.[0]?.ip ?? "127.0.0.1", tcp, runtimeDir(paths, rec.id)));
    }
    if (udp.length && rec.networks?.length) parts.push(await publishThroughKeeper(proxySocket(stateDir(paths.runroot)), rec.networks[0]!.ip, udp));
    else if (udp.length) {
      const sock = proxySocket(runtimeDir(paths, rec.id));
      parts.push(await startNamespaceProxy(pid, sock, selfCommand()));
      parts.push(await publishThroughKeeper(sock, "127.0.0.1", udp));
    }
  } catch (e) {
    stop();
    throw e;
  }
  writeFileSync(readyFile(paths, rec.id), "");
  return { stop };
}

/** Before a start: a ready mark from the run before is not this one's. */
export const clearPublished = (paths: Paths, id: string) => rmSync(readyFile(paths, id), { force: true });

/** `run -d`/`start`: waits (a few seconds at most) until the monitor listens on the container's published ports. */
export async function awaitPublished(paths: Paths, rec: ContainerRecord): Promise<void> {
  if (!ownerPublishes(rec)) return;
  for (let i = 0; i < 500; i++) {
    if (existsSync(readyFile(paths, rec.id))) return;
    await Bun.sleep(10);
  }
  throw new PodError(`container ${rec.name} runs, but its monitor did not publish its ports within 5 s`, { hint: `pod logs ${rec.name}; pod port ${rec.name}` });
}
