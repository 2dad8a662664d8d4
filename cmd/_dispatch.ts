// Walks the command tree, parses flags strictly, runs the command, and maps
// every failure to podman's exit codes (125 for pod's own errors).
import { globalArgs, parseArgv, suggest, type PodArgs, type PodCommand, type Parsed } from "./_args.ts";
import { invokedName, renderHelp } from "./_help.ts";
import { commands } from "./_tree.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, log, setLogLevel, out } from "../pkg/output/index.ts";
import { releaseBridge } from "../pkg/network/index.ts";
import { engineOptions, type EngineFlags } from "../pkg/config/index.ts";

type Loader = () => Promise<PodCommand>;

async function subCommandsOf(cmd: PodCommand): Promise<[string, PodCommand][]> {
  const subs = (cmd.subCommands ?? {}) as Record<string, PodCommand | Loader>;
  return Promise.all(Object.entries(subs).map(async ([n, c]) => [n, typeof c === "function" ? await c() : c] as [string, PodCommand]));
}

/** Where the first word after the global flags is: they may come before the subcommand name, and take values. */
function firstWord(argv: string[]): number {
  let i = 0;
  while (i < argv.length && argv[i]!.startsWith("-")) {
    const a = argv[i]!;
    const d = (globalArgs as PodArgs)[a.replace(/^--?/, "").split("=")[0]!];
    i += d && d.type === "string" && !a.includes("=") ? 2 : 1;
  }
  return i;
}

async function resolve(argv: string[]): Promise<{ path: string[]; cmd: PodCommand; rest: string[] }> {
  let cmd: PodCommand = { meta: { name: "pod", description: "Manage pods, containers and images, rootless and daemonless" }, subCommands: commands as never };
  const path = [invokedName()];
  let rest = argv;
  for (;;) {
    const subs = (cmd.subCommands ?? {}) as Record<string, PodCommand | Loader>;
    if (!Object.keys(subs).length) break;
    const i = firstWord(rest);
    const name = rest[i];
    if (name === undefined) break;
    const sub = subs[name];
    if (!sub) {
      if (cmd.run) break;
      const guess = suggest(name, Object.keys(subs).filter((n) => !n.startsWith("_")));
      throw new UsageError(`unrecognized command \`${path.join(" ")} ${name}\``, {
        hint: guess ? `did you mean \`${path.join(" ")} ${guess}\`? Try \`${path.join(" ")} --help\`` : `try \`${path.join(" ")} --help\``,
      });
    }
    cmd = typeof sub === "function" ? await sub() : sub;
    path.push(name);
    rest = [...rest.slice(0, i), ...rest.slice(i + 1)];
  }
  return { path, cmd, rest };
}

async function showHelp(path: string[], cmd: PodCommand): Promise<void> {
  out(renderHelp(path.join(" "), { name: path.at(-1)!, cmd, subs: await subCommandsOf(cmd) }));
}

export async function dispatch(argv: string[], version: string): Promise<number> {
  try {
    const first = firstWord(argv);
    if (argv[first] === "help") {
      const { path, cmd } = await resolve(argv.slice(first + 1));
      await showHelp(path, cmd);
      return 0;
    }
    const { path, cmd, rest } = await resolve(argv);
    // Command flags come last so that a command alias (run -h = --hostname, as in podman) wins over the global one.
    const defs = { ...globalArgs, ...(cmd.args as PodArgs) } as PodArgs;
    const parsed: Parsed = parseArgv(rest, defs, path.slice(1).join(" "), cmd.interspersed !== false);
    if (parsed["log-level"]) setLogLevel(String(parsed["log-level"]));
    // every command checks the engine flags, even one that never opens the store: none is accepted and ignored
    engineOptions(parsed as EngineFlags);
    if (parsed.noout) (await import("../pkg/system/index.ts")).discardStdout();
    if (parsed.help) {
      await showHelp(path, cmd);
      return 0;
    }
    if (!cmd.run) {
      if (path.length === 1 && rest.includes("--version")) {
        out(`pod version ${version}\n`);
        return 0;
      }
      if (parsed._.length === 0 && path.length === 1) {
        await showHelp(path, cmd);
        return 0;
      }
      throw new UsageError(`missing command: \`${path.join(" ")}\` needs a subcommand`, { hint: `try \`${path.join(" ")} --help\`` });
    }
    const positionals = Object.entries(cmd.args as PodArgs).filter(([, d]) => d.type === "positional");
    const required = positionals.filter(([, d]) => d.required !== false);
    if (parsed._.length < required.length)
      throw new UsageError(`\`${path.join(" ")}\` requires ${required.map(([n]) => n.toUpperCase()).join(" ")}`, {
        hint: `see \`${path.join(" ")} --help\``,
      });
    // As root, what a container killed with its monitor left on the bridge goes first (its address, its ports);
    // not in pod's own helpers (the user networks' keeper, the proxies): the commands they serve did it
    if (process.getuid?.() === 0 && !path[1]?.startsWith("_")) await releaseBridge();
    const result = await cmd.run({ rawArgs: rest, args: parsed as never, cmd: cmd as never });
    return typeof result === "number" ? result : 0;
  } catch (e) {
    return report(e);
  }
}

export function report(e: unknown): number {
  if (e instanceof PodError) {
    err(`Error: ${e.message}\n`);
    if (e.hint) err(`Hint: ${e.hint}\n`);
    if (e.cause) log.debug(`cause: ${e.cause instanceof Error ? e.cause.stack : String(e.cause)}`);
    return e.exit;
  }
  const msg = e instanceof Error ? e.message : String(e);
  err(`Error: ${msg}\n`);
  err(`Hint: this is a bug in pod; run again with --log-level debug and report the output\n`);
  log.debug(e instanceof Error ? (e.stack ?? msg) : msg);
  return 125;
}
