// -p of a container on user networks: its owner (the monitor, or `pod run`
// in the foreground) listens on the host ports and passes connections to
// the keeper of the shared namespace (pkg/network/proxy.ts); the CLI of
// `run -d`/`start` returns once the monitor listens.
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../config/index.ts";
import { PodError } from "../errors.ts";
import { proxySocket, publishThroughKeeper } from "../network/proxy.ts";
import { stateDir } from "../network/usernet.ts";
import type { ContainerRecord } from "./records.ts";
import { runtimeDir } from "./live.ts";

const readyFile = (paths: Paths, id: string) => join(runtimeDir(paths, id), "ports.ready");

/** Starts listening for a container on user networks that publishes ports; undefined when it has none to. */
export async function publishOnUserNetwork(paths: Paths, rec: ContainerRecord | undefined): Promise<{ stop(): void } | undefined> {
  const ip = rec?.networks?.[0]?.ip;
  const ports = rec?.config?.opts.ports ?? [];
  if (!rec || !ip || !ports.length) return undefined;
  const p = await publishThroughKeeper(proxySocket(stateDir(paths.runroot)), ip, ports);
  writeFileSync(readyFile(paths, rec.id), "");
  return p;
}

/** Before a start: a ready mark from the run before is not this one's. */
export const clearPublished = (paths: Paths, id: string) => rmSync(readyFile(paths, id), { force: true });

/** `run -d`/`start`: waits (a few seconds at most) until the monitor listens on the container's published ports. */
export async function awaitPublished(paths: Paths, rec: ContainerRecord): Promise<void> {
  if (!rec.networks?.length || !rec.config?.opts.ports?.length) return;
  for (let i = 0; i < 500; i++) {
    if (existsSync(readyFile(paths, rec.id))) return;
    await Bun.sleep(10);
  }
  throw new PodError(`container ${rec.name} runs, but its monitor did not publish its ports within 5 s`, { hint: `pod logs ${rec.name}; pod port ${rec.name}` });
}
