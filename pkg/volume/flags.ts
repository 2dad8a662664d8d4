// The volume grammar of `run`/`create`: which -v values name volumes, and
// --mount with podman's keys (pkg/specgenutil/volumes.go). Bind and tmpfs
// mounts become the -v and --tmpfs values pkg/runtime already understands;
// volumes become requests that attach.ts resolves when the container is made.
// Syntax errors are UsageErrors naming the value and the bad key.
import { resolve } from "node:path";
import { UsageError } from "../errors.ts";
import { containerPath, isHostPath } from "../runtime/index.ts";
import { checkVolumeName, isVolumeName } from "./names.ts";

/** A named volume (`name`) or an anonymous one (no `name`) to mount at `target`. */
export type VolumeRequest = { kind: "volume"; name?: string; target: string; readonly: boolean; copyUp: boolean };

/** One -v or --mount value, sorted: a bind (as a -v value), a tmpfs (as a --tmpfs value), or a volume. */
export type FlagMount = VolumeRequest | { kind: "bind"; volume: string } | { kind: "tmpfs"; tmpfs: string };

const VOLUME_OPTIONS = "ro, rw, z, Z, copy, nocopy";

/** Sorts one -v value: HOST:CTR[:OPTS] is a bind, NAME:CTR[:OPTS] a named volume, /CTR alone an anonymous one. */
export function parseVolumeFlag(value: string): FlagMount {
  const parts = value.split(":");
  if (parts.length === 1) return { kind: "volume", target: containerPath(value, value), readonly: false, copyUp: true };
  if (parts[0] === "" || isHostPath(parts[0]!)) return { kind: "bind", volume: value };
  if (parts.length > 3) throw new UsageError(`invalid volume ${JSON.stringify(value)}: too many colons`, { hint: "use -v NAME:CTR[:OPTS]" });
  const name = checkVolumeName(parts[0]!);
  const target = containerPath(value, parts[1]!);
  let readonly: boolean | undefined;
  let copyUp = true;
  for (const o of parts[2] === undefined ? [] : parts[2].split(",")) {
    if (o === "ro" || o === "rw") {
      if (readonly !== undefined)
        throw new UsageError(`invalid volume ${JSON.stringify(value)}: ro and rw given more than once`, { hint: "give one of ro and rw" });
      readonly = o === "ro";
    } else if (o === "copy" || o === "nocopy") {
      copyUp = o === "copy";
    } else if (o !== "z" && o !== "Z") {
      // z and Z ask for SELinux relabelling: these hosts have no SELinux, so there is no label to set.
      throw new UsageError(`invalid volume ${JSON.stringify(value)}: unsupported option ${JSON.stringify(o)}`, {
        hint: `options of named volumes: ${VOLUME_OPTIONS}`,
      });
    }
  }
  return { kind: "volume", name, target, readonly: readonly ?? false, copyUp };
}

type Field = { key: string; val?: string };

class MountValue {
  constructor(
    readonly value: string,
    readonly type: string,
    public fields: Field[],
  ) {}

  error(msg: string, hint: string): UsageError {
    return new UsageError(`invalid --mount ${JSON.stringify(this.value)}: ${msg}`, { hint });
  }

  /** Removes and returns the value of the first key of `keys` present; every alias counts once. */
  take(keys: string[]): Field | undefined {
    const hits = this.fields.filter((f) => keys.includes(f.key));
    if (hits.length > 1) throw this.error(`${hits.map((h) => h.key).join(" and ")} given together`, `give ${keys[0]}= once`);
    this.fields = this.fields.filter((f) => !keys.includes(f.key));
    return hits[0];
  }

  /** A key that needs a value (source=…). */
  string(keys: string[]): string | undefined {
    const f = this.take(keys);
    if (f && !f.val) throw this.error(`${f.key} needs a value`, `give it as ${f.key}=VALUE`);
    return f?.val;
  }

  /** A key that is a flag or takes true/false (readonly, readonly=false). */
  bool(keys: string[]): boolean | undefined {
    const f = this.take(keys);
    if (!f) return undefined;
    if (f.val === undefined || f.val === "true") return true;
    if (f.val === "false") return false;
    throw this.error(`invalid value ${JSON.stringify(f.val)} for ${f.key}`, `${f.key} takes true or false, or no value`);
  }

  readonly(): boolean {
    const ro = this.bool(["readonly", "ro"]);
    const rw = this.bool(["rw"]);
    if (ro !== undefined && rw !== undefined) throw this.error("ro and rw given together", "give one of readonly and rw");
    return ro ?? (rw === undefined ? false : !rw);
  }

  target(): string {
    const t = this.string(["target", "destination", "dst"]);
    if (t === undefined) throw this.error("no target", `add target=/path inside the container`);
    if (!t.startsWith("/")) throw this.error(`the target ${JSON.stringify(t)} must be absolute`, "container paths start with /, e.g. target=/data");
    const path = containerPath(this.value, t);
    if (path.includes(":")) throw this.error(`the target ${JSON.stringify(t)} contains ":"`, "pod cannot mount at paths containing a colon");
    return path;
  }

  /** Fails on the first key left over: it is not one this type knows. */
  done(known: string): void {
    const f = this.fields[0];
    if (f) throw this.error(`unknown option ${JSON.stringify(f.key)} for type=${this.type}`, `options of type=${this.type}: ${known}`);
  }
}

const BIND_KEYS = "source, target, readonly, rw, bind-propagation=rprivate|private, bind-nonrecursive, relabel, z, Z";
const VOLUME_KEYS = "source, target, readonly, rw, volume-nocopy, volume-driver=local";
const TMPFS_KEYS = "target, tmpfs-size, tmpfs-mode, readonly, rw, exec, noexec, suid, nosuid, dev, nodev, notmpcopyup";

function bindMount(m: MountValue): FlagMount {
  const source = m.string(["source", "src"]);
  const target = m.target();
  const readonly = m.readonly();
  const prop = m.string(["bind-propagation"]);
  // The container's mount tree is made rprivate before anything is mounted (core.c), so these two are what every bind gets.
  if (prop !== undefined && prop !== "rprivate" && prop !== "private")
    throw m.error(`bind-propagation=${prop} is not supported`, "pod's mounts are always rprivate: use bind-propagation=rprivate or leave it out");
  const recursive = !(m.bool(["bind-nonrecursive"]) ?? false);
  const relabel = m.string(["relabel"]);
  if (relabel !== undefined && relabel !== "shared" && relabel !== "private") throw m.error(`invalid relabel=${relabel}`, "relabel takes shared or private");
  m.bool(["z"]);
  m.bool(["Z"]);
  m.done(BIND_KEYS);
  if (source === undefined) throw m.error("no source", "add source=/host/path (type=bind mounts a host path)");
  const host = resolve(source);
  if (host.includes(":")) throw m.error(`the source ${JSON.stringify(source)} contains ":"`, "pod cannot bind paths containing a colon");
  return { kind: "bind", volume: `${host}:${target}:${readonly ? "ro" : "rw"},${recursive ? "rbind" : "bind"}` };
}

function volumeMount(m: MountValue): FlagMount {
  const source = m.string(["source", "src"]);
  const target = m.target();
  const readonly = m.readonly();
  const noCopy = m.bool(["volume-nocopy", "nocopy"]) ?? false;
  const driver = m.string(["volume-driver"]);
  if (driver !== undefined && driver !== "local") throw m.error(`volume-driver=${driver} is not supported`, "pod has only the local volume driver");
  for (const k of ["volume-label", "volume-opt"]) {
    if (m.fields.some((f) => f.key === k)) throw m.error(`${k} is not supported`, "create the volume first (pod volume create --label KEY=VALUE NAME), then mount it by name");
  }
  m.done(VOLUME_KEYS);
  if (source !== undefined && !isVolumeName(source))
    throw m.error(`invalid volume name ${JSON.stringify(source)}`, "volume names use letters, digits, _, . and -, starting with a letter or digit; type=bind mounts host paths");
  return { kind: "volume", name: source, target, readonly, copyUp: !noCopy };
}

const TMPFS_FLAGS = ["exec", "noexec", "suid", "nosuid", "dev", "nodev"];

function tmpfsMount(m: MountValue): FlagMount {
  if (m.take(["source", "src"])) throw m.error("type=tmpfs takes no source", "leave out source=: a tmpfs starts empty");
  const target = m.target();
  const opts = [m.readonly() ? "ro" : "rw"];
  const size = m.string(["tmpfs-size"]);
  if (size !== undefined && !/^\d+[kmgKMG]?$/.test(size)) throw m.error(`invalid tmpfs-size=${size}`, "a size in bytes, or with k, m or g: tmpfs-size=64m");
  const mode = m.string(["tmpfs-mode"]);
  if (mode !== undefined && !/^[0-7]{1,4}$/.test(mode)) throw m.error(`invalid tmpfs-mode=${mode}`, "an octal mode: tmpfs-mode=1777");
  for (const f of TMPFS_FLAGS) if (m.bool([f])) opts.push(f);
  if (m.bool(["tmpcopyup"])) throw m.error("tmpcopyup is not supported", "pod's tmpfs mounts start empty: leave it out or give notmpcopyup");
  m.bool(["notmpcopyup"]);
  m.done(TMPFS_KEYS);
  if (size !== undefined) opts.push(`size=${size}`);
  if (mode !== undefined) opts.push(`mode=${mode}`);
  return { kind: "tmpfs", tmpfs: `${target}:${opts.join(",")}` };
}

/** Parses one --mount value: type=bind|volume|tmpfs,KEY[=VALUE],… */
export function parseMountFlag(value: string): FlagMount {
  const fields: Field[] = value.split(",").map((item) => {
    const eq = item.indexOf("=");
    return eq < 0 ? { key: item } : { key: item.slice(0, eq), val: item.slice(eq + 1) };
  });
  const m = new MountValue(value, "", fields);
  if (fields.some((f) => f.key === "")) throw m.error("empty option", "separate KEY=VALUE pairs with single commas, e.g. type=bind,source=/a,target=/b");
  const type = m.string(["type"]);
  const mv = new MountValue(value, type ?? "", m.fields);
  switch (type) {
    case "bind":
      return bindMount(mv);
    case "volume":
      return volumeMount(mv);
    case "tmpfs":
      return tmpfsMount(mv);
    case undefined:
      throw m.error("no type", "start with type=bind, type=volume or type=tmpfs");
    default:
      throw m.error(`unsupported type ${JSON.stringify(type)}`, "pod mounts type=bind, type=volume and type=tmpfs");
  }
}
