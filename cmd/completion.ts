// `pod completion bash|zsh|fish` prints a script generated from the command
// tree; the hidden `pod __complete -- WORDS…` answers what the scripts cannot
// know (images, containers, registries), in cobra's protocol.
import type { PodCommand } from "./_args.ts";
import { globalArgs } from "./_args.ts";
import { commands } from "./_tree.ts";
import {
  addHelp,
  commandSpec,
  completeLine,
  flagSpecs,
  isVisible,
  renderAnswer,
  renderScript,
  SHELLS,
  type CommandSpec,
  type Shell,
} from "../pkg/completion/index.ts";
import { resolvePaths } from "../pkg/config/index.ts";
import { log, out } from "../pkg/output/index.ts";
import { UsageError } from "../pkg/errors.ts";

type Loader = () => Promise<PodCommand>;
const root: PodCommand = { meta: { name: "pod" }, subCommands: commands as never };
/** valueHints whose values are a fixed list kept elsewhere in pod; loaded on demand, a TAB on `rmi` does not need them */
async function extraValues(): Promise<Record<string, string[]>> {
  const { CAPABILITIES } = await import("../pkg/runtime/index.ts");
  return { cap: ["ALL", ...CAPABILITIES] };
}
const globalFlags = () => flagSpecs(globalArgs);

const load = (c: PodCommand | Loader): Promise<PodCommand> => (typeof c === "function" ? c() : Promise.resolve(c));

async function subsOf(cmd: PodCommand): Promise<[string, PodCommand][]> {
  const subs = (cmd.subCommands ?? {}) as Record<string, PodCommand | Loader>;
  const all = await Promise.all(Object.entries(subs).map(async ([n, c]) => [n, await load(c)] as [string, PodCommand]));
  return all.filter(([n, c]) => isVisible(n, c));
}

/**
 * The root and `help`. Without `described`, subcommands are listed by name
 * only, so walking past the root loads no command group.
 */
async function rootSpecs(described: boolean): Promise<{ root: CommandSpec; help: CommandSpec }> {
  const subs: [string, PodCommand][] = described
    ? await subsOf(root)
    : Object.keys(commands).filter((n) => !n.startsWith("_")).map((n) => [n, { meta: { name: n } }]);
  return addHelp(commandSpec([], root, subs, globalFlags()), globalFlags());
}

/** The spec at path, loading only the command groups on the way. */
async function specAt(path: string[], described = false): Promise<CommandSpec | undefined> {
  if (path.length === 0) return (await rootSpecs(described)).root;
  if (path[0] === "help") {
    const { help } = await rootSpecs(described);
    return path.length === 1 ? help : path.length === 2 ? { ...help, path, subs: [] } : undefined;
  }
  let cmd = root;
  for (const name of path) {
    const entry = ((cmd.subCommands ?? {}) as Record<string, PodCommand | Loader>)[name];
    if (!entry) return undefined;
    cmd = await load(entry);
    if (!isVisible(name, cmd)) return undefined;
  }
  return commandSpec(path, cmd, await subsOf(cmd), globalFlags(), await extraValues());
}

/** Every visible command, the root first: what the scripts are generated from. */
export async function treeSpecs(): Promise<CommandSpec[]> {
  const specs: CommandSpec[] = [];
  const extra = await extraValues();
  const visit = async (path: string[], cmd: PodCommand) => {
    const subs = await subsOf(cmd);
    specs.push(commandSpec(path, cmd, subs, globalFlags(), extra));
    for (const [n, c] of subs) await visit([...path, n], c);
  };
  await visit([], root);
  const { root: withHelp, help } = addHelp(specs[0]!, globalFlags());
  return [withHelp, help, ...specs.slice(1)];
}

export const completion: PodCommand = {
  meta: { name: "completion", description: "Generate the autocompletion script for bash, zsh or fish" },
  examples: [
    "source <(pod completion bash)",
    "pod completion bash > ~/.local/share/bash-completion/completions/pod",
    "pod completion zsh > ~/.local/share/zsh/site-functions/_pod",
    "pod completion fish > ~/.config/fish/completions/pod.fish",
    "pod completion --no-desc zsh > ~/.local/share/zsh/site-functions/_pod",
  ],
  args: {
    "no-desc": { type: "boolean", description: "Disable completion descriptions" },
    shell: { type: "positional", description: "bash, zsh or fish", valueHint: "bash|zsh|fish" },
  },
  async run({ args }) {
    const [shell, ...extra] = args._ as string[];
    if (!SHELLS.includes(shell as Shell) || extra.length)
      throw new UsageError(`unsupported shell "${[shell, ...extra].join(" ")}": pod completes bash, zsh and fish`, {
        hint: "pod completion bash|zsh|fish",
      });
    out(renderScript(shell as Shell, await treeSpecs(), { descriptions: !args["no-desc"] }));
  },
};

/** `__complete` and cobra's `__completeNoDesc` (what `completion --no-desc` scripts call): the same answer, without descriptions. */
const completeCommand = (name: "__complete" | "__completeNoDesc"): PodCommand => ({
  meta: { name, description: `internal: completion candidates for the shell scripts${name === "__completeNoDesc" ? ", without descriptions" : ""}`, hidden: true },
  interspersed: false,
  args: { words: { type: "positional", description: "the words after `pod`, the last one being completed", required: false } },
  async run({ rawArgs }) {
    const words = rawArgs[0] === "--" ? rawArgs.slice(1) : rawArgs;
    let answer: string;
    try {
      const a = await completeLine(words, {
        lookup: specAt,
        paths: (seen) => resolvePaths({ root: seen["--root"], runroot: seen["--runroot"] }),
        env: process.env,
      });
      answer = renderAnswer(name === "__complete" ? a : { ...a, items: a.items.map((i) => ({ ...i, description: "" })) });
    } catch (e) {
      // The protocol asks for silence: an error here would land in the user's command line.
      log.debug(`${name} ${words.join(" ")}: ${e instanceof Error ? e.message : String(e)}`);
      return 0;
    }
    out(answer);
    return 0;
  },
});

export const complete = completeCommand("__complete");
export const completeNoDesc = completeCommand("__completeNoDesc");
