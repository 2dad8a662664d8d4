// --device HOST[:CONTAINER][:PERMS] with podman's grammar and checks
// (pkg/specgen/generate/config_linux.go: DevicesFromPath, ParseDevice,
// IsValidDeviceMode). The host's node is bound into the container, as
// rootless podman does: a user namespace cannot mknod, and pod's containers
// always have one (as root too). PERMS has no device cgroup to go to on
// these hosts; as in rootless podman, "w" in it makes the bind read-write,
// its absence read-only.
import { lstatSync, readdirSync, realpathSync, statSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { PodError, UsageError } from "../errors.ts";
import type { MountOp } from "../native/plan.ts";

export type DeviceMapping = { source: string; target: string; perms: string };

/** r, w and m, each at most once, at least one (podman's IsValidDeviceMode). */
export function isDeviceMode(mode: string): boolean {
  if (mode === "") return false;
  const seen = new Set<string>();
  for (const c of mode) {
    if (!"rwm".includes(c) || seen.has(c)) return false;
    seen.add(c);
  }
  return true;
}

const badMode = (m: string) => new UsageError(`invalid device mode: ${m}`, { hint: "PERMS is made of r, w and m: --device /dev/fuse:/dev/fuse:rw" });

/** HOST[:CONTAINER][:PERMS] (podman's ParseDevice); PERMS defaults to rwm, CONTAINER to HOST. */
export function parseDevice(spec: string): DeviceMapping {
  const arr = spec.split(":");
  if (arr.length > 3 || arr[0] === "") throw new UsageError(`invalid device specification: ${spec}`, { hint: "--device HOST[:CONTAINER][:PERMS], e.g. --device /dev/fuse" });
  let perms = "rwm";
  let target = "";
  if (arr.length === 3) {
    if (!isDeviceMode(arr[2]!)) throw badMode(arr[2]!);
    perms = arr[2]!;
  }
  if (arr.length >= 2) {
    if (isDeviceMode(arr[1]!)) perms = arr[1]!;
    else if (arr[1]!.startsWith("/")) target = arr[1]!;
    else throw badMode(arr[1]!);
  }
  return { source: arr[0]!, target: target || arr[0]!, perms };
}

const isNode = (st: Stats) => st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO();

const statError = (path: string, e: unknown) => {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
  return new PodError(`stat ${path}: ${why}`, { hint: "--device names a device node of the host (or a directory of them), e.g. /dev/fuse" });
};

/**
 * The device nodes one --device value names on this host: a symlink is
 * followed, a directory gives every node below it (under CONTAINER, keeping
 * their relative paths), anything else must be a character or block device
 * or a FIFO. Checked when the container is created, as podman does.
 */
export function resolveDevice(spec: string): DeviceMapping[] {
  const first = spec.split(":")[0] ?? "";
  let source = first;
  try {
    if (lstatSync(first).isSymbolicLink()) source = realpathSync(first);
  } catch {
    // missing: the stat below says so
  }
  let st: Stats;
  try {
    st = statSync(source);
  } catch (e) {
    throw statError(source, e);
  }
  if (!st.isDirectory()) {
    const d = parseDevice([source, ...spec.split(":").slice(1)].join(":"));
    if (!isNode(lstatSync(d.source))) throw new PodError(`${d.source} is not a valid device: not a device node`, { hint: "--device takes device nodes such as /dev/fuse or /dev/net/tun" });
    return [{ ...d, source: resolve(d.source) }];
  }
  const rest = spec.split(":").slice(1);
  let dest = source;
  let mode = "";
  if (rest.length >= 1) {
    if (rest[0]!.startsWith("/")) dest = rest[0]!;
    else mode = rest[0]!;
  }
  if (rest.length >= 2) {
    if (mode !== "") throw new UsageError(`invalid device specification ${spec}: invalid argument`, { hint: "--device DIR[:CONTAINER_DIR][:PERMS]" });
    mode = rest[1]!;
  }
  if (mode !== "" && !isDeviceMode(mode)) throw badMode(mode);
  const found: DeviceMapping[] = [];
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      const s = lstatSync(p, { throwIfNoEntry: false });
      if (!s) continue;
      if (s.isDirectory()) walk(p);
      else if (isNode(s)) found.push({ source: p, target: join(dest, p.slice(resolve(source).length)), perms: mode || "rwm" });
    }
  };
  walk(resolve(source));
  if (!found.length) throw new PodError(`no devices found in ${spec}: invalid argument`, { hint: "the directory holds no device nodes" });
  return found;
}

/** Each device bound over an empty file at its path in the container (after /dev is mounted). */
export function deviceOps(devices: DeviceMapping[]): MountOp[] {
  return devices.flatMap((d): MountOp[] => [
    { op: "touch", target: d.target, mode: 0o644 },
    { op: "bind", source: d.source, target: d.target, recursive: false, readonly: !d.perms.includes("w") },
  ]);
}
