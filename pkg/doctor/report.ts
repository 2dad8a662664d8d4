// The text `pod doctor` prints: one line per check (status, name, what was
// found), the fix on the line below anything that is not ok, and a summary.
import type { Check, Status } from "./checks.ts";

const COLOURS: Record<Status, string> = { ok: "32", warn: "33", fail: "31" };

export function renderChecks(checks: Check[], colour = false): string {
  const width = Math.max(...checks.map((c) => c.name.length)) + 2;
  const pad = " ".repeat(6 + width);
  const lines = checks.flatMap((c) => {
    const status = colour ? `\x1b[${COLOURS[c.status]}m${c.status.padEnd(4)}\x1b[0m  ` : c.status.padEnd(6);
    const line = `${status}${c.name.padEnd(width)}${c.message}`;
    return c.fix && c.status !== "ok" ? [line, `${pad}fix: ${c.fix}`] : [line];
  });
  const n = (s: Status) => checks.filter((c) => c.status === s).length;
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;
  lines.push("", `${plural(checks.length, "check")}: ${n("ok")} ok, ${plural(n("warn"), "warning")}, ${n("fail")} failed`);
  return lines.join("\n") + "\n";
}
