// `volume create -o/--opt`: podman's local driver options, of which pod
// applies these (mount(8)'s meaning):
//   type=tmpfs [device=NAME] [o=size=,mode=,uid=,gid=,nr_inodes=,ro,rw,nodev,dev,noexec,exec,nosuid,suid]
//       a fresh tmpfs for each container that mounts the volume
//   type=bind|none device=/host/dir o=bind|rbind[,ro|rw]
//       the host directory bound in place of the volume's _data
//   o=uid=N[,gid=N] alone (podman 4's way to own a plain volume)
//       nothing mounted: _data gets that owner (ownerOptions)
// Anything else (block devices, other file systems, quota options) is
// refused: a rootless user can mount neither. Pure.
import { statSync } from "node:fs";
import { isAbsolute } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import { MS } from "../native/plan.ts";

/** What a container mounts for a volume with options, instead of its _data directory. */
export type VolumeSource =
  | { kind: "tmpfs"; device: string; flags: number; data: string }
  | { kind: "bind"; device: string; recursive: boolean; readonly: boolean };

const FLAG_WORDS: Record<string, [bit: number, set: boolean]> = {
  ro: [MS.RDONLY, true],
  rw: [MS.RDONLY, false],
  nodev: [MS.NODEV, true],
  dev: [MS.NODEV, false],
  noexec: [MS.NOEXEC, true],
  exec: [MS.NOEXEC, false],
  nosuid: [MS.NOSUID, true],
  suid: [MS.NOSUID, false],
};
const TMPFS_KEYS: Record<string, RegExp> = {
  size: /^\d+[kmgKMG%]?$/,
  nr_inodes: /^\d+[kmgKMG]?$/,
  mode: /^[0-7]{1,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
};
const HINT = "pod's local driver takes -o type=tmpfs[,o=size=64m,uid=…,gid=…,mode=…,nodev,noexec,nosuid] or -o type=bind -o device=/host/dir [-o o=ro]";

function invalid(key: string): UsageError {
  return new UsageError(`invalid mount option ${key} for driver 'local': invalid argument`, { hint: HINT });
}

/** Parses the -o KEY=VALUE values into the record's options (podman's Options map). */
export function parseVolumeOptions(values: string[]): Record<string, string> {
  const opts: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    const key = (eq < 0 ? v : v.slice(0, eq)).toLowerCase();
    if (!["type", "device", "o"].includes(key)) throw invalid(key);
    if (eq < 0 || eq === v.length - 1) throw new UsageError(`invalid volume option ${JSON.stringify(v)}: ${key} needs a value`, { hint: HINT });
    opts[key] = v.slice(eq + 1);
  }
  if (Object.keys(opts).length) volumeSource(opts, { checkDevice: true });
  return opts;
}

/**
 * `-o o=uid=N,gid=N` without type= or device=: podman 4's owner of a plain
 * volume (libpod's needsMount ignores uid and gid), as { uid, gid }; else
 * undefined.
 */
export function ownerOptions(opts: Record<string, string> | undefined): { uid?: number; gid?: number } | undefined {
  if (!opts?.o || opts.type !== undefined || opts.device !== undefined) return undefined;
  const words = opts.o.split(",");
  if (!words.every((w) => /^(uid|gid)=\d+$/.test(w))) return undefined;
  return Object.fromEntries(words.map((w) => [w.slice(0, 3), Number(w.slice(4))]));
}

/** What a container mounts for a volume with these options; undefined for a plain volume (its _data). */
export function volumeSource(opts: Record<string, string> | undefined, o: { checkDevice?: boolean } = {}): VolumeSource | undefined {
  if (!opts || !Object.keys(opts).length) return undefined;
  const words = opts.o ? opts.o.split(",") : [];
  if (words.some((w) => w === "")) throw new UsageError(`invalid volume option o=${opts.o}: empty option`, { hint: HINT });
  const type = opts.type;
  if (type === "tmpfs") {
    let flags = 0;
    const data: string[] = [];
    for (const w of words) {
      const eq = w.indexOf("=");
      if (eq < 0) {
        const f = FLAG_WORDS[w];
        if (!f) throw invalid(w);
        flags = f[1] ? flags | f[0] : flags & ~f[0];
        continue;
      }
      const k = w.slice(0, eq);
      if (!TMPFS_KEYS[k]) throw invalid(k);
      if (!TMPFS_KEYS[k]!.test(w.slice(eq + 1))) throw new UsageError(`invalid volume option o=${opts.o}: bad value for ${k}`, { hint: HINT });
      data.push(w);
    }
    return { kind: "tmpfs", device: opts.device ?? "tmpfs", flags, data: data.join(",") };
  }
  const bindWord = words.find((w) => w === "bind" || w === "rbind");
  if (type === "bind" || ((type === "none" || type === undefined) && bindWord)) {
    let readonly = false;
    for (const w of words) {
      if (w === "ro" || w === "rw") readonly = w === "ro";
      else if (w !== "bind" && w !== "rbind") throw new UsageError(`invalid volume option o=${opts.o}: ${w} cannot be applied to a bind volume`, { hint: "bind volumes take o=bind or o=rbind, and ro or rw" });
    }
    const device = opts.device;
    if (!device || !isAbsolute(device)) throw new UsageError("a bind volume needs device=/absolute/host/directory", { hint: "pod volume create -o type=bind -o device=/srv/data NAME" });
    if (device.includes(":")) throw new UsageError(`device ${device}: pod cannot bind paths containing a colon`, { hint: "pick a directory without ':' in its path" });
    if (o.checkDevice) {
      let isDir = false;
      try {
        isDir = statSync(device).isDirectory();
      } catch (e) {
        throw new PodError(`device ${device}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`, { hint: `create it first (mkdir -p ${device})` });
      }
      if (!isDir) throw new PodError(`device ${device} is not a directory`, { hint: "a bind volume binds a host directory" });
    }
    return { kind: "bind", device, recursive: bindWord !== "bind", readonly };
  }
  if (ownerOptions(opts)) return undefined;
  if (type === undefined) throw new UsageError("volume options without type= are not supported", { hint: HINT });
  throw new UsageError(`volume type ${JSON.stringify(type)} is not supported`, { hint: `${HINT} (other file systems need root on the host to mount)` });
}
