// Logs go to stderr with a level prefix, podman style (`WARN[0000] ...`
// becomes `WARN ...`). consola is not used on the hot path: importing it costs
// several milliseconds that `pod --version` and completion cannot afford.
import { err, useColor } from "./stream.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
const order: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
let level: LogLevel = "warn";

export function setLogLevel(l: string): void {
  if (!(l in order)) throw new Error(`invalid log level "${l}": use debug, info, warn or error`);
  level = l as LogLevel;
}
export const logLevel = (): LogLevel => level;

function emit(l: LogLevel, tag: string, colour: string, msg: string) {
  if (order[l] < order[level]) return;
  const t = useColor() ? `\x1b[${colour}m${tag}\x1b[0m` : tag;
  err(`${t} ${msg}\n`);
}

export const log = {
  /** debug lines carry the time since pod started, so --log-level debug shows where time goes */
  debug: (msg: string) => emit("debug", "DEBU", "90", `[${performance.now().toFixed(1)} ms] ${msg}`),
  info: (msg: string) => emit("info", "INFO", "36", msg),
  warn: (msg: string) => emit("warn", "WARN", "33", msg),
  error: (msg: string) => emit("error", "ERRO", "31", msg),
};
