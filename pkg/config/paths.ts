// Where pod keeps things. Storage (images, layers) survives reboots under
// $XDG_DATA_HOME/pod; runtime state that must not (pids, locks of live
// processes, compiler scratch) lives under $XDG_RUNTIME_DIR/pod.
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { mkdirSync, statSync } from "node:fs";
import { PodError } from "../errors.ts";
import type { EngineOptions } from "./engine.ts";

/** Where pod keeps things, and the engine-wide settings of the global flags (engine.ts). */
export type Paths = { root: string; runroot: string; engine?: EngineOptions };
type Env = Record<string, string | undefined>;

export function home(env: Env = process.env): string {
  return env.HOME || homedir();
}

export function configHome(env: Env = process.env): string {
  return env.XDG_CONFIG_HOME || join(home(env), ".config");
}

export function resolvePaths(flags: { root?: string; runroot?: string }, env: Env = process.env): Paths {
  const uid = process.getuid?.() ?? 0;
  const dataHome = env.XDG_DATA_HOME || join(home(env), ".local", "share");
  const defaultRoot = join(dataHome, "pod");
  const root = flags.root || env.POD_ROOT || defaultRoot;
  let runroot = flags.runroot || env.POD_RUNROOT;
  if (!runroot) {
    const xdg = env.XDG_RUNTIME_DIR;
    runroot = xdg && isOwnedDir(xdg, uid) ? join(xdg, "pod") : join("/tmp", `pod-run-${uid}`);
    // Each store has runtime state of its own (its containers' sockets, pids, locks): another
    // --root gets a sibling runroot named after it, so resetting one store leaves the others' alone.
    if (resolve(root) !== resolve(defaultRoot)) runroot += `-${storeTag(root)}`;
  }
  return { root, runroot };
}

/** Where volumes live: --volumepath, else <root>/volumes. */
export const volumesPath = (p: Paths): string => p.engine?.volumepath ?? join(p.root, "volumes");

/** The parent of containers' runtime dirs (attach socket, exec spec, helper pids): --tmpdir, else the runroot. */
export const containersRunPath = (p: Paths): string => join(p.engine?.tmpdir ?? p.runroot, "containers");

/** A short, stable name for a store, from its absolute path. */
export function storeTag(root: string): string {
  return new Bun.CryptoHasher("sha256").update(resolve(root)).digest("hex").slice(0, 12);
}

function isOwnedDir(p: string, uid: number): boolean {
  try {
    const s = statSync(p);
    return s.isDirectory() && s.uid === uid;
  } catch {
    return false;
  }
}

/** Creates dir (mode 0700) if needed and checks that it is ours, so another user cannot plant files there. */
export function ensurePrivateDir(dir: string): string {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new PodError(`creating ${dir}: ${(e as Error).message}`, { hint: "choose another location with --root/--runroot", cause: e });
  }
  const uid = process.getuid?.() ?? 0;
  const s = statSync(dir);
  if (s.uid !== uid)
    throw new PodError(`${dir} belongs to uid ${s.uid}, not to you (uid ${uid})`, {
      hint: "remove it or choose another location with --root/--runroot",
    });
  return dir;
}
