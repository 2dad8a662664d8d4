// `.containerignore` / `.dockerignore`: which context paths a build may not see.
// The semantics are moby's patternmatcher, which docker, BuildKit and buildah
// share: each pattern is cleaned like Go's filepath.Clean with a leading `/`
// dropped; `*` and `?` stay inside one path element, `**` spans any number of
// them; `!` re-includes; the last matching pattern wins; a pattern matching a
// directory matches everything below it.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PodError } from "../errors.ts";

export interface Pattern {
  /** The pattern as cleaned, without its `!`. */
  text: string;
  /** `!pattern`: re-includes what earlier patterns excluded. */
  exception: boolean;
  regex: RegExp;
  segments: string[];
}

export interface Matcher {
  patterns: readonly Pattern[];
  /** The ignore file the patterns came from, if any. */
  source?: string;
  /** Whether the context path (slash-separated, relative to the context) is left out. */
  excluded(relPath: string): boolean;
  /**
   * Whether some exception could re-include a path strictly below `dir`: when
   * false, an excluded directory can be skipped without reading it.
   */
  mayHaveExceptionsBelow(dir: string): boolean;
}

/** Go's path.Clean for slash-separated paths. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
    } else out.push(part);
  }
  const body = out.join("/");
  if (rooted) return "/" + body;
  return body === "" ? "." : body;
}

/** The patterns of an ignore file's text, as moby's ignorefile.ReadAll reads them. */
export function readPatterns(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    // Only a `#` in the very first column makes a comment.
    if (line.startsWith("#")) continue;
    let p = line.trim();
    if (p === "") continue;
    const exception = p.startsWith("!");
    if (exception) p = p.slice(1).trim();
    if (p !== "") {
      p = cleanPath(p);
      if (p.length > 1 && p.startsWith("/")) p = p.slice(1);
    }
    out.push(exception ? "!" + p : p);
  }
  return out;
}

const REGEX_SPECIAL = new Set([".", "$", "+", "(", ")", "{", "}", "|", "^"]);

/** moby's translation of a cleaned pattern into an anchored regular expression. */
function compile(pattern: string): RegExp {
  let re = "^";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === "*") {
      if (chars[i + 1] === "*") {
        i++;
        if (chars[i + 1] === "/") i++;
        re += i + 1 >= chars.length ? "[\\s\\S]*" : "([\\s\\S]*/)?";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (REGEX_SPECIAL.has(c)) re += "\\" + c;
    else if (c === "\\") {
      const next = chars[i + 1];
      if (next === undefined) re += "\\\\";
      else {
        re += /[A-Za-z0-9]/.test(next) ? next : "\\" + next;
        i++;
      }
    } else if (c === "[" || c === "]") re += c;
    else if (c === "/" || c === "-") re += c;
    else re += /[A-Za-z0-9_]/.test(c) ? c : "\\" + c;
  }
  re += "$";
  try {
    return new RegExp(re);
  } catch {
    throw new PodError(`syntax error in ignore pattern: ${pattern}`, { exit: 125, hint: "check the [...] classes and escapes in the ignore file" });
  }
}

/** One path element against one pattern element, with the same meaning of `*`, `?`, `[...]`. */
function segmentMatches(patternSegment: string, name: string): boolean {
  return compile(patternSegment).test(name);
}

/** Whether the pattern could match some path that has `dir`'s elements as a proper prefix. */
function couldMatchBelow(segs: string[], dir: string[], pi = 0, di = 0): boolean {
  if (di === dir.length) return pi < segs.length || segs[segs.length - 1]?.includes("**") === true;
  if (pi === segs.length) return false;
  const seg = segs[pi]!;
  if (seg === "**") return couldMatchBelow(segs, dir, pi + 1, di) || couldMatchBelow(segs, dir, pi, di + 1);
  // `**` mixed with other characters in one element: too rare to be exact about.
  if (seg.includes("**")) return true;
  return segmentMatches(seg, dir[di]!) && couldMatchBelow(segs, dir, pi + 1, di + 1);
}

export function normalizeRel(relPath: string): string {
  const c = cleanPath(relPath.replace(/^\/+/, ""));
  return c === "." ? "" : c;
}

export function createMatcher(lines: string[], source?: string): Matcher {
  const patterns: Pattern[] = [];
  for (const line of lines) {
    const exception = line.startsWith("!");
    const text = exception ? line.slice(1) : line;
    if (text === "") {
      if (exception) throw new PodError(`${source ?? "ignore file"}: illegal exclusion pattern: "!"`, { exit: 125, hint: "write !PATTERN, or remove the lone !" });
      continue;
    }
    patterns.push({ text, exception, regex: compile(text), segments: text.split("/") });
  }
  const hasExceptions = patterns.some((p) => p.exception);
  const excluded = (relPath: string): boolean => {
    const rel = normalizeRel(relPath);
    if (rel === "") return false;
    const parts = rel.split("/");
    const parents: string[] = [];
    for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join("/"));
    let matched = false;
    for (const p of patterns) {
      // An exclusion only matters while not matched, an exception only while matched.
      if (p.exception !== matched) continue;
      const hit = p.regex.test(rel) || parents.some((d) => p.regex.test(d));
      if (hit) matched = !p.exception;
    }
    return matched;
  };
  const mayHaveExceptionsBelow = (dir: string): boolean => {
    if (!hasExceptions) return false;
    const rel = normalizeRel(dir);
    const parts = rel === "" ? [] : rel.split("/");
    return patterns.some((p) => p.exception && couldMatchBelow(p.segments, parts));
  };
  return { patterns, source, excluded, mayHaveExceptionsBelow };
}

/**
 * The context's ignore rules: `ignoreFile` when given (`--ignorefile`), else
 * `.containerignore`, else `.dockerignore`, else nothing excluded.
 */
export async function loadIgnore(contextDir: string, ignoreFile?: string): Promise<Matcher> {
  const candidates = ignoreFile ? [ignoreFile] : [join(contextDir, ".containerignore"), join(contextDir, ".dockerignore")];
  for (const path of candidates) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && !ignoreFile) continue;
      throw new PodError(`reading ignore file ${path}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, {
        exit: 125,
        hint: ignoreFile ? "check the --ignorefile path" : `make ${path} readable`,
        cause: e,
      });
    }
    return createMatcher(readPatterns(text), path);
  }
  return createMatcher([]);
}
