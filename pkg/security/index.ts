// Confinement decided in TypeScript: --security-opt, and the seccomp filter
// the native core installs just before exec (podman's default profile,
// shipped as data: seccomp.json, a copy of containers-common's).
import { readFileSync } from "node:fs";
import { release } from "node:os";
import { PodError } from "../errors.ts";
import { compileProfile, hostArch, type Compiled } from "./compile.ts";
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

/**
 * The filter for one start: hex of struct sock_filter[] (the plan's
 * P_SECCOMP), or undefined for none. `profile` is what settleSeccompProfile
 * kept; `caps` the container's bounding capabilities by name, which the
 * profile's includes/excludes test.
 */
export function seccompFilter(o: { securityOpt: readonly string[]; privileged: boolean; profile?: string; caps: readonly string[] }): string | undefined {
  const choice = parseSecurityOpts(o.securityOpt).seccomp;
  if (choice.kind === "unconfined") return undefined;
  if (o.privileged && o.profile === undefined) return undefined;
  const compiled = compiledFor(o.profile ?? DEFAULT_PROFILE, choice.kind === "file" ? choice.path : "the default profile", o.caps);
  return Buffer.from(compiled.bytes).toString("hex");
}

const cache = new Map<string, Compiled>();

function compiledFor(text: string, source: string, caps: readonly string[]): Compiled {
  const key = `${caps.join(",")}\n${text}`;
  let c = cache.get(key);
  if (!c) {
    c = compileProfile(parseProfile(text, source), { arch: hostArch(), caps: new Set(caps), kernel: release() });
    cache.set(key, c);
  }
  return c;
}
