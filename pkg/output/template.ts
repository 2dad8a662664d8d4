// A subset of Go's text/template, enough for podman-style --format strings:
// {{.Field.Sub}}, {{json .}}, {{range .List}}…{{end}}, {{if …}}…{{else}}…{{end}},
// pipelines (`{{.Names | upper}}`), string and number literals, `{{-`/`-}}` trim,
// and the functions podman scripts use (json, lower, upper, title, join, index,
// len, printf, println, truncate). Field names match exactly first, then
// case-insensitively, so `{{.Id}}` and `{{.ID}}` both work.
import { PodError } from "../errors.ts";

type Arg = { kind: "field"; path: string[] } | { kind: "lit"; value: unknown } | { kind: "fn"; name: string };
type Cmd = Arg[];
type Pipeline = Cmd[];
type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline }
  | { kind: "range"; pipe: Pipeline; body: Node[]; elseBody: Node[] }
  | { kind: "if"; pipe: Pipeline; body: Node[]; elseBody: Node[] };

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

function parseArgs(source: string, words: string): Pipeline {
  const pipe: Pipeline = [];
  let cmd: Cmd = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|\||[^\s|]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(words))) {
    const w = m[1]!;
    if (w === "|") {
      pipe.push(cmd);
      cmd = [];
    } else if (w.startsWith('"')) cmd.push({ kind: "lit", value: JSON.parse(w) });
    else if (w.startsWith("`")) cmd.push({ kind: "lit", value: w.slice(1, -1) });
    else if (/^-?\d+(\.\d+)?$/.test(w)) cmd.push({ kind: "lit", value: Number(w) });
    else if (w === "true" || w === "false") cmd.push({ kind: "lit", value: w === "true" });
    else if (w === "." || w === "$") cmd.push({ kind: "field", path: [] });
    else if (w.startsWith(".") || w.startsWith("$.")) cmd.push({ kind: "field", path: w.replace(/^\$/, "").split(".").slice(1) });
    else if (w in functions) cmd.push({ kind: "fn", name: w });
    else throw bad(source, `function "${w}" not defined`);
  }
  pipe.push(cmd);
  if (pipe.some((c) => c.length === 0)) throw bad(source, "missing command in pipeline");
  return pipe;
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
        const pipe = parseArgs(source, a.slice(word.length));
        const body = parseList(["else", "end"]);
        let elseBody: Node[] = [];
        if (body.stop === "else") elseBody = parseList(["end"]).nodes;
        else if (body.stop !== "end") throw bad(source, `unterminated ${word}`);
        nodes.push({ kind: word, pipe, body: body.nodes, elseBody });
      } else if (word === "end" || word === "else") throw bad(source, `unexpected {{${word}}}`);
      else if (a.startsWith("/*")) continue;
      else nodes.push({ kind: "action", pipe: parseArgs(source, a) });
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

function evalPipe(pipe: Pipeline, dot: unknown): unknown {
  let prev: unknown;
  pipe.forEach((cmd, i) => {
    const evalArg = (a: Arg) => (a.kind === "field" ? lookup(dot, a.path) : a.kind === "lit" ? a.value : functions[a.name]!());
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

function exec(nodes: Node[], dot: unknown): string {
  let s = "";
  for (const n of nodes) {
    if (n.kind === "text") s += n.text;
    else if (n.kind === "action") s += goString(evalPipe(n.pipe, dot));
    else if (n.kind === "if") s += exec(truthy(evalPipe(n.pipe, dot)) ? n.body : n.elseBody, dot);
    else {
      const v = evalPipe(n.pipe, dot);
      const items = Array.isArray(v) ? v : v && typeof v === "object" ? Object.values(v) : [];
      s += items.length ? items.map((x) => exec(n.body, x)).join("") : exec(n.elseBody, dot);
    }
  }
  return s;
}

export function renderTemplate(t: Template, value: unknown): string {
  return exec(t.nodes, value);
}
