// What completion knows about a command, as plain data. cmd/completion.ts
// builds it from the citty definitions (pkg/ never imports citty, so they come
// in through the structural ArgLike/CommandLike types); the script generators
// and `pod __complete` read it.
//
// Where a value comes from, in order: an enum's `options`; a `valueHint`
// listing values ("bash|zsh|fish"); a `valueHint` naming a kind (hintKinds);
// for positionals, the argument's name (positionalKinds). Any other hint is
// free text. A positional that resolves to nothing is a bug the unit test
// catches.

/** Candidates only pod itself can list: answered by `pod __complete`. "objects": containers and images. */
export type Source = "images" | "containers" | "running-containers" | "paused-containers" | "objects" | "registries" | "volumes" | "networks" | "secrets";

export type ValueKind =
  | { kind: "values"; values: string[] }
  | { kind: "files" }
  | { kind: "dirs" }
  | { kind: "none" }
  | { kind: "dynamic"; source: Source };

export type Item = { name: string; description: string };
/** inherited: a global flag the command does not redefine */
export type FlagSpec = { names: string[]; description: string; value?: ValueKind; inherited?: boolean };
export type CommandSpec = {
  path: string[];
  description: string;
  subs: Item[];
  /** the command's own flags followed by the global flags it does not redefine */
  flags: FlagSpec[];
  /** one per positional; the last one repeats */
  positionals: ValueKind[];
  interspersed: boolean;
};

export type ArgLike = {
  type?: string;
  description?: string;
  valueHint?: string;
  alias?: string | string[];
  options?: readonly string[];
  hidden?: boolean;
};
export type CommandLike = {
  meta?: unknown;
  args?: unknown;
  subCommands?: unknown;
  interspersed?: boolean;
  examples?: string[];
};

export const LOG_LEVELS = ["debug", "info", "warn", "error"];
export const SIGNALS = [
  "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1",
  "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
  "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
];

const values = (v: string[]): ValueKind => ({ kind: "values", values: v });
const dynamic = (source: Source): ValueKind => ({ kind: "dynamic", source });
const FILES: ValueKind = { kind: "files" };
const DIRS: ValueKind = { kind: "dirs" };
const NONE: ValueKind = { kind: "none" };

/** valueHint → kind. Extra fixed lists (capability names) come from the caller. */
const hintKinds: Record<string, ValueKind> = {
  format: values(["json", "table"]),
  level: values(LOG_LEVELS),
  signal: values(SIGNALS),
  file: FILES,
  path: FILES,
  dir: DIRS,
  volume: FILES,
  image: dynamic("images"),
  container: dynamic("containers"),
  "running-container": dynamic("running-containers"),
  registry: dynamic("registries"),
  secret: dynamic("secrets"),
  port: NONE,
  digest: NONE,
  "cgroup-manager": values(["cgroupfs"]),
};

/** Positional name → kind, when its valueHint says nothing. A `name` is one being made up. */
const positionalKinds: Record<string, ValueKind> = {
  name: NONE,
  image: dynamic("images"),
  target: dynamic("images"),
  manifest: dynamic("images"),
  container: dynamic("containers"),
  registry: dynamic("registries"),
  volume: dynamic("volumes"),
  network: dynamic("networks"),
  secret: dynamic("secrets"),
  command: FILES,
  path: FILES,
  file: FILES,
  dir: DIRS,
};

/** podman completes these commands' containers with running ones only. */
const RUNNING_ONLY = new Set(["attach", "exec", "kill", "pause", "stop", "top"]);
/** Commands (by path) whose first positional is not what its name says: `inspect NAME` takes containers and images. */
const firstPositional: Record<string, ValueKind> = { inspect: dynamic("objects"), "container inspect": dynamic("containers") };

function hintKind(hint: string | undefined, extra: Record<string, string[]>): ValueKind | undefined {
  if (!hint) return undefined;
  if (hint.includes("|")) return values(hint.split("|"));
  if (extra[hint]) return values(extra[hint]!);
  return hintKinds[hint];
}

/** The values a flag takes; undefined for booleans. */
export function flagValue(d: ArgLike, extra: Record<string, string[]> = {}): ValueKind | undefined {
  if (d.type === "boolean") return undefined;
  if (d.options?.length) return values([...d.options]);
  return hintKind(d.valueHint, extra) ?? NONE;
}

/** Where a positional's candidates come from; undefined when nothing says. */
export function positionalValue(name: string, d: ArgLike, command: string, extra: Record<string, string[]> = {}): ValueKind | undefined {
  const k = hintKind(d.valueHint, extra) ?? positionalKinds[name];
  if (k?.kind === "dynamic" && k.source === "containers" && RUNNING_ONLY.has(command)) return dynamic("running-containers");
  if (k?.kind === "dynamic" && k.source === "containers" && command === "unpause") return dynamic("paused-containers");
  return k;
}

/** Each positional's kind, in order; undefined where nothing says (the unit test reports those). */
export function positionalValues(path: string[], args: Record<string, ArgLike>, extra: Record<string, string[]> = {}): (ValueKind | undefined)[] {
  const command = path.at(-1) ?? "";
  return Object.entries(args)
    .filter(([, d]) => d.type === "positional")
    .map(([n, d], i) => (i === 0 ? firstPositional[path.join(" ")] : undefined) ?? positionalValue(n, d, command, extra));
}

function aliases(d: ArgLike): string[] {
  return d.alias === undefined ? [] : Array.isArray(d.alias) ? d.alias : [d.alias];
}

/** `--name` first, then its aliases (`-x` for one letter). */
export function flagNames(name: string, d: ArgLike): string[] {
  return [`--${name}`, ...aliases(d).map((a) => (a.length === 1 ? `-${a}` : `--${a}`))];
}

export function flagSpecs(args: Record<string, ArgLike>, extra: Record<string, string[]> = {}): FlagSpec[] {
  return Object.entries(args)
    .filter(([, d]) => d.type !== "positional" && !d.hidden)
    .map(([n, d]) => ({ names: flagNames(n, d), description: d.description ?? "", value: flagValue(d, extra) }));
}

export const metaOf = (c: CommandLike) => (c.meta ?? {}) as { name?: string; description?: string; hidden?: boolean };
export const isVisible = (name: string, c: CommandLike) => !name.startsWith("_") && !metaOf(c).hidden;

/**
 * The spec of one command. `subs` are its visible subcommands, already
 * loaded; `global` are the flags every command accepts.
 */
export function commandSpec(
  path: string[],
  cmd: CommandLike,
  subs: [string, CommandLike][],
  global: FlagSpec[],
  extra: Record<string, string[]> = {},
): CommandSpec {
  const args = (cmd.args ?? {}) as Record<string, ArgLike>;
  const own = flagSpecs(args, extra);
  const taken = new Set(own.flatMap((f) => f.names));
  const inherited = global
    .map((g) => ({ ...g, names: g.names.filter((n) => !taken.has(n)), inherited: true }))
    .filter((g) => g.names.length > 0);
  return {
    path,
    description: metaOf(cmd).description ?? "",
    subs: subs.filter(([n, c]) => isVisible(n, c)).map(([n, c]) => ({ name: n, description: metaOf(c).description ?? "" })),
    flags: [...own, ...inherited],
    positionals: positionalValues(path, args, extra).map((v) => v ?? NONE),
    interspersed: cmd.interspersed !== false,
  };
}

/**
 * `pod help CMD` is handled by dispatch outside the tree, so completion adds
 * it by hand: a `help` subcommand of the root whose subcommands are the root's.
 */
export function addHelp(root: CommandSpec, global: FlagSpec[]): { root: CommandSpec; help: CommandSpec } {
  const help: CommandSpec = { path: ["help"], description: "Show help for a command", subs: root.subs, flags: global.map((g) => ({ ...g, inherited: true })), positionals: [], interspersed: true };
  return { root: { ...root, subs: [...root.subs, { name: "help", description: help.description }] }, help };
}
