// The `pod secret` verbs (create, ls, inspect, rm, exists) and the shapes
// podman prints for them, and what run/create and a start need: --secret
// values resolved to references at create, and each start's files and
// variables. A secret may be removed while containers name it, as in
// podman; such a container fails at its next start.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import type { Paths } from "../config/index.ts";
import { timeAgo } from "../output/index.ts";
import { goTimeString } from "../events/index.ts";
import { storageIdOf, type SecretFacts, type SecretRef } from "../runtime/index.ts";
import type { Store } from "../store/index.ts";
import { createSecret, deleteSecrets, findSecret, getSecret, listSecrets, noSuchSecret, secretData, secretsDir, type SecretRecord } from "./records.ts";
import { parseSecretFlag } from "./spec.ts";

/** Where the data of `secret create` comes from: a file, stdin (`-`), or with --env the variable named. */
export async function readSecretSource(source: string, fromEnv: boolean): Promise<Uint8Array> {
  if (fromEnv) {
    const v = process.env[source];
    if (v === undefined) throw new PodError(`cannot create secret: environment variable ${source} is not set`, { hint: `export ${source}=VALUE first, or drop --env to read a file` });
    return new TextEncoder().encode(v);
  }
  if (source === "-") return new Uint8Array(await Bun.stdin.arrayBuffer());
  try {
    return readFileSync(source);
  } catch (e) {
    throw new PodError(`reading secret data from ${source}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, {
      hint: "give a readable file, or - to read the data from stdin",
      cause: e,
    });
  }
}

/** `secret create --driver-opts k=v,k2=v2` (several allowed), as podman's stringToString reads them; the file driver's `path` is pod's own. */
export function parseDriverOptions(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of values.flatMap((v) => v.split(",")).filter(Boolean)) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid --driver-opts ${JSON.stringify(item)}: must be formatted as key=value`, { hint: "pod secret create --driver-opts key=value NAME FILE" });
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  if ("path" in out)
    throw new UsageError("--driver-opts path=… cannot move the file driver's data: pod keeps it under its store's secrets directory", { hint: "leave path= out" });
  return out;
}

/** `secret create` (`replace`: --replace); returns the new secret's ID. */
export async function createNamedSecret(
  paths: Paths,
  name: string,
  data: Uint8Array,
  meta: { labels?: Record<string, string>; driverOptions?: Record<string, string> } = {},
  replace = false,
): Promise<string> {
  const labels = meta.labels && Object.keys(meta.labels).length ? meta.labels : undefined;
  const driverOptions = meta.driverOptions && Object.keys(meta.driverOptions).length ? meta.driverOptions : undefined;
  return (await createSecret(paths, name, data, { ...(labels ? { labels } : {}), ...(driverOptions ? { driverOptions } : {}) }, replace)).id;
}

/** `secret inspect --pretty`: podman's human-readable report, a blank line between secrets. */
export function prettySecret(v: ReturnType<typeof secretInspect>): string {
  const labels = Object.entries(v.Spec.Labels).map(([k, val]) => ` - ${val === "" ? k : `${k}=${val}`}\n`);
  return [
    `ID:              ${v.ID}\n`,
    `Name:              ${v.Spec.Name}\n`,
    "Labels:\n",
    ...labels,
    `Driver:            ${v.Spec.Driver.Name}\n`,
    `Created at:        ${goTimeString(v.CreatedAt)}\n`,
    `Updated at:        ${goTimeString(v.UpdatedAt)}\n`,
  ].join("");
}

/** `secret inspect`: podman's SecretInfoReport; its SecretData is the data with --showsecret, else absent (podman omits it empty). */
export function secretInspect(paths: Paths, s: SecretRecord, showSecret = false) {
  const view = {
    ID: s.id,
    CreatedAt: s.createdAt,
    UpdatedAt: s.updatedAt,
    Spec: { Name: s.name, Driver: { Name: s.driver, Options: { ...s.driverOptions, path: join(secretsDir(paths), "filedriver") } }, Labels: { ...s.labels } as Record<string, string> },
    SecretData: showSecret ? secretData(paths, s.id, s.name).toString("utf8") : "",
  };
  // podman's field is omitempty: without the data JSON leaves it out, while a template still reads "" (a hidden property)
  if (!showSecret) Object.defineProperty(view, "SecretData", { value: "", enumerable: false });
  return view;
}

/** `secret ls`: the fields its table and templates read (podman's listing reporter). */
export function secretListView(s: SecretRecord, now = Date.now()) {
  return { ID: s.id, Name: s.name, Driver: s.driver, CreatedAt: timeAgo(s.createdAt, now), UpdatedAt: timeAgo(s.updatedAt, now) };
}

export type SecretListView = ReturnType<typeof secretListView>;

const FILTER_KEYS = ["name", "id"];

/** podman matches name= and id= as regular expressions; several values of a key match any, different keys all. */
export function listSecretViews(paths: Paths, filterValues: string[]): SecretListView[] {
  const byKey = new Map<string, RegExp[]>();
  for (const f of filterValues) {
    const eq = f.indexOf("=");
    const key = f.slice(0, eq);
    if (eq <= 0 || !FILTER_KEYS.includes(key)) throw new UsageError(`invalid filter ${JSON.stringify(f)}`, { hint: "secret filters: name=, id=" });
    let re: RegExp;
    try {
      re = new RegExp(f.slice(eq + 1));
    } catch (e) {
      throw new UsageError(`invalid filter ${JSON.stringify(f)}: ${(e as Error).message}`, { hint: "name= and id= take regular expressions" });
    }
    byKey.set(key, [...(byKey.get(key) ?? []), re]);
  }
  return listSecrets(paths)
    .filter((s) => [...byKey].every(([k, res]) => res.some((re) => re.test(k === "name" ? s.name : s.id))))
    .map((s) => secretListView(s));
}

/** `secret inspect`: the reports of the secrets found and an error for each that is not one. */
export function inspectSecrets(paths: Paths, refs: string[], all: boolean, showSecret = false): { views: ReturnType<typeof secretInspect>[]; errors: PodError[] } {
  if (all) return { views: listSecrets(paths).map((s) => secretInspect(paths, s, showSecret)), errors: [] };
  const views: ReturnType<typeof secretInspect>[] = [];
  const errors: PodError[] = [];
  for (const r of refs) {
    const s = findSecret(paths, r);
    if (s) views.push(secretInspect(paths, s, showSecret));
    else errors.push(noSuchSecret(r));
  }
  return { views, errors };
}

/** `secret rm`: removes the named secrets (all with `all`); `ignore` passes over missing ones. Returns the removed IDs. */
export async function removeSecrets(paths: Paths, refs: string[], o: { all: boolean; ignore: boolean }): Promise<{ removed: string[]; errors: PodError[] }> {
  const errors: PodError[] = [];
  const ids: string[] = [];
  for (const r of o.all ? [] : refs) {
    const s = findSecret(paths, r);
    if (s) ids.push(s.id);
    else if (!o.ignore) errors.push(noSuchSecret(r));
  }
  const removed = await deleteSecrets(paths, o.all ? listSecrets(paths).map((s) => s.id) : [...new Set(ids)]);
  return { removed, errors };
}

export function secretExists(paths: Paths, ref: string): boolean {
  return findSecret(paths, ref) !== undefined;
}

/** run/create: parses --secret values and resolves each to its secret's ID; two on one target fail here. */
export function resolveSecretRefs(paths: Paths, values: string[]): SecretRef[] {
  const refs = values.map(parseSecretFlag).map((r) => ({ ...r, id: getSecret(paths, r.name).id }));
  const seen = new Set<string>();
  for (const r of refs) {
    const key = `${r.type}:${r.target}`;
    if (seen.has(key)) throw new UsageError(`two --secret values use the ${r.type === "env" ? "variable" : "path"} ${r.target}`, { hint: "give each secret its own target=" });
    seen.add(key);
  }
  return refs;
}

/**
 * A start's secrets: type=env ones become variables; each type=mount secret
 * is a file in `dir` (the container's runtime directory, never the store),
 * which `write` makes once the container's id maps are known, owned as the
 * container sees uid=/gid= and with its mode.
 */
export function prepareSecrets(
  store: Store,
  refs: SecretRef[] | undefined,
  dir: string,
): { facts: SecretFacts | undefined; write: (maps: { container: { uid: number[]; gid: number[] }; storage: { uid: number[]; gid: number[] } }) => Promise<void> } {
  if (!refs?.length) return { facts: undefined, write: async () => {} };
  const facts: SecretFacts = { mounts: [], env: {} };
  const files: { ref: SecretRef; path: string; data: Buffer }[] = [];
  const secretsDir = join(dir, "secrets");
  refs.forEach((r, i) => {
    // by name, as podman looks a container's secrets up at each start: a --replace'd secret gives its new data
    const data = secretData(store.paths, findSecret(store.paths, r.name)?.id ?? r.id ?? "", r.name);
    if (r.type === "env") facts.env[r.target] = data.toString("utf8");
    else {
      const path = join(secretsDir, `${i}-${r.name}`);
      files.push({ ref: r, path, data });
      facts.mounts.push({ source: path, target: r.target });
    }
  });
  const write = async (maps: { container: { uid: number[]; gid: number[] }; storage: { uid: number[]; gid: number[] } }) => {
    rmSync(secretsDir, { recursive: true, force: true });
    if (!files.length) return;
    mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
    const owned: { path: string; uid: number; gid: number; mode: number }[] = [];
    for (const { ref: r, path, data } of files) {
      const uid = storageIdOf(maps.container.uid, maps.storage.uid, r.uid);
      const gid = storageIdOf(maps.container.gid, maps.storage.gid, r.gid);
      if (uid === undefined || gid === undefined)
        throw new PodError(`secret ${r.name}: uid ${r.uid} or gid ${r.gid} has no id in the container's user namespace`, {
          hint: "give uid= and gid= the container maps (see /proc/self/uid_map inside it)",
        });
      writeFileSync(path, data, { mode: 0o600 });
      // the user's own files need no namespace: only owners other than the user do
      if (uid === 0 && gid === 0) chmodSync(path, r.mode);
      else owned.push({ path, uid, gid, mode: r.mode });
    }
    await store.chownFiles(owned);
  };
  return { facts, write };
}
