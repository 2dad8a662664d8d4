// Docker's variable substitution in Containerfile words (BuildKit's shell lexer):
// `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`,
// `${VAR:?msg}`, `${VAR#pat}`, `${VAR%pat}` (and `##`, `%%`), `${VAR/pat/repl}`;
// single quotes keep text literal, double quotes keep spaces but expand, the
// escape character (`\` or the `# escape=` one) takes the next character as is.
// The builder expands arguments only for the instructions docker lists; RUN,
// CMD and ENTRYPOINT text is left to the shell in the container.

import { PodError } from "../errors.ts";
import type { Instruction } from "./containerfile.ts";

/** A substitution the file asked for and that cannot be done (`${X:?}` on an unset X, a bad `${...}`). */
export class ExpansionError extends PodError {}

/** Instructions whose arguments the builder expands (docker's "environment replacement" list, plus ARG defaults). */
export const EXPANDING = new Set(["ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ONBUILD", "ARG"]);

const SPECIAL = "@*#?-$!0";

class Words {
  words: string[] = [];
  cur = "";
  inWord = false;
  add(text: string, raw: boolean): void {
    for (const c of text) {
      if (!raw && /\s/.test(c)) {
        if (this.inWord) this.words.push(this.cur);
        this.cur = "";
        this.inWord = false;
      } else {
        this.cur += c;
        this.inWord = true;
      }
    }
  }
  /** Quotes start a word even when empty: `""` is one empty word. */
  touch(): void {
    this.inWord = true;
  }
  finish(): string[] {
    if (this.inWord) this.words.push(this.cur);
    return this.words;
  }
}

class Lexer {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly env: ReadonlyMap<string, string>,
    private readonly escape: string,
    /** When set, names are collected and `${X:?}` never fails. */
    private readonly used?: Set<string>,
  ) {}

  private fail(msg: string): never {
    throw new ExpansionError(msg, { exit: 125, hint: `in: ${this.s}` });
  }

  /** Processes up to (not past) one of `stops`, quotes and escapes removed, substitutions done. */
  run(stops: string, words: Words): string {
    const s = this.s;
    let out = "";
    const put = (t: string, raw: boolean) => {
      out += t;
      words.add(t, raw);
    };
    while (this.pos < s.length) {
      const c = s[this.pos]!;
      if (stops.includes(c)) break;
      if (c === "'") {
        const end = s.indexOf("'", this.pos + 1);
        if (end < 0) this.fail("unexpected end of statement while looking for matching single-quote");
        words.touch();
        put(s.slice(this.pos + 1, end), true);
        this.pos = end + 1;
      } else if (c === '"') {
        words.touch();
        this.pos++;
        for (;;) {
          if (this.pos >= s.length) this.fail("unexpected end of statement while looking for matching double-quote");
          const d = s[this.pos]!;
          if (d === '"') {
            this.pos++;
            break;
          }
          if (d === this.escape) {
            const next = s[this.pos + 1];
            if (next === undefined) {
              this.pos++;
              continue;
            }
            if (next === '"' || next === "$" || next === this.escape) {
              put(next, true);
              this.pos += 2;
            } else {
              put(d, true);
              this.pos++;
            }
          } else if (d === "$") put(this.dollar(), true);
          else {
            put(d, true);
            this.pos++;
          }
        }
      } else if (c === "$") put(this.dollar(), false);
      else if (c === this.escape) {
        this.pos++;
        if (this.pos < s.length) {
          put(s[this.pos]!, true);
          this.pos++;
        }
      } else {
        put(c, false);
        this.pos++;
      }
    }
    return out;
  }

  private name(): string {
    const s = this.s;
    const c = s[this.pos];
    if (c === undefined) return "";
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(s.slice(this.pos))!;
      this.pos += m[0].length;
      return m[0];
    }
    if (SPECIAL.includes(c)) {
      this.pos++;
      return c;
    }
    const m = /^[A-Za-z0-9_]*/.exec(s.slice(this.pos))!;
    this.pos += m[0].length;
    return m[0];
  }

  private lookup(name: string): string | undefined {
    this.used?.add(name);
    return this.env.get(name);
  }

  private sub(stops: string): string {
    return this.run(stops, new Words());
  }

  private close(): void {
    if (this.s[this.pos] !== "}") this.fail("syntax error: missing '}'");
    this.pos++;
  }

  private dollar(): string {
    const s = this.s;
    this.pos++;
    if (s[this.pos] !== "{") {
      const name = this.name();
      if (name === "") return "$";
      // `$1`, `$@`...: positional and special parameters have no value in a Containerfile.
      return this.lookup(name) ?? "";
    }
    this.pos++;
    const first = s[this.pos];
    if (first === undefined) this.fail("syntax error: missing '}'");
    if (first === "{" || first === "}" || first === ":") this.fail("syntax error: bad substitution");
    const name = this.name();
    if (name === "") this.fail("syntax error: bad substitution");
    const op = s[this.pos];
    this.pos++;
    if (op === undefined) this.fail("syntax error: missing '}'");
    if (op === "}") return this.lookup(name) ?? "";
    let mod = op;
    let nullIsUnset = false;
    if (op === ":") {
      nullIsUnset = true;
      mod = s[this.pos] ?? "";
      this.pos++;
      if (mod !== "-" && mod !== "+" && mod !== "?") this.fail(`unsupported modifier (:${mod}) in substitution`);
    }
    if (mod === "-" || mod === "+" || mod === "?") {
      const word = this.sub("}");
      this.close();
      const value = this.lookup(name);
      const set = value !== undefined && !(nullIsUnset && value === "");
      if (mod === "-") return set ? value! : word;
      if (mod === "+") return set ? word : "";
      if (!set && !this.used) this.fail(`${name}: ${word || "is not allowed to be unset"}`);
      return value ?? "";
    }
    if (mod === "#" || mod === "%") {
      const longest = s[this.pos] === mod;
      if (longest) this.pos++;
      const pattern = this.sub("}");
      this.close();
      return trimPattern(this.lookup(name) ?? "", pattern, mod === "#", longest);
    }
    if (mod === "/") {
      const all = s[this.pos] === "/";
      if (all) this.pos++;
      const pattern = this.sub("/}");
      let repl = "";
      if (s[this.pos] === "/") {
        this.pos++;
        repl = this.sub("}");
      }
      this.close();
      return replacePattern(this.lookup(name) ?? "", pattern, repl, all);
    }
    return this.fail(`unsupported modifier (${mod}) in substitution`);
  }
}

/** A shell pattern (`*`, `?`, `[...]`) as a regular expression body. */
function globBody(pattern: string, greedy: boolean): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") out += greedy ? "[\\s\\S]*" : "[\\s\\S]*?";
    else if (c === "?") out += "[\\s\\S]";
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) out += "\\[";
      else {
        let set = pattern.slice(i + 1, end);
        if (set.startsWith("!")) set = "^" + set.slice(1);
        out += "[" + set.replace(/\\/g, "\\\\") + "]";
        i = end;
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return out;
}

function trimPattern(value: string, pattern: string, prefix: boolean, longest: boolean): string {
  if (prefix) {
    const m = new RegExp("^" + globBody(pattern, longest)).exec(value);
    return m ? value.slice(m[0].length) : value;
  }
  // Shortest suffix: try the latest start first; longest: the earliest.
  const re = new RegExp("^" + globBody(pattern, true) + "$");
  if (longest) {
    for (let i = 0; i <= value.length; i++) if (re.test(value.slice(i))) return value.slice(0, i);
  } else {
    for (let i = value.length; i >= 0; i--) if (re.test(value.slice(i))) return value.slice(0, i);
  }
  return value;
}

function replacePattern(value: string, pattern: string, repl: string, all: boolean): string {
  if (pattern === "") return value;
  const re = new RegExp(globBody(pattern, true), all ? "g" : "");
  return value.replace(re, () => repl);
}

/** One word with substitutions done and quotes removed; never split. */
export function expand(word: string, env: ReadonlyMap<string, string>, escape = "\\"): string {
  const lexer = new Lexer(word, env, escape);
  return lexer.run("", new Words());
}

/** A line split into words after substitution (unquoted values split on whitespace, quoted ones stay whole). */
export function expandWords(text: string, env: ReadonlyMap<string, string>, escape = "\\"): string[] {
  const words = new Words();
  new Lexer(text, env, escape).run("", words);
  return words.finish();
}

/** The names a text refers to with `$NAME` or `${NAME...}` (quoted in single quotes or escaped: not). */
export function referencedNames(text: string, escape = "\\"): Set<string> {
  const used = new Set<string>();
  try {
    new Lexer(text, new Map(), escape, used).run("", new Words());
  } catch {
    // A malformed substitution fails at expansion with its own message; what was seen before it still counts.
  }
  return used;
}

export interface KeyValue {
  key: string;
  value: string;
  /** false for `ARG NAME` without a default. */
  hasValue: boolean;
}

/**
 * ENV, LABEL and ARG arguments as pairs. With `env`, keys and values are expanded
 * (quotes removed); without it they come back as written. The legacy
 * `ENV key value words` form is one pair.
 */
export function parseKeyValues(args: string[], keyword: string, env?: ReadonlyMap<string, string>, escape = "\\"): KeyValue[] {
  const x = (s: string) => (env ? expand(s, env, escape) : s);
  const kw = keyword.toUpperCase();
  if (kw !== "ARG" && args.length > 0 && !args[0]!.includes("=")) {
    return [{ key: x(args[0]!), value: x(args.slice(1).join(" ")), hasValue: true }];
  }
  const out: KeyValue[] = [];
  for (const word of args) {
    const eq = word.indexOf("=");
    if (eq < 0) {
      if (kw !== "ARG") throw new PodError(`${kw}: Syntax error - can't find = in "${word}". Must be of the form: name=value`, { exit: 125 });
      out.push({ key: x(word), value: "", hasValue: false });
    } else out.push({ key: x(word.slice(0, eq)), value: x(word.slice(eq + 1)), hasValue: true });
  }
  return out;
}

/**
 * The variables an instruction reads while the builder handles it: names in the
 * arguments of the expanding instructions, in every flag value (`--from=$X`,
 * `--mount=...,id=$X`, `--platform=$X`), and in expanded COPY/ADD heredocs; for
 * RUN also the names its shell text mentions (see argsAffecting for docker's
 * wider RUN rule). ARG counts the names in its defaults.
 */
export function usesVariables(instr: Instruction, escape = "\\"): Set<string> {
  const names = new Set<string>();
  const addAll = (text: string) => {
    for (const n of referencedNames(text, escape)) names.add(n);
  };
  for (const f of instr.flags) addAll(f.value);
  const kw = instr.keyword;
  if (kw === "ARG") {
    for (const w of instr.args) {
      const eq = w.indexOf("=");
      if (eq >= 0) addAll(w.slice(eq + 1));
    }
  } else if (kw === "ONBUILD") {
    // The trigger is expanded where it fires, in the child's build.
  } else if (EXPANDING.has(kw) || kw === "RUN") {
    for (const a of instr.args) addAll(a);
  }
  if (kw === "COPY" || kw === "ADD") for (const h of instr.heredocs) if (h.expand) addAll(h.body);
  return names;
}

/**
 * The declared ARGs whose values an instruction's cache key must include. Docker's
 * rule: a RUN sees every ARG declared so far in its environment, so any of them
 * changing invalidates it; other instructions only the ones they read.
 */
export function argsAffecting(instr: Instruction, declared: ReadonlySet<string>, escape = "\\"): Set<string> {
  if (instr.keyword === "RUN") return new Set(declared);
  const out = new Set<string>();
  for (const n of usesVariables(instr, escape)) if (declared.has(n)) out.add(n);
  return out;
}
