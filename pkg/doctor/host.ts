// Which files describe this host. Tests point them at temp files; people can
// only move /dev/net/tun, through POD_TUN_PATH (a test hook, documented in
// the README, that lets the e2e suite show doctor an unusable tun device).
import { readFileSync } from "node:fs";
import type { Paths } from "../config/index.ts";

export type HostFiles = {
  subuid: string;
  subgid: string;
  passwd: string;
  osRelease: string;
  tun: string;
  fuse: string;
  maxUserNamespaces: string;
  unprivilegedUsernsClone: string;
  apparmorRestrict: string;
  procCgroup: string;
  mountinfo: string;
};

export type Env = Record<string, string | undefined>;

/** Who is asking, where pod keeps things, and where the host's facts are. */
export type HostContext = { env: Env; uid: number; gid: number; user: string; paths: Paths; files: HostFiles };

export function defaultFiles(env: Env = process.env): HostFiles {
  return {
    subuid: "/etc/subuid",
    subgid: "/etc/subgid",
    passwd: "/etc/passwd",
    osRelease: "/etc/os-release",
    tun: env.POD_TUN_PATH || "/dev/net/tun",
    fuse: "/dev/fuse",
    maxUserNamespaces: "/proc/sys/user/max_user_namespaces",
    unprivilegedUsernsClone: "/proc/sys/kernel/unprivileged_userns_clone",
    apparmorRestrict: "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
    procCgroup: "/proc/self/cgroup",
    mountinfo: "/proc/self/mountinfo",
  };
}

/** A file's text, or undefined when it is absent or unreadable (callers report that as a fact). */
export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/** The passwd name of uid (not $USER, which may be unset or wrong); the uid itself when it has none. */
export function userName(uid: number, passwdFile = "/etc/passwd"): string {
  for (const line of (readText(passwdFile) ?? "").split("\n")) {
    const f = line.split(":");
    if (f[2] === String(uid) && f[0]) return f[0];
  }
  return String(uid);
}

export function hostContext(paths: Paths, env: Env = process.env): HostContext {
  const files = defaultFiles(env);
  const uid = process.getuid!();
  return { env, uid, gid: process.getgid!(), user: userName(uid, files.passwd), paths, files };
}
