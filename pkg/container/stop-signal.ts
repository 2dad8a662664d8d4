// The signal `stop` sends first: the image's StopSignal, else SIGTERM.
import type { Paths } from "../config/index.ts";
import { Store } from "../store/index.ts";
import { parseSignal } from "./lifecycle.ts";
import type { ContainerRecord } from "./records.ts";

export function stopSignalOf(paths: Paths, rec: ContainerRecord): number {
  try {
    const cfg = JSON.parse(new TextDecoder().decode(new Store(paths).readBlob(`sha256:${rec.imageId}`)));
    const s = cfg?.config?.StopSignal;
    return typeof s === "string" && s ? parseSignal(s) : 15;
  } catch {
    return 15;
  }
}
