// --sig-proxy (run, attach, start --attach): while pod is attached to a
// container, the signals it receives go to the container's first process,
// as podman's ProxySignals sends them with ctr.Kill; without it they have
// their default effect on pod alone, and the container runs on under its
// monitor. Once the container has ended, a signal is re-raised against pod
// itself with its default action, as podman does.
import type { Paths } from "../../config/index.ts";
import { readRecord } from "../record/records.ts";
import { killContainer } from "../engine/lifecycle.ts";

/** The signals pod proxies (podman proxies every catchable one but CHLD, PIPE and URG; pod these). */
export const PROXIED_SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGALRM: 14, SIGTERM: 15 } as const;

type SignalName = keyof typeof PROXIED_SIGNALS;

/** Starts proxying to container `id`; returns what stops it. */
export function proxySignals(paths: Paths, id: string): () => void {
  const handlers: [SignalName, () => void][] = [];
  const stop = () => {
    for (const [name, h] of handlers.splice(0)) process.off(name, h);
  };
  for (const [name, num] of Object.entries(PROXIED_SIGNALS) as [SignalName, number][]) {
    const reraise = () => {
      stop();
      process.kill(process.pid, name);
    };
    const h = () => {
      const rec = readRecord(paths.root, id);
      if (!rec) return reraise();
      killContainer(paths, rec, num).catch(reraise);
    };
    handlers.push([name, h]);
    process.on(name, h);
  }
  return stop;
}
