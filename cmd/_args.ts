// Strict argument parsing for pod's citty command definitions.
//
// citty parses with node:util parseArgs in non-strict mode: unknown flags
// vanish, repeated flags keep only the last value, and flags after the image in
// `run IMAGE sh -c x` are taken as pod's own. pod keeps citty's definitions
// (meta, args, subCommands, usage rendering) and parses them here instead:
// unknown flags are errors with a suggestion, `multiple` flags collect every
// value, and commands marked `interspersed: false` stop at their first
// positional (podman's SetInterspersed(false)).
import type { ArgDef, ArgsDef, CommandDef } from "citty";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err } from "../pkg/output/index.ts";

export type PodArgDef = ArgDef & { multiple?: boolean; hidden?: boolean };
export type PodArgs = Record<string, PodArgDef>;
export type Parsed = { _: string[] } & Record<string, string | boolean | string[] | undefined>;
export type PodCommand = CommandDef<ArgsDef> & { interspersed?: boolean; examples?: string[] };

/** Flags every command accepts (podman's persistent root flags). */
export const globalArgs = {
  root: { type: "string", description: "Storage root directory", valueHint: "dir" },
  runroot: { type: "string", description: "Runtime state directory", valueHint: "dir" },
  "log-level": { type: "string", description: "Log level: debug, info, warn, error", valueHint: "level" },
  "storage-driver": { type: "string", description: "Storage driver: overlay (kernel overlay, else fuse-overlayfs, else a copy) or vfs (a copy)", valueHint: "overlay|vfs" },
  "storage-opt": { type: "string", multiple: true, description: "Storage driver option: overlay.mount_program=PATH", valueHint: "option" },
  tmpdir: { type: "string", description: "Directory of containers' runtime state (attach sockets, exec specs)", valueHint: "dir" },
  volumepath: { type: "string", description: "Directory volumes are kept in (default ROOT/volumes)", valueHint: "dir" },
  "cgroup-manager": { type: "string", description: "Cgroup manager: cgroupfs (pod writes its delegated cgroup v2 subtree itself)", valueHint: "cgroup-manager" },
  // podman's; refused with the reason (pod has no OCI runtime and no conmon), so hidden from help and completion
  runtime: { type: "string", hidden: true, description: "OCI runtime (refused: pod starts containers with its own native core)", valueHint: "path" },
  conmon: { type: "string", hidden: true, description: "conmon binary (refused: pod supervises containers with its own monitor)", valueHint: "path" },
  "network-cmd-path": { type: "string", description: "Path of the slirp4netns binary to use", valueHint: "path" },
  "events-backend": { type: "string", description: "Events backend: file (events.log in the runroot) or none (no events)", valueHint: "file|none" },
  noout: { type: "boolean", description: "Do not print to stdout" },
  help: { type: "boolean", alias: "h", description: "Show help" },
} satisfies PodArgs;

function aliases(d: PodArgDef): string[] {
  const a = (d as { alias?: string | string[] }).alias;
  return a === undefined ? [] : Array.isArray(a) ? a : [a];
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)] as number[]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function suggest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let score = Infinity;
  for (const c of candidates) {
    const s = c.startsWith(word) || word.startsWith(c) ? 1 : distance(word, c);
    if (s < score) [best, score] = [c, s];
  }
  return score <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/**
 * Parses argv against `defs`. Throws UsageError for unknown flags, missing
 * values and bad booleans. Positionals land in `_`.
 */
export function parseArgv(argv: string[], defs: PodArgs, cmdPath: string, interspersed = true): Parsed {
  const byName = new Map<string, [string, PodArgDef]>();
  for (const [name, d] of Object.entries(defs)) {
    if (d.type === "positional") continue;
    byName.set(`--${name}`, [name, d]);
    for (const a of aliases(d)) byName.set(a.length === 1 ? `-${a}` : `--${a}`, [name, d]);
  }
  const out: Parsed = { _: [] };
  for (const [name, d] of Object.entries(defs)) {
    if (d.multiple) out[name] = [];
    else if (d.default !== undefined) out[name] = d.default as string | boolean;
  }
  const help = `see \`pod ${cmdPath} --help\``;
  const set = (name: string, d: PodArgDef, v: string | boolean) => {
    if (d.multiple) (out[name] as string[]).push(String(v));
    else out[name] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (!interspersed) {
        out._.push(...argv.slice(i));
        break;
      }
      out._.push(a);
      continue;
    }
    const eq = a.startsWith("--") ? a.indexOf("=") : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    let inline: string | undefined = eq > 0 ? a.slice(eq + 1) : undefined;
    let hit = byName.get(flag);
    if (!hit && !a.startsWith("--") && a.length > 2) {
      // -abc (booleans) or -fVALUE
      const first = byName.get(a.slice(0, 2));
      if (first && first[1].type === "boolean") {
        const rest = a.slice(2).split("").map((c) => byName.get(`-${c}`));
        if (rest.every((r) => r && r[1].type === "boolean")) {
          set(first[0], first[1], true);
          for (const r of rest) set(r![0], r![1], true);
          continue;
        }
      } else if (first) {
        hit = first;
        inline = a.slice(2);
      }
    }
    if (!hit) {
      const guess = suggest(flag, [...byName.keys()].filter((k) => k.startsWith("--") && !byName.get(k)![1].hidden));
      throw new UsageError(`unknown flag: ${flag}`, { hint: guess ? `did you mean ${guess}? ${help}` : help });
    }
    const [name, d] = hit;
    if (d.type === "boolean") {
      if (inline === undefined) set(name, d, true);
      else if (inline === "true" || inline === "false") set(name, d, inline === "true");
      else throw new UsageError(`invalid value "${inline}" for ${flag}: expected true or false`, { hint: help });
      continue;
    }
    if (inline === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`flag needs an argument: ${flag}`, { hint: help });
      inline = argv[++i]!;
    }
    const options = (d as { options?: string[] }).options;
    if (options && !options.includes(inline))
      throw new UsageError(`invalid value "${inline}" for ${flag}: expected one of ${options.join(", ")}`, { hint: help });
    set(name, d, inline);
  }
  return out;
}

/** Values of a repeatable flag that also accepts comma lists (closed vocabularies only). */
export function commaList(v: unknown): string[] {
  return (Array.isArray(v) ? v : v === undefined ? [] : [String(v)]).flatMap((s) => String(s).split(",")).filter(Boolean);
}

export const formatArg = {
  format: { type: "string", description: "Output format: table, json, or a Go template", valueHint: "format" },
} satisfies PodArgs;

/** attach's and start's --detach-keys (podman's default ctrl-p,ctrl-q; "" never detaches). */
export const detachKeysArg = {
  "detach-keys": { type: "string", default: "ctrl-p,ctrl-q", description: "Key sequence that detaches", valueHint: "keys" },
} satisfies PodArgs;

/** Prints every error but the last, which is thrown (its exit code is the command's): bulk verbs that go on past a failure. */
export function reportAll(errors: PodError[]): void {
  for (const e of errors.slice(0, -1)) err(`Error: ${e.message}\n`);
  if (errors.length) throw errors.at(-1)!;
}
