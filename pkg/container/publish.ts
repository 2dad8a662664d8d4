// -p of a container on user networks: its owner (the monitor, or `pod run`
// in the foreground) listens on the host ports and passes connections to
// the keeper of the shared namespace (pkg/network/proxy.ts); the CLI of
// `run -d`/`start` returns once the monitor listens.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../config/index.ts";
import { PodError } from "../errors.ts";
import { proxySocket, publishThroughKeeper, startNamespaceProxy } from "../network/proxy.ts";
import { selfCommand } from "../userns/index.ts";
import { stateDir } from "../network/usernet.ts";
import type { ContainerRecord } from "./records.ts";
import { runtimeDir } from "./live.ts";

const readyFile = (paths: Paths, id: string) => join(runtimeDir(paths, id), "ports.ready");

/** Whether the container's owner publishes its ports (user networks, slirp4netns), not its network helper or the kernel. */
const ownerPublishes = (rec: ContainerRecord) => (rec.networks?.length || rec.networkHelper === "slirp4netns") && !!rec.config?.opts.ports?.length;

/**
 * Starts listening on the published ports of a container on user networks
 * (through the keeper) or on slirp4netns (through a proxy in its namespace,
 * pid its first process); undefined when it has none to.
 */
export async function publishPorts(paths: Paths, rec: ContainerRecord | undefined, pid: number): Promise<{ stop(): void } | undefined> {
  if (!rec || !ownerPublishes(rec)) return undefined;
  const ports = rec.config!.opts.ports!;
  let p: { stop(): void };
  if (rec.networks?.length) p = await publishThroughKeeper(proxySocket(stateDir(paths.runroot)), rec.networks[0]!.ip, ports);
  else {
    const proxy = await startNamespaceProxy(pid, proxySocket(runtimeDir(paths, rec.id)), selfCommand());
    const listening = await publishThroughKeeper(proxySocket(runtimeDir(paths, rec.id)), "127.0.0.1", ports).catch((e) => (proxy.stop(), Promise.reject(e)));
    p = { stop: () => (listening.stop(), proxy.stop()) };
  }
  writeFileSync(readyFile(paths, rec.id), "");
  return p;
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
