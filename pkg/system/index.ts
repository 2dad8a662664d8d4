// Whole-installation operations: `pod unshare`, `pod system reset`, and the
// reports and clean-up of `pod info`, `pod version`, `pod system df`,
// `pod system prune` and `pod system check`. Nothing here prints: cmd/system.ts does.
import { existsSync, statSync } from "node:fs";
import { join, isAbsolute, relative } from "node:path";
import { PodError } from "../errors.ts";
import type { Paths } from "../config/index.ts";
import { containersRunPath, ensurePrivateDir, volumesPath } from "../config/index.ts";
import { runInStorageNamespace } from "../userns/index.ts";
import { Store } from "../store/index.ts";
import { stopAllContainers } from "../container/index.ts";
import { stopUserNetworks } from "../network/index.ts";

export { systemInfo, versionInfo, ansicTime, type VersionInfo } from "./info.ts";
export { diskUsage, diskUsageVerbose, compactSize, dfRow, type DfRow, type DfVerbose } from "./df.ts";
export { pruneSystem, type PruneReport } from "./prune.ts";
export { checkStorage, parseMaxAge, problemLine, removedLine, type CheckReport, type Problem } from "./check.ts";
export { isRunning } from "./containers.ts";
export { toYaml } from "./yaml.ts";
export { discardStdout } from "./noout.ts";

function resolveExecutable(cmd: string, env = process.env): string {
  if (cmd.includes("/")) return isAbsolute(cmd) ? cmd : join(process.cwd(), cmd);
  for (const dir of (env.PATH || "/usr/local/bin:/usr/bin:/bin").split(":")) {
    const p = join(dir || ".", cmd);
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      continue;
    }
  }
  throw new PodError(`${cmd}: executable file not found in $PATH`, { exit: 127, hint: "check the command name, or give its full path" });
}

/** Runs argv (default $SHELL) as root of the storage namespace; resolves with its exit status. */
export async function runUnshare(paths: Paths, argv: string[]): Promise<number> {
  const cmd = argv.length ? argv : [process.env.SHELL || "/bin/sh"];
  const path = resolveExecutable(cmd[0]!);
  ensurePrivateDir(paths.runroot);
  const env = { ...process.env, CONTAINERS_GRAPHROOT: paths.root, CONTAINERS_RUNROOT: paths.runroot };
  // The command owns the terminal while it runs: ^C is for it, not for pod.
  const ignore = () => {};
  for (const s of ["SIGINT", "SIGQUIT", "SIGTSTP"] as const) process.on(s, ignore);
  try {
    return await runInStorageNamespace([path, ...cmd.slice(1)], { runroot: paths.runroot, env, cwd: process.cwd() });
  } finally {
    for (const s of ["SIGINT", "SIGQUIT", "SIGTSTP"] as const) process.off(s, ignore);
  }
}

/** Removes storage and runtime state, files owned by subordinate ids included. */
export async function resetStorage(paths: Paths): Promise<void> {
  // --volumepath and --tmpdir may put volumes and containers' runtime state outside root and runroot
  const outside = (p: string, parent: string) => relative(parent, p).startsWith("..") || isAbsolute(relative(parent, p));
  const extra = [volumesPath(paths), containersRunPath(paths)].filter((p) => outside(p, paths.root) && outside(p, paths.runroot) && existsSync(p));
  const targets = [paths.root, paths.runroot, ...extra].filter((p) => existsSync(p));
  if (!targets.length) return;
  ensurePrivateDir(paths.runroot);
  // As podman: the store's containers are stopped first, so no process outlives the record that named it.
  await stopAllContainers(paths);
  stopUserNetworks(paths.runroot);
  const store = new Store(paths);
  // The worker's job file lives in runroot, which is removed last by this process itself.
  await store.removeTrees([paths.root, ...extra]);
  const { rmSync } = await import("node:fs");
  rmSync(paths.runroot, { recursive: true, force: true });
}
