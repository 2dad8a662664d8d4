// What this host offers rootless containers, read without changing anything
// and without starting processes. `pod doctor` judges these facts; `pod info`
// reports them.
import { accessSync, constants, existsSync, realpathSync, statfsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseSubIdFile, type IdRange } from "../userns/index.ts";
import { lgetxattr } from "../native/libc.ts";
import { readCgroups, type Cgroups } from "./cgroups.ts";
import { readText, type Env, type HostContext } from "./host.ts";

export type Tool = { name: string; path?: string; onPath: boolean };
export type IdHelper = Tool & { setuid: boolean; fileCaps: boolean };
export type SubIds = { file: string; readable: boolean; ranges: IdRange[]; count: number; nextFree: number };
export type Device = { path: string; exists: boolean; usable: boolean; mode?: string };
export type RuntimeDir = { path?: string; exists: boolean; owned: boolean; mode?: string };
export type Disk = { path: string; free: number; total: number };
export type Distro = { id: string; like: string[]; version: string; codename: string };

export type HostFacts = {
  user: string;
  uid: number;
  distro: Distro;
  newuidmap: IdHelper;
  newgidmap: IdHelper;
  subuid: SubIds;
  subgid: SubIds;
  maxUserNamespaces?: number;
  unprivilegedUsernsClone?: number;
  apparmorRestrict?: number;
  tun: Device;
  fuse: Device;
  pasta: Tool;
  slirp4netns: Tool;
  fuseOverlayfs: Tool;
  cgroups: Cgroups;
  runtimeDir: RuntimeDir;
  disk?: Disk;
};

/** Where tools live when PATH does not say: pod still finds them to tell you about PATH. */
const STANDARD_DIRS = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** A tool on PATH, else in a standard directory (onPath false). */
export function findTool(name: string, env: Env): Tool {
  for (const dir of (env.PATH ?? "").split(":").filter(Boolean)) if (isExecutable(join(dir, name))) return { name, path: join(dir, name), onPath: true };
  const path = STANDARD_DIRS.map((d) => join(d, name)).find(isExecutable);
  return { name, path, onPath: false };
}

function idHelper(name: string, env: Env): IdHelper {
  const t = findTool(name, env);
  if (!t.path) return { ...t, setuid: false, fileCaps: false };
  const st = statSync(t.path);
  // newuidmap may instead carry cap_setuid/cap_setgid as file capabilities (Fedora, Arch)
  return { ...t, setuid: (st.mode & 0o4000) !== 0 && st.uid === 0, fileCaps: lgetxattr(realpathSync(t.path), "security.capability") !== undefined };
}

export function readSubIds(file: string, user: string, uid: number): SubIds {
  const text = readText(file);
  const ranges = text === undefined ? [] : parseSubIdFile(text, user, uid);
  // the first id after every range in the file: a range starting there overlaps nobody's
  let end = 100000;
  for (const line of (text ?? "").split("\n")) {
    const [, start, count] = line.trim().split(":");
    if (Number.isInteger(Number(start)) && Number.isInteger(Number(count))) end = Math.max(end, Number(start) + Number(count));
  }
  return { file, readable: text !== undefined, ranges, count: ranges.reduce((n, r) => n + r.count, 0), nextFree: end };
}

export function readNumber(file: string): number | undefined {
  const t = readText(file)?.trim();
  return t === undefined || t === "" || !Number.isFinite(Number(t)) ? undefined : Number(t);
}

export function device(path: string): Device {
  if (!existsSync(path)) return { path, exists: false, usable: false };
  const mode = (statSync(path).mode & 0o7777).toString(8).padStart(4, "0");
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
    return { path, exists: true, usable: true, mode };
  } catch {
    return { path, exists: true, usable: false, mode };
  }
}

export function runtimeDir(env: Env, uid: number): RuntimeDir {
  const path = env.XDG_RUNTIME_DIR || undefined;
  if (!path || !existsSync(path)) return { path, exists: false, owned: false };
  const st = statSync(path);
  return { path, exists: true, owned: st.isDirectory() && st.uid === uid, mode: (st.mode & 0o7777).toString(8).padStart(4, "0") };
}

/** Free space where the storage root is, or would be created. */
export function diskOf(root: string): Disk | undefined {
  let p = root;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    const s = statfsSync(p);
    return { path: root, free: s.bavail * s.bsize, total: s.blocks * s.bsize };
  } catch {
    return undefined;
  }
}

export function readDistro(file: string): Distro {
  const kv: Record<string, string> = {};
  for (const line of (readText(file) ?? "").split("\n")) {
    const m = /^([A-Z_]+)=("?)(.*)\2$/.exec(line.trim());
    if (m) kv[m[1]!] = m[3]!;
  }
  return { id: kv.ID ?? "linux", like: (kv.ID_LIKE ?? "").split(/\s+/).filter(Boolean), version: kv.VERSION_ID ?? "", codename: kv.VERSION_CODENAME ?? "" };
}

export function gatherFacts(ctx: HostContext): HostFacts {
  const f = ctx.files;
  return {
    user: ctx.user,
    uid: ctx.uid,
    distro: readDistro(f.osRelease),
    newuidmap: idHelper("newuidmap", ctx.env),
    newgidmap: idHelper("newgidmap", ctx.env),
    subuid: readSubIds(f.subuid, ctx.user, ctx.uid),
    subgid: readSubIds(f.subgid, ctx.user, ctx.uid),
    maxUserNamespaces: readNumber(f.maxUserNamespaces),
    unprivilegedUsernsClone: readNumber(f.unprivilegedUsernsClone),
    apparmorRestrict: readNumber(f.apparmorRestrict),
    tun: device(f.tun),
    fuse: device(f.fuse),
    pasta: findTool("pasta", ctx.env),
    slirp4netns: findTool("slirp4netns", ctx.env),
    fuseOverlayfs: findTool("fuse-overlayfs", ctx.env),
    cgroups: readCgroups(f.procCgroup, f.mountinfo),
    runtimeDir: runtimeDir(ctx.env, ctx.uid),
    disk: diskOf(ctx.paths.root),
  };
}
