// The user's own mounts: `-v HOST:CTR[:OPTS]` bind mounts and `--tmpfs
// PATH[:OPTS]`, parsed and checked (podman pkg/specgen/volumes.go and
// pkg/util/mountOpts.go), and volumes as pkg/volume resolved them. Syntax
// errors are UsageErrors naming the value; a host path that does not exist is
// a PodError.
import { statSync } from "node:fs";
import { posix, resolve } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import { MS } from "../native/plan.ts";

export type BindVolume = {
  kind: "bind";
  source: string;
  target: string;
  readonly: boolean;
  recursive: boolean;
  /** the source is a directory (the target is created as one) rather than a file */
  sourceIsDir: boolean;
};

export type TmpfsVolume = { kind: "tmpfs"; target: string; flags: number; data: string; /** the mount's source name (a tmpfs volume's device=) */ source?: string };

export type UserMount = BindVolume | TmpfsVolume;

/**
 * A named or anonymous volume, resolved when the container is created
 * (pkg/volume) to the host directory that is bound at `target`.
 */
export type VolumeMount = {
  /** the volume's name; anonymous volumes get a random 64-hex one */
  name: string;
  /** host path of the volume's data directory (<root>/volumes/NAME/_data) */
  source: string;
  target: string;
  readonly: boolean;
  /** made for this container by `-v /path` or `--mount type=volume` without a source */
  anonymous: boolean;
  /** a volume made with -o type=tmpfs: a fresh tmpfs is mounted at target instead of binding source */
  tmpfs?: { source: string; flags: number; data: string };
  /** false for a bind volume made with o=bind (not rbind) */
  recursive?: boolean;
};

/** Cleans an absolute container path; `value` is the whole flag value, for the error. */
export function containerPath(value: string, path: string): string {
  if (!path.startsWith("/")) {
    throw new UsageError(`invalid container path ${JSON.stringify(path)} in ${JSON.stringify(value)}: it must be absolute`, {
      hint: "container paths start with /, e.g. -v /srv/data:/data",
    });
  }
  return posix.normalize(path).replace(/(.)\/$/, "$1");
}

function hostSource(value: string, source: string): string {
  if (source === "") {
    throw new UsageError(`invalid volume ${JSON.stringify(value)}: empty host path`, { hint: "use -v HOST:CTR[:OPTS]" });
  }
  // podman takes "./x" and "../x" as paths relative to the current directory; other bare words name volumes.
  if (!isHostPath(source)) {
    throw new PodError(`mounting ${JSON.stringify(value)}: the named volume ${JSON.stringify(source)} was not resolved to its directory`, {
      hint: "named volumes are resolved when the container is created; create the container again",
    });
  }
  return resolve(source);
}

function volumeOptions(value: string, opts: string[]): { readonly: boolean; recursive: boolean } {
  let readonly: boolean | undefined;
  let recursive = true;
  for (const o of opts) {
    if (o === "ro" || o === "rw") {
      if (readonly !== undefined) throw new UsageError(`invalid volume ${JSON.stringify(value)}: ro and rw given more than once`);
      readonly = o === "ro";
    } else if (o === "bind" || o === "rbind") {
      recursive = o === "rbind";
    } else if (o === "z" || o === "Z") {
      // SELinux relabelling: these hosts have no SELinux, so there is no label to set.
    } else {
      throw new UsageError(`invalid volume ${JSON.stringify(value)}: unsupported option ${JSON.stringify(o)}`, {
        hint: "volume options pod supports: ro, rw, z, Z, bind, rbind",
      });
    }
  }
  return { readonly: readonly ?? false, recursive };
}

/** The source of a -v value names a host path (podman: absolute, or ./ and ../ relative); anything else names a volume. */
export function isHostPath(source: string): boolean {
  return source.startsWith("/") || source.startsWith(".");
}

/** Parses one -v HOST:CTR[:OPTS] value and checks its host path. Volumes were resolved before (pkg/volume). */
export function parseVolume(value: string): BindVolume {
  const parts = value.split(":");
  if (parts.length === 1) {
    throw new PodError(`mounting ${JSON.stringify(value)}: the anonymous volume was not resolved to its directory`, {
      hint: "anonymous volumes are made when the container is created; create the container again",
    });
  }
  if (parts.length > 3) {
    throw new UsageError(`invalid volume ${JSON.stringify(value)}: too many colons`, { hint: "use -v HOST:CTR[:OPTS]" });
  }
  const source = hostSource(value, parts[0]!);
  const target = containerPath(value, parts[1]!);
  const opts = parts[2] === undefined ? [] : parts[2].split(",");
  if (opts.some((o) => o === "")) throw new UsageError(`invalid volume ${JSON.stringify(value)}: empty option`);
  const { readonly, recursive } = volumeOptions(value, opts);
  let st;
  try {
    st = statSync(source);
  } catch (e) {
    throw bindSourceError(value, source, e);
  }
  return { kind: "bind", source, target, readonly, recursive, sourceIsDir: st.isDirectory() };
}

/** Why a bind source cannot be used, with the fix that fits: create a missing path, not an unreadable one. */
function bindSourceError(value: string, source: string, e: unknown): PodError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT")
    return new PodError(`mounting ${source}: no such file or directory`, { hint: `create it first (mkdir -p ${source}) or correct the host path in -v ${value}`, cause: e });
  if (code === "EACCES")
    return new PodError(`mounting ${source}: permission denied: you may not reach it (a directory on the way is closed to you)`, {
      hint: `ask its owner for access (chmod o+x on the directories above it), or mount a copy you own`,
      cause: e,
    });
  return new PodError(`mounting ${source}: ${(e as Error).message}`, { hint: `correct the host path in -v ${value}`, cause: e });
}

/** The flag words --tmpfs understands; each pair sets or clears one MS_ bit. */
const TMPFS_FLAG_WORDS: Record<string, [bit: number, set: boolean]> = {
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  noexec: [MS.NOEXEC, true],
  exec: [MS.NOEXEC, false],
  nosuid: [MS.NOSUID, true],
  suid: [MS.NOSUID, false],
  nodev: [MS.NODEV, true],
  dev: [MS.NODEV, false],
};

/** Defaults of --tmpfs without options: rw,noexec,nosuid,nodev. A given word overrides only its own flag. */
const TMPFS_DEFAULT_FLAGS = MS.NOEXEC | MS.NOSUID | MS.NODEV;

/** Parses one --tmpfs value: PATH[:opt,opt,...]; key=value options (size=, mode=, …) go to the mount data. */
export function parseTmpfs(value: string): TmpfsVolume {
  const i = value.indexOf(":");
  const target = containerPath(value, i < 0 ? value : value.slice(0, i));
  const opts = i < 0 ? [] : value.slice(i + 1).split(",").filter(Boolean);
  let flags: number = TMPFS_DEFAULT_FLAGS;
  const data: string[] = [];
  for (const o of opts) {
    const word = TMPFS_FLAG_WORDS[o];
    if (word) flags = word[1] ? flags | word[0] : flags & ~word[0];
    else if (/^[a-z_]+=.+$/.test(o)) data.push(o);
    else {
      throw new UsageError(`invalid tmpfs option ${JSON.stringify(o)} in ${JSON.stringify(value)}`, {
        hint: "tmpfs options: ro, rw, exec, noexec, suid, nosuid, dev, nodev, and key=value such as size=64m, mode=1777",
      });
    }
  }
  return { kind: "tmpfs", target, flags, data: data.join(",") };
}
