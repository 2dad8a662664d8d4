// The two things doctor tries for real instead of guessing from files: that
// the storage root can be created as ours, and that the kernel mounts overlay
// inside pod's user namespace (the same child `pod unshare` starts, which has
// a mount namespace of its own, so nothing is mounted on the host).
import { chmodSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "../config/index.ts";
import { PodError } from "../errors.ts";
import { Store } from "../store/index.ts";
import { runInStorageNamespace } from "../userns/index.ts";
import type { Probes } from "./checks.ts";
import { findTool } from "./facts.ts";
import type { Env } from "./host.ts";

export function probeStorage(paths: Paths): Probes["storage"] {
  try {
    new Store(paths).init();
    return { ok: true };
  } catch (e) {
    if (!(e instanceof PodError)) throw e;
    return { ok: false, error: e.message, hint: e.hint };
  }
}

/** Removes the probe's dirs; overlay leaves w/work with mode 000, ours to open again. */
function removeProbeDir(dir: string): void {
  try {
    chmodSync(join(dir, "w", "work"), 0o700);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Call after probeStorage succeeded: the probe works under <root>/tmp, on the file system containers use. */
export async function probeOverlay(paths: Paths, env: Env): Promise<Probes["overlay"]> {
  if (process.getuid!() === 0) return { skipped: "running as root, where the probe would mount on the host" };
  const sh = findTool("sh", env).path;
  const mount = findTool("mount", env).path;
  if (!sh || !mount) return { skipped: "sh or mount(8) is not installed" };
  // named <pid>-… so that a killed doctor's leftovers are swept like any other tmp/ entry
  const dir = join(paths.root, "tmp", `${process.pid}-doctor-overlay`);
  for (const d of ["l", "u", "w", "m"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
  const script = `${mount} -t overlay overlay -o lowerdir=l,upperdir=u,workdir=w,userxattr m 2>err`;
  try {
    const code = await runInStorageNamespace([sh, "-c", script], { runroot: paths.runroot, cwd: dir, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
    if (code === 0) return { ok: true };
    let why = "";
    try {
      why = readFileSync(join(dir, "err"), "utf8").trim().split("\n")[0] ?? "";
    } catch (e) {
      why = `mount exited ${code} (${(e as Error).message})`;
    }
    return { ok: false, error: why || `mount exited ${code}` };
  } catch (e) {
    if (!(e instanceof PodError)) throw e;
    return { ok: false, error: e.message };
  } finally {
    removeProbeDir(dir);
  }
}
