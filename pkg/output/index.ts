// The only writer to stdout and stderr. Results go to stdout; logs, progress
// and errors go to stderr, so `$(pod pull -q x)` captures only the result.
// Colour and progress bars only on a terminal, and never with NO_COLOR.
export { formatTable, type Column } from "./table.ts";
export { renderTemplate, parseTemplate, type Template } from "./template.ts";
export { humanSize, humanDuration, timeAgo } from "./units.ts";
export { log, setLogLevel, logLevel, type LogLevel } from "./log.ts";
export { ProgressBoard } from "./progress.ts";
export { formatItems, formatValue, type FormatSpec } from "./format.ts";
export { out, outBytes, outWhileRead, repaint, err, stderrIsTTY, stdoutIsTTY, useColor } from "./stream.ts";
export { parseGoDuration, parseTime } from "./time.ts";
