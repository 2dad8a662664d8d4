// Container labels and annotations, as podman parses them: `--label KEY[=VALUE]`
// (a lone KEY is an empty value), `--label-file` with one KEY[=VALUE] a line
// (blank lines and `#` comments skipped), and `--annotation KEY=VALUE`. The
// image's labels sit under the container's own: a --label of the same key wins.
import { readFileSync } from "node:fs";
import { PodError, UsageError } from "../errors.ts";

export type StringMap = Record<string, string>;

function labelEntry(raw: string, where: string): [string, string] {
  const eq = raw.indexOf("=");
  const key = eq < 0 ? raw : raw.slice(0, eq);
  if (key === "" || /\s/.test(key))
    throw new UsageError(`invalid label ${JSON.stringify(raw)}${where}: ${key === "" ? "empty key" : "the key contains whitespace"}`, {
      hint: "use --label KEY=VALUE (or KEY for an empty value)",
    });
  return [key, eq < 0 ? "" : raw.slice(eq + 1)];
}

/** The KEY[=VALUE] lines of a label file, in order. */
export function parseLabelFile(text: string, path = "the label file"): [string, string][] {
  const out: [string, string][] = [];
  text
    .replace(/^\uFEFF/, "")
    .split("\n")
    .forEach((row, i) => {
      const line = row.replace(/\r$/, "").trim();
      if (line === "" || line.startsWith("#")) return;
      out.push(labelEntry(line, ` on line ${i + 1} of ${path}`));
    });
  return out;
}

function readLabelFile(path: string): [string, string][] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PodError(`reading label file ${path}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, {
      hint: "check the path given to --label-file",
      cause: e,
    });
  }
  return parseLabelFile(text, path);
}

/** --label-file entries first, then each --label, as podman reads them (later wins). */
export function parseLabels(labels: string[], labelFiles: string[] = []): StringMap {
  const out: StringMap = {};
  for (const f of labelFiles) for (const [k, v] of readLabelFile(f)) out[k] = v;
  for (const l of labels) {
    const [k, v] = labelEntry(l, "");
    out[k] = v;
  }
  return out;
}

/** --annotation KEY=VALUE values; the `=` is required, as in podman. */
export function parseAnnotations(values: string[]): StringMap {
  const out: StringMap = {};
  for (const a of values) {
    const eq = a.indexOf("=");
    if (eq <= 0) throw new UsageError(`annotations must be formatted KEY=VALUE: ${JSON.stringify(a)}`, { hint: "use --annotation KEY=VALUE" });
    out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

/** The image's labels under the container's own. */
export function mergeLabels(imageLabels: unknown, own: StringMap): StringMap {
  const base: StringMap = {};
  if (imageLabels && typeof imageLabels === "object")
    for (const [k, v] of Object.entries(imageLabels as Record<string, unknown>)) if (typeof v === "string") base[k] = v;
  return { ...base, ...own };
}
