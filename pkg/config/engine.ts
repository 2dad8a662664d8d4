// Engine-wide settings from podman's global flags (--storage-driver,
// --storage-opt, --tmpdir, --volumepath, --cgroup-manager, --runtime, --conmon,
// --network-cmd-path, --events-backend): checked once here, so a value pod cannot honour is
// refused before anything runs, and carried in Paths to whatever needs them.
import { accessSync, constants, statSync } from "node:fs";
import { resolve } from "node:path";
import { PodError } from "../errors.ts";

export type EngineOptions = {
  /** "vfs" forces the copy driver; "overlay" (or nothing) is pod's own choice: kernel overlay, fuse-overlayfs, copy. */
  storageDriver?: "overlay" | "vfs";
  /** overlay.mount_program: this fuse-overlayfs binary mounts every container's root (no kernel overlay, no fallback). */
  mountProgram?: string;
  /** where containers' runtime state lives (attach sockets, exec specs, network helper pids); default the runroot */
  tmpdir?: string;
  /** where volumes live; default <root>/volumes */
  volumepath?: string;
  /** --network-cmd-path: the slirp4netns binary, wherever pod uses slirp4netns (podman's meaning) */
  networkCmdPath?: string;
  /** --events-backend: "none" writes no events; default "file" (podman's file backend, pkg/events) */
  eventsBackend?: "file" | "none";
};

export type EngineFlags = {
  "storage-driver"?: string;
  "storage-opt"?: string[];
  tmpdir?: string;
  volumepath?: string;
  "cgroup-manager"?: string;
  runtime?: string;
  conmon?: string;
  "network-cmd-path"?: string;
  "events-backend"?: string;
};

export const STORAGE_DRIVERS = ["overlay", "vfs"] as const;
const driversHint = "pod has --storage-driver overlay (kernel overlay, else fuse-overlayfs, else a copy of the layers) and vfs (always a copy)";

function executable(path: string, flag: string, what: string): string {
  const abs = resolve(path);
  let isFile = false;
  try {
    isFile = statSync(abs).isFile();
    if (isFile) accessSync(abs, constants.X_OK);
  } catch (e) {
    const why = isFile ? "not executable" : (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new PodError(`${flag}: ${abs}: ${why}`, { hint: `give the full path of an executable ${what}` });
  }
  if (!isFile) throw new PodError(`${flag}: ${abs}: not a regular file`, { hint: `give the full path of an executable ${what}` });
  return abs;
}

function storageOptions(opts: string[], driver: EngineOptions["storageDriver"]): Pick<EngineOptions, "mountProgram"> {
  const out: Pick<EngineOptions, "mountProgram"> = {};
  for (const o of opts) {
    // podman: an empty --storage-opt drops storage.conf's options; pod reads none, so there is nothing to drop
    if (o === "") continue;
    const eq = o.indexOf("=");
    const [key, value] = eq > 0 ? [o.slice(0, eq), o.slice(eq + 1)] : [o, ""];
    if (key === "overlay.mount_program" || key === "mount_program") {
      if (driver === "vfs") throw new PodError(`--storage-opt ${o}: an overlay option, but --storage-driver is vfs`, { hint: "drop one of the two" });
      if (!value) throw new PodError(`--storage-opt ${o}: needs a path`, { hint: "--storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs" });
      out.mountProgram = executable(value, `--storage-opt ${key}`, "fuse-overlayfs");
      continue;
    }
    throw new PodError(`unsupported storage option "${o}"`, { hint: "pod honours --storage-opt overlay.mount_program=PATH (a fuse-overlayfs binary) only" });
  }
  return out;
}

/** Checks the global engine flags and turns them into EngineOptions; a value pod cannot honour is an error. */
export function engineOptions(f: EngineFlags): EngineOptions {
  const e: EngineOptions = {};
  const d = f["storage-driver"];
  if (d !== undefined) {
    if (!(STORAGE_DRIVERS as readonly string[]).includes(d))
      throw new PodError(`unsupported storage driver "${d}"`, { hint: driversHint });
    e.storageDriver = d as EngineOptions["storageDriver"];
  }
  Object.assign(e, storageOptions(f["storage-opt"] ?? [], e.storageDriver));
  if (f.tmpdir !== undefined) {
    if (!f.tmpdir) throw new PodError("--tmpdir: needs a directory", { hint: "--tmpdir /run/user/$UID/pod-tmp" });
    e.tmpdir = resolve(f.tmpdir);
  }
  if (f.volumepath !== undefined) {
    if (!f.volumepath) throw new PodError("--volumepath: needs a directory", { hint: "--volumepath ~/volumes" });
    e.volumepath = resolve(f.volumepath);
  }
  const cm = f["cgroup-manager"];
  if (cm === "systemd")
    throw new PodError("--cgroup-manager systemd: pod talks to no D-Bus, so it cannot ask systemd for cgroups", {
      hint: "use --cgroup-manager cgroupfs (pod's way: it writes the delegated cgroup v2 subtree itself), or drop the flag",
    });
  if (cm !== undefined && cm !== "cgroupfs")
    throw new PodError(`invalid cgroup manager "${cm}"`, { hint: "pod has --cgroup-manager cgroupfs only" });
  if (f.runtime !== undefined)
    throw new PodError(`--runtime ${f.runtime}: pod starts containers with its own native core, not with an OCI runtime`, {
      hint: "drop --runtime",
    });
  if (f.conmon !== undefined)
    throw new PodError(`--conmon ${f.conmon}: pod supervises containers with its own monitor (pod _monitor), not with conmon`, {
      hint: "drop --conmon",
    });
  // podman: an empty value means "look it up"; pod looks slirp4netns up on $PATH
  if (f["network-cmd-path"]) e.networkCmdPath = executable(f["network-cmd-path"], "--network-cmd-path", "slirp4netns");
  const eb = f["events-backend"];
  if (eb === "journald")
    throw new PodError("--events-backend journald: pod writes its events to a file, not to the systemd journal", {
      hint: "use --events-backend file (the default) or none",
    });
  if (eb !== undefined && eb !== "file" && eb !== "none")
    throw new PodError(`invalid events backend "${eb}"`, { hint: "pod has --events-backend file (the default) and none" });
  if (eb) e.eventsBackend = eb;
  return e;
}

/** The global flags that give a re-executed pod (the monitor) the same engine settings. */
export function engineArgv(e: EngineOptions | undefined): string[] {
  if (!e) return [];
  return [
    ...(e.storageDriver ? ["--storage-driver", e.storageDriver] : []),
    ...(e.mountProgram ? ["--storage-opt", `overlay.mount_program=${e.mountProgram}`] : []),
    ...(e.tmpdir ? ["--tmpdir", e.tmpdir] : []),
    ...(e.volumepath ? ["--volumepath", e.volumepath] : []),
    ...(e.networkCmdPath ? ["--network-cmd-path", e.networkCmdPath] : []),
    ...(e.eventsBackend ? ["--events-backend", e.eventsBackend] : []),
  ];
}
