// Rootless prerequisites: what the host offers (facts.ts, cgroups.ts: read
// only, no processes) and what doctor makes of it (checks.ts: ok, warn or
// fail with the exact fix), plus the two probes that try for real (probe.ts).
// `pod doctor` prints the checks; `pod info` reports the facts. Nothing here
// writes outside pod's own storage, and never to the host's cgroups.
import type { Paths } from "../config/index.ts";
import { checkHost, type Check, type Probes } from "./checks.ts";
import { gatherFacts, type HostFacts } from "./facts.ts";
import { hostContext, type Env } from "./host.ts";
import { probeOverlay, probeStorage } from "./probe.ts";

export { renderChecks } from "./report.ts";
export { checkHost, install, type Check, type Probes, type Status } from "./checks.ts";
export { findTool, gatherFacts, readDistro, type Distro, type HostFacts, type IdHelper, type SubIds, type Tool } from "./facts.ts";
export { parseProcCgroup, unifiedMountOf, readCgroups, type Cgroups } from "./cgroups.ts";
export { defaultFiles, hostContext, userName, type HostContext, type HostFiles } from "./host.ts";

/** Gathers the facts, runs the probes, and judges them. */
export async function diagnose(paths: Paths, env: Env = process.env): Promise<{ facts: HostFacts; checks: Check[] }> {
  const facts = gatherFacts(hostContext(paths, env));
  const storage = probeStorage(paths);
  const overlay: Probes["overlay"] = storage.ok ? await probeOverlay(paths, env) : { skipped: "the storage root is unusable" };
  return { facts, checks: checkHost(facts, { storage, overlay }, paths) };
}
