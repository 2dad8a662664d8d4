// The storage user namespace: how pod becomes "root" over files owned by the
// user's subordinate ids. Layer extraction and removal run in a child re-exec
// of pod inside it (`pod unshare` is the same thing for people).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnInUserNamespace, spawnJoiningUserns, NativeSpawnError } from "../native/core.ts";
import { Stage } from "../native/protocol.ts";
import { PodError } from "../errors.ts";
import { log } from "../output/index.ts";
import { buildIdMap, readSubIds, type IdMap } from "./idmap.ts";

export { buildIdMap, parseSubIdFile, toHostId, mappedCount, type IdMap, type IdRange } from "./idmap.ts";

export type StorageMaps = { uid: IdMap; gid: IdMap; single: boolean; reason?: string };

let cached: StorageMaps | undefined;

function findOnPath(name: string, env = process.env): string | undefined {
  for (const dir of (env.PATH || "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The passwd name of uid (not $USER, which may be unset or wrong); the uid itself when it has none. */
function userNameOf(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f[2] === String(uid) && f[0]) return f[0];
    }
  } catch (e) {
    log.debug(`reading /etc/passwd: ${(e as Error).message}`);
  }
  return String(uid);
}

export function storageMaps(): StorageMaps {
  if (cached) return cached;
  const uid = process.getuid!();
  const gid = process.getgid!();
  const user = userNameOf(uid);
  const subuid = readSubIds("/etc/subuid", user, uid);
  const subgid = readSubIds("/etc/subgid", user, uid);
  let reason: string | undefined;
  if (!subuid.length || !subgid.length)
    reason = `no subordinate id range for user ${user} in /etc/subuid or /etc/subgid; fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user}`;
  else if (!findOnPath("newuidmap") || !findOnPath("newgidmap"))
    reason = "newuidmap/newgidmap not found in PATH; fix: sudo apt-get install uidmap";
  cached = reason
    ? { uid: [0, uid, 1], gid: [0, gid, 1], single: true, reason }
    : { uid: buildIdMap(uid, subuid), gid: buildIdMap(gid, subgid), single: false };
  return cached;
}

/** Warns about the single-id fallback once per boot (a marker in the runtime dir). */
export function warnSingleOnce(maps: StorageMaps, runroot: string): void {
  if (!maps.single) return;
  const marker = join(runroot, "single-id-warned");
  if (existsSync(marker)) {
    log.debug(`single-id mapping: ${maps.reason}`);
    return;
  }
  log.warn(`using a single-id user namespace: files owned by other users in images become yours (${maps.reason})`);
  try {
    writeFileSync(marker, "");
  } catch (e) {
    log.debug(`could not write ${marker}: ${(e as Error).message}`);
  }
}

/** How to run this very program again: the compiled binary, or bun + the entry script in development. */
export function selfCommand(): string[] {
  const main = Bun.main;
  return main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, main];
}

export type NsRunOptions = { runroot: string; env?: Record<string, string | undefined>; cwd?: string; newMountNs?: boolean };

/**
 * Runs argv (argv[0] an absolute path) as uid 0 of the storage user namespace
 * and resolves with its exit status. As real root no namespace is needed.
 */
export async function runInStorageNamespace(argv: string[], o: NsRunOptions): Promise<number> {
  const env = o.env ?? process.env;
  if (process.getuid!() === 0) {
    const p = Bun.spawn(argv, { env: env as Record<string, string>, cwd: o.cwd, stdio: ["inherit", "inherit", "inherit"] });
    return await p.exited;
  }
  const maps = storageMaps();
  warnSingleOnce(maps, o.runroot);
  let child;
  try {
    child = spawnInUserNamespace({
      path: argv[0]!,
      argv,
      env,
      cwd: o.cwd,
      maps: maps.single ? {} : { uid: maps.uid, gid: maps.gid },
      newMountNs: o.newMountNs ?? true,
      scratchDir: o.runroot,
    });
  } catch (e) {
    if (!(e instanceof NativeSpawnError)) throw e;
    if (e.stage === Stage.Exec)
      throw new PodError(`running ${argv[0]}: ${e.message}`, { exit: e.errno === 2 ? 127 : 126 });
    if (e.stage === Stage.Unshare)
      throw new PodError(`entering the user namespace: ${e.message}`, {
        hint: "user namespaces may be disabled: check `sysctl user.max_user_namespaces` (and kernel.unprivileged_userns_clone on older kernels)",
      });
    throw new PodError(`entering the user namespace: ${e.message}`, {
      hint: "check /etc/subuid and /etc/subgid for your user and that newuidmap/newgidmap are setuid root (sudo apt-get install uidmap)",
    });
  }
  return await child.wait();
}

/**
 * Runs argv (argv[0] an absolute path) as uid 0 of the user namespace of
 * process `pid`, a running container's PID 1: its ids are the container's,
 * and /proc/PID/root is that container's mounted root. Resolves with the exit status.
 */
export async function runInUsernsOf(pid: number, argv: string[], o: NsRunOptions): Promise<number> {
  try {
    return await spawnJoiningUserns(pid, { path: argv[0]!, argv, env: o.env ?? process.env, scratchDir: o.runroot }).wait();
  } catch (e) {
    if (!(e instanceof NativeSpawnError)) throw e;
    throw new PodError(`joining the user namespace of process ${pid}: ${e.message}`, {
      exit: e.stage === Stage.Exec ? 126 : 125,
      hint: "the container may have just stopped; run the command again",
    });
  }
}

/**
 * Starts argv as uid 0 of a new user namespace with the storage maps and a
 * network namespace of its own, detached from pod (a second fork, no
 * parent-death signal): a user network's namespace keeper. The process says
 * its own pid (the child returned here is the first fork, already ended).
 */
export async function startNetworkNamespaceDaemon(argv: string[], o: NsRunOptions, joinUsernsOf?: number): Promise<void> {
  const maps = storageMaps();
  let child;
  try {
    // after a crash: the user namespace the containers still run in, not a new one
    if (joinUsernsOf !== undefined) child = spawnJoiningUserns(joinUsernsOf, { path: argv[0]!, argv, env: o.env ?? process.env, scratchDir: o.runroot, newNetwork: true, daemon: true });
    else child = spawnInUserNamespace({
      path: argv[0]!,
      argv,
      env: o.env ?? process.env,
      cwd: o.cwd ?? "/",
      maps: maps.single ? {} : { uid: maps.uid, gid: maps.gid },
      newNetwork: true,
      daemon: true,
      newSession: true,
      scratchDir: o.runroot,
    });
  } catch (e) {
    if (!(e instanceof NativeSpawnError)) throw e;
    throw new PodError(`creating the user networks' namespace: ${e.message}`, {
      hint: "check /etc/subuid and /etc/subgid for your user and that newuidmap/newgidmap are setuid root (sudo apt-get install uidmap)",
    });
  }
  await child.wait();
}
