// The YAML podman prints for `info`: block mappings and sequences, two-space
// indent, `[]`/`{}` for empty ones, and quotes only where a plain scalar
// would read back as something else. Enough for plain data, not a library.

const PLAIN = /^[A-Za-z0-9_./][A-Za-z0-9 _./,()+=@~-]*$/;
const SPECIAL = /^(true|false|yes|no|on|off|null|~|[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?|0x[0-9a-fA-F]+|\.(inf|nan))$/i;

function scalar(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const s = String(v);
  if (s.includes("\n")) return `|-\n${s.split("\n").map((l) => `  ${l}`).join("\n")}`;
  if (s !== "" && PLAIN.test(s) && !SPECIAL.test(s) && s.trim() === s) return s;
  return JSON.stringify(s);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const indent = (text: string, by: string) => text.split("\n").map((l) => (l ? by + l : l)).join("\n");

function block(v: unknown): string {
  if (Array.isArray(v)) {
    if (!v.length) return "[]";
    return v.map((x) => (isObject(x) || Array.isArray(x) ? `- ${indent(block(x), "  ").slice(2)}` : `- ${scalar(x)}`)).join("\n");
  }
  if (isObject(v)) {
    const entries = Object.entries(v);
    if (!entries.length) return "{}";
    return entries
      .map(([k, x]) => {
        const key = scalar(k);
        if ((isObject(x) && Object.keys(x).length) || (Array.isArray(x) && x.length)) return `${key}:\n${Array.isArray(x) ? block(x) : indent(block(x), "  ")}`;
        const s = isObject(x) || Array.isArray(x) ? block(x) : scalar(x);
        return s.startsWith("|-") ? `${key}: ${indent(s, "  ").trimStart()}` : `${key}: ${s}`;
      })
      .join("\n");
  }
  return scalar(v);
}

/** YAML for plain data (objects, arrays, strings, numbers, booleans), ending with a newline. */
export function toYaml(v: unknown): string {
  return block(v) + "\n";
}
