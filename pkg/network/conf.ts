// containers.conf as podman reads it, for the network settings pod honours:
// the files in podman's order (the last one that sets a key wins), and just
// enough TOML for their `key = "string"`, `key = ["list"]` and `key = bool`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { configHome } from "../config/index.ts";

/** System files, then the user's; $CONTAINERS_CONF alone when set. */
export function containersConfFiles(env: Record<string, string | undefined> = process.env): string[] {
  if (env.CONTAINERS_CONF) return [env.CONTAINERS_CONF];
  const user = (process.getuid?.() ?? 0) === 0 ? [] : [join(configHome(env), "containers", "containers.conf")];
  return ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf", ...user];
}

export type ConfValue = string | string[] | boolean;

/** The raw values of section.key in each file that sets it, in file order. */
function rawValues(files: string[], section: string, key: string): string[] {
  const found: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    let current = "";
    for (const raw of text.split("\n")) {
      const line = raw.replace(/^\s+|\s+$/g, "");
      if (line.startsWith("#")) continue;
      const s = /^\[([^\]]+)\]/.exec(line);
      if (s) current = s[1]!.trim();
      else if (current === section) {
        const m = new RegExp(`^${key}\\s*=\\s*(.*)$`).exec(line);
        if (m) found.push(m[1]!.replace(/\s+#[^"\]]*$/, ""));
      }
    }
  }
  return found;
}

/** The value the last file sets, or undefined. A malformed value counts as unset (podman would refuse the file). */
export function confValue(files: string[], section: string, key: string): ConfValue | undefined {
  const v = rawValues(files, section, key).at(-1);
  if (v === undefined) return undefined;
  if (v === "true" || v === "false") return v === "true";
  const str = /^"([^"]*)"$/.exec(v) ?? /^'([^']*)'$/.exec(v);
  if (str) return str[1]!;
  if (/^\[.*\]$/.test(v))
    return [...v.slice(1, -1).matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]!);
  return undefined;
}

export const confString = (files: string[], section: string, key: string) => {
  const v = confValue(files, section, key);
  return typeof v === "string" ? v : undefined;
};

export const confList = (files: string[], section: string, key: string) => {
  const v = confValue(files, section, key);
  return Array.isArray(v) ? v : undefined;
};

export const confBool = (files: string[], section: string, key: string) => {
  const v = confValue(files, section, key);
  return typeof v === "boolean" ? v : undefined;
};
