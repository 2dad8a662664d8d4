// Confinement decided in TypeScript: --security-opt, and the seccomp filter
// the native core installs just before exec (podman's default profile,
// shipped as data: seccomp.json, a copy of containers-common's).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { release } from "node:os";
import { PodError } from "../errors.ts";
import { compileProfile, hostArch } from "./compile.ts";
import { parseSecurityOpts } from "./options.ts";
import { parseProfile } from "./profile.ts";
import defaultProfileText from "./seccomp.json" with { type: "text" };

export { parseSecurityOpts, inspectSecurityOpts, type SecurityOpts, type SeccompChoice } from "./options.ts";
export { parseProfile, type Profile } from "./profile.ts";
export { compileProfile, filterArches, hostArch, X32_SYSCALL_BIT, type Compiled, type Target } from "./compile.ts";

/** podman's default profile as pod ships it. */
export const DEFAULT_PROFILE: string = defaultProfileText as unknown as string;

function readProfile(path: string, why: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new PodError(`opening seccomp profile ${path}${why}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, {
      hint: "give the path of a profile in podman's JSON format, or --security-opt seccomp=unconfined",
    });
  }
}

/**
 * The profile a container keeps, settled when it is created (as podman puts
 * the profile into the container's spec then): the file seccomp=PATH names,
 * else containers.conf's seccomp_profile where that file exists, else none
 * (the built-in default, or no filter: seccomp=unconfined, or --privileged
 * without a profile of its own). The text is checked here, so a malformed
 * profile fails `create` and `run` before anything is made.
 */
export function settleSeccompProfile(securityOpt: readonly string[], privileged: boolean, confProfile?: string, confExists: (p: string) => boolean = () => true): string | undefined {
  const choice = parseSecurityOpts(securityOpt).seccomp;
  let text: string | undefined;
  if (choice.kind === "file") text = readProfile(choice.path, "");
  else if (choice.kind === "default" && !privileged && confProfile && confExists(confProfile)) text = readProfile(confProfile, " (containers.conf seccomp_profile)");
  if (text === undefined) return undefined;
  const source = choice.kind === "file" ? choice.path : confProfile!;
  compileProfile(parseProfile(text, source), { arch: hostArch(), caps: new Set(), kernel: release() });
  return text;
}

/** Bump when compile.ts changes the program it emits: cached filters of an older format are not used. */
const FILTER_FORMAT = 1;

/**
 * The filter for one start: hex of struct sock_filter[] (the plan's
 * P_SECCOMP), or undefined for none. `profile` is what settleSeccompProfile
 * kept; `caps` the container's bounding capabilities by name, which the
 * profile's includes/excludes test. Compiling podman's profile costs tens of
 * milliseconds in a cold process, more than the rest of a start: the result
 * is kept in `cacheDir` (the runroot, a tmpfs) under a hash of everything it
 * depends on.
 */
export function seccompFilter(o: { securityOpt: readonly string[]; privileged: boolean; profile?: string; caps: readonly string[]; cacheDir?: string }): string | undefined {
  const choice = parseSecurityOpts(o.securityOpt).seccomp;
  if (choice.kind === "unconfined") return undefined;
  if (o.privileged && o.profile === undefined) return undefined;
  const text = o.profile ?? DEFAULT_PROFILE;
  const target = { arch: hostArch(), caps: new Set(o.caps), kernel: release() };
  const key = new Bun.CryptoHasher("sha256").update(`${FILTER_FORMAT}\n${target.arch}\n${target.kernel}\n${[...target.caps].sort().join(",")}\n${text}`).digest("hex");
  const file = o.cacheDir ? join(o.cacheDir, "seccomp", `${key}.bpf`) : undefined;
  if (file) {
    try {
      const hex = readFileSync(file, "utf8");
      if (hex.length > 0 && hex.length % 16 === 0 && /^[0-9a-f]+$/.test(hex)) return hex;
    } catch {
      // not cached yet: compiled below
    }
  }
  const hex = Buffer.from(compileProfile(parseProfile(text, choice.kind === "file" ? choice.path : "the default profile"), target).bytes).toString("hex");
  if (file) {
    try {
      mkdirSync(join(o.cacheDir!, "seccomp"), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, hex, { mode: 0o600 });
      renameSync(tmp, file);
    } catch {
      // a cache that cannot be written only costs the next start the compile
    }
  }
  return hex;
}
