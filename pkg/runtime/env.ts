// The container's environment, in podman's order (later wins): the image's
// Env and the defaults podman adds when a name is still unset (containers.conf
// env PATH and TERM, container=podman, HOSTNAME, HOME), less what --unsetenv
// names (all of them with --unsetenv-all); then the host's environment
// (--env-host, read at create); then each --env-file, then each -e. The --env-file format is docker's (opts/envfile.go): one
// KEY=VALUE a line, the value taken verbatim, `#` comments and blank lines
// skipped, and a lone KEY taking the host's value or dropped when unset.
import { readFileSync } from "node:fs";
import { PodError, UsageError } from "../errors.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

type HostEnv = Record<string, string | undefined>;

/** Checks a variable name as docker does: not empty, no whitespace. Returns an error text or undefined. */
function badName(name: string): string | undefined {
  if (name === "") return "empty variable name";
  if (/\s/.test(name)) return `variable ${JSON.stringify(name)} contains whitespace`;
  return undefined;
}

/** One KEY=VALUE or lone KEY; undefined when KEY is unset on the host. Throws a plain Error with the reason. */
function entry(raw: string, hostEnv: HostEnv): string | undefined {
  const eq = raw.indexOf("=");
  const name = eq < 0 ? raw : raw.slice(0, eq);
  const bad = badName(name);
  if (bad) throw new Error(bad);
  if (eq >= 0) return raw;
  const v = hostEnv[name];
  return v === undefined ? undefined : `${name}=${v}`;
}

/** Parses the text of an --env-file into KEY=VALUE entries, in order. Throws UsageError naming the line. */
export function parseEnvFile(text: string, hostEnv: HostEnv = {}): string[] {
  const out: string[] = [];
  const rows = text.replace(/^\uFEFF/, "").split("\n");
  rows.forEach((row, i) => {
    const line = row.replace(/\r$/, "").trimStart();
    if (line === "" || line.startsWith("#")) return;
    try {
      const e = entry(line, hostEnv);
      if (e !== undefined) out.push(e);
    } catch (err) {
      throw new UsageError(`line ${i + 1}: ${(err as Error).message}`);
    }
  });
  return out;
}

/** The entries of one --env-file. Throws PodError when it cannot be read, UsageError naming the bad line. */
export function readEnvFile(path: string, hostEnv: HostEnv): string[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PodError(`reading env file ${path}: ${code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, {
      hint: "check the path given to --env-file",
      cause: e,
    });
  }
  try {
    return parseEnvFile(text, hostEnv);
  } catch (e) {
    throw new UsageError(`reading env file ${path}: ${(e as Error).message}`, { hint: "each line is KEY=VALUE, KEY, or a # comment" });
  }
}

/** The -e values as KEY=VALUE entries, lone KEYs taken from `hostEnv`. Throws UsageError for an empty or bad name ("", "=x"), as podman does. */
export function flagEntries(values: string[], hostEnv: HostEnv): string[] {
  const out: string[] = [];
  for (const v of values) {
    try {
      const e = entry(v, hostEnv);
      if (e !== undefined) out.push(e);
    } catch (err) {
      throw new UsageError(`invalid environment variable ${JSON.stringify(v)}: ${(err as Error).message}`, {
        hint: "use -e KEY=VALUE, or -e KEY to pass the host's value",
      });
    }
  }
  return out;
}

/** --env-host: the host's environment as KEY=VALUE entries, what the container records at create. */
export function hostEnvEntries(hostEnv: HostEnv): string[] {
  return Object.entries(hostEnv)
    .filter((e): e is [string, string] => e[1] !== undefined && e[0] !== "")
    .map(([k, v]) => `${k}=${v}`);
}

/**
 * The entries of --env-file and -e, in that order, with lone KEYs resolved
 * against `hostEnv` now: what a container records at create time, so that a
 * later start sees the same values. Every entry is checked here, before
 * anything is created.
 */
export function frozenEnv(envFiles: string[], env: string[], hostEnv: HostEnv): string[] {
  return [...envFiles.flatMap((f) => readEnvFile(f, hostEnv)), ...flagEntries(env, hostEnv)];
}

export type EnvInput = {
  /** the image config's Env */
  imageEnv: string[];
  /** --env-file paths, in order */
  envFiles: string[];
  /** -e values, in order */
  env: string[];
  hostEnv: HostEnv;
  /** the resolved user's home directory */
  home: string;
  hostname: string;
  /** --env-host: the host's environment as it was at create, KEY=VALUE */
  envHost?: string[];
  /** --unsetenv: defaults and image variables to leave out */
  unsetenv?: string[];
  /** --unsetenv-all: no defaults and no image variables */
  unsetenvAll?: boolean;
};

/** The container process's environment as KEY=VALUE strings. */
export function buildEnv(i: EnvInput): string[] {
  const merged = new Map<string, string>();
  const put = (kv: string) => {
    const eq = kv.indexOf("=");
    if (eq > 0) merged.set(kv.slice(0, eq), kv);
  };
  const defaults: [string, string][] = [
    ["PATH", DEFAULT_PATH],
    ["TERM", "xterm"],
    ["container", "podman"],
    ["HOSTNAME", i.hostname],
    ["HOME", i.home],
  ];
  const unset = new Set(i.unsetenv ?? []);
  if (!i.unsetenvAll) i.imageEnv.forEach(put);
  for (const k of unset) merged.delete(k);
  (i.envHost ?? []).forEach(put);
  for (const f of i.envFiles) readEnvFile(f, i.hostEnv).forEach(put);
  flagEntries(i.env, i.hostEnv).forEach(put);
  if (!i.unsetenvAll) for (const [k, v] of defaults) if (!merged.has(k) && !unset.has(k)) merged.set(k, `${k}=${v}`);
  return [...merged.values()];
}
