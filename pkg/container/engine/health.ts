// Healthchecks (--health-*, the image's HEALTHCHECK), podman's semantics:
// the container's monitor runs `pod healthcheck run ID` on its own timer
// (no systemd timer, no polling: one timeout per interval, none without a
// check); each run execs the test in the container with a timeout, keeps
// the last five results in the record, counts failures outside the start
// period, and turns the container unhealthy after `retries` in a row, where
// --health-on-failure acts (kill, restart, stop).
import { closeSync, openSync, readSync } from "node:fs";
import { ContainerStateInvalid, PodError, UsageError } from "../../errors.ts";
import type { Paths } from "../../config/index.ts";
import { parseGoDuration } from "../../output/time.ts";
import { execInContainer, signalContainer, NativeSpawnError } from "../../native/core.ts";
import { pipe } from "../../native/libc.ts";
import { emitEvent } from "../../events/index.ts";
import { updateRecord, type ContainerRecord } from "../record/records.ts";
import { isAlive, statusOf } from "../record/state.ts";
import { readExecSpec } from "./launch.ts";
import { openCgroupProcs } from "../io/live.ts";

export type HealthOnFailure = "none" | "kill" | "restart" | "stop";
/** Test as the OCI image config has it: ["CMD-SHELL", cmd] or ["CMD", argv…]; durations in ms (interval 0: no timer). */
export type HealthConfig = { test: string[]; intervalMs: number; timeoutMs: number; startPeriodMs: number; retries: number; onFailure: HealthOnFailure };
export type HealthStatus = "starting" | "healthy" | "unhealthy";
export type HealthResult = { Start: string; End: string; ExitCode: number; Output: string };
export type HealthState = { status: HealthStatus; failingStreak: number; log: HealthResult[] };

export type HealthFlags = {
  cmd?: string;
  interval?: string;
  retries?: string;
  startPeriod?: string;
  timeout?: string;
  onFailure?: string;
  none?: boolean;
};

/** The image config's Healthcheck (durations in nanoseconds, as Go marshals them). */
type ImageHealthcheck = { Test?: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; Retries?: number };

const DEFAULTS = { intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3 };
const MAX_OUTPUT = 4096;

function duration(flag: string, v: string, allowDisable = false): number {
  if (allowDisable && v === "disable") return 0;
  const ms = parseGoDuration(v);
  if (ms === undefined || ms < 0) throw new UsageError(`invalid --${flag} ${JSON.stringify(v)}: not a duration`, { hint: `--${flag} 30s (Go durations: 500ms, 10s, 1m30s)${allowDisable ? ", or disable" : ""}` });
  if (!allowDisable && flag === "health-timeout" && ms < 1000) throw new UsageError(`healthcheck-timeout must be at least 1 second`, { hint: "--health-timeout 1s or more" });
  if (allowDisable && ms > 0 && ms < 1000) throw new UsageError("healthcheck-interval must be at least 1 second", { hint: "--health-interval 1s or more, or disable" });
  return ms;
}

/** --health-cmd: "none" disables; a JSON array is the test as given (["CMD", …] or ["CMD-SHELL", …]); anything else runs with /bin/sh -c. */
function parseTest(cmd: string): string[] | undefined {
  if (cmd === "none") return undefined;
  if (cmd.trimStart().startsWith("[")) {
    let arr: unknown;
    try {
      arr = JSON.parse(cmd);
    } catch {
      throw new UsageError(`invalid --health-cmd ${JSON.stringify(cmd)}: not a JSON array`, { hint: `--health-cmd 'curl -f http://localhost/' or --health-cmd '["CMD","curl","-f","http://localhost/"]'` });
    }
    if (!Array.isArray(arr) || !arr.length || !arr.every((a) => typeof a === "string"))
      throw new UsageError(`invalid --health-cmd ${JSON.stringify(cmd)}: a JSON array of strings is needed`, { hint: `--health-cmd '["CMD","true"]'` });
    const a = arr as string[];
    if (a[0] === "CMD" || a[0] === "CMD-SHELL") return a.length > 1 ? a : undefined;
    if (a[0] === "NONE") return undefined;
    return ["CMD", ...a];
  }
  if (!cmd.trim()) throw new UsageError("--health-cmd is empty", { hint: "give the command that tells the container is healthy, or none" });
  return ["CMD-SHELL", cmd];
}

/** The container's healthcheck from its flags over the image's; undefined when there is none (or --no-healthcheck). */
export function healthConfig(f: HealthFlags, image: ImageHealthcheck | undefined): HealthConfig | undefined {
  const given = f.cmd !== undefined || f.interval !== undefined || f.retries !== undefined || f.startPeriod !== undefined || f.timeout !== undefined || f.onFailure !== undefined;
  if (f.none) {
    if (given) throw new UsageError("--no-healthcheck and --health-* options conflict", { hint: "drop one of them" });
    return undefined;
  }
  const onFailure = (f.onFailure ?? "none") as HealthOnFailure;
  if (!["none", "kill", "restart", "stop"].includes(onFailure))
    throw new UsageError(`invalid --health-on-failure ${JSON.stringify(f.onFailure)}`, { hint: "--health-on-failure none, kill, restart or stop" });
  let retries = image?.Retries || DEFAULTS.retries;
  if (f.retries !== undefined) {
    if (!/^\d+$/.test(f.retries) || Number(f.retries) < 1) throw new UsageError("healthcheck-retries must be greater than 0", { hint: "--health-retries 3" });
    retries = Number(f.retries);
  }
  const test = f.cmd !== undefined ? parseTest(f.cmd) : image?.Test?.length && image.Test[0] !== "NONE" ? image.Test : undefined;
  const intervalMs = f.interval !== undefined ? duration("health-interval", f.interval, true) : image?.Interval ? image.Interval / 1e6 : DEFAULTS.intervalMs;
  const timeoutMs = f.timeout !== undefined ? duration("health-timeout", f.timeout) : image?.Timeout ? image.Timeout / 1e6 : DEFAULTS.timeoutMs;
  const startPeriodMs = f.startPeriod !== undefined ? duration("health-start-period", f.startPeriod) : image?.StartPeriod ? image.StartPeriod / 1e6 : DEFAULTS.startPeriodMs;
  if (!test) {
    if (given && f.cmd === undefined) throw new UsageError("--health-* options need a healthcheck: --health-cmd, or an image with a HEALTHCHECK", { hint: "add --health-cmd CMD" });
    return undefined;
  }
  return { test, intervalMs, timeoutMs, startPeriodMs, retries, onFailure };
}

/** inspect's Config.Healthcheck (podman's: durations in nanoseconds). */
export const healthcheckView = (h: HealthConfig | undefined) =>
  h ? { Test: h.test, Interval: h.intervalMs * 1e6, Timeout: h.timeoutMs * 1e6, StartPeriod: h.startPeriodMs * 1e6, Retries: h.retries } : undefined;

/** inspect's State.Health. */
export const healthView = (rec: ContainerRecord) => {
  const h = rec.health ?? { status: "starting", failingStreak: 0, log: [] };
  return { Status: h.status, FailingStreak: h.failingStreak, Log: h.log };
};

/** The state after one result: failures inside the start period do not count; `retries` in a row make it unhealthy. */
export function nextHealth(prev: HealthState | undefined, r: HealthResult, cfg: Pick<HealthConfig, "retries" | "startPeriodMs">, sinceStartMs: number): HealthState {
  const p = prev ?? { status: "starting" as HealthStatus, failingStreak: 0, log: [] };
  const log = [...p.log, r].slice(-5);
  if (r.ExitCode === 0) return { status: "healthy", failingStreak: 0, log };
  if (sinceStartMs < cfg.startPeriodMs) return { ...p, log };
  const failingStreak = p.failingStreak + 1;
  return { status: failingStreak >= cfg.retries ? "unhealthy" : p.status, failingStreak, log };
}

/** Runs the test in the container, its output captured (the first 4 KiB), killed at the timeout (exit code 1, as podman counts a hung check). */
async function runTest(paths: Paths, rec: ContainerRecord, cfg: HealthConfig): Promise<{ code: number; output: string }> {
  const base = readExecSpec(paths, rec.id);
  if (!base || !isAlive(rec)) throw new ContainerStateInvalid(`container ${rec.name} is not running`, { hint: `pod start ${rec.name}` });
  const argv = cfg.test[0] === "CMD-SHELL" ? ["/bin/sh", "-c", cfg.test.slice(1).join(" ")] : cfg.test.slice(1);
  const [r, w] = pipe();
  const devNull = openSync("/dev/null", "r");
  const procs = rec.cgroup ? openCgroupProcs(rec.cgroup) : -1;
  let child;
  try {
    child = execInContainer(rec.pid!, { ...base, argv }, { stdin: devNull, stdout: w, stderr: w }, paths.runroot, procs).child;
  } catch (e) {
    closeSync(r);
    if (e instanceof NativeSpawnError) return { code: 127, output: e.message };
    throw e;
  } finally {
    for (const fd of [w, devNull, procs]) if (fd >= 0) closeSync(fd);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalContainer(rec.pid!, child.pid, 9, paths.runroot);
  }, cfg.timeoutMs);
  const code = await child.wait();
  clearTimeout(timer);
  const buf = Buffer.alloc(MAX_OUTPUT);
  let got = 0;
  for (let n = 1; n > 0 && got < MAX_OUTPUT; got += n) n = readSync(r, buf, got, MAX_OUTPUT - got, null);
  closeSync(r);
  if (timedOut) return { code: 1, output: `Healthcheck command timed out after ${cfg.timeoutMs / 1000}s` };
  return { code, output: buf.subarray(0, got).toString("utf8") };
}

/** `pod healthcheck run`: one check now; returns the state after it (and acts on a new unhealthy state). */
export async function runHealthcheck(paths: Paths, rec: ContainerRecord): Promise<HealthState> {
  const cfg = rec.config?.opts.healthcheck;
  if (!cfg) throw new PodError(`container ${rec.name} has no defined healthcheck`, { hint: "create it with --health-cmd CMD" });
  if (statusOf(rec) !== "running") throw new ContainerStateInvalid(`container ${rec.name} is not running`, { hint: `pod start ${rec.name}` });
  const start = new Date();
  const { code, output } = await runTest(paths, rec, cfg);
  const result: HealthResult = { Start: start.toISOString(), End: new Date().toISOString(), ExitCode: code, Output: output };
  let before: HealthStatus | undefined;
  const after = await updateRecord(paths.root, rec.id, (r) => {
    // a record of another run (restarted meanwhile) does not take this result
    if (r.pid !== rec.pid) return undefined;
    before = r.health?.status;
    return { ...r, health: nextHealth(r.health, result, cfg, start.getTime() - Date.parse(r.startedAt ?? "")) };
  });
  const state = after?.health ?? nextHealth(rec.health, result, cfg, 0);
  await emitEvent(paths, { ID: rec.id, Image: rec.image, Name: rec.name, Status: "health_status", Type: "container", HealthStatus: state.status, Attributes: rec.config?.opts.labels });
  if (state.status === "unhealthy" && before !== "unhealthy" && cfg.onFailure !== "none") await actOnFailure(paths, rec, cfg.onFailure);
  return state;
}

async function actOnFailure(paths: Paths, rec: ContainerRecord, action: HealthOnFailure): Promise<void> {
  const { restartContainer, stopContainer } = await import("./lifecycle.ts");
  const { stopSignalOf, stopTimeoutOf } = await import("../record/stop-signal.ts");
  if (action === "kill") signalContainer(rec.pid!, rec.pid!, 9, paths.runroot);
  else if (action === "stop") await stopContainer(paths, rec, stopTimeoutOf(rec), stopSignalOf(paths, rec));
  else if (action === "restart") await restartContainer(paths, rec, stopTimeoutOf(rec), stopSignalOf(paths, rec));
}

/**
 * In the monitor: one timer at a time, `interval` after the previous check
 * ended, each check a short `pod healthcheck run` of its own (the monitor
 * stays small). Returns what stops it.
 */
export function scheduleHealthchecks(cfg: HealthConfig | undefined, podArgv: string[], id: string): { stop(): void } {
  if (!cfg || cfg.intervalMs <= 0) return { stop() {} };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const tick = async () => {
    // a check in flight when the container ends is left to finish: it is bounded by its timeout, and may be restarting the container
    await Bun.spawn([...podArgv, "healthcheck", "run", id], { stdio: ["ignore", "ignore", "ignore"] }).exited;
    if (!stopped) timer = setTimeout(tick, cfg.intervalMs);
  };
  timer = setTimeout(tick, cfg.intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
