// A subset of Go's text/template, enough for podman-style --format strings:
// {{.Field.Sub}}, {{json .}}, {{range .List}}…{{end}}, {{if …}}…{{else}}…{{end}},
// pipelines (`{{.Names | upper}}`), parenthesized ones with fields after them
// (`{{(index .Networks "x").IPAddress}}`), variables (`{{$v := …}}`, `$v.Field`,
// `{{range $k, $v := …}}`, `$` the whole value), string and number literals, `{{-`/`-}}` trim,
// and the functions podman scripts use (json, lower, upper, title, join, index,
// len, printf, println, truncate). Field names match exactly first, then
// case-insensitively, so `{{.Id}}` and `{{.ID}}` both work.
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
  | { kind: "if"; pipe: Pipeline; body: Node[]; elseBody: Node[] };
type Vars = Map<string, unknown>;

export type Template = { nodes: Node[]; source: string };

const functions: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => JSON.stringify(v ?? null),
  lower: (v) => String(v).toLowerCase(),
  upper: (v) => String(v).toUpperCase(),
  title: (v) => String(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (v, sep) => (Array.isArray(v) ? v.map(goString).join(String(sep)) : goString(v)),
  index: (v, ...keys) => keys.reduce<unknown>((o, k) => (o == null ? undefined : (o as Record<string, unknown>)[String(k)]), v),
  len: (v) => (Array.isArray(v) || typeof v === "string" ? v.length : v && typeof v === "object" ? Object.keys(v).length : 0),
  printf: (f, ...a) => {
    let i = 0;
    return String(f).replace(/%[sdvq%]/g, (m) => (m === "%%" ? "%" : m === "%q" ? JSON.stringify(goString(a[i++])) : goString(a[i++])));
  },
  println: (...a) => a.map(goString).join(" ") + "\n",
  truncate: (v, n) => String(v).slice(0, Number(n)),
};

export function goString(v: unknown): string {
  if (v === undefined || v === null) return "<no value>";
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
  const parseList = (stopAt: string[]): { nodes: Node[]; stop?: string } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if ("text" in t) {
        nodes.push({ kind: "text", text: t.text });
        continue;
      }
      const a = t.action;
      const word = a.split(/\s+/)[0]!;
      if (stopAt.includes(word)) return { nodes, stop: word };
      if (word === "range" || word === "if") {
        const { decl, rest } = word === "range" ? declaration(source, a.slice(word.length)) : { decl: [], rest: a.slice(word.length) };
        const pipe = parseArgs(source, rest);
        const body = parseList(["else", "end"]);
        let elseBody: Node[] = [];
        if (body.stop === "else") elseBody = parseList(["end"]).nodes;
        else if (body.stop !== "end") throw bad(source, `unterminated ${word}`);
        nodes.push(word === "range" ? { kind: "range", pipe, decl, body: body.nodes, elseBody } : { kind: "if", pipe, body: body.nodes, elseBody });
      } else if (word === "end" || word === "else") throw bad(source, `unexpected {{${word}}}`);
      else if (a.startsWith("/*")) continue;
      else {
        const { decl, rest } = declaration(source, a);
        if (decl.length > 1) throw bad(source, "too many declarations");
        nodes.push({ kind: "action", pipe: parseArgs(source, rest), decl });
      }
    }
    if (stopAt.length) throw bad(source, "missing {{end}}");
    return { nodes };
  };
  return { nodes: parseList([]).nodes, source };
}

function lookup(v: unknown, path: string[]): unknown {
  let cur = v;
  for (const [depth, key] of path.entries()) {
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
    const args = rest.map(evalArg);
    if (i > 0) args.push(prev);
    if (head!.kind === "fn") prev = functions[head!.name]!(...args);
    else prev = evalArg(head!);
  });
  return prev;
}

const truthy = (v: unknown) =>
  !(v === undefined || v === null || v === false || v === 0 || v === "" || (Array.isArray(v) && v.length === 0));

function exec(nodes: Node[], dot: unknown, outer: Vars): string {
  // a variable lives to the end of the block it is declared in, as in Go
  const vars = new Map(outer);
  let s = "";
  for (const n of nodes) {
    if (n.kind === "text") s += n.text;
    else if (n.kind === "action") {
      const v = evalPipe(n.pipe, dot, vars);
      if (n.decl.length) vars.set(n.decl[0]!, v);
      else s += goString(v);
    } else if (n.kind === "if") s += exec(truthy(evalPipe(n.pipe, dot, vars)) ? n.body : n.elseBody, dot, vars);
    else {
      const v = evalPipe(n.pipe, dot, vars);
      // Go ranges over a map in key order
      const entries: [unknown, unknown][] = Array.isArray(v)
        ? v.map((x, i) => [i, x])
        : v && typeof v === "object"
          ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]])
          : [];
      const each = ([k, x]: [unknown, unknown]) => {
        const inner = new Map(vars);
        if (n.decl.length === 2) (inner.set(n.decl[0]!, k), inner.set(n.decl[1]!, x));
        else if (n.decl.length === 1) inner.set(n.decl[0]!, x);
        return exec(n.body, x, inner);
      };
      s += entries.length ? entries.map(each).join("") : exec(n.elseBody, dot, vars);
    }
  }
  return s;
}

export function renderTemplate(t: Template, value: unknown): string {
  return exec(t.nodes, value, new Map([["$", value]]));
}
