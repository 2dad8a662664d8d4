// A Containerfile (Dockerfile) as data: directives, instructions with their
// flags and arguments, heredoc bodies, grouped into stages. Parsing follows
// BuildKit's frontend, which is what people test their files against: the same
// line joining, comment and heredoc rules, the same JSON-or-shell decision,
// and errors shaped like its `dockerfile parse error` lines, with the file and
// line in front so one glance finds the mistake.

import { PodError } from "../errors.ts";

export interface Heredoc {
  name: string;
  /** The lines between the marker and the terminator, each ending in "\n"; with `<<-`, leading tabs are already removed. */
  body: string;
  /** `<<-`: leading tabs stripped from the body and the terminator. */
  chomp: boolean;
  /** false when the delimiter was quoted (`<<"EOF"`, `<<'EOF'`): no variable expansion in the body. */
  expand: boolean;
}

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  keyword: string;
  /** 1-based, in the original file; a continued instruction or one with heredocs spans line..endLine. */
  line: number;
  endLine: number;
  /** The instruction as written with continuations joined (no heredoc bodies): history's CreatedBy and error messages. */
  original: string;
  /** Leading `--name=value` words, in order; a flag without `=` has the value "" (and `bool` false). */
  flags: { name: string; value: string; bool?: boolean }[];
  /**
   * Exec (JSON) form: the array. Shell form of RUN, CMD, ENTRYPOINT, SHELL: one string, the rest of the line.
   * FROM, COPY, ADD, VOLUME, EXPOSE: whitespace-separated words (JSON array for COPY, ADD, VOLUME).
   * USER, WORKDIR, STOPSIGNAL, MAINTAINER: one string. ENV, LABEL, ARG: the raw words, quotes kept
   * (legacy `ENV key value`: [key, value as written]); parseKeyValues in expand.ts reads them.
   * HEALTHCHECK: ["NONE"] or ["CMD", ...the command as RUN's args]. ONBUILD: [the trigger's text].
   */
  args: string[];
  /** Exec form (a JSON array). */
  json: boolean;
  heredocs: Heredoc[];
  /** ONBUILD only: the trigger, parsed (keyword, flags, args) so mistakes show at definition time. */
  trigger?: Instruction;
}

export interface Stage {
  index: number;
  /** `AS name`, lower-cased. */
  name?: string;
  /** FROM's image word, unexpanded. */
  base: string;
  /** FROM --platform, unexpanded. */
  platform?: string;
  from: Instruction;
  /** The instructions after FROM (FROM itself excluded). */
  instructions: Instruction[];
}

export interface Containerfile {
  file: string;
  escape: string;
  syntax?: string;
  /** ARGs before the first FROM: the only ones FROM lines can use. */
  globalArgs: Instruction[];
  stages: Stage[];
}

type FlagKind = "string" | "bool" | "list";

/** The flags each instruction accepts (BuildKit's and buildah's sets); any other is refused, never ignored. */
const FLAGS: Record<string, Record<string, FlagKind>> = {
  FROM: { platform: "string" },
  RUN: { mount: "list", network: "string", security: "string" },
  COPY: { from: "string", chown: "string", chmod: "string", link: "bool", parents: "bool", exclude: "list" },
  ADD: { chown: "string", chmod: "string", link: "bool", "keep-git-dir": "bool", checksum: "string", exclude: "list" },
  HEALTHCHECK: { interval: "string", timeout: "string", "start-period": "string", "start-interval": "string", retries: "string" },
};

export const INSTRUCTIONS = [
  "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
  "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
] as const;

const KNOWN = new Set<string>(INSTRUCTIONS);
const HEREDOC_INSTRUCTIONS = new Set(["RUN", "COPY", "ADD"]);
const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$/;
const KNOWN_DIRECTIVES = new Set(["escape", "syntax", "check"]);
const STAGE_NAME = /^[a-z][a-z0-9\-_.]*$/;

/** A parse error: `FILE:LINE: message`, exit 125, with a hint that says how to fix it. */
export function parseError(file: string, line: number, message: string, hint?: string): PodError {
  return new PodError(`${file}:${line}: ${message}`, { exit: 125, hint: hint ?? `fix line ${line} of ${file}` });
}

/** An error met while handling an instruction (an expansion, a flag value) with the file, line and keyword in front. */
export function instructionError(file: string, instr: Instruction, e: unknown): PodError {
  const msg = e instanceof Error ? e.message : String(e);
  return parseError(file, instr.line, `${instr.keyword}: ${msg}`, e instanceof PodError ? e.hint : undefined);
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t";
}

function isCommentLine(s: string): boolean {
  return /^[ \t]*#/.test(s);
}

function isBlank(s: string): boolean {
  return /^[ \t]*$/.test(s);
}

/** The line without its continuation marker, or undefined when it does not continue. */
function stripContinuation(s: string, escape: string): string | undefined {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1])) end--;
  if (end > 0 && s[end - 1] === escape) return s.slice(0, end - 1);
  return undefined;
}

export function parseContainerfile(text: string, file: string): Containerfile {
  const lines = text.replace(/^\uFEFF/, "").split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.length > 0 && lines[lines.length - 1] === "" && text.endsWith("\n")) lines.pop();
  let escape = "\\";
  let syntax: string | undefined;
  const seen = new Set<string>();
  let i = 0;
  // Parser directives: comment lines `# key=value` at the very top; the first other line ends them.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (!KNOWN_DIRECTIVES.has(key)) break;
    if (seen.has(key)) throw parseError(file, i + 1, `only one ${key} parser directive can be used`, `remove the second "# ${key}=" line`);
    seen.add(key);
    const value = m[2]!;
    if (key === "escape") {
      if (value !== "\\" && value !== "`") throw parseError(file, i + 1, `invalid escape token '${value}' does not match ${"`"} or \\`, "use `# escape=\\` or `# escape=``");
      escape = value;
    } else if (key === "syntax") syntax = value;
  }

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    if (isBlank(first) || isCommentLine(first)) {
      i++;
      continue;
    }
    const start = i + 1;
    const firstLine = first.replace(/^[ \t]+/, "");
    let cont = stripContinuation(firstLine, escape);
    let joined = cont ?? firstLine;
    i++;
    while (cont !== undefined) {
      // Comment lines and empty lines inside a continued instruction are skipped, as BuildKit does.
      while (i < lines.length && (isBlank(lines[i]!) || isCommentLine(lines[i]!))) i++;
      if (i >= lines.length) {
        cont = undefined;
        break;
      }
      const next = lines[i]!;
      i++;
      cont = stripContinuation(next, escape);
      joined += cont ?? next;
    }
    const instr = parseInstructionLine(joined, file, start, escape);
    instr.endLine = i;
    if (HEREDOC_INSTRUCTIONS.has(instr.keyword) && joined.includes("<<")) {
      for (const marker of heredocMarkers(instr, escape)) {
        const body: string[] = [];
        let done = false;
        while (i < lines.length) {
          let l = lines[i]!;
          i++;
          if (marker.chomp) l = l.replace(/^\t+/, "");
          if (l === marker.name) {
            done = true;
            break;
          }
          body.push(l + "\n");
        }
        if (!done) throw parseError(file, start, `${instr.keyword}: unterminated heredoc ${marker.name}`, `end the heredoc with a line that holds only "${marker.name}"`);
        instr.heredocs.push({ ...marker, body: body.join("") });
      }
      instr.endLine = i;
    }
    instructions.push(instr);
  }
  if (instructions.length === 0) throw new PodError(`${file}: file with no instructions`, { exit: 125, hint: "a Containerfile starts with FROM IMAGE" });
  return { file, escape, syntax, ...group(instructions, file) };
}

function group(instructions: Instruction[], file: string): { globalArgs: Instruction[]; stages: Stage[] } {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  const names = new Map<string, number>();
  for (const instr of instructions) {
    if (instr.keyword === "FROM") {
      const args = instr.args;
      if (!(args.length === 1 || (args.length === 3 && args[1]!.toLowerCase() === "as")))
        throw parseError(file, instr.line, `FROM requires either one or three arguments: ${instr.original}`, "write FROM IMAGE or FROM IMAGE AS NAME");
      const stage: Stage = { index: stages.length, base: args[0]!, from: instr, instructions: [] };
      if (args.length === 3) {
        const name = args[2]!.toLowerCase();
        if (!STAGE_NAME.test(name))
          throw parseError(file, instr.line, `invalid name for build stage: "${args[2]}", name can't start with a number or contain symbols`, "stage names start with a letter and hold letters, digits, '-', '_' and '.'");
        const before = names.get(name);
        if (before !== undefined) throw parseError(file, instr.line, `duplicate stage name "${name}" (first at stage ${before})`, "give each stage its own name");
        names.set(name, stage.index);
        stage.name = name;
      }
      const platform = instr.flags.find((f) => f.name === "platform");
      if (platform) stage.platform = platform.value;
      stages.push(stage);
    } else if (stages.length === 0) {
      if (instr.keyword !== "ARG")
        throw parseError(file, instr.line, `${instr.keyword}: no build stage in current context`, "only ARG may come before the first FROM");
      globalArgs.push(instr);
    } else stages[stages.length - 1]!.instructions.push(instr);
  }
  if (stages.length === 0) throw new PodError(`${file}: no FROM statement found`, { exit: 125, hint: "a Containerfile needs FROM IMAGE before its other instructions" });
  return { globalArgs, stages };
}

/**
 * Parses one logical line (continuations already joined, no heredoc bodies) into an
 * Instruction. Exported so an ONBUILD trigger recorded in an image can be parsed
 * again where it fires.
 */
export function parseInstructionLine(text: string, file: string, line: number, escape = "\\"): Instruction {
  const trimmed = text.trim();
  const m = /^(\S+)\s*([\s\S]*)$/.exec(trimmed);
  if (!m) throw parseError(file, line, "empty instruction");
  const keyword = m[1]!.toUpperCase();
  if (!KNOWN.has(keyword)) {
    const guess = suggest(keyword);
    throw parseError(file, line, `unknown instruction: ${m[1]}`, guess ? `did you mean ${guess}?` : `instructions are ${INSTRUCTIONS.join(", ")}`);
  }
  const instr: Instruction = { keyword, line, endLine: line, original: trimmed, flags: [], args: [], json: false, heredocs: [] };
  const where = (msg: string, hint?: string) => parseError(file, line, msg, hint ?? `the instruction is: ${trimmed}`);
  const { flags, rest } = extractFlags(m[2]!, escape);
  instr.flags = checkFlags(keyword, flags, where);
  const need = (ok: boolean, msg: string) => {
    if (!ok) throw where(msg);
  };
  switch (keyword) {
    case "RUN":
    case "CMD":
    case "ENTRYPOINT":
    case "SHELL": {
      const parsed = maybeJSON(rest, where);
      instr.args = parsed.args;
      instr.json = parsed.json;
      if (keyword === "SHELL") need(instr.json, "SHELL requires the arguments to be in JSON form");
      if (keyword === "SHELL") need(instr.args.length > 0, "SHELL requires at least one argument");
      if (keyword === "RUN") need(rest !== "", "RUN requires at least one argument");
      if (keyword !== "RUN" && keyword !== "SHELL") need(rest !== "", `${keyword} requires at least one argument`);
      break;
    }
    case "COPY":
    case "ADD":
    case "VOLUME": {
      const parsed = maybeJSON(rest, where);
      instr.json = parsed.json;
      instr.args = parsed.json ? parsed.args : splitWhitespace(rest);
      if (keyword === "VOLUME") {
        need(instr.args.length > 0, "VOLUME requires at least one argument");
        need(instr.args.every((a) => a.trim() !== ""), "VOLUME specified can not be an empty string");
      } else
        need(instr.args.length >= 2, `${keyword} requires at least two arguments, but only ${instr.args.length === 0 ? "none was" : "one was"} provided. Destination could not be determined`);
      break;
    }
    case "FROM":
    case "EXPOSE":
      instr.args = splitWhitespace(rest);
      need(instr.args.length > 0, `${keyword} requires at least one argument`);
      break;
    case "USER":
    case "WORKDIR":
    case "STOPSIGNAL":
    case "MAINTAINER":
      need(rest !== "", `${keyword} requires exactly one argument`);
      instr.args = [rest];
      break;
    case "ENV":
    case "LABEL":
      instr.args = nameValueWords(keyword, rest, escape, where);
      break;
    case "ARG": {
      const words = splitWords(rest, escape);
      need(words.length > 0, "ARG requires at least one argument");
      for (const w of words) need(!w.startsWith("="), `ARG names can not be blank: ${w}`);
      instr.args = words;
      break;
    }
    case "HEALTHCHECK": {
      const hm = /^(\S+)\s*([\s\S]*)$/.exec(rest);
      need(!!hm, "HEALTHCHECK requires at least one argument");
      const type = hm![1]!.toUpperCase();
      if (type === "NONE") {
        need(hm![2] === "", "HEALTHCHECK NONE takes no arguments");
        need(instr.flags.length === 0, "HEALTHCHECK NONE takes no flags");
        instr.args = ["NONE"];
      } else if (type === "CMD") {
        need(hm![2] !== "", "Missing command after HEALTHCHECK CMD");
        const parsed = maybeJSON(hm![2]!, where);
        instr.args = ["CMD", ...parsed.args];
        instr.json = parsed.json;
      } else throw where(`Unknown type "${hm![1]}" in HEALTHCHECK (try CMD)`, "write HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE");
      for (const f of instr.flags) {
        if (f.name === "retries") need(/^\d+$/.test(f.value), `HEALTHCHECK --retries: invalid number "${f.value}"`);
        else need(parseDuration(f.value) !== undefined, `HEALTHCHECK --${f.name}: invalid duration "${f.value}"`);
      }
      break;
    }
    case "ONBUILD": {
      need(rest !== "", "ONBUILD requires at least one argument");
      const inner = parseInstructionLine(rest, file, line, escape);
      if (inner.keyword === "ONBUILD") throw where("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (inner.keyword === "FROM" || inner.keyword === "MAINTAINER") throw where(`${inner.keyword} isn't allowed as an ONBUILD trigger`);
      instr.args = [inner.original];
      instr.trigger = inner;
      break;
    }
  }
  return instr;
}

/** Go's time.ParseDuration grammar (HEALTHCHECK's options), in nanoseconds. */
export function parseDuration(s: string): number | undefined {
  if (s === "0") return 0;
  const unit: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * unit[m[2]!]!;
    pos = re.lastIndex;
  }
  return s.length > 0 ? total : undefined;
}

function suggest(word: string): string | undefined {
  let best: string | undefined;
  let bestDist = 3;
  for (const k of INSTRUCTIONS) {
    const d = distance(word, k);
    if (d < bestDist) {
      bestDist = d;
      best = k;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

/** Leading `--flag[=value]` words (quotes in values removed); the rest of the line as written. */
function extractFlags(text: string, escape: string): { flags: { name: string; value: string; bool: boolean }[]; rest: string } {
  const flags: { name: string; value: string; bool: boolean }[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (!text.startsWith("--", pos) || pos + 2 >= text.length || /\s/.test(text[pos + 2]!)) break;
    let word = "";
    let quote = "";
    let p = pos + 2;
    for (; p < text.length; p++) {
      const c = text[p]!;
      if (quote) {
        if (c === quote) quote = "";
        else if (c === escape && quote === '"' && p + 1 < text.length) word += text[++p];
        else word += c;
      } else if (/\s/.test(c)) break;
      else if (c === '"' || c === "'") quote = c;
      else if (c === escape && p + 1 < text.length) word += text[++p];
      else word += c;
    }
    pos = p;
    const eq = word.indexOf("=");
    if (eq < 0) flags.push({ name: word, value: "", bool: false });
    else flags.push({ name: word.slice(0, eq), value: word.slice(eq + 1), bool: true });
  }
  return { flags, rest: text.slice(pos).trim() };
}

function checkFlags(
  keyword: string,
  flags: { name: string; value: string; bool: boolean }[],
  where: (msg: string, hint?: string) => PodError,
): Instruction["flags"] {
  const allowed = FLAGS[keyword] ?? {};
  const names = Object.keys(allowed);
  const hint = names.length ? `${keyword} accepts ${names.map((n) => `--${n}`).join(", ")}` : `${keyword} takes no flags`;
  const seen = new Set<string>();
  const out: Instruction["flags"] = [];
  for (const f of flags) {
    const kind = allowed[f.name];
    if (!kind) throw where(`${keyword}: unknown flag: --${f.name}`, hint);
    // `hasValue` is whether `=` was written: a string flag needs one, a bool flag may omit it.
    const hasValue = f.bool;
    if (kind !== "list" && seen.has(f.name)) throw where(`${keyword}: duplicate flag specified: --${f.name}`, hint);
    seen.add(f.name);
    if (kind === "bool") {
      const v = hasValue ? f.value.toLowerCase() : "true";
      if (v !== "true" && v !== "false") throw where(`${keyword}: expecting boolean value for flag --${f.name}, not: ${f.value}`, hint);
      out.push({ name: f.name, value: v, bool: v === "true" });
    } else {
      if (!hasValue || f.value === "") throw where(`${keyword}: missing a value on flag: --${f.name}`, `write --${f.name}=VALUE`);
      out.push({ name: f.name, value: f.value });
    }
  }
  return out;
}

/** Docker's exec form: a JSON array of strings; anything else that starts with `[` is shell form. */
function maybeJSON(rest: string, where: (msg: string) => PodError): { args: string[]; json: boolean } {
  if (rest.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(rest);
    } catch {
      value = undefined;
    }
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string")) throw where("when using JSON array syntax, arrays must be comprised of strings only");
      return { args: value as string[], json: true };
    }
  }
  return { args: rest === "" ? [] : [rest], json: false };
}

function splitWhitespace(s: string): string[] {
  return s.split(/[ \t\r\n]+/).filter((w) => w !== "");
}

/**
 * Splits on unquoted whitespace, keeping quotes and escapes in the words (BuildKit's
 * parseWords): the expander removes them later, when it knows the variables.
 */
export function splitWords(s: string, escape = "\\"): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote = "";
  for (let p = 0; p < s.length; p++) {
    const c = s[p]!;
    if (!quote && /\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape && quote !== "'" && p + 1 < s.length) {
      word += c + s[++p]!;
      continue;
    }
    if (quote && c === quote) quote = "";
    else if (!quote && (c === '"' || c === "'")) quote = c;
    word += c;
  }
  if (inWord) words.push(word);
  return words;
}

/** ENV and LABEL: `k=v ...` words, or the legacy `key value with spaces` (stored as [key, value]). */
function nameValueWords(keyword: string, rest: string, escape: string, where: (msg: string) => PodError): string[] {
  if (rest === "") throw where(`${keyword} requires at least one argument`);
  const words = splitWords(rest, escape);
  const first = words[0]!;
  if (!first.includes("=")) {
    const m = /^(\S+)\s+([\s\S]+)$/.exec(rest);
    if (!m) throw where(`${keyword} must have two arguments: ${rest}`);
    return [m[1]!, m[2]!.trim()];
  }
  for (const w of words) {
    if (!w.includes("=")) throw where(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    if (w.startsWith("=")) throw where(`${keyword} names can not be blank`);
  }
  return words;
}

/** The heredoc markers of a RUN/COPY/ADD line, in order: `<<EOF`, `<<-EOF`, `<<"EOF"`, `3<<EOF`. */
function heredocMarkers(instr: Instruction, escape: string): Omit<Heredoc, "body">[] {
  if (instr.json) return [];
  const text = instr.args.join(" ");
  const out: Omit<Heredoc, "body">[] = [];
  for (const word of splitWords(text, escape)) {
    const m = /^(\d*)<<(-?)([^<]*)$/.exec(word);
    if (!m || m[3] === "") continue;
    const raw = m[3]!;
    const quoted = /["']/.test(raw);
    const name = raw.replace(/["']/g, "");
    if (name === "") continue;
    out.push({ name, chomp: m[2] === "-", expand: !quoted });
  }
  return out;
}
