// containers-registries.conf(5), version 2, loaded the way podman does it
// (containers-config(5), container-libs storage/pkg/configfile):
//
//   - $CONTAINERS_REGISTRIES_CONF set: only that file (it must exist), no drop-ins;
//   - otherwise the first existing of $XDG_CONFIG_HOME/containers/registries.conf
//     (XDG_CONFIG_HOME defaults to $HOME/.config), /etc/containers/registries.conf,
//     /usr/share/containers/registries.conf; then the *.conf drop-ins of the user,
//     /etc and /usr/share registries.conf.d directories (plus registries.rootless.conf.d
//     and registries.rootless.conf.d/UID), sorted by file name; a file name present in
//     several directories is read only from the highest-precedence one;
//   - last, $CONTAINERS_REGISTRIES_CONF_OVERRIDE if set.
//
// Later files override earlier ones: unqualified-search-registries and
// short-name-mode are replaced when set, [[registry]] tables with the same prefix
// are replaced, [aliases] are merged (an empty value erases an alias). The
// machine-written short-name-aliases.conf (in the cache directory) wins over all
// [aliases]; pod only reads it.

import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { type ConfigRoots, type Env, defaultRoots, dropInDirs, homeDir, isNotFound, userContainersDir } from "./_paths.ts";
import { type ParsedFile, type Table, parseAliases, parseRegistriesFile } from "./_registries-file.ts";
import { type ImageReference, formatReference, isShortName, parseReference, splitInput } from "./reference.ts";

export type ShortNameMode = "enforcing" | "permissive" | "disabled";
export type PullFromMirror = "all" | "digest-only" | "tag-only";
export type MirrorEntry = { location: string; insecure: boolean; pullFromMirror: PullFromMirror };
export type RegistryEntry = {
  prefix: string;
  /** Empty only for a wildcard prefix ("*.example.com"): settings apply, no rewrite. */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: MirrorEntry[];
  /** The file that defined the entry, for messages. */
  source: string;
};
export type RegistriesConfig = {
  /** ["docker.io"] when no file sets it (then unqualifiedSearchRegistriesSource is undefined). */
  unqualifiedSearchRegistries: string[];
  unqualifiedSearchRegistriesSource?: string;
  shortNameMode: ShortNameMode;
  /** Sorted by prefix, one entry per prefix. */
  registries: RegistryEntry[];
  /** Short name → fully-qualified name without tag or digest. */
  aliases: Record<string, { value: string; source: string }>;
  /** Every file that was read, in order. */
  files: string[];
};
export type PullSource = {
  host: string;
  repository: string;
  tag?: string;
  digest?: string;
  insecure: boolean;
  mirror: boolean;
};

function mergeInto(cfg: RegistriesConfig, f: ParsedFile): void {
  const byPrefix = new Map(cfg.registries.map((r) => [r.prefix, r]));
  for (const r of f.registries) byPrefix.set(r.prefix, r);
  cfg.registries = [...byPrefix.keys()].sort().map((k) => byPrefix.get(k) as RegistryEntry);
  if (f.unqualifiedSearchRegistries !== undefined) {
    cfg.unqualifiedSearchRegistries = f.unqualifiedSearchRegistries;
    cfg.unqualifiedSearchRegistriesSource = f.path;
  }
  if (f.shortNameMode !== undefined) cfg.shortNameMode = f.shortNameMode;
  for (const [name, value] of Object.entries(f.aliases)) {
    if (value === "") delete cfg.aliases[name];
    else cfg.aliases[name] = { value, source: f.path };
  }
  cfg.files.push(f.path);
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw new PodError(`reading registries configuration ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function readRequired(path: string, variable: string): string {
  const text = readIfExists(path);
  if (text === undefined) {
    throw new PodError(`reading registries configuration ${path}: no such file`, { hint: `$${variable} names a missing file; fix or unset it` });
  }
  return text;
}

/** *.conf drop-ins, sorted by file name; a name found in several dirs comes from the first (highest-precedence) dir. */
function dropInFiles(dirs: string[]): string[] {
  const byName = new Map<string, string>();
  for (const dir of [...dirs].reverse()) {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (isNotFound(e)) continue;
      throw new PodError(`reading registries configuration directory ${dir}: ${(e as Error).message}`, { cause: e });
    }
    for (const entry of entries) {
      if (!entry.isDirectory() && entry.name.endsWith(".conf")) byName.set(entry.name, join(dir, entry.name));
    }
  }
  return [...byName.keys()].sort().map((name) => byName.get(name) as string);
}

/** Loads and merges every registries.conf file podman would read; throws PodError naming the bad file. */
export function loadRegistriesConfig(env: Env = process.env, roots: ConfigRoots = defaultRoots()): RegistriesConfig {
  // No file setting unqualified-search-registries means docker.io: what docker users expect from
  // `pod pull alpine`. (containers/image would refuse to resolve short names instead.)
  const cfg: RegistriesConfig = { unqualifiedSearchRegistries: ["docker.io"], shortNameMode: "permissive", registries: [], aliases: {}, files: [] };
  const load = (path: string, text: string) => mergeInto(cfg, parseRegistriesFile(path, text));
  const explicit = env.CONTAINERS_REGISTRIES_CONF;
  if (explicit) {
    load(explicit, readRequired(explicit, "CONTAINERS_REGISTRIES_CONF"));
  } else {
    for (const dir of [userContainersDir(env), roots.adminDir, roots.systemDir]) {
      const path = join(dir, "registries.conf");
      const text = readIfExists(path);
      if (text === undefined) continue;
      load(path, text);
      break;
    }
    for (const path of dropInFiles(dropInDirs(env, roots, "registries", ".conf"))) {
      const text = readIfExists(path);
      if (text !== undefined) load(path, text);
    }
  }
  const override = env.CONTAINERS_REGISTRIES_CONF_OVERRIDE;
  if (override) load(override, readRequired(override, "CONTAINERS_REGISTRIES_CONF_OVERRIDE"));
  loadRecordedAliases(cfg, env, roots);
  return cfg;
}

/** short-name-aliases.conf: written by podman after a prompt; its [aliases] win over registries.conf. */
function loadRecordedAliases(cfg: RegistriesConfig, env: Env, roots: ConfigRoots): void {
  const cacheDir = roots.uid === 0 ? "/var/cache" : env.XDG_CACHE_HOME || join(homeDir(env), ".cache");
  const path = join(cacheDir, "containers", "short-name-aliases.conf");
  const text = readIfExists(path);
  if (text === undefined) return;
  let doc: Table;
  try {
    doc = Bun.TOML.parse(text) as Table;
  } catch (e) {
    throw new PodError(`loading short-name aliases ${path}: ${(e as Error).message}`, { hint: `fix or remove ${path}`, cause: e });
  }
  for (const [name, value] of Object.entries(parseAliases(path, doc.aliases))) {
    if (value === "") delete cfg.aliases[name];
    else cfg.aliases[name] = { value, source: path };
  }
}

/** Length of ref's text matched by prefix, or -1. Matches end at "/", or at ":"/"@" once the whole name is covered. */
function prefixMatch(ref: ImageReference, prefix: string): number {
  const full = formatReference(ref);
  if (prefix.startsWith("*.")) {
    const host = ref.registry.replace(/:[0-9]+$/, "");
    return host.endsWith(prefix.slice(1)) ? host.length : -1;
  }
  if (!full.startsWith(prefix)) return -1;
  if (full.length === prefix.length) return prefix.length;
  const next = full[prefix.length];
  const nameLength = ref.registry.length + 1 + ref.repository.length;
  if (next === "/" || ((next === ":" || next === "@") && prefix.length >= nameLength)) return prefix.length;
  return -1;
}

/** The [[registry]] entry with the longest prefix matching ref, if any. */
export function findRegistry(cfg: RegistriesConfig, ref: ImageReference): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const r of cfg.registries) {
    if (prefixMatch(ref, r.prefix) >= 0 && (best === undefined || r.prefix.length > best.prefix.length)) best = r;
  }
  return best;
}

function endpoint(ref: ImageReference, insecure: boolean, mirror: boolean): PullSource {
  // Docker Hub is named docker.io but served by registry-1.docker.io.
  const host = ref.registry === "docker.io" ? "registry-1.docker.io" : ref.registry;
  const out: PullSource = { host, repository: ref.repository, insecure, mirror };
  if (ref.tag !== undefined) out.tag = ref.tag;
  if (ref.digest !== undefined) out.digest = ref.digest;
  return out;
}

function rewrite(entry: RegistryEntry, ref: ImageReference, location: string): ImageReference {
  if (location === "") return ref;
  const rewritten = location + formatReference(ref).slice(prefixMatch(ref, entry.prefix));
  try {
    return parseReference(rewritten);
  } catch (e) {
    throw new PodError(`rewriting ${formatReference(ref)} to ${rewritten} (prefix ${JSON.stringify(entry.prefix)} in ${entry.source}): ${(e as Error).message}`, {
      hint: `fix the location of that [[registry]] or [[registry.mirror]] in ${entry.source}`,
      cause: e,
    });
  }
}

/**
 * The endpoints to try for ref, in order: the usable mirrors, then the primary location,
 * each with the matched prefix rewritten to its location. Throws if ref's registry is blocked.
 */
export function pullSources(cfg: RegistriesConfig, ref: ImageReference): PullSource[] {
  const entry = findRegistry(cfg, ref);
  if (!entry) return [endpoint(ref, false, false)];
  if (entry.blocked) {
    throw new PodError(`pulling ${formatReference(ref)}: registry ${entry.prefix} is blocked in ${entry.source}`, {
      hint: `remove "blocked = true" from the [[registry]] with prefix ${JSON.stringify(entry.prefix)} in ${entry.source}`,
    });
  }
  const digested = ref.digest !== undefined;
  const mirrors = entry.mirrors.filter((m) => {
    if (entry.mirrorByDigestOnly || m.pullFromMirror === "digest-only") return digested;
    return m.pullFromMirror === "tag-only" ? !digested : true;
  });
  return [
    ...mirrors.map((m) => endpoint(rewrite(entry, ref, m.location), m.insecure, true)),
    endpoint(rewrite(entry, ref, entry.location), entry.insecure, false),
  ];
}

/**
 * The fully-qualified candidates for input, in the order to try them: the input itself when
 * it names a registry; else its alias; else one per unqualified-search registry. Tag and
 * digest are kept (tag "latest" when neither is given). pod never prompts, so
 * short-name-mode "enforcing" with several candidates is an error.
 */
export function resolveShortName(cfg: RegistriesConfig, input: string): ImageReference[] {
  const ref = parseReference(input);
  if (!isShortName(input)) return [ref];
  const { name } = splitInput(input);
  const withInputVersion = (r: ImageReference): ImageReference => {
    const out: ImageReference = { registry: r.registry, repository: r.repository };
    if (ref.tag !== undefined) out.tag = ref.tag;
    if (ref.digest !== undefined) out.digest = ref.digest;
    return out;
  };
  const alias = cfg.aliases[name];
  if (alias) return [withInputVersion(parseReference(alias.value))];
  const where = cfg.unqualifiedSearchRegistriesSource ?? "the built-in defaults";
  if (cfg.unqualifiedSearchRegistries.length === 0) {
    throw new PodError(`resolving short name ${JSON.stringify(input)}: no alias and no unqualified-search-registries in ${where}`, {
      hint: `use a fully-qualified name such as docker.io/library/${name}, or set unqualified-search-registries in ${where}`,
    });
  }
  const candidates = cfg.unqualifiedSearchRegistries.map((reg) => withInputVersion(parseReference(`${reg}/${name}`)));
  if (cfg.shortNameMode === "enforcing" && candidates.length > 1) {
    throw new PodError(`resolving short name ${JSON.stringify(input)}: short-name-mode is enforcing and ${candidates.length} unqualified-search registries match`, {
      hint: `use a fully-qualified name (e.g. ${formatReference(candidates[0] as ImageReference)}) or add an [aliases] entry for ${JSON.stringify(name)}`,
    });
  }
  return candidates;
}

/** True for localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith("[")) h = h.slice(1, h.indexOf("]") < 0 ? undefined : h.indexOf("]"));
  else if (h.split(":").length === 2) h = h.slice(0, h.indexOf(":"));
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return m !== null && m.slice(1).every((n) => Number(n) <= 255);
}
