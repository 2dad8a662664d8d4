// Starting a container's first process: the launch plan (pkg/runtime), the
// root filesystem driver with its fallbacks, its cgroup, the native core, and
// the record. Shared by the foreground `run` and detached containers, whose
// process the native core starts under a fresh monitor.
import { closeSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../../errors.ts";
import type { Store } from "../../store/index.ts";
import type { Paths } from "../../config/index.ts";
import { storageMaps, warnSingleOnce } from "../../userns/index.ts";
import { ContainerSpawnError, compileMs, coreKind, signalContainer, type ExecSpec } from "../../native/core.ts";
import { addSlirpForwards, mayFallBack, networkFiles, slirpForwardsPorts, networkSetup, noHosts, releaseBridge, releaseUserNetworks, type HelperKind } from "../../network/index.ts";
import { noteUserNetworkPid } from "../../network/usernet.ts";
import { findOnPath } from "../../network/helpers.ts";
import type { LaunchPlan } from "../../native/plan.ts";
import { createContainerCgroup, removeContainerCgroup } from "../../cgroup/index.ts";
import { openCgroupProcs, runtimeDir } from "../io/live.ts";
import { Stage } from "../../native/protocol.ts";
import { buildLaunchPlan } from "../../runtime/index.ts";
import { nextDriver, pinnedDriver, preferredDriver, rememberDriver, rootfsLayout, type RootfsDriver } from "../../rootfs/index.ts";
import { log } from "../../output/index.ts";
import { prepareSecrets } from "../../secret/index.ts";
import { containerDir, readRecord, updateRecord, type ContainerRecord, eventOf } from "../record/records.ts";
import { clearRunFiles, markRunning } from "../record/reconcile.ts";
import { joinTarget, namespaceJoins } from "./join.ts";
import { hostname as hostHostname } from "node:os";
import { writeFileAtomic } from "../../store/atomic.ts";
import { containerEvent } from "../../events/index.ts";

declare const POD_VERSION: string;
/** pod's version, defined when the binary is built */
const engineVersion = typeof POD_VERSION === "string" ? POD_VERSION : "0.0.0-dev";

function readHostFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function layerDirsOf(store: Store, layers: string[]): string[] {
  return layers.map((d) => join(store.layerDir(d), "diff"));
}

const serialCaps = (c: ExecSpec["caps"]) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, v.toString()]));

/** The exec spec of a running container: what `pod exec` starts processes as by default. */
export function readExecSpec(paths: Paths, id: string): ExecSpec | undefined {
  try {
    const j = JSON.parse(readFileSync(join(runtimeDir(paths, id), "exec.json"), "utf8"));
    return { ...j, caps: Object.fromEntries(Object.entries(j.caps as Record<string, string>).map(([k, v]) => [k, BigInt(v)])) } as ExecSpec;
  } catch {
    return undefined;
  }
}

/** What starts the process: pod itself (foreground) or a monitor (detached); gets the cgroup.procs fd or -1. */
export type Starter<T extends { pid: number; monitorPid?: number }> = (plan: LaunchPlan, cgroupProcs: number) => T;

/**
 * Builds the plan, picks the root filesystem driver (moving on to the next
 * one when this host cannot mount it), places the process in a cgroup of its
 * own where a delegated cgroup v2 exists, starts it and records it running.
 */
export async function launchContainer<T extends { pid: number; monitorPid?: number }>(
  store: Store,
  paths: Paths,
  rec: ContainerRecord,
  start: Starter<T>,
): Promise<{ started: T; rec: ContainerRecord }> {
  if (!rec.config) throw new PodError(`container ${rec.name} has no launch configuration`, { hint: "remove it and create it again" });
  const img = store.images().find((i) => i.id === rec.imageId);
  if (!img) throw new PodError(`container ${rec.name}: its image ${rec.imageId.slice(0, 12)} is no longer in storage`, { hint: `pull ${rec.image} again` });
  const imageConfig = JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${img.id}`)));
  const layerDirs = layerDirsOf(store, img.layers);
  const dir = containerDir(paths.root, rec.id);
  const maps = storageMaps();
  warnSingleOnce(maps, paths.runroot);
  const cgroup = createContainerCgroup(rec.id, undefined, rec.config.opts.resources);
  const hostResolv = readHostFile("/etc/resolv.conf");
  const netFiles = networkFiles(runtimeDir(paths, rec.id), rec.id, paths.runroot);
  try {
    return await launchWith(store, paths, { ...rec, config: rec.config }, start, { imageConfig, layerDirs, dir, maps, cgroup, hostResolv, netFiles });
  } catch (e) {
    // a start that failed gives its place on root's bridge back
    await releaseBridge(rec.id);
    await releaseUserNetworks(paths.runroot, rec.id);
    throw e;
  }
}

type LaunchFacts = {
  imageConfig: any;
  layerDirs: string[];
  dir: string;
  maps: ReturnType<typeof storageMaps>;
  cgroup: string | undefined;
  hostResolv: string;
  netFiles: ReturnType<typeof networkFiles>;
};

async function launchWith<T extends { pid: number; monitorPid?: number }>(
  store: Store,
  paths: Paths,
  rec: ContainerRecord & { config: NonNullable<ContainerRecord["config"]> },
  start: Starter<T>,
  { imageConfig, layerDirs, dir, maps, cgroup, hostResolv, netFiles }: LaunchFacts,
): Promise<{ started: T; rec: ContainerRecord }> {
  let driver: RootfsDriver = preferredDriver(paths.runroot, paths.engine);
  const pinned = pinnedDriver(paths.engine) !== undefined;
  let avoidHelper: HelperKind | undefined;
  for (;;) {
    const net = await networkSetup(rec.id, rec.config.opts, hostResolv, netFiles, avoidHelper, joinTarget(paths.root, rec.config.opts), paths.engine?.networkCmdPath, {
      root: paths.root,
      runroot: paths.runroot,
      name: rec.name,
    });
    if (net.helper) {
      log.debug(`network: ${net.helper.kind}`);
      rmSync(net.helper.apiSocket, { force: true });
    }
    const layout = rootfsLayout(driver, paths.root, layerDirs, dir, paths.engine?.mountProgram);
    if (driver === "vfs") await store.copyLayers(layerDirs, layout.rootfs);
    const secrets = prepareSecrets(store, rec.config.opts.secrets, runtimeDir(paths, rec.id));
    const { plan, files } = buildLaunchPlan({
      id: rec.id,
      ownCgroup: cgroup !== undefined,
      ...namespaceJoins(paths.root, rec.config.opts, hostHostname()),
      hostMqueue: existsSync("/dev/mqueue"),
      imageConfig,
      layerDirs,
      rootfs: layout.rootfs,
      rootfsMount: layout.rootfsMount,
      containerDir: dir,
      storageMaps: { uid: maps.uid, gid: maps.gid },
      hostUid: process.getuid!(),
      hostGid: process.getgid!(),
      hostEnv: process.env,
      hostHosts: readHostFile("/etc/hosts"),
      hostResolv,
      net: { mode: net.mode, resolv: net.resolv, hosts: net.hosts, hostAddress: net.hostAddress, address: net.bridge?.ip ?? net.usernet?.addresses[0]?.ip },
      name: rec.name,
      image: rec.image,
      imageId: rec.imageId,
      engineVersion,
      seccompCache: paths.runroot,
      secrets: secrets.facts,
      opts: { ...rec.config.opts, noHosts: noHosts(rec.config.opts) },
    });
    plan.rootfsHelper = layout.rootfsHelper;
    plan.netHelper = net.helper?.command ?? net.bridge?.command ?? net.usernet?.command;
    plan.joinNetwork = net.join;
    for (const f of files) writeFileAtomic(join(dir, f.path), f.content);
    log.debug(`launch plan built: ${driver} root, ${plan.ops.length} mount steps${cgroup ? `, cgroup ${cgroup}` : ""}`);
    // Everything but the pids is on disk before the process starts: a monitor that finds
    // itself unrecorded (the CLI was killed) needs to add only what it knows.
    const rt = runtimeDir(paths, rec.id);
    mkdirSync(rt, { recursive: true, mode: 0o700 });
    await secrets.write({ container: { uid: plan.uidMap, gid: plan.gidMap }, storage: { uid: maps.uid, gid: maps.gid } });
    const spec: ExecSpec = { argv: [], env: plan.env, cwd: plan.cwd, uid: plan.uid, gid: plan.gid, groups: plan.groups, keepGroups: plan.keepGroups, rlimits: plan.rlimits, caps: plan.caps, noNewPrivileges: plan.noNewPrivileges, keyring: plan.keyring, seccomp: plan.seccomp };
    // 0600: the environment may hold secrets (exec sessions get them, as in podman)
    writeFileAtomic(join(rt, "exec.json"), JSON.stringify({ ...spec, caps: serialCaps(plan.caps) }), 0o600);
    clearRunFiles(dir);
    const bridge = net.bridge && { ip: net.bridge.ip, gateway: net.bridge.gateway, prefix: net.bridge.prefix, bridge: net.bridge.name };
    // the secrets' variables stay out of the record (and so out of inspect)
    const secretVars = new Set(Object.keys(secrets.facts?.env ?? {}));
    const env = plan.env.filter((e) => !secretVars.has(e.split("=", 1)[0]!));
    await updateRecord(paths.root, rec.id, (r) => ({ ...r, env, cgroup, networkHelper: net.helper?.kind ?? (bridge || net.usernet ? "bridge" : undefined), bridge, networks: net.usernet?.addresses }));
    let started: T;
    const procs = cgroup ? openCgroupProcs(cgroup) : -1;
    let restoreOom = () => {};
    try {
      restoreOom = setOomScoreAdj(rec.config.opts.resources?.oomScoreAdj);
      started = start(plan, procs);
    } catch (e) {
      if (!(e instanceof ContainerSpawnError)) throw e;
      if (e.stage === Stage.Network && net.helper?.kind === "pasta" && avoidHelper === undefined && mayFallBack(rec.config.opts) && (paths.engine?.networkCmdPath ?? findOnPath("slirp4netns"))) {
        // pasta refuses hosts without a usable external interface (offline, at boot, some VPNs): slirp4netns still gives a network
        log.debug(`network: pasta failed (${e.message}); using slirp4netns`);
        avoidHelper = "pasta";
        continue;
      }
      // Only "this kernel/host cannot do it" moves on to the next driver (and is remembered);
      // anything else (a directory removed under us, say) is this container's problem.
      const unsupported = e.stage === Stage.Helper || (e.stage === Stage.Rootfs && [1, 19, 22, 95].includes(e.errno));
      // a driver the global flags ask for is used or fails: no fallback
      const next: RootfsDriver | undefined = unsupported && !pinned ? nextDriver(driver) : undefined;
      if (!next) {
        if (cgroup) removeContainerCgroup(cgroup);
        await updateRecord(paths.root, rec.id, (r) => ({ ...r, cgroup: undefined }));
        const prog = paths.engine?.mountProgram;
        if (unsupported && prog && e.stage === Stage.Helper)
          throw new PodError(`mounting the container's root with overlay.mount_program=${prog}: ${e.message}`, {
            hint: "its output is above; check that it is fuse-overlayfs and that you may open /dev/fuse, or drop --storage-opt overlay.mount_program",
          });
        throw spawnError(e, plan.argv[0] ?? "");
      }
      rememberDriver(paths.runroot, next, `${driver} root filesystem failed (${e.message})`);
      driver = next;
      continue;
    } finally {
      restoreOom();
      if (procs >= 0) closeSync(procs);
    }
    const pid = started.pid;
    await containerEvent(paths, eventOf(rec), "start");
    if (net.usernet) await noteUserNetworkPid(paths.runroot, rec.id, pid);
    if (net.helper?.kind === "slirp4netns" && rec.config.opts.ports?.length && slirpForwardsPorts(rec.config.opts.network)) {
      try {
        await addSlirpForwards(net.helper.apiSocket, rec.config.opts.ports);
      } catch (e) {
        signalContainer(pid, pid, 9, paths.runroot);
        if (cgroup) removeContainerCgroup(cgroup);
        throw e;
      }
    }
    log.debug(`container process ${pid} started (loading the native core, ${coreKind === "prebuilt" ? "built with pod" : "compiled by TinyCC"}, took ${compileMs.toFixed(1)} ms)`);
    // The monitor records a start it finds unrecorded, and may already have recorded its end: not undone here.
    const running = await updateRecord(paths.root, rec.id, (r) => (r.pid === pid ? undefined : markRunning(r, pid, started.monitorPid)));
    return { started, rec: running ?? readRecord(paths.root, rec.id) ?? rec };
  }
}

/**
 * --oom-score-adj: set on pod's own process for the moment the container's
 * first process is forked from it (it inherits the value, as crun writes it
 * before exec); returns what puts pod's own value back.
 */
function setOomScoreAdj(adj: number | undefined): () => void {
  if (adj === undefined) return () => {};
  const file = "/proc/self/oom_score_adj";
  const before = readHostFile(file).trim() || "0";
  try {
    writeFileSync(file, String(adj));
  } catch (e) {
    throw new PodError(`setting --oom-score-adj ${adj}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: `only root may lower it below the value pod starts with (${before}); give ${before} or more`,
    });
  }
  return () => {
    try {
      writeFileSync(file, before);
    } catch {
      // lowering back needs CAP_SYS_RESOURCE when it was raised: pod ends soon anyway
    }
  };
}

export function spawnError(e: ContainerSpawnError, command: string): PodError {
  if (e.stage === Stage.Exec) {
    if (e.errno === 2)
      return new PodError(`${command}: executable file not found in $PATH: no such file or directory`, {
        exit: 127,
        hint: "check the command name, or that the image contains it",
      });
    return new PodError(`${command}: cannot be executed: ${e.message.replace(/^[^:]*: /, "")}`, {
      exit: 126,
      hint: "the file must be an executable the container can run (mode, format, interpreter)",
    });
  }
  if (e.stage === Stage.Network)
    return new PodError(e.message.replace(/^setting up the network: /, "setting up the container's network: "), {
      hint: /tun|TUN/.test(e.message)
        ? "the helper needs /dev/net/tun: check that it exists and is read-writable by you (sudo chmod 666 /dev/net/tun), or run with --network none"
        : /External interface not usable/.test(e.message)
          ? "pasta found no usable external interface (offline?): use --network slirp4netns, or --network none"
          : "the helper's own message is above; `pod doctor` checks pasta, slirp4netns and /dev/net/tun; --network none runs without a network",
    });
  if (e.stage === Stage.Mount && e.op?.op === "write")
    return new PodError(`setting sysctl ${e.op.target.replace(/^\/proc\/sys\//, "").replaceAll("/", ".")}=${e.op.data}: ${e.message.replace(/^[^:]*: /, "")}`, {
      hint: "this kernel does not let the container's namespaces set it (not namespaced here, or no such key): drop that --sysctl",
    });
  if (e.stage === Stage.Mount && e.op)
    return new PodError(`setting up ${e.op.op} of ${e.op.target}: ${e.message.replace(/^[^:]*: /, "")}`, {
      hint: e.op.op === "bind" ? `check that ${e.op.source} exists and that you may read it` : undefined,
    });
  if (e.stage === Stage.Join)
    return new PodError(`starting the container: ${e.message}`, {
      hint: "a namespace can be joined only through the user namespace that owns it: rootless, one of the host's (ns:PATH) cannot be joined; use host for that namespace instead",
    });
  return new PodError(`starting the container: ${e.message}`, { hint: "run again with --log-level debug; `pod unshare` checks the user namespace" });
}
