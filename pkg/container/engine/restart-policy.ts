// --restart: podman's policies (no, on-failure[:N], always, unless-stopped),
// carried out by the container's monitor once the container has ended: it
// starts the same container again (same ID, name, upper dir, volumes and
// network) after docker's back-off (100 ms, doubling while the container
// keeps ending within 10 s of its start). A `stop` or `kill` by the user
// ends the cycle; `start` and `restart` begin it again.
import { UsageError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { readRecord, updateRecord } from "../record/records.ts";
import { statusOf } from "../record/state.ts";

export type RestartPolicyName = "no" | "on-failure" | "always" | "unless-stopped";
export type RestartPolicy = { name: RestartPolicyName; maxRetries: number };

const HINT = "--restart no, on-failure[:N], always or unless-stopped";

/** podman's ParseRestartPolicy: `never` is `no`; retries only with on-failure. */
export function parseRestartPolicy(v: string): RestartPolicy {
  const parts = v.split(":");
  if (parts.length > 2) throw new UsageError("invalid restart policy: may specify retries at most once", { hint: HINT });
  const name = parts[0]!.toLowerCase();
  let maxRetries = 0;
  if (parts.length === 2) {
    if (name !== "on-failure") throw new UsageError("restart policy retries can only be specified with on-failure restart policy", { hint: HINT });
    if (!/^-?\d+$/.test(parts[1]!)) throw new UsageError(`parsing restart policy retry count: invalid syntax: ${JSON.stringify(parts[1])}`, { hint: HINT });
    maxRetries = Number(parts[1]);
    if (maxRetries < 0) throw new UsageError("must specify restart policy retry count as a number greater than 0", { hint: HINT });
  }
  if (name === "never" || name === "no" || name === "") return { name: "no", maxRetries };
  if (name === "on-failure" || name === "always" || name === "unless-stopped") return { name, maxRetries };
  throw new UsageError(`invalid restart policy: ${parts[0]}`, { hint: HINT });
}

/** inspect's HostConfig.RestartPolicy ("" for none, as podman prints it). */
export const restartPolicyView = (p: RestartPolicy | undefined) => ({ Name: p && p.name !== "no" ? p.name : "", MaximumRetryCount: p?.maxRetries ?? 0 });

/** Whether the monitor starts the container again: on-failure retries (0: forever) while the code is not 0; always and unless-stopped every time; never after the user stopped it. */
export function shouldRestart(p: RestartPolicy | undefined, code: number, restarts: number, stoppedByUser: boolean): boolean {
  if (!p || p.name === "no" || stoppedByUser) return false;
  if (p.name === "on-failure") return code !== 0 && (p.maxRetries === 0 || restarts < p.maxRetries);
  return true;
}

/** docker's back-off: 100 ms first, doubled after each start that ended within 10 s, back to 100 ms after one that ran longer. */
export function nextDelay(previousMs: number | undefined, uptimeMs: number): number {
  if (previousMs === undefined || !(uptimeMs < 10_000)) return 100;
  return Math.min(previousMs * 2, 60_000);
}

/**
 * In the monitor, once the container has ended and its exit is recorded:
 * starts it again when its policy says so. Returns whether the policy took
 * over (the container was started again, or is no longer this monitor's to
 * clean up); false leaves the end as it is (and --rm, where set).
 */
export async function restartByPolicy(paths: Paths, id: string, code: number): Promise<boolean> {
  const rec = readRecord(paths.root, id);
  const policy = rec?.config?.opts.restartPolicy;
  if (!rec || !shouldRestart(policy, code, rec.restartCount ?? 0, Boolean(rec.stoppedByUser))) return false;
  const delay = nextDelay(rec.restartDelayMs, Date.now() - Date.parse(rec.startedAt ?? ""));
  // counted before the start: a container that ends at once must find its count already raised
  await updateRecord(paths.root, id, (r) => ({ ...r, restartDelayMs: delay, restartCount: (r.restartCount ?? 0) + 1 }));
  await Bun.sleep(delay);
  const again = readRecord(paths.root, id);
  // removed, stopped by the user or started by someone else meanwhile: nothing left to do
  if (!again || again.stoppedByUser || statusOf(again) !== "exited") return true;
  const { startContainer } = await import("./lifecycle.ts");
  await startContainer(paths, again, { byPolicy: true });
  return true;
}
