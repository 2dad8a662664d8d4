// `pod info` and `pod version`: what pod is, where it keeps things, and what
// this host offers it, shaped like podman's (host, store, registries,
// version) so `--format '{{.Store.GraphRoot}}'` scripts carry over.
import { existsSync, statSync } from "node:fs";
import { arch, cpus, freemem, hostname, release, totalmem, uptime } from "node:os";
import { volumesPath, type Paths } from "../config/index.ts";
import { gatherFacts, hostContext, type HostFacts, type Tool } from "../doctor/index.ts";
import { authFileForWrite, authFilePaths, loadRegistriesConfig } from "../image/index.ts";
import { preferredDriver } from "../rootfs/index.ts";
import { Store } from "../store/index.ts";
import { storageMaps, type IdMap } from "../userns/index.ts";
// records.ts, not the folder's index: the index pulls in `run` and the native core
import { listRecords } from "../container/record/records.ts";
import { statusOf } from "../container/record/state.ts";
import { isRunning } from "./containers.ts";

const GOARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" };
export const ociArch = () => GOARCH[process.arch] ?? process.arch;

/** Go's time.ANSIC ("Mon Jan  2 15:04:05 2006"), which podman prints for Built. */
export function ansicTime(d: Date): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const p2 = (n: number) => String(n).padStart(2, "0");
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, " ")} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${d.getFullYear()}`;
}

/** When the binary was written: the compiled pod's own mtime; 0 (podman's "unknown") when run from source. */
function builtAt(): Date {
  return Bun.main.startsWith("/$bunfs/") ? statSync(process.execPath).mtime : new Date(0);
}

export type VersionInfo = {
  APIVersion: string;
  Version: string;
  BunVersion: string;
  GitCommit: string;
  BuiltTime: string;
  Built: number;
  OsArch: string;
  Os: string;
};

export function versionInfo(version: string, built: Date = builtAt()): VersionInfo {
  return {
    APIVersion: version,
    Version: version,
    BunVersion: Bun.version,
    GitCommit: "",
    BuiltTime: ansicTime(built),
    Built: Math.floor(built.getTime() / 1000),
    OsArch: `${process.platform}/${ociArch()}`,
    Os: process.platform,
  };
}

function idMappings(map: IdMap) {
  const out: { container_id: number; host_id: number; size: number }[] = [];
  for (let i = 0; i + 2 < map.length; i += 3) out.push({ container_id: map[i]!, host_id: map[i + 1]!, size: map[i + 2]! });
  return out;
}

const tool = (t: Tool) => ({ executable: t.path ?? "", inPath: t.onPath });

function uptimeText(): string {
  const s = uptime();
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m ${(s % 60).toFixed(2)}s`;
}

/** Keys in alphabetical order, as podman prints them. */
function hostSection(f: HostFacts) {
  return Object.fromEntries(Object.entries(hostFacts(f)).sort(([a], [b]) => a.localeCompare(b)));
}

function hostFacts(f: HostFacts) {
  const maps = storageMaps();
  return {
    arch: ociArch(),
    cgroupControllers: f.cgroups.controllers,
    cgroupVersion: f.cgroups.version,
    cpus: cpus().length,
    distribution: { codename: f.distro.codename, distribution: f.distro.id, version: f.distro.version },
    hostname: hostname(),
    idMappings: { gidmap: idMappings(maps.gid), uidmap: idMappings(maps.uid) },
    kernel: release(),
    memFree: freemem(),
    memTotal: totalmem(),
    // the --network modes pod takes here (podman lists its own); as root the default is the bridge
    networkModes: [...((process.getuid?.() ?? 1) === 0 ? ["bridge"] : []), "pasta", "slirp4netns", "private", "host", "none", "container", "ns"],
    os: process.platform,
    pasta: tool(f.pasta),
    rootless: {
      newgidmap: { ...tool(f.newgidmap), setuid: f.newgidmap.setuid, fileCaps: f.newgidmap.fileCaps },
      newuidmap: { ...tool(f.newuidmap), setuid: f.newuidmap.setuid, fileCaps: f.newuidmap.fileCaps },
      singleIdMapping: maps.single,
      subgidCount: f.subgid.count,
      subuidCount: f.subuid.count,
      maxUserNamespaces: f.maxUserNamespaces ?? null,
      unprivilegedUsernsClone: f.unprivilegedUsernsClone ?? null,
    },
    security: { rootless: f.uid !== 0 },
    slirp4netns: tool(f.slirp4netns),
    devices: { fuse: { path: f.fuse.path, usable: f.fuse.usable }, tun: { path: f.tun.path, usable: f.tun.usable } },
    fuseOverlayfs: tool(f.fuseOverlayfs),
    runtimeDir: f.runtimeDir.path ?? "",
    uptime: uptimeText(),
  };
}

function storeSection(paths: Paths, f: HostFacts) {
  const containers = listRecords(paths.root);
  const up = containers.filter(isRunning);
  const paused = up.filter((c) => statusOf(c) === "paused").length;
  return {
    containerStore: { number: containers.length, paused, running: up.length - paused, stopped: containers.length - up.length },
    graphDriverName: preferredDriver(paths.runroot, paths.engine),
    graphRoot: paths.root,
    graphRootAllocated: f.disk?.total ?? 0,
    graphRootFree: f.disk?.free ?? 0,
    imageStore: { number: new Store(paths).images().length },
    runRoot: paths.runroot,
    volumePath: volumesPath(paths),
  };
}

function registriesSection(env: Record<string, string | undefined>) {
  const conf = loadRegistriesConfig(env);
  const existing = authFilePaths(env).find((p) => existsSync(p));
  let authFile = existing ?? "";
  if (!existing) {
    try {
      authFile = authFileForWrite(env);
    } catch (e) {
      authFile = `(none: ${(e as Error).message})`;
    }
  }
  return { authFile, configFiles: conf.files, search: conf.unqualifiedSearchRegistries };
}

export function systemInfo(paths: Paths, version: string, env: Record<string, string | undefined> = process.env) {
  const facts = gatherFacts(hostContext(paths, env));
  return {
    host: hostSection(facts),
    store: storeSection(paths, facts),
    registries: registriesSection(env),
    version: versionInfo(version),
  };
}
