// Reads a partly typed command line the way pod's parser will: global flags
// and flag values are skipped, subcommand names descend the tree, `--` and
// the first positional of a non-interspersed command (run IMAGE CMD…) end
// flag parsing. The generated shell scripts implement the same walk.
import type { CommandSpec, FlagSpec, ValueKind } from "./spec.ts";

export type Target =
  | { kind: "value"; flag: FlagSpec; prefix: string; cur: string }
  | { kind: "flags"; cur: string }
  | { kind: "subs"; cur: string }
  | { kind: "positional"; value: ValueKind; cur: string };

export type Walked = {
  cmd: CommandSpec;
  target: Target;
  /** values of the flags seen so far, by long name (`--root`), for `pod --root X rmi <TAB>` */
  seen: Record<string, string>;
};

/**
 * lookup(path) gives the command at path, or undefined when there is none.
 * Its subcommands' descriptions may be left empty unless `described` is set.
 */
export type Lookup = (path: string[], described?: boolean) => Promise<CommandSpec | undefined>;

export function findFlag(cmd: CommandSpec, word: string): FlagSpec | undefined {
  return cmd.flags.find((f) => f.names.includes(word));
}

function positionalTarget(cmd: CommandSpec, npos: number, cur: string): Target {
  const p = cmd.positionals;
  return { kind: "positional", value: p.length ? p[Math.min(npos, p.length - 1)]! : { kind: "none" }, cur };
}

/** words: what follows `pod`, the last one being the word under the cursor (maybe ""). */
export async function walkLine(words: string[], lookup: Lookup): Promise<Walked | undefined> {
  const path: string[] = [];
  const top = await lookup(path);
  if (!top || !words.length) return undefined;
  let cmd: CommandSpec = top;
  const seen: Record<string, string> = {};
  const cur = words.at(-1)!;
  let npos = 0;
  let flagsOver = false;
  for (let i = 0; i < words.length - 1; i++) {
    const w = words[i]!;
    if (flagsOver) {
      npos++;
      continue;
    }
    if (w === "--") {
      flagsOver = true;
      continue;
    }
    if (w.startsWith("-") && w !== "-") {
      const eq = w.startsWith("--") ? w.indexOf("=") : -1;
      const flag = findFlag(cmd, eq > 0 ? w.slice(0, eq) : w);
      if (!flag?.value) continue;
      if (eq > 0) seen[flag.names[0]!] = w.slice(eq + 1);
      else if (i + 1 === words.length - 1) return { cmd, target: { kind: "value", flag, prefix: "", cur }, seen };
      else seen[flag.names[0]!] = words[++i]!;
      continue;
    }
    const sub: CommandSpec | undefined = npos === 0 && cmd.subs.some((s) => s.name === w) ? await lookup([...path, w]) : undefined;
    if (sub) {
      path.push(w);
      cmd = sub;
      continue;
    }
    npos++;
    if (!cmd.interspersed) flagsOver = true;
  }
  return { cmd, target: targetOf(cmd, cur, npos, flagsOver), seen };
}

function targetOf(cmd: CommandSpec, cur: string, npos: number, flagsOver: boolean): Target {
  if (!flagsOver && cur.startsWith("--") && cur.includes("=")) {
    const eq = cur.indexOf("=");
    const flag = findFlag(cmd, cur.slice(0, eq));
    if (flag?.value) return { kind: "value", flag, prefix: cur.slice(0, eq + 1), cur: cur.slice(eq + 1) };
  }
  if (!flagsOver && cur.startsWith("-")) return { kind: "flags", cur };
  if (npos === 0 && cmd.subs.length) return { kind: "subs", cur };
  return positionalTarget(cmd, npos, cur);
}
