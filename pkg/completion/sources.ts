// Dynamic candidates: what only pod's own state can tell. Each reads one
// small file or directory (images.json, containers/*/container.json, the
// auth files) and nothing else, so a TAB costs a few milliseconds.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { volumesPath, type Paths } from "../config/index.ts";
import { Store } from "../store/index.ts";
// records.ts and state.ts, not the folder's index: the index pulls in `run` and the native core, which a TAB must not pay for
import { listRecords } from "../container/record/records.ts";
import { statusOf } from "../container/record/state.ts";
import { authFilePaths, loadRegistriesConfig } from "../image/index.ts";
// records.ts, not the folder's index, for the same reason
import { listVolumes } from "../volume/records.ts";
// records.ts: a TAB reads secrets.json only (never the data)
import { listSecrets } from "../secret/records.ts";
import type { Item, Source } from "./spec.ts";

/** docker.io/library/alpine:3 → alpine:3; what people type and pod resolves back. */
export function shortImageName(name: string): string {
  for (const p of ["docker.io/library/", "docker.io/", "localhost/"]) if (name.startsWith(p)) return name.slice(p.length);
  return name;
}

/** repo:tag names (full and short) of every image; IDs too once the word looks like one. */
export function imageItems(paths: Paths, cur: string): Item[] {
  const items: Item[] = [];
  const wantIds = /^[0-9a-f]+$/.test(cur);
  for (const img of new Store(paths).images()) {
    const id = img.id.slice(0, 12);
    for (const n of img.names) {
      items.push({ name: n, description: `image ${id}` });
      const short = shortImageName(n);
      if (short !== n) items.push({ name: short, description: `image ${id}` });
    }
    if (wantIds) items.push({ name: id, description: img.names[0] ?? "<none>" });
  }
  return items;
}

/** Names of containers, and short IDs once the word looks like one; `only` keeps those in that state. */
export function containerItems(paths: Paths, only: "running" | "paused" | undefined, cur: string): Item[] {
  const wantIds = /^[0-9a-f]+$/.test(cur);
  return listRecords(paths.root)
    .map((r) => ({ r, status: statusOf(r) }))
    .filter(({ status }) => !only || status === only)
    .flatMap(({ r, status }) => [
      { name: r.name, description: `${status}, ${r.image}` },
      ...(wantIds ? [{ name: r.id.slice(0, 12), description: `${r.name}, ${r.image}` }] : []),
    ]);
}

/** Registries from the auth files (logged in) and registries.conf (search list and entries). */
export function registryItems(env: Record<string, string | undefined>): Item[] {
  const seen = new Map<string, string>();
  for (const file of authFilePaths(env)) {
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
    } catch {
      continue; // absent or unreadable: the next auth file may still list some
    }
    const auths = (file.endsWith(".dockercfg") ? doc : doc.auths) as Record<string, unknown> | undefined;
    for (const k of Object.keys(auths ?? {})) if (!seen.has(k)) seen.set(k, "logged in");
  }
  const conf = loadRegistriesConfig(env);
  for (const r of conf.unqualifiedSearchRegistries) if (!seen.has(r)) seen.set(r, "search registry");
  for (const r of conf.registries) if (r.prefix && !r.prefix.includes("*") && !seen.has(r.prefix)) seen.set(r.prefix, "registries.conf");
  return [...seen].map(([name, description]) => ({ name, description }));
}

export function sourceItems(source: Source, paths: Paths, cur: string, env: Record<string, string | undefined>): Item[] {
  switch (source) {
    case "images":
      return imageItems(paths, cur);
    case "containers":
      return containerItems(paths, undefined, cur);
    case "running-containers":
      return containerItems(paths, "running", cur);
    case "paused-containers":
      return containerItems(paths, "paused", cur);
    case "objects":
      return [...containerItems(paths, undefined, cur), ...imageItems(paths, cur)];
    case "registries":
      return registryItems(env);
    case "volumes":
      return listVolumes(volumesPath(paths)).map((v) => ({ name: v.name, description: v.anonymous ? "anonymous volume" : "volume" }));
    case "networks":
      return networkItems(paths);
    case "secrets":
      return listSecrets(paths).map((s) => ({ name: s.name, description: `secret ${s.id.slice(0, 12)}` }));
  }
}

/** The default network and the files of pkg/network's records, read directly (no lock a TAB would wait for). */
function networkItems(paths: Paths): Item[] {
  let files: string[] = [];
  try {
    files = readdirSync(join(paths.root, "networks")).filter((f) => f.endsWith(".json"));
  } catch {
    // no network made yet
  }
  return [{ name: "podman", description: "default network" }, ...files.map((f) => ({ name: f.slice(0, -5), description: "network" }))];
}
