// `pod generate systemd CTR`: a systemd unit for an existing container (pkg/container/systemd.ts).
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { PodArgs, PodCommand } from "./_args.ts";
import { globalArgs } from "./_args.ts";
import { runArgs } from "./run.ts";
import { openContext } from "./_context.ts";
import { findContainer } from "../pkg/container/record/records.ts";
import { systemdUnit } from "../pkg/container/engine/systemd.ts";
import { UsageError } from "../pkg/errors.ts";
import { out } from "../pkg/output/index.ts";

const seconds = (flag: string, v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(String(v))) throw new UsageError(`invalid --${flag} ${JSON.stringify(v)}: a whole number of seconds is needed`, { hint: `--${flag} 10` });
  return Number(v);
};

const list = (v: unknown) => (v as string[] | undefined) ?? [];

/** What --new drops from the container's own command line: the unit sets them (podman's list). */
const UNIT_SETS = new Set(["detach", "rm", "replace", "cidfile", "conmon-pidfile"]);

/**
 * `generate systemd --new`: the container's create command as a `run` that
 * the unit owns (the global flags, `run`/`create` and the flags the unit
 * sets are taken out; the image and its command are kept as they are).
 */
export function runAgainArgs(createCommand: string[]): string[] {
  const spec = runArgs as PodArgs;
  const byName = (n: string) => (spec[n] ? n : Object.keys(spec).find((k) => [(spec[k] as { alias?: string | string[] }).alias].flat().includes(n)));
  const takesValue = (n: string | undefined) => n !== undefined && spec[n]!.type !== "boolean";
  const argv = createCommand.slice(1);
  let i = 0;
  // global flags, then [container] run|create
  while (i < argv.length && argv[i]!.startsWith("-")) {
    const g = (globalArgs as PodArgs)[argv[i]!.replace(/^--?/, "").split("=")[0]!];
    i += g && g.type !== "boolean" && !argv[i]!.includes("=") ? 2 : 1;
  }
  if (argv[i] === "container") i++;
  if (argv[i] !== "run" && argv[i] !== "create") throw new UsageError(`the container's command line ${JSON.stringify(createCommand.join(" "))} is not a run or create`, { hint: "create it again with pod create or pod run, or leave --new out" });
  i++;
  const kept: string[] = [];
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") break;
    if (a.startsWith("--")) {
      const name = byName(a.slice(2).split("=")[0]!);
      const value = takesValue(name) && !a.includes("=") ? [argv[i + 1] ?? ""] : [];
      if (!name || !UNIT_SETS.has(name)) kept.push(a, ...value);
      i += 1 + value.length;
      continue;
    }
    // -dit, -e X, -eX: booleans may share a word; a flag with a value takes the rest of it, or the next word
    let group = "";
    let j = 1;
    let extra: string[] = [];
    for (; j < a.length; j++) {
      const name = byName(a[j]!);
      if (takesValue(name)) {
        group += a.slice(j);
        if (j === a.length - 1) extra = [argv[i + 1] ?? ""];
        break;
      }
      if (!name || !UNIT_SETS.has(name)) group += a[j];
    }
    if (group) kept.push(`-${group}`, ...extra);
    i += 1 + extra.length;
  }
  return [...kept, ...argv.slice(i)];
}

const systemdArgs = {
  name: { type: "boolean", alias: "n", description: "Use the container's name instead of its ID" },
  files: { type: "boolean", alias: "f", description: "Write the unit to container-NAME.service in the current directory and print its path" },
  format: { type: "enum", options: ["json"], description: "Print the units as JSON (unit name → content)", valueHint: "format" },
  "no-header": { type: "boolean", description: "Leave out the header comment" },
  "restart-policy": { type: "string", default: "on-failure", description: "systemd's Restart= (no, on-success, on-failure, on-abnormal, on-watchdog, on-abort, always)", valueHint: "policy" },
  "restart-sec": { type: "string", description: "systemd's RestartSec=", valueHint: "seconds" },
  "stop-timeout": { type: "string", description: "Seconds stop waits before killing (default: the container's stop timeout)", valueHint: "seconds" },
  time: { type: "string", alias: "t", description: "The same as --stop-timeout", valueHint: "seconds" },
  "container-prefix": { type: "string", default: "container", description: "The unit name's prefix", valueHint: "prefix" },
  separator: { type: "string", default: "-", description: "Between the prefix and the name", valueHint: "text" },
  wants: { type: "string", multiple: true, description: "Add to Wants=", valueHint: "unit" },
  after: { type: "string", multiple: true, description: "Add to After=", valueHint: "unit" },
  requires: { type: "string", multiple: true, description: "Add a Requires=", valueHint: "unit" },
  new: { type: "boolean", description: "A unit that creates the container at each start and removes it at each stop, from its create command" },
  container: { type: "positional", description: "Container name or ID", required: false },
} satisfies PodArgs;

const noCreateCommand = (name: string): never => {
  throw new UsageError(`container ${name} has no create command recorded (it was made by an older pod)`, { hint: "create it again, or leave --new out" });
};

export const systemd: PodCommand = {
  meta: { name: "systemd", description: "Generate a systemd unit that starts and stops a container" },
  examples: ["pod generate systemd --name web", "pod generate systemd --files --name web", "pod generate systemd --restart-policy always web"],
  args: systemdArgs,
  async run({ args }) {
    const refs = args._ as string[];
    if (refs.length !== 1) throw new UsageError("`pod generate systemd` takes exactly one container", { hint: "pod generate systemd --name web" });
    if (args.time !== undefined && args["stop-timeout"] !== undefined) throw new UsageError("--time and --stop-timeout are the same flag: give one", { hint: "--stop-timeout 10" });
    const ctx = openContext(args);
    const rec = findContainer(ctx.paths.root, refs[0]!);
    const unit = systemdUnit(ctx.paths, rec, {
      useName: Boolean(args.name),
      restartPolicy: String(args["restart-policy"]),
      restartSec: seconds("restart-sec", args["restart-sec"]),
      stopTimeout: seconds("stop-timeout", args["stop-timeout"] ?? args.time),
      prefix: String(args["container-prefix"]),
      separator: String(args.separator),
      noHeader: Boolean(args["no-header"]),
      wants: list(args.wants),
      after: list(args.after),
      requires: list(args.requires),
      ...(args.new ? { runAgain: runAgainArgs(rec.createCommand ?? noCreateCommand(rec.name)) } : {}),
    });
    if (args.files) {
      const path = resolve(unit.name);
      writeFileSync(path, unit.text);
      return out(args.format === "json" ? `${JSON.stringify({ [unit.name]: path }, null, 4)}\n` : `${path}\n`);
    }
    out(args.format === "json" ? `${JSON.stringify({ [unit.name]: unit.text }, null, 4)}\n` : unit.text);
  },
};

export const generate: PodCommand = {
  meta: { name: "generate", description: "Generate configuration for other tools (systemd units)" },
  examples: ["pod generate systemd --name web"],
  subCommands: { systemd } as never,
};
