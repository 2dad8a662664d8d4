// Help text in podman's shape: description, usage, examples, flags.
import type { PodArgDef, PodCommand } from "./_args.ts";
import { globalArgs } from "./_args.ts";
import { basename } from "node:path";

/**
 * The name pod was invoked as (argv[0]'s base name), which help prints as
 * podman does, so pod installed as `podman` shows `podman ps [options]`.
 * Run from source (`bun cmd/main.ts`), argv[0] is bun: then "pod".
 */
export function invokedName(argv0: string = process.argv0): string {
  const base = basename(argv0 || "pod");
  return !base || /^bun(\.exe)?$/.test(base) ? "pod" : base;
}

type Resolved = { name: string; cmd: PodCommand; subs: [string, PodCommand][] };

function flagLine([name, d]: [string, PodArgDef]): [string, string] {
  const a = (d as { alias?: string | string[] }).alias;
  const short = (Array.isArray(a) ? a : a ? [a] : []).filter((x) => x.length === 1);
  const hint = d.type === "boolean" ? "" : ` ${(d as { valueHint?: string }).valueHint ?? "string"}`;
  const left = `${short.length ? `-${short[0]}, ` : "    "}--${name}${hint}`;
  const def = d.default !== undefined && d.type !== "boolean" ? ` (default "${d.default}")` : "";
  return [left, `${d.description ?? ""}${def}`];
}

function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([l]) => l.length), 0) + 3;
  return rows.map(([l, r]) => `  ${l.padEnd(w)}${r}`.trimEnd()).join("\n");
}

export function renderHelp(path: string, r: Resolved): string {
  const meta = (r.cmd.meta ?? {}) as { description?: string; usage?: string };
  const args = Object.entries((r.cmd.args ?? {}) as Record<string, PodArgDef>);
  const positionals = args.filter(([, d]) => d.type === "positional");
  const flags = args.filter(([, d]) => d.type !== "positional" && !d.hidden);
  const pos = positionals.map(([n, d]) => (d.required === false ? `[${n.toUpperCase()}]` : n.toUpperCase())).join(" ");
  const lines = [meta.description ?? "", "", "Usage:"];
  if (r.subs.length && !r.cmd.run) lines.push(`  ${path}${path.includes(" ") ? "" : " [options]"} [command]`);
  else lines.push(`  ${path}${flags.length ? " [options]" : ""}${pos ? " " + pos : ""}`);
  if (r.cmd.examples?.length) lines.push("", "Examples:", ...r.cmd.examples.map((e) => `  ${e}`));
  const visible = r.subs.filter(([n, c]) => !n.startsWith("_") && !(c.meta as { hidden?: boolean })?.hidden);
  if (visible.length)
    lines.push("", "Available Commands:", columns(visible.map(([n, c]) => [n, (c.meta as { description?: string })?.description ?? ""])));
  if (flags.length) lines.push("", "Options:", columns(flags.map(flagLine)));
  lines.push("", "Global options:", columns(Object.entries(globalArgs as Record<string, PodArgDef>).map(flagLine)));
  if (visible.length) lines.push("", `Run '${path} COMMAND --help' for more information on a command.`);
  return lines.join("\n") + "\n";
}
