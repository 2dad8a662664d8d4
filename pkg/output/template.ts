// A subset of Go's text/template, enough for podman-style --format strings:
// {{.Field.Sub}}, {{json .}}, {{range .List}}…{{else}}…{{end}} (with {{break}} and
// {{continue}}), {{if …}}…{{else if …}}…{{else}}…{{end}}, {{with …}}…{{else with …}}…{{end}},
// pipelines (`{{.Names | upper}}`), parenthesized ones with fields after them
// (`{{(index .Networks "x").IPAddress}}`), variables (`{{$v := …}}`, `$v.Field`,
// `{{range $k, $v := …}}`, `$` the whole value), string and number literals, `{{-`/`-}}` trim,
// Go's own functions (and, or, not, eq, ne, lt, le, gt, ge, len, index, slice, print,
// printf, println, html, js, urlquery) and podman's (json, lower, upper, title, join,
// split, pad, truncate). Field names match exactly first, then case-insensitively,
// so `{{.Id}}` and `{{.ID}}` both work.
import { PodError } from "../errors.ts";

type Arg =
  | { kind: "field"; path: string[] }
  | { kind: "var"; name: string; path: string[] }
  | { kind: "sub"; pipe: Pipeline; path: string[] }
  | { kind: "lit"; value: unknown }
  | { kind: "fn"; name: string };
type Cmd = Arg[];
type Pipeline = Cmd[];
/** `$a, $b :=` before a pipeline: the names it declares (range: key then value, or just the value) */
type Decl = string[];
type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline; decl: Decl }
  | { kind: "range"; pipe: Pipeline; decl: Decl; body: Node[]; elseBody: Node[] }
  | { kind: "if" | "with"; pipe: Pipeline; decl: Decl; body: Node[]; elseBody: Node[] }
  | { kind: "break" }
  | { kind: "continue" };
type Vars = Map<string, unknown>;

export type Template = { nodes: Node[]; source: string };

const callError = (name: string, why: string) =>
  new PodError(`template: error calling ${name}: ${why}`, { hint: "Go template rules: eq/ne compare strings, numbers or booleans; lt/le/gt/ge numbers or strings of one kind" });

/** Go compares basic values only, and only of one kind (all integers and floats are numbers here). */
function basic(name: string, v: unknown): string | number | boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return v;
  throw callError(name, "non-comparable type");
}
function equal(name: string, a: unknown, b: unknown): boolean {
  const x = basic(name, a);
  const y = basic(name, b);
  if (x === undefined || y === undefined) return x === y;
  if (typeof x !== typeof y) throw callError(name, "incompatible types for comparison");
  return x === y;
}
function less(name: string, a: unknown, b: unknown): boolean {
  const x = basic(name, a);
  const y = basic(name, b);
  if (typeof x === "boolean" || typeof y === "boolean" || x === undefined || y === undefined) throw callError(name, "invalid type for comparison");
  if (typeof x !== typeof y) throw callError(name, "incompatible types for comparison");
  return x < y;
}

/** fmt's verbs as scripts use them: %s %v %d %q %x %X %o %b %f %e %g %t %c %%, flags `-`, `+`, `0`, ` `, width and precision. */
function sprintf(format: string, args: unknown[]): string {
  let i = 0;
  return format.replace(/%([-+0 #]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (_m, flags: string, width?: string, prec?: string, verb?: string) => {
    if (verb === "%") return "%";
    if (i >= args.length) return `%!${verb}(MISSING)`;
    const a = args[i++];
    const num = Number(a);
    let out: string;
    switch (verb) {
      case "d":
        out = typeof a === "number" ? String(Math.trunc(num)) : `%!d(${typeof a}=${goString(a)})`;
        break;
      case "x":
      case "X":
        out = typeof a === "number" ? Math.trunc(num).toString(16) : Buffer.from(String(a)).toString("hex");
        if (verb === "X") out = out.toUpperCase();
        break;
      case "o":
        out = Math.trunc(num).toString(8);
        break;
      case "b":
        out = Math.trunc(num).toString(2);
        break;
      case "f":
      case "F":
        out = num.toFixed(prec === undefined ? 6 : Number(prec));
        break;
      case "e":
        out = num.toExponential(prec === undefined ? 6 : Number(prec)).replace(/e([+-])(\d)$/, "e$10$2");
        break;
      case "g":
        out = prec === undefined ? String(num) : num.toPrecision(Number(prec));
        break;
      case "q":
        out = JSON.stringify(goString(a));
        break;
      case "c":
        out = String.fromCodePoint(num);
        break;
      case "t":
        out = typeof a === "boolean" ? String(a) : `%!t(${goString(a)})`;
        break;
      default:
        out = goString(a);
        if (prec !== undefined && (verb === "s" || verb === "v")) out = out.slice(0, Number(prec));
    }
    if (flags.includes("+") && typeof a === "number" && num >= 0 && "dfeg".includes(verb!)) out = "+" + out;
    const w = Number(width ?? 0);
    if (out.length >= w) return out;
    if (flags.includes("-")) return out.padEnd(w);
    if (flags.includes("0") && typeof a === "number") return out.startsWith("-") || out.startsWith("+") ? out[0] + out.slice(1).padStart(w - 1, "0") : out.padStart(w, "0");
    return out.padStart(w);
  });
}

const lengthOf = (v: unknown): number => {
  if (Array.isArray(v) || typeof v === "string") return v.length;
  if (v && typeof v === "object") return Object.keys(v).length;
  throw callError("len", `len of ${v === undefined || v === null ? "nil pointer" : `type ${typeof v}`}`);
};

// `and` and `or` are evaluated lazily in evalPipe, as Go does; these are their eager forms
const functions: Record<string, (...a: unknown[]) => unknown> = {
  and: (...a) => a.find((x) => !truthy(x)) ?? a[a.length - 1],
  or: (...a) => a.find(truthy) ?? a[a.length - 1],
  not: (v) => !truthy(v),
  eq: (a, ...b) => {
    if (!b.length) throw callError("eq", "missing argument for comparison");
    return b.some((x) => equal("eq", a, x));
  },
  ne: (a, b) => !equal("ne", a, b),
  lt: (a, b) => less("lt", a, b),
  le: (a, b) => less("le", a, b) || equal("le", a, b),
  gt: (a, b) => !less("gt", a, b) && !equal("gt", a, b),
  ge: (a, b) => !less("ge", a, b),
  json: (v) => JSON.stringify(v ?? null),
  lower: (v) => String(v).toLowerCase(),
  upper: (v) => String(v).toUpperCase(),
  title: (v) => String(v).replace(/(^|[^\p{L}\p{N}_'])(\p{L})/gu, (_m, before: string, c: string) => before + c.toUpperCase()),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  split: (v, sep) => String(v).split(String(sep)),
  pad: (v, before, after) => " ".repeat(Number(before)) + String(v) + " ".repeat(Number(after)),
  index: (v, ...keys) => keys.reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[String(k)]), v),
  slice: (v, ...ix) => {
    if (typeof v !== "string" && !Array.isArray(v)) throw callError("slice", `can't slice item of type ${typeof v}`);
    const [from = 0, to = v.length] = ix.map(Number);
    if (from < 0 || to > v.length || from > to) throw callError("slice", `index out of range: ${from}:${to}`);
    return v.slice(from, to);
  },
  len: lengthOf,
  print: (...a) => a.map((x, i) => (i > 0 && typeof x !== "string" && typeof a[i - 1] !== "string" ? " " : "") + goString(x)).join(""),
  printf: (f, ...a) => sprintf(String(f), a),
  println: (...a) => a.map(goString).join(" ") + "\n",
  html: (...a) => a.map(goString).join("").replace(/[&<>"'\0]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;", "\0": "\uFFFD" })[c]!),
  js: (...a) =>
    a
      .map(goString)
      .join("")
      .replace(/[\\'"<>&=\n\r\t]/g, (c) => (c === "\\" || c === "'" || c === '"' ? "\\" + c : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`)),
  urlquery: (...a) => encodeURIComponent(a.map(goString).join("")).replace(/%20/g, "+").replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
  truncate: (v, n) => String(v).slice(0, Number(n)),
};

export function goString(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
  if (v instanceof HeaderRow) return v.self;
  if (Array.isArray(v)) return `[${v.map(goString).join(" ")}]`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object")
    return `map[${Object.entries(v as object)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, x]) => `${k}:${goString(x)}`)
      .join(" ")}]`;
  return String(v);
}

function bad(source: string, why: string): PodError {
  return new PodError(`parsing template "${source}": ${why}`, {
    hint: "see `pod help` for the fields; Go template syntax, e.g. --format '{{.ID}} {{.Names}}'",
  });
}

function tokenize(source: string): ({ text: string } | { action: string })[] {
  const parts: ({ text: string } | { action: string })[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf("{{", i);
    if (open < 0) {
      parts.push({ text: source.slice(i) });
      break;
    }
    const close = source.indexOf("}}", open);
    if (close < 0) throw bad(source, "unclosed action");
    let text = source.slice(i, open);
    let inner = source.slice(open + 2, close);
    if (inner.startsWith("-")) {
      text = text.trimEnd();
      inner = inner.slice(1);
    }
    let next = close + 2;
    if (inner.endsWith("-")) {
      inner = inner.slice(0, -1);
      while (next < source.length && /\s/.test(source[next]!)) next++;
    }
    if (text) parts.push({ text });
    parts.push({ action: inner.trim() });
    i = next;
  }
  return parts;
}

/** The words of an action: strings, raw strings, `|`, `(`…`)` groups with an optional .Field.Path after them, and plain words. */
function parseArgs(source: string, words: string): Pipeline {
  let i = 0;
  const pipeline = (closing: boolean): Pipeline => {
    const pipe: Pipeline = [];
    let cmd: Cmd = [];
    for (;;) {
      while (i < words.length && /\s/.test(words[i]!)) i++;
      if (i >= words.length) {
        if (closing) throw bad(source, "unclosed left paren");
        break;
      }
      const c = words[i]!;
      if (c === ")") {
        if (!closing) throw bad(source, "unexpected right paren");
        i++;
        break;
      }
      if (c === "|") {
        i++;
        pipe.push(cmd);
        cmd = [];
        continue;
      }
      if (c === "(") {
        i++;
        const sub = pipeline(true);
        const m = /^(\.[A-Za-z0-9_.]*)?/.exec(words.slice(i))![1] ?? "";
        i += m.length;
        cmd.push({ kind: "sub", pipe: sub, path: m.split(".").slice(1).filter(Boolean) });
        continue;
      }
      let w: string;
      if (c === '"') {
        const m = /^"(?:[^"\\]|\\.)*"/.exec(words.slice(i));
        if (!m) throw bad(source, "unterminated quoted string");
        w = m[0];
      } else if (c === "`") {
        const end = words.indexOf("`", i + 1);
        if (end < 0) throw bad(source, "unterminated raw quoted string");
        w = words.slice(i, end + 1);
      } else w = /^[^\s|()]+/.exec(words.slice(i))![0];
      i += w.length;
      cmd.push(word(source, w));
    }
    pipe.push(cmd);
    if (pipe.some((c) => c.length === 0)) throw bad(source, "missing command in pipeline");
    return pipe;
  };
  return pipeline(false);
}

function word(source: string, w: string): Arg {
  if (w.startsWith('"')) return { kind: "lit", value: JSON.parse(w) };
  if (w.startsWith("`")) return { kind: "lit", value: w.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(w)) return { kind: "lit", value: Number(w) };
  if (w === "true" || w === "false") return { kind: "lit", value: w === "true" };
  if (w === ".") return { kind: "field", path: [] };
  if (w.startsWith(".")) return { kind: "field", path: w.split(".").slice(1) };
  if (w.startsWith("$")) {
    const [name, ...path] = w.split(".");
    return { kind: "var", name: name!, path };
  }
  if (w in functions) return { kind: "fn", name: w };
  throw bad(source, `function "${w}" not defined`);
}

/** `$k, $v := rest` or `$v := rest`: the names and the pipeline's text; none when the action declares nothing. */
function declaration(source: string, a: string): { decl: Decl; rest: string } {
  const m = /^\s*(\$\w*)\s*(?:,\s*(\$\w*)\s*)?:=(.*)$/s.exec(a);
  if (!m) return { decl: [], rest: a };
  if (m[1] === "$" || m[2] === "$") throw bad(source, "cannot assign to $");
  return { decl: m[2] ? [m[1]!, m[2]] : [m[1]!], rest: m[3]! };
}

export function parseTemplate(source: string): Template {
  const tokens = tokenize(source);
  let pos = 0;
  let ranges = 0;
  /** The nodes up to one of stopAt's keywords, and that action's whole text. */
  const parseList = (stopAt: string[]): { nodes: Node[]; stop?: string; action?: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if ("text" in t) {
        nodes.push({ kind: "text", text: t.text });
        continue;
      }
      const a = t.action;
      const word = a.split(/\s+/)[0]!;
      if (stopAt.includes(word)) return { nodes, stop: word, action: a };
      if (word === "range" || word === "if" || word === "with") nodes.push(control(word, a.slice(word.length)));
      else if (word === "end" || word === "else") throw bad(source, `unexpected {{${word}}}`);
      else if (word === "break" || word === "continue") {
        if (!ranges) throw bad(source, `{{${word}}} outside {{range}}`);
        if (a !== word) throw bad(source, `unexpected text after {{${word}}}`);
        nodes.push({ kind: word });
      } else if (a.startsWith("/*")) continue;
      else {
        const { decl, rest } = declaration(source, a);
        if (decl.length > 1) throw bad(source, "too many declarations");
        nodes.push({ kind: "action", pipe: parseArgs(source, rest), decl });
      }
    }
    if (stopAt.length) throw bad(source, "missing {{end}}");
    return { nodes };
  };
  /** range/if/with after its keyword; `{{else if …}}` and `{{else with …}}` become an if or with alone in the else branch, ended by the same {{end}}. */
  const control = (word: "range" | "if" | "with", text: string): Node => {
    const { decl, rest } = declaration(source, text);
    if (word === "if" && decl.length) throw bad(source, "declaration in {{if}}");
    if (word === "with" && decl.length > 1) throw bad(source, "too many declarations");
    const pipe = parseArgs(source, rest);
    if (word === "range") ranges++;
    const body = parseList(["else", "end"]);
    if (word === "range") ranges--;
    let elseBody: Node[] = [];
    if (body.stop === "else") {
      const chained = body.action!.slice(4).trim();
      const next = chained.split(/\s+/)[0]!;
      if (chained === "") elseBody = parseList(["end"]).nodes;
      else if (word !== "range" && next === word) elseBody = [control(word, chained.slice(word.length))];
      else throw bad(source, `unexpected "${next}" after {{else}}`);
    }
    return { kind: word, pipe, decl, body: body.nodes, elseBody };
  };
  return { nodes: parseList([]).nodes, source };
}

/** The header row of a `table` format: every field the template names shows as its header, as podman renders the template against the headers. */
class HeaderRow {
  /** self: what `{{.}}` prints inside a range or with over a field (that field's header) */
  constructor(
    readonly headerOf: (field: string) => string,
    readonly self = "",
  ) {}
}

function lookup(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const [depth, key] of path.entries()) {
    if (cur instanceof HeaderRow) return cur.headerOf(key);
    if (cur == null || typeof cur !== "object") return undefined;
    const o = cur as Record<string, unknown>;
    if (key in o) cur = o[key];
    else {
      const k = Object.keys(o).find((x) => x.toLowerCase() === key.toLowerCase());
      // The items pod formats are structs in podman: a field they lack is an error there,
      // not "<no value>" (which Go prints only for missing map keys, deeper down).
      if (k === undefined && depth === 0 && !Array.isArray(o))
        throw new PodError(`template: can't evaluate field ${key}`, { hint: "see the command's --help or --format json for the fields" });
      cur = k === undefined ? undefined : o[k];
    }
  }
  return typeof cur === "function" ? (cur as () => unknown).call(v) : cur;
}

/** A value's field path below a variable or a parenthesized pipeline (no struct check: that is for the dot's own fields). */
const below = (v: unknown, path: string[]) => (path.length ? lookup({ v }, ["v", ...path]) : v);

function evalPipe(pipe: Pipeline, dot: unknown, vars: Vars): unknown {
  let prev: unknown;
  const evalArg = (a: Arg): unknown => {
    if (a.kind === "field") return lookup(dot, a.path);
    if (a.kind === "lit") return a.value;
    if (a.kind === "fn") return functions[a.name]!();
    if (a.kind === "sub") return below(evalPipe(a.pipe, dot, vars), a.path);
    if (!vars.has(a.name)) throw new PodError(`template: undefined variable "${a.name}"`, { hint: "declare it first: {{$v := .Field}} or {{range $k, $v := .Map}}" });
    return below(vars.get(a.name), a.path);
  };
  pipe.forEach((cmd, i) => {
    const [head, ...rest] = cmd;
    if (head!.kind === "fn" && (head!.name === "and" || head!.name === "or")) {
      // Go stops at the first argument that decides: `and .A (index .A 0)` is safe on an empty .A
      const want = head!.name === "or";
      const lazy: (() => unknown)[] = rest.map((a) => () => evalArg(a));
      if (i > 0) lazy.push(() => prev);
      if (!lazy.length) throw callError(head!.name, "missing argument");
      let v: unknown;
      for (const next of lazy) if (truthy((v = next())) === want) break;
      prev = v;
      return;
    }
    const args = rest.map(evalArg);
    if (i > 0) args.push(prev);
    if (head!.kind === "fn") prev = functions[head!.name]!(...args);
    else if (args.length) throw new PodError(`template: can't give argument to non-function ${describe(head!)}`, { hint: "only functions take arguments: {{printf \"%s\" .Field}}" });
    else prev = evalArg(head!);
  });
  return prev;
}

const describe = (a: Arg) => (a.kind === "field" ? "." + a.path.join(".") : a.kind === "var" ? [a.name, ...a.path].join(".") : a.kind === "lit" ? JSON.stringify(a.value) : "(…)");

/** Go's truth: the zero value of its type, an empty slice, map or string is false. */
function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof HeaderRow || v instanceof Date) return true;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

const headerBelow = (row: unknown, v: unknown) => new HeaderRow((row as HeaderRow).headerOf, goString(v));

type Signal = "break" | "continue" | undefined;

function exec(nodes: Node[], dot: unknown, outer: Vars): [string, Signal] {
  // a variable lives to the end of the block it is declared in, as in Go
  const vars = new Map(outer);
  const header = vars.get("$") instanceof HeaderRow;
  let s = "";
  for (const n of nodes) {
    if (n.kind === "text") s += n.text;
    else if (n.kind === "break" || n.kind === "continue") return [s, n.kind];
    else if (n.kind === "action") {
      const v = evalPipe(n.pipe, dot, vars);
      if (n.decl.length) vars.set(n.decl[0]!, v);
      else s += goString(v);
    } else if (n.kind === "if" || n.kind === "with") {
      // a header row takes the first branch: podman's headers are non-empty strings, so a field test is true there
      const v = header ? headerBelow(dot, evalPipe(n.pipe, dot, vars)).self || true : evalPipe(n.pipe, dot, vars);
      const inner = new Map(vars);
      if (n.decl.length) inner.set(n.decl[0]!, v);
      // in a header row, `with .Field` keeps the headers as its dot, so the fields inside it still name columns
      const [text, signal] = truthy(v) ? exec(n.body, n.kind === "if" ? dot : header ? headerBelow(dot, v) : v, inner) : exec(n.elseBody, dot, vars);
      s += text;
      if (signal) return [s, signal];
    } else {
      const v = evalPipe(n.pipe, dot, vars);
      // Go ranges over a map in key order; a header row names its columns once
      const entries: [unknown, unknown][] = header
        ? [[0, headerBelow(dot, v)]]
        : Array.isArray(v)
          ? v.map((x, i) => [i, x])
          : typeof v === "number" && Number.isInteger(v)
            ? Array.from({ length: Math.max(v, 0) }, (_, i) => [i, i])
            : v && typeof v === "object"
              ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
              : v === undefined || v === null
                ? []
                : (() => {
                    throw new PodError(`template: range can't iterate over ${goString(v)}`, { hint: "range over a list or a map field" });
                  })();
      if (!entries.length) {
        s += exec(n.elseBody, dot, vars)[0];
        continue;
      }
      for (const [k, x] of entries) {
        const inner = new Map(vars);
        if (n.decl.length === 2) (inner.set(n.decl[0]!, header ? x : k), inner.set(n.decl[1]!, x));
        else if (n.decl.length === 1) inner.set(n.decl[0]!, x);
        const [text, signal] = exec(n.body, x, inner);
        s += text;
        if (signal === "break") break;
      }
    }
  }
  return [s, undefined];
}

export function renderTemplate(t: Template, value: unknown): string {
  return exec(t.nodes, value, new Map([["$", value]]))[0];
}

/** The template rendered against headers instead of an item: `{{.Names}}` prints headerOf("Names"). */
export function renderHeader(t: Template, headerOf: (field: string) => string): string {
  const row = new HeaderRow(headerOf);
  return exec(t.nodes, row, new Map([["$", row]]))[0];
}
