// Registry credentials in containers-auth.json(5) files, read and written the way
// containers/image pkg/docker/config does.
//
// Read order (first file with a usable entry wins): $REGISTRY_AUTH_FILE alone if set;
// else $XDG_RUNTIME_DIR/containers/auth.json (the read/write file),
// $XDG_CONFIG_HOME/containers/auth.json, $DOCKER_CONFIG/config.json or
// ~/.docker/config.json, and ~/.dockercfg (legacy: the top level is the auths map).
// Writes go to $REGISTRY_AUTH_FILE or the read/write file; without XDG_RUNTIME_DIR
// that is $XDG_CONFIG_HOME/containers/auth.json (containers/image would use
// /run/containers/$UID, which a rootless user usually cannot create).
//
// WARNING: nothing here may put a username, password, token or file content into a
// message or a log line.

import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { PodError } from "../errors.ts";
import { type Env, configHome, homeDir, isNotFound } from "./_paths.ts";

export type Credentials = { username: string; password: string } | { identityToken: string };

type AuthFile = { path: string; legacyFormat: boolean };
type AuthEntry = { auth?: unknown; identitytoken?: unknown };
type Document = Record<string, unknown>;

function authFiles(env: Env): AuthFile[] {
  if (env.REGISTRY_AUTH_FILE) return [{ path: env.REGISTRY_AUTH_FILE, legacyFormat: false }];
  const files: AuthFile[] = [];
  if (env.XDG_RUNTIME_DIR) files.push({ path: join(env.XDG_RUNTIME_DIR, "containers", "auth.json"), legacyFormat: false });
  files.push({ path: join(configHome(env), "containers", "auth.json"), legacyFormat: false });
  const dockerDir = env.DOCKER_CONFIG || join(homeDir(env), ".docker");
  files.push({ path: join(dockerDir, "config.json"), legacyFormat: false });
  files.push({ path: join(homeDir(env), ".dockercfg"), legacyFormat: true });
  return files;
}

/** The auth files consulted for lookups, in order. */
export function authFilePaths(env: Env = process.env): string[] {
  return authFiles(env).map((f) => f.path);
}

/** The file saveCredentials and removeCredentials edit. */
export function authFileForWrite(env: Env = process.env): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR) {
    if (!exists(env.XDG_RUNTIME_DIR)) {
      throw new PodError(`choosing the credentials file: ${env.XDG_RUNTIME_DIR} (from $XDG_RUNTIME_DIR) does not exist`, {
        hint: "create that directory or unset XDG_RUNTIME_DIR",
      });
    }
    return join(env.XDG_RUNTIME_DIR, "containers", "auth.json");
  }
  return join(configHome(env), "containers", "auth.json");
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw new PodError(`checking ${path}: ${(e as Error).message}`, { cause: e });
  }
}

function isObject(v: unknown): v is Document {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Reads a JSON object from path; undefined when the file does not exist. */
function readDocument(path: string): Document | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw new PodError(`reading credentials file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // The parser's message quotes file content, which may be a secret: leave it out.
    throw new PodError(`reading credentials file ${path}: the file is not valid JSON`, {
      hint: `fix ${path}, or remove it and log in again with \`pod login\``,
    });
  }
  if (!isObject(doc)) {
    throw new PodError(`reading credentials file ${path}: the top level is not a JSON object`, {
      hint: `fix ${path}, or remove it and log in again with \`pod login\``,
    });
  }
  return doc;
}

function authsOf(file: AuthFile, doc: Document): Record<string, AuthEntry> {
  const auths = file.legacyFormat ? doc : (doc.auths ?? {});
  if (!isObject(auths) || !Object.values(auths).every(isObject)) {
    throw new PodError(`reading credentials file ${file.path}: "auths" is not a map of objects`, {
      hint: `fix ${file.path}, or remove it and log in again with \`pod login\``,
    });
  }
  return auths as Record<string, AuthEntry>;
}

/** docker.io is stored under several names; compare them as index.docker.io. */
function normalizeRegistry(registry: string): string {
  return registry === "docker.io" || registry === "registry-1.docker.io" ? "index.docker.io" : registry;
}

/** Turns "https://host/v1/" style keys (docker's legacy form) into a host. */
function normalizeKey(key: string, legacyFormat: boolean): string {
  const stripped = key.replace(/^https?:\/\//, "");
  const host = legacyFormat || stripped !== key ? (stripped.split("/")[0] as string) : stripped;
  return normalizeRegistry(host);
}

/** undefined when the entry holds nothing usable (docker writes {} when a helper is used). */
function decodeEntry(path: string, key: string, entry: AuthEntry): Credentials | undefined {
  if (typeof entry.identitytoken === "string" && entry.identitytoken !== "") return { identityToken: entry.identitytoken };
  if (typeof entry.auth !== "string" || entry.auth === "") return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(entry.auth)) {
    throw new PodError(`reading credentials for ${key} from ${path}: the auth field is not valid base64`, {
      hint: `run \`pod login ${key}\` again`,
    });
  }
  const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, "") };
}

function findInFile(file: AuthFile, registry: string, repository: string): Credentials | undefined {
  const doc = readDocument(file.path);
  if (!doc) return undefined;
  const auths = authsOf(file, doc);
  // Most specific first: host/ns/repo, host/ns, host. The legacy format only knows hosts.
  const keys: string[] = [];
  if (file.legacyFormat) keys.push(registry);
  else for (let key = `${registry}/${repository}`; ; key = key.slice(0, key.lastIndexOf("/"))) {
    keys.push(key);
    if (!key.includes("/")) break;
  }
  for (const key of keys) {
    const entry = auths[key];
    if (entry) return decodeEntry(file.path, key, entry);
  }
  const wanted = normalizeRegistry(registry);
  for (const [key, entry] of Object.entries(auths)) {
    if (normalizeKey(key, file.legacyFormat) === wanted) return decodeEntry(file.path, key, entry);
  }
  return undefined;
}

/** Credentials for registry/repository from the first auth file that has a usable entry. */
export function lookupCredentials(registry: string, repository: string, env: Env = process.env): Credentials | undefined {
  for (const file of authFiles(env)) {
    const found = findInFile(file, registry, repository);
    if (found) return found;
  }
  return undefined;
}

/** Checks a key is host[:port][/namespace...] as podman login accepts it. */
function checkKey(key: string): void {
  const slash = key.indexOf("/");
  const problem = /^https?:\/\//.test(key)
    ? "it contains an http(s):// prefix"
    : key.includes("@")
      ? "it contains '@'"
      : slash >= 0 && key.slice(slash + 1).includes(":")
        ? "it contains ':' after host[:port]"
        : key === "" || slash === 0
          ? "it has no host"
          : undefined;
  if (problem) {
    throw new PodError(`invalid credentials key ${JSON.stringify(key)}: ${problem}`, {
      hint: "use a registry (quay.io, localhost:5000) or a repository namespace (quay.io/team/app)",
    });
  }
}

/** Writes doc to path through a 0600 temp file in the same directory, then rename; never a half-written file. */
function writeDocument(path: string, doc: Document): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${randomBytes(6).toString("hex")}.auth.json.tmp`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(doc, null, "\t")}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch (cleanup) {
      if (!isNotFound(cleanup)) throw new PodError(`removing ${tmp}: ${(cleanup as Error).message}`, { cause: cleanup });
    }
    throw new PodError(`writing credentials file ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Edits the write file's auths map; other keys and top-level fields are kept. Returns the path. */
function editAuths(env: Env, edit: (auths: Record<string, AuthEntry>) => boolean): string {
  const path = authFileForWrite(env);
  const doc = readDocument(path) ?? {};
  const file = { path, legacyFormat: false };
  const auths = { ...authsOf(file, doc) };
  if (edit(auths)) writeDocument(path, { ...doc, auths });
  return path;
}

/** Stores username:password under key (a registry or namespace); returns the file written. */
export function saveCredentials(key: string, username: string, password: string, env: Env = process.env): string {
  checkKey(key);
  return editAuths(env, (auths) => {
    auths[key] = { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") };
    return true;
  });
}

/** Removes the entry stored under key; false when there was none. */
export function removeCredentials(key: string, env: Env = process.env): boolean {
  checkKey(key);
  let removed = false;
  editAuths(env, (auths) => {
    removed = Object.hasOwn(auths, key);
    delete auths[key];
    return removed;
  });
  return removed;
}

/** Empties the auths map of the write file (other top-level fields stay). */
export function removeAllCredentials(env: Env = process.env): void {
  editAuths(env, (auths) => {
    const had = Object.keys(auths).length > 0;
    for (const key of Object.keys(auths)) delete auths[key];
    return had;
  });
}
