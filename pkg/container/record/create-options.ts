// The run/create flags that are settled when the container is created, from
// their raw values and the image's config: labels (the image's under the
// container's), annotations, the stop signal and timeout, --env-host (the
// host's environment now, as podman reads it at create), --tz, --timeout,
// --group-add, --shm-size, --hostuser (the host's passwd line, read now),
// --passwd-entry. --secret and --image-volume are carried here to run.ts,
// which resolves them (pkg/secret, pkg/volume).
import { readFileSync } from "node:fs";
import { PodError, UsageError } from "../../errors.ts";
import { checkUlimits, resolveDevice, hostEnvEntries, mergeLabels, ownHardLimits, parseSysctls, parseUlimits, parseAnnotations, parseLabels, parseShmSize, resolveGroupAdd, timezoneFile, type RunOptions } from "../../runtime/index.ts";
import { parseSignal } from "../engine/lifecycle.ts";
import { parseRestartPolicy } from "../engine/restart-policy.ts";
import { healthConfig, type HealthFlags } from "../engine/health.ts";
import { checkEnforceable, DEFAULT_PIDS_LIMIT, parseLimits, pidsDelegated, statBlockDevice, type LimitFlags } from "../../cgroup/index.ts";

/** What `run`/`create` pass as typed; resolved into RunOptions fields by `createOptions`. */
export type CreateFlags = {
  labels?: string[];
  labelFiles?: string[];
  annotations?: string[];
  stopSignal?: string;
  stopTimeout?: string;
  restart?: string;
  health?: HealthFlags;
  envHost?: boolean;
  unsetenv?: string[];
  unsetenvAll?: boolean;
  tz?: string;
  timeout?: string;
  groupAdd?: string[];
  shmSize?: string;
  hostuser?: string[];
  passwdEntry?: string;
  ulimits?: string[];
  sysctls?: string[];
  /** --secret values (pkg/secret resolves them to references at create) */
  secrets?: string[];
  /** --image-volume: what the image's VOLUME paths get (default bind: an anonymous volume) */
  imageVolume?: "bind" | "tmpfs" | "ignore";
  /** --device HOST[:CONTAINER][:PERMS] values */
  devices?: string[];
  /** the resource limit flags (pkg/cgroup/limits.ts) */
  limits?: LimitFlags;
};

/** The limits, refused here when this host cannot enforce them (no container is made then); podman's default pids limit where pids is delegated. */
function resourcesOf(f: LimitFlags | undefined): RunOptions["resources"] {
  if (!f) return undefined;
  const r = parseLimits(f, statBlockDevice);
  checkEnforceable(r);
  if (r.pidsLimit === undefined && pidsDelegated(r)) Object.assign(r, { pidsLimit: DEFAULT_PIDS_LIMIT, pidsDefault: true });
  return Object.keys(r).length ? r : undefined;
}

function readOwnLimits(): string {
  try {
    return readFileSync("/proc/self/limits", "utf8");
  } catch {
    return "";
  }
}

/** --hostuser NAME|UID: the host's /etc/passwd line for that user (podman's user.Lookup errors). */
export function hostPasswdLines(names: string[], passwdText: string): string[] {
  const rows = passwdText.split("\n").filter((l) => l && !l.startsWith("#"));
  return names.map((n) => {
    const numeric = /^\d+$/.test(n);
    const line = rows.find((l) => (numeric ? l.split(":")[2] === n : l.split(":")[0] === n));
    if (!line)
      throw new PodError(numeric ? `user: unknown userid ${n}` : `user: unknown user ${n}`, { hint: "--hostuser names a user (or uid) of the host's /etc/passwd" });
    return line;
  });
}

function readHostPasswd(): string {
  try {
    return readFileSync("/etc/passwd", "utf8");
  } catch {
    return "";
  }
}

/** A flag of whole seconds (podman's uint flags). */
export function wholeSeconds(flag: string, v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n))
    throw new UsageError(`invalid argument "${v}" for "${flag}" flag: expected whole seconds`, { hint: `e.g. ${flag} 10` });
  return n;
}

/** Everything that can be checked before the image is pulled. */
export function checkCreateFlags(f: CreateFlags, network = ""): void {
  if (f.sysctls?.length) parseSysctls(f.sysctls, network);
  parseLabels(f.labels ?? [], f.labelFiles ?? []);
  parseAnnotations(f.annotations ?? []);
  if (f.stopSignal !== undefined) parseSignal(f.stopSignal);
  if (f.stopTimeout !== undefined) wholeSeconds("--stop-timeout", f.stopTimeout);
  if (f.restart !== undefined) parseRestartPolicy(f.restart);
  // an image's HEALTHCHECK may supply the test: the values are checked here, the whole at create
  if (f.health) healthConfig(f.health, { Test: ["CMD", "true"] });
  if (f.timeout !== undefined) wholeSeconds("--timeout", f.timeout);
  if (f.tz !== undefined) timezoneFile(f.tz);
  if (f.groupAdd?.includes("keep-groups")) resolveGroupAdd(f.groupAdd, []);
  if (f.shmSize !== undefined) parseShmSize(f.shmSize);
  if (f.hostuser?.length) hostPasswdLines(f.hostuser, readHostPasswd());
  resourcesOf(f.limits);
  if (f.ulimits?.length) checkUlimits(parseUlimits(f.ulimits), ownHardLimits(readOwnLimits()), process.getuid?.() === 0);
  for (const d of f.devices ?? []) resolveDevice(d);
}

/** The RunOptions fields these flags set, with the image's config (`.config` of the OCI image config). */
export function createOptions(f: CreateFlags, imageConfig: { Labels?: unknown; StopSignal?: unknown; Healthcheck?: unknown } | undefined, hostEnv: Record<string, string | undefined>): Partial<RunOptions> {
  const healthcheck = healthConfig(f.health ?? {}, imageConfig?.Healthcheck as Parameters<typeof healthConfig>[1]);
  const own = parseLabels(f.labels ?? [], f.labelFiles ?? []);
  const labels = mergeLabels(imageConfig?.Labels, own);
  const annotations = parseAnnotations(f.annotations ?? []);
  const imageSignal = typeof imageConfig?.StopSignal === "string" && imageConfig.StopSignal ? imageConfig.StopSignal : undefined;
  const signal = f.stopSignal ?? imageSignal;
  const timeout = f.timeout !== undefined ? wholeSeconds("--timeout", f.timeout) : undefined;
  const resources = resourcesOf(f.limits);
  return {
    ...(resources ? { resources } : {}),
    ...(Object.keys(labels).length ? { labels } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(signal !== undefined ? { stopSignal: parseSignal(signal) } : {}),
    ...(f.stopTimeout !== undefined ? { stopTimeout: wholeSeconds("--stop-timeout", f.stopTimeout) } : {}),
    ...(healthcheck ? { healthcheck } : {}),
    ...(f.restart !== undefined && parseRestartPolicy(f.restart).name !== "no" ? { restartPolicy: parseRestartPolicy(f.restart) } : {}),
    ...(f.envHost ? { envHost: hostEnvEntries(hostEnv) } : {}),
    ...(f.unsetenv?.length ? { unsetenv: f.unsetenv } : {}),
    ...(f.unsetenvAll ? { unsetenvAll: true } : {}),
    ...(f.tz !== undefined ? { tz: f.tz } : {}),
    // podman: 0 means no timeout
    ...(timeout ? { timeout } : {}),
    ...(f.groupAdd?.length ? { groupAdd: f.groupAdd } : {}),
    ...(f.shmSize !== undefined ? { shmSize: parseShmSize(f.shmSize) } : {}),
    ...(f.hostuser?.length ? { hostUsers: hostPasswdLines(f.hostuser, readHostPasswd()) } : {}),
    ...(f.passwdEntry !== undefined ? { passwdEntry: f.passwdEntry } : {}),
    ...(f.sysctls?.length ? { sysctls: f.sysctls } : {}),
    ...(f.ulimits?.length && !(f.ulimits.length === 1 && f.ulimits[0] === "host") ? { ulimits: f.ulimits } : {}),
    ...(f.devices?.length ? { devices: f.devices.flatMap(resolveDevice) } : {}),
  };
}
