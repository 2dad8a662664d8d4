// Where containers configuration lives, following containers-config(5) as
// implemented by container-libs storage/pkg/configfile: a vendor directory
// (/usr/share/containers), an admin directory (/etc/containers) and the user
// directory ($XDG_CONFIG_HOME/containers, else $HOME/.config/containers).
// Folder-private: registries.ts, auth.ts and certs.ts share it.

import { homedir } from "node:os";
import { join } from "node:path";

export type Env = Record<string, string | undefined>;

/** The fixed system directories; tests point them at temp dirs so the host's /etc never leaks in. */
export type ConfigRoots = {
  systemDir: string;
  adminDir: string;
  dockerCertsDir: string;
  /** Selects the *.rootful.conf.d or *.rootless.conf.d[/UID] drop-in directories. */
  uid: number;
};

export function defaultRoots(): ConfigRoots {
  return {
    systemDir: "/usr/share/containers",
    adminDir: "/etc/containers",
    dockerCertsDir: "/etc/docker/certs.d",
    uid: process.getuid?.() ?? 0,
  };
}

export function homeDir(env: Env): string {
  return env.HOME || homedir();
}

/** $XDG_CONFIG_HOME, defaulting to $HOME/.config. */
export function configHome(env: Env): string {
  return env.XDG_CONFIG_HOME || join(homeDir(env), ".config");
}

/** $XDG_CONFIG_HOME/containers. */
export function userContainersDir(env: Env): string {
  return join(configHome(env), "containers");
}

/**
 * Drop-in directories for `<name><suffix>` (e.g. "registries.conf"), highest precedence
 * first: the user's `<name><suffix>.d`, then for the admin and vendor directories
 * `<name><suffix>.d`, `<name>.rootless<suffix>.d` and `<name>.rootless<suffix>.d/<UID>`
 * (`rootful` for UID 0).
 */
export function dropInDirs(env: Env, roots: ConfigRoots, name: string, suffix: string): string[] {
  const special = roots.uid > 0 ? "rootless" : "rootful";
  const under = (dir: string): string[] => {
    const dirs = [join(dir, `${name}${suffix}.d`), join(dir, `${name}.${special}${suffix}.d`)];
    if (roots.uid > 0) dirs.push(join(dir, `${name}.${special}${suffix}.d`, String(roots.uid)));
    return dirs;
  };
  return [join(userContainersDir(env), `${name}${suffix}.d`), ...under(roots.adminDir), ...under(roots.systemDir)];
}

export function isNotFound(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
