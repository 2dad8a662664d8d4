// Secrets on disk, in podman's layout under the store root:
//   <root>/secrets/secrets.json                 the records (name, id, driver, times), no data
//   <root>/secrets/filedriver/secretsdata.json  the file driver's data: id -> base64
//   <root>/secrets/secrets.lock                 held while either file changes
// Both files are 0600 in 0700 directories and replaced atomically. The data
// is read only where a container starts (launch) and never copied anywhere
// else in the store.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { NoSuchSecret, PodError, UsageError } from "../errors.ts";
import { ensurePrivateDir, type Paths } from "../config/index.ts";
import { withLock, writeFileAtomic } from "../store/index.ts";

export type SecretRecord = {
  id: string;
  name: string;
  driver: "file";
  createdAt: string;
  updatedAt: string;
  /** --label (podman's Spec.Labels) */
  labels?: Record<string, string>;
  /** --driver-opts (podman's Spec.Driver.Options, beside the file driver's own path) */
  driverOptions?: Record<string, string>;
};

/** podman's limits (containers/common pkg/secrets): names as volume names, up to 253 bytes; data 1 byte to 512000. */
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const MAX_SECRET_SIZE = 512000;

export const secretsDir = (paths: Pick<Paths, "root">) => join(paths.root, "secrets");
const recordsFile = (paths: Pick<Paths, "root">) => join(secretsDir(paths), "secrets.json");
const dataDir = (paths: Pick<Paths, "root">) => join(secretsDir(paths), "filedriver");
const dataFile = (paths: Pick<Paths, "root">) => join(dataDir(paths), "secretsdata.json");

export function checkSecretName(name: string): string {
  if (!NAME.test(name) || name.length > 253)
    throw new UsageError(`invalid secret name ${JSON.stringify(name)}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 253 characters`, {
      hint: "use letters, digits, _, . and -, starting with a letter or digit",
    });
  return name;
}

function readJson<T>(file: string, empty: T): T {
  if (!existsSync(file)) return empty;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch (e) {
    throw new PodError(`reading ${file}: ${(e as Error).message}`, { hint: "the secrets file is damaged: remove the secrets (pod secret rm -a) and create them again" });
  }
}

export function listSecrets(paths: Pick<Paths, "root">): SecretRecord[] {
  return readJson<SecretRecord[]>(recordsFile(paths), []);
}

/** A secret by full name, full ID or unique ID prefix (podman's lookup); undefined when none. */
export function findSecret(paths: Pick<Paths, "root">, ref: string): SecretRecord | undefined {
  const all = listSecrets(paths);
  const exact = all.find((s) => s.name === ref || s.id === ref);
  if (exact) return exact;
  const prefixed = /^[0-9a-f]+$/.test(ref) ? all.filter((s) => s.id.startsWith(ref)) : [];
  if (prefixed.length > 1) throw new PodError(`more than one secret has an ID starting with ${ref}`, { hint: "give more digits of the ID, or the name" });
  return prefixed[0];
}

export function noSuchSecret(ref: string): NoSuchSecret {
  return new NoSuchSecret(`no secret with name or id ${JSON.stringify(ref)}: no such secret`, { hint: "`pod secret ls` lists secrets" });
}

/** The secret's record, or a NoSuchSecret naming `ref`. */
export function getSecret(paths: Pick<Paths, "root">, ref: string): SecretRecord {
  const s = findSecret(paths, ref);
  if (!s) throw noSuchSecret(ref);
  return s;
}

function withSecretsLock<T>(paths: Pick<Paths, "root">, fn: () => T | Promise<T>): Promise<T> {
  ensurePrivateDir(dataDir(paths));
  return withLock(join(secretsDir(paths), "secrets.lock"), "write", fn);
}

/** 25 hex digits, as podman's secret IDs. */
const newSecretId = () => Buffer.from(crypto.getRandomValues(new Uint8Array(13))).toString("hex").slice(0, 25);

/**
 * Stores a new secret; a name in use is an error (podman: "secret name in
 * use") unless `replace`: then the old secret's data goes, and the name gets
 * a new ID, the new labels and options, its first creation time and a new
 * update time, as containers/common's Store does.
 */
export async function createSecret(
  paths: Pick<Paths, "root">,
  name: string,
  data: Uint8Array,
  meta: Pick<SecretRecord, "labels" | "driverOptions"> = {},
  replace = false,
): Promise<SecretRecord> {
  checkSecretName(name);
  if (data.length === 0 || data.length > MAX_SECRET_SIZE)
    throw new UsageError(`secret data must be larger than 0 and less than ${MAX_SECRET_SIZE} bytes`, { hint: "pass a non-empty file, or - to read the data from stdin" });
  return withSecretsLock(paths, () => {
    const listed = listSecrets(paths);
    const old = listed.find((s) => s.name === name);
    if (old && !replace)
      throw new PodError(`${name}: secret name in use`, { hint: `replace it (pod secret create --replace ${name} …), remove it first (pod secret rm ${name}) or pick another name` });
    const all = listed.filter((s) => s !== old);
    let id = newSecretId();
    while (listed.some((s) => s.id === id)) id = newSecretId();
    const now = new Date().toISOString();
    const rec: SecretRecord = { id, name, driver: "file", createdAt: old?.createdAt ?? now, updatedAt: now, ...meta };
    const store = readJson<Record<string, string>>(dataFile(paths), {});
    if (old) delete store[old.id];
    store[id] = Buffer.from(data).toString("base64");
    // data first: a record never names data that is not there
    writeFileAtomic(dataFile(paths), JSON.stringify(store), 0o600);
    writeFileAtomic(recordsFile(paths), JSON.stringify([...all, rec], null, 2), 0o600);
    return rec;
  });
}

/** Removes secrets by record; returns their IDs. */
export async function deleteSecrets(paths: Pick<Paths, "root">, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  return withSecretsLock(paths, () => {
    const all = listSecrets(paths);
    const gone = all.filter((s) => ids.includes(s.id)).map((s) => s.id);
    writeFileAtomic(recordsFile(paths), JSON.stringify(all.filter((s) => !gone.includes(s.id)), null, 2), 0o600);
    const store = readJson<Record<string, string>>(dataFile(paths), {});
    for (const id of gone) delete store[id];
    writeFileAtomic(dataFile(paths), JSON.stringify(store), 0o600);
    return gone;
  });
}

/** The secret's bytes (for a container being started); a secret removed since the container was made is an error. */
export function secretData(paths: Pick<Paths, "root">, id: string, name: string): Buffer {
  const b64 = readJson<Record<string, string>>(dataFile(paths), {})[id];
  if (b64 === undefined)
    throw new PodError(`secret ${name} (${id}) no longer exists: no such secret`, { hint: `create it again (pod secret create ${name} FILE) and create the container again` });
  return Buffer.from(b64, "base64");
}
