// `pod update`: new limits for a container, as podman 4.3 does: written into
// the running container's cgroup at once (the same checks as at start), and
// into its record, so that the next start applies them too.
import { PodError } from "../../errors.ts";
import { checkEnforceable, mergeLimits, parseLimits, statBlockDevice, updateLimits, hasLimits, type LimitFlags } from "../../cgroup/index.ts";
import { containerEvent } from "../../events/index.ts";
import type { Paths } from "../../config/index.ts";
import { eventOf, updateRecord, withContainerLock, readRecord, type ContainerRecord } from "../record/records.ts";
import { statusOf } from "../record/state.ts";

export async function updateContainer(paths: Paths, input: ContainerRecord, flags: LimitFlags): Promise<ContainerRecord> {
  const next = parseLimits(flags, statBlockDevice);
  if (!hasLimits(next) && next.pidsLimit === undefined)
    throw new PodError("pod update needs at least one limit to change", { hint: `e.g. pod update --memory 256m ${input.name}` });
  return withContainerLock(paths.root, input.id, async () => {
    const rec = readRecord(paths.root, input.id) ?? input;
    const merged = mergeLimits(rec.config?.opts.resources ?? {}, next, flags);
    checkEnforceable(merged);
    const s = statusOf(rec);
    if (s === "running" || s === "paused") {
      if (!rec.cgroup)
        throw new PodError(`updating container ${rec.name}: it runs without a cgroup of its own, so its limits cannot change`, { hint: `pod restart ${rec.name} after the update, or run it without --cgroups=disabled` });
      updateLimits(rec.cgroup, merged);
    }
    const updated = await updateRecord(paths.root, rec.id, (r) => (r.config ? { ...r, config: { ...r.config, opts: { ...r.config.opts, resources: merged } } } : undefined));
    await containerEvent(paths, eventOf(rec), "update");
    return updated ?? rec;
  });
}
