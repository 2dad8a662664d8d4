// run/create --log-driver and --log-opt, as podman 4 takes them: k8s-file
// (the default; json-file is podman's alias of it), none and passthrough;
// --log-opt path=FILE and max-size=SIZE. A custom path is where the monitor
// writes: the container's ctr.log becomes a symbolic link to it, so `logs`,
// `start -a` and attach read it as they read any log.
import { closeSync, openSync, symlinkSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { PodError, UsageError } from "../../errors.ts";
import { parseShmSize } from "../../runtime/index.ts";
import { logPath } from "./logs.ts";
import type { ContainerRecord } from "../record/records.ts";

export type LogDriver = "k8s-file" | "none" | "passthrough";
export type LogConfig = { driver: LogDriver; path?: string; maxSize?: number };

/** What `run`/`create` were given; undefined fields were not. */
export type LogFlags = { driver?: string; opts?: string[] };

/** The log configuration the flags ask for, checked; undefined when neither flag was given. */
export function parseLogConfig(f: LogFlags | undefined): LogConfig | undefined {
  if (!f || (f.driver === undefined && !f.opts?.length)) return undefined;
  const d = f.driver ?? "k8s-file";
  const driver: LogDriver | undefined = d === "k8s-file" || d === "json-file" ? "k8s-file" : d === "none" || d === "passthrough" ? d : undefined;
  if (!driver)
    throw new UsageError(`unsupported log driver ${JSON.stringify(d)}`, {
      hint: d === "journald" ? "pod writes no journal: use --log-driver k8s-file (the default), none or passthrough" : "pod takes --log-driver k8s-file (the default), json-file (its alias), none or passthrough",
    });
  const out: LogConfig = { driver };
  for (const opt of (f.opts ?? []).flatMap((o) => o.split(","))) {
    const eq = opt.indexOf("=");
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? "" : opt.slice(eq + 1);
    if (key === "path" && value) out.path = isAbsolute(value) ? value : resolve(value);
    else if (key === "max-size" && value) {
      try {
        out.maxSize = parseShmSize(value);
      } catch {
        throw new UsageError(`invalid --log-opt max-size=${value}`, { hint: "give a size with an optional unit b, k, m or g (e.g. max-size=10m)" });
      }
    } else
      throw new UsageError(`--log-opt ${opt} is not supported by pod`, { hint: "pod takes --log-opt path=FILE and max-size=SIZE" });
  }
  if (driver !== "k8s-file" && (out.path || out.maxSize))
    throw new UsageError(`--log-opt path= and max-size= need the k8s-file log driver, not ${driver}`, { hint: "drop --log-opt, or use --log-driver k8s-file" });
  return out;
}

/** podman's refusals, and the combinations pod cannot honour (foreground: a run without -d or -it, which no monitor logs). */
export function checkLogConfig(cfg: LogConfig | undefined, o: { tty: boolean; foreground?: boolean }): void {
  if (!cfg) return;
  if (cfg.driver === "passthrough" && o.tty)
    throw new UsageError("the passthrough log driver cannot be used with a terminal (-t)", { hint: "drop -t, or use --log-driver k8s-file" });
  if (o.foreground && cfg.driver === "k8s-file")
    throw new UsageError("pod writes no log for a foreground run without -it: the container's output goes to yours directly", {
      hint: "run it with -d (or create and start it) to have a k8s-file log; a foreground run is what --log-driver passthrough is",
    });
}

/** At create, a custom path: the file is made (or opened) now and ctr.log points at it. */
export function linkCustomLog(containerDir: string, cfg: LogConfig | undefined): void {
  if (!cfg?.path) return;
  try {
    closeSync(openSync(cfg.path, "a", 0o600));
  } catch (e) {
    throw new PodError(`--log-opt path=${cfg.path}: ${(e as Error).message}`, { hint: "the log file's directory must exist and be writable by you" });
  }
  symlinkSync(cfg.path, logPath(containerDir));
}

export const logDriverOf = (rec: ContainerRecord | undefined): LogDriver => rec?.config?.log?.driver ?? "k8s-file";

/** `pod logs` of a container that keeps no log: podman's error. */
export function checkLogsReadable(rec: ContainerRecord): void {
  const driver = logDriverOf(rec);
  if (driver !== "k8s-file")
    throw new PodError(`failed to obtain logs for Container '${rec.name}': this container is using the '${driver}' log driver, cannot read logs: this container is not logging output`, {
      hint: "create the container with --log-driver k8s-file (the default) to keep its output",
    });
}
