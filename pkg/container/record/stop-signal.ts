// What `stop` sends first and how long it waits: the container's
// --stop-signal (or its image's StopSignal, settled at create), else
// SIGTERM; its --stop-timeout, else 10 seconds.
import type { Paths } from "../../config/index.ts";
import { Store } from "../../store/index.ts";
import { parseSignal } from "../engine/lifecycle.ts";
import type { ContainerRecord } from "./records.ts";

export const DEFAULT_STOP_TIMEOUT = 10;

export function stopSignalOf(paths: Paths, rec: ContainerRecord): number {
  const own = rec.config?.opts.stopSignal;
  if (own !== undefined) return own;
  // containers created before pod recorded the signal: the image's
  try {
    const cfg = JSON.parse(new TextDecoder().decode(new Store(paths).readBlob(`sha256:${rec.imageId}`)));
    const s = cfg?.config?.StopSignal;
    return typeof s === "string" && s ? parseSignal(s) : 15;
  } catch {
    return 15;
  }
}

/** Seconds `stop`, `restart` and `rm -f -t` wait when no -t is given. */
export function stopTimeoutOf(rec: ContainerRecord): number {
  return rec.config?.opts.stopTimeout ?? DEFAULT_STOP_TIMEOUT;
}
