// `pod __complete WORDS…` answers in cobra's protocol (podman's too): one
// `value<TAB>description` line per candidate, then `:DIRECTIVE`, a bitmask
// telling the shell what to do besides (fall back to files, only dirs, …).
import type { Paths } from "../config/index.ts";
import { sourceItems } from "./sources.ts";
import type { Item, ValueKind } from "./spec.ts";
import { walkLine, type Lookup, type Target } from "./walk.ts";

export const Directive = { Default: 0, Error: 1, NoSpace: 2, NoFileComp: 4, FilterFileExt: 8, FilterDirs: 16, KeepOrder: 32 } as const;

export type Answer = { items: Item[]; directive: number };

export type CompleteContext = {
  lookup: Lookup;
  /** storage paths, given the flags typed so far (`--root`, `--runroot`) */
  paths: (seen: Record<string, string>) => Paths;
  env: Record<string, string | undefined>;
};

function valueAnswer(v: ValueKind, t: Target, ctx: CompleteContext, seen: Record<string, string>): Answer {
  switch (v.kind) {
    case "values":
      return { items: v.values.map((name) => ({ name, description: "" })), directive: Directive.NoFileComp };
    case "files":
      return { items: [], directive: Directive.Default };
    case "dirs":
      return { items: [], directive: Directive.FilterDirs };
    case "none":
      return { items: [], directive: Directive.NoFileComp };
    case "dynamic":
      return { items: sourceItems(v.source, ctx.paths(seen), t.cur, ctx.env), directive: Directive.NoFileComp };
  }
}

/** The candidates for the last word of `words` (the words after `pod`). */
export async function completeLine(words: string[], ctx: CompleteContext): Promise<Answer> {
  const w = await walkLine(words.length ? words : [""], ctx.lookup);
  if (!w) return { items: [], directive: Directive.NoFileComp };
  const t = w.target;
  let a: Answer;
  let prefix = "";
  if (t.kind === "flags")
    a = { items: w.cmd.flags.flatMap((f) => f.names.map((name) => ({ name, description: f.description }))), directive: Directive.NoFileComp };
  else if (t.kind === "subs") a = { items: (await ctx.lookup(w.cmd.path, true))?.subs ?? [], directive: Directive.NoFileComp };
  else if (t.kind === "value") {
    a = valueAnswer(t.flag.value!, t, ctx, w.seen);
    prefix = t.prefix;
  } else a = valueAnswer(t.value, t, ctx, w.seen);
  const seen = new Set<string>();
  const items = a.items
    .filter((i) => i.name.startsWith(t.cur) && !seen.has(i.name) && seen.add(i.name))
    .map((i) => ({ name: prefix + i.name, description: i.description }));
  return { items, directive: a.directive };
}

/** The protocol's text. Tabs and newlines in descriptions would break it, so they become spaces. */
export function renderAnswer(a: Answer): string {
  const clean = (s: string) => s.replace(/[\t\n]+/g, " ");
  return a.items.map((i) => (i.description ? `${clean(i.name)}\t${clean(i.description)}` : clean(i.name)) + "\n").join("") + `:${a.directive}\n`;
}
