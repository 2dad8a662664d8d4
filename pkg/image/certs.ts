// Per-registry TLS material, containers-certs.d(5). The directory for HOST[:PORT]
// is the first that exists among (container-libs image/docker dockerCertDir):
//   $XDG_CONFIG_HOME/containers/certs.d/HOST[:PORT]   (default ~/.config)
//   /etc/containers/certs.d, certs.rootless.d, certs.rootless.d/UID (…/HOST[:PORT])
//   /usr/share/containers/certs.d, certs.rootless.d, certs.rootless.d/UID
//   /etc/docker/certs.d/HOST[:PORT]
// Only that one directory is read: every *.crt is a CA certificate (PEM), and each
// NAME.cert needs NAME.key (and the reverse) as a client certificate pair.
// For Docker Hub, callers pass "docker.io" (what the user wrote), not registry-1.docker.io.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { type ConfigRoots, type Env, defaultRoots, dropInDirs, isNotFound } from "./_paths.ts";

export type TlsFiles = { ca: string[]; cert?: string; key?: string };

function isSkippable(e: unknown): boolean {
  return isNotFound(e) || (e as { code?: string } | null)?.code === "EACCES";
}

/** The certs.d directory for hostPort, or undefined when none exists. */
export function certDirFor(hostPort: string, env: Env = process.env, roots: ConfigRoots = defaultRoots()): string | undefined {
  const bases = [...dropInDirs(env, roots, "certs", ""), roots.dockerCertsDir];
  for (const base of bases) {
    const dir = join(base, hostPort);
    try {
      statSync(dir);
      return dir;
    } catch (e) {
      if (isSkippable(e)) continue;
      throw new PodError(`looking for TLS certificates in ${dir}: ${(e as Error).message}`, { cause: e });
    }
  }
  return undefined;
}

function read(dir: string, name: string): string {
  try {
    return readFileSync(join(dir, name), "utf8");
  } catch (e) {
    throw new PodError(`reading TLS file ${join(dir, name)}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * CA certificates and the client certificate pair for hostPort; undefined when no
 * certs.d directory exists for it. When several pairs exist the first by name is used.
 */
export function tlsFor(hostPort: string, env: Env = process.env, roots: ConfigRoots = defaultRoots()): TlsFiles | undefined {
  const dir = certDirFor(hostPort, env, roots);
  return dir === undefined ? undefined : tlsIn(dir);
}

/** The TLS files of one directory laid out as a certs.d entry (--cert-dir). */
export function tlsIn(dir: string): TlsFiles | undefined {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    if (isSkippable(e)) return undefined;
    throw new PodError(`reading TLS certificates in ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const present = new Set(names);
  const out: TlsFiles = { ca: [] };
  for (const name of names) {
    if (name.endsWith(".crt")) out.ca.push(read(dir, name));
    else if (name.endsWith(".cert")) {
      const keyName = `${name.slice(0, -".cert".length)}.key`;
      if (!present.has(keyName)) {
        throw new PodError(`loading TLS certificates in ${dir}: missing key ${keyName} for client certificate ${name}`, {
          hint: "add the key, or rename the file to .crt if it is a CA certificate",
        });
      }
      if (out.cert === undefined) {
        out.cert = read(dir, name);
        out.key = read(dir, keyName);
      }
    } else if (name.endsWith(".key")) {
      const certName = `${name.slice(0, -".key".length)}.cert`;
      if (!present.has(certName)) {
        throw new PodError(`loading TLS certificates in ${dir}: missing client certificate ${certName} for key ${name}`, {
          hint: `add ${certName} next to ${name}, or remove the key`,
        });
      }
    }
  }
  return out;
}
