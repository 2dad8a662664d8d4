// Parsing of one registries.conf file into validated entries; registries.ts
// decides which files to read and merges them. Folder-private.

import { PodError } from "../errors.ts";
import { formatReference, isShortName, isValidRegistryHost, parseReference, splitInput } from "./reference.ts";
import type { MirrorEntry, PullFromMirror, RegistryEntry, ShortNameMode } from "./registries.ts";

export type ParsedFile = {
  path: string;
  unqualifiedSearchRegistries?: string[];
  shortNameMode?: ShortNameMode;
  registries: RegistryEntry[];
  aliases: Record<string, string>;
};
export type Table = Record<string, unknown>;

const MAN = "see containers-registries.conf(5)";

function bad(path: string, cause: string): PodError {
  return new PodError(`loading registries configuration ${path}: ${cause}`, { hint: `fix ${path}; ${MAN}` });
}

function isTable(v: unknown): v is Table {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function str(path: string, t: Table, key: string, where: string): string | undefined {
  const v = t[key];
  if (v === undefined || typeof v === "string") return v;
  throw bad(path, `${where}${key} must be a string`);
}

function bool(path: string, t: Table, key: string, where: string): boolean {
  const v = t[key];
  if (v === undefined || typeof v === "boolean") return v ?? false;
  throw bad(path, `${where}${key} must be true or false`);
}

function tableArray(path: string, v: unknown, what: string): Table[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every(isTable)) throw bad(path, `${what} must be an array of tables`);
  return v;
}

/** Trims trailing slashes and rejects URL schemes, as containers/image does. */
function parseLocation(path: string, value: string): string {
  const trimmed = value.replace(/\/+$/, "");
  if (/^https?:\/\//.test(trimmed)) throw bad(path, `invalid location ${JSON.stringify(value)}: URI schemes are not supported`);
  return trimmed;
}

function hasTagOrDigest(name: string): boolean {
  const { tag, digest } = splitInput(name);
  return tag !== undefined || digest !== undefined;
}

function parseMirror(path: string, t: Table, reg: { prefix: string; mirrorByDigestOnly: boolean }): MirrorEntry {
  const where = `[[registry.mirror]] of ${JSON.stringify(reg.prefix)}: `;
  const location = parseLocation(path, str(path, t, "location", where) ?? "");
  if (location === "") throw bad(path, `${where}location is unset`);
  const pull = str(path, t, "pull-from-mirror", where) ?? "";
  if (pull !== "" && reg.mirrorByDigestOnly) {
    throw bad(path, `${where}pull-from-mirror cannot be combined with mirror-by-digest-only`);
  }
  if (pull !== "" && pull !== "all" && pull !== "digest-only" && pull !== "tag-only") {
    throw bad(path, `${where}unsupported pull-from-mirror value ${JSON.stringify(pull)} (use all, digest-only or tag-only)`);
  }
  return { location, insecure: bool(path, t, "insecure", where), pullFromMirror: (pull || "all") as PullFromMirror };
}

function parseRegistry(path: string, t: Table): RegistryEntry {
  const location = parseLocation(path, str(path, t, "location", "[[registry]] ") ?? "");
  let prefix = parseLocation(path, str(path, t, "prefix", "[[registry]] ") ?? "");
  if (prefix === "") {
    if (location === "") throw bad(path, "a [[registry]] table sets neither location nor prefix");
    prefix = location;
  }
  const where = `[[registry]] ${JSON.stringify(prefix)}: `;
  if (prefix.startsWith("*.")) {
    if (/[/@:]/.test(prefix)) throw bad(path, `${where}a wildcard prefix must look like *.example.com`);
  } else if (location === "") {
    throw bad(path, `${where}location is unset and the prefix is not a wildcard (*.example.com)`);
  }
  if (t["pull-from-mirror"] !== undefined) throw bad(path, `${where}pull-from-mirror is only valid in [[registry.mirror]]`);
  const mirrorByDigestOnly = bool(path, t, "mirror-by-digest-only", where);
  const reg = { prefix, mirrorByDigestOnly };
  return {
    prefix,
    location,
    insecure: bool(path, t, "insecure", where),
    blocked: bool(path, t, "blocked", where),
    mirrorByDigestOnly,
    mirrors: tableArray(path, t.mirror, `${where}mirror`).map((m) => parseMirror(path, m, reg)),
    source: path,
  };
}

/** Validates one [aliases] table; "" values are kept (they erase an earlier alias). */
export function parseAliases(path: string, v: unknown): Record<string, string> {
  if (v === undefined) return {};
  if (!isTable(v)) throw bad(path, "[aliases] must be a table");
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    const what = `alias ${JSON.stringify(name)}`;
    if (typeof value !== "string") throw bad(path, `${what} must be a string`);
    if (!isShortName(name) || hasTagOrDigest(name)) throw bad(path, `${what}: the name must be a short name without tag or digest`);
    try {
      parseReference(name);
      if (value !== "") {
        if (isShortName(value) || hasTagOrDigest(value)) throw new Error("the value must be a fully-qualified name without tag or digest");
        const ref = parseReference(value);
        out[name] = formatReference({ registry: ref.registry, repository: ref.repository });
      } else {
        out[name] = "";
      }
    } catch (e) {
      throw bad(path, `${what}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Parses the text of one registries.conf file; throws PodError naming path. */
export function parseRegistriesFile(path: string, text: string): ParsedFile {
  let doc: Table;
  try {
    doc = Bun.TOML.parse(text) as Table;
  } catch (e) {
    throw new PodError(`loading registries configuration ${path}: ${(e as Error).message}`, {
      hint: `fix the TOML syntax in ${path}; ${MAN}`,
      cause: e,
    });
  }
  if (doc.registries !== undefined) {
    throw new PodError(`loading registries configuration ${path}: the version 1 format ([registries.search] etc.) is not supported`, {
      hint: `rewrite ${path} in the version 2 format: unqualified-search-registries = [...] and [[registry]] tables with insecure/blocked; ${MAN}`,
    });
  }
  const out: ParsedFile = { path, registries: [], aliases: parseAliases(path, doc.aliases) };
  const usr = doc["unqualified-search-registries"];
  if (usr !== undefined) {
    if (!Array.isArray(usr) || !usr.every((s) => typeof s === "string")) {
      throw bad(path, "unqualified-search-registries must be an array of strings");
    }
    out.unqualifiedSearchRegistries = usr.map((s) => {
      const host = parseLocation(path, s);
      if (!isValidRegistryHost(host)) throw bad(path, `invalid unqualified-search-registries entry ${JSON.stringify(s)} (want host[:port])`);
      return host;
    });
  }
  const mode = str(path, doc, "short-name-mode", "") ?? "";
  if (mode !== "") {
    if (mode !== "enforcing" && mode !== "permissive" && mode !== "disabled") {
      throw bad(path, `invalid short-name-mode ${JSON.stringify(mode)} (use enforcing, permissive or disabled)`);
    }
    out.shortNameMode = mode;
  }
  const seen = new Set<string>();
  for (const t of tableArray(path, doc.registry, "[[registry]]")) {
    const reg = parseRegistry(path, t);
    if (seen.has(reg.prefix)) continue; // the first table with a prefix wins, as in containers/image
    seen.add(reg.prefix);
    out.registries.push(reg);
  }
  return out;
}
