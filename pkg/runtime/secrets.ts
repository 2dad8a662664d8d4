// --secret at the start of a container, as a plan: a secret of type=mount is
// a file pod writes into the container's runtime directory at each start and
// binds read-only at its target; one of type=env is a variable. The record
// keeps only the reference (SecretRef); the data is read at the start, by
// pkg/container through pkg/secret, and handed in here. Pure.
import type { MountOp } from "../native/plan.ts";
import { resolveImagePath } from "./imagefs.ts";

/** One --secret as the container record keeps it: a reference, never the data. */
export type SecretRef = {
  /** the secret's name as given */
  name: string;
  /** the secret's ID, resolved when the container is created */
  id?: string;
  type: "mount" | "env";
  /** the file's path in the container (mount) or the variable's name (env) */
  target: string;
  uid: number;
  gid: number;
  mode: number;
};

/** What a start gets from its secrets: files written on the host to bind, and variables. */
export type SecretFacts = { mounts: { source: string; target: string }[]; env: Record<string, string> };

/** Each secret file is bound read-only over a file made at its target (through the image's symlinks, as other file binds). */
export function secretMountOps(layerDirs: string[], facts: SecretFacts | undefined): MountOp[] {
  return (facts?.mounts ?? []).flatMap((m): MountOp[] => {
    const target = resolveImagePath(layerDirs, m.target)?.path ?? m.target;
    return [
      { op: "touch", target, mode: 0o644 },
      { op: "bind", source: m.source, target, recursive: false, readonly: true },
    ];
  });
}

/** The environment with the secrets' variables set last: they win over -e and the image, as in podman. */
export function withSecretEnv(env: string[], facts: SecretFacts | undefined): string[] {
  const add = Object.entries(facts?.env ?? {});
  if (!add.length) return env;
  const names = new Set(add.map(([k]) => k));
  return [...env.filter((e) => !names.has(e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")))), ...add.map(([k, v]) => `${k}=${v}`)];
}

/**
 * The id the storage namespace (pkg/userns: 0 the user, 1.. its subordinate
 * ids) gives a file that the container must see as `id`: through the
 * container's map to the host id, then back through the storage map.
 * Undefined when either map lacks it.
 */
export function storageIdOf(containerMap: number[], storageMap: number[], id: number): number | undefined {
  const through = (map: number[], from: number, fromCol: 0 | 1): number | undefined => {
    for (let i = 0; i + 2 < map.length; i += 3) {
      const start = map[i + fromCol]!;
      if (from >= start && from < start + map[i + 2]!) return map[i + 1 - fromCol]! + (from - start);
    }
    return undefined;
  };
  const host = through(containerMap, id, 0);
  return host === undefined ? undefined : through(storageMap, host, 1);
}
