// `pod create` and `pod run`: make sure the image is here, record the
// container, then either stay in the foreground (forward signals, copy the
// terminal, return the container's exit status; --rm removes it afterwards)
// or hand it to a monitor (-d).
import { parseRestartPolicy } from "./restart-policy.ts";
import { publishPorts } from "./publish.ts";
import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { PodError, UsageError } from "../../errors.ts";
import { Store, type ImageRecord } from "../../store/index.ts";
import { lookupImage } from "../../catalog/index.ts";
import { pullImage } from "../../pull/index.ts";
import { hostPlatform, type Platform } from "../../registry/index.ts";
import { signalContainer, spawnContainer } from "../../native/core.ts";
import { frozenEnv, parseVolume, resolveWorkdir, type RunOptions } from "../../runtime/index.ts";
import { log } from "../../output/index.ts";
import { containersConfFiles, planPorts } from "../../network/index.ts";
import { confString } from "../../network/conf.ts";
import { settleSeccompProfile } from "../../security/index.ts";
import { checkJoinTarget } from "./join.ts";
import { checkLogConfig, linkCustomLog, parseLogConfig, type LogFlags } from "../io/log-driver.ts";
import type { Paths } from "../../config/index.ts";
import { containerDir, createRecord, findContainer, listRecords, readRecord, removeContainerDir, type ContainerConfig, type ContainerRecord, eventOf } from "../record/records.ts";
import { isUp, statusOf } from "../record/state.ts";
import { ContainerTerminal, hostWindowSize } from "../io/tty.ts";
import { launchContainer, layerDirsOf } from "./launch.ts";
import { killHelper, recordExit, runtimeDir } from "../io/live.ts";
import { removeContainer, startContainer } from "./lifecycle.ts";
import { removeRunImage } from "../record/image-users.ts";
import { resolveSecretRefs } from "../../secret/index.ts";
import { checkCreateFlags, createOptions, type CreateFlags } from "../record/create-options.ts";
import { attachContainer, checkPreservedFds } from "../io/session.ts";
import { PROXIED_SIGNALS } from "../io/sig-proxy.ts";
import { attachVolumes, planVolumes, removeAnonymousVolumes, withImageVolumes } from "../../volume/index.ts";
import { checkCidFile, checkConmonPidfile, writeCidFile, writeConmonPidfile } from "./cidfile.ts";
import { containerEvent } from "../../events/index.ts";

export type PullPolicy = "always" | "missing" | "never" | "newer";

export type RunRequest = {
  image: string;
  pull: PullPolicy;
  platform?: Platform;
  rm: boolean;
  name?: string;
  interactive: boolean;
  opts: RunOptions;
  /** with -it: the key sequence that detaches (ctrl-p ctrl-q by default) */
  detachKeys?: number[];
  /** --cidfile: where to write the new container's ID */
  cidfile?: string;
  /** --conmon-pidfile: where each start writes the monitor's pid */
  conmonPidfile?: string;
  /** the command line that made it (inspect's Config.CreateCommand; generate systemd --new runs it again) */
  createCommand?: string[];
  /** flags settled at create from their raw values and the image (create-options.ts) */
  flags?: CreateFlags;
  /** --replace: remove the container of that --name first */
  replace?: boolean;
  /** --rmi (run only, implies rm): remove the image once the container is gone, unless another container uses it */
  rmi?: boolean;
  /** --log-driver, --log-opt as given */
  log?: LogFlags;
  /** --preserve-fds N (run only): pod's fds 3 .. 3+N-1 are passed to the command, as podman does */
  preserveFds?: number;
  /** --sig-proxy (run only, default true): false leaves pod's signals to pod, so the container runs on under a monitor */
  sigProxy?: boolean;
};

export async function ensureImage(store: Store, image: string, policy: PullPolicy, platform?: Platform): Promise<ImageRecord> {
  if (policy !== "always") {
    try {
      const img = lookupImage(store, image);
      const wrongArch = platform && platform.architecture !== img.architecture;
      if (!wrongArch) return img;
    } catch (e) {
      if (policy === "never")
        throw new PodError(`${image}: image not known`, { hint: `pull it first (pod pull ${image}) or use --pull missing` });
      if (!(e instanceof PodError)) throw e;
    }
  }
  const res = await pullImage(store, image, { platform: platform ?? hostPlatform(), quiet: false });
  return lookupImage(store, res.id);
}

/**
 * Environment from --env-file and `-e KEY` is read now, as podman does at
 * create time, so a later `pod start` sees the same values.
 */
function freezeEnv(opts: RunOptions): RunOptions {
  return { ...opts, env: frozenEnv(opts.envFiles, opts.env, process.env), envFiles: [] };
}

/** The `.config` of the image's OCI config (Env, ExposedPorts, Labels, StopSignal…). */
function imageRuntimeConfig(store: Store, img: ImageRecord): Record<string, any> {
  try {
    return JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${img.id}`))).config ?? {};
  } catch {
    return {};
  }
}

/** --replace: the container that has the name now is removed (stopped first), as podman does. */
async function replaceNamed(paths: Paths, name: string): Promise<void> {
  const old = listRecords(paths.root).find((r) => r.name === name);
  if (!old) return;
  await removeContainer(paths, old, true);
  log.debug(`container ${old.id.slice(0, 12)} (${name}) removed for --replace`);
}

/** `pod create`: the image is pulled if needed and the container recorded, not started. */
export async function createContainer(paths: Paths, req: RunRequest): Promise<ContainerRecord> {
  const cidfile = req.cidfile !== undefined ? checkCidFile(req.cidfile) : undefined;
  const conmonPidfile = req.conmonPidfile !== undefined ? checkConmonPidfile(req.conmonPidfile) : undefined;
  const store = new Store(paths).init();
  if (req.replace && req.name === undefined)
    throw new UsageError("cannot replace container without --name being set", { hint: "give the container a --name, or drop --replace" });
  checkCreateFlags(req.flags ?? {}, req.opts.network);
  // the profile is read and checked now and kept with the container, as podman keeps it in the spec
  const seccompProfile = settleSeccompProfile(req.opts.securityOpt, req.opts.privileged, confString(containersConfFiles(), "containers", "seccomp_profile"), existsSync);
  if (req.rm && req.flags?.restart !== undefined && parseRestartPolicy(req.flags.restart).name !== "no")
    throw new UsageError(`the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"`, { hint: "drop --rm, or --restart" });
  // references (name, ID, target) only: the data is read at each start
  const secrets = req.flags?.secrets?.length ? resolveSecretRefs(paths, req.flags.secrets) : undefined;
  const opts = checkJoinTarget(paths.root, freezeEnv(req.opts));
  const logConfig = parseLogConfig(req.log);
  checkLogConfig(logConfig, { tty: opts.tty });
  const plan = planVolumes(opts);
  // What can be checked without the image is checked before anything is pulled or recorded.
  for (const v of plan.volumes) parseVolume(v);
  resolveWorkdir(opts.workdir, undefined);
  // checked before the pull; -P needs the image's EXPOSE and is planned after it
  const early = opts.publishAll ? undefined : await planPorts(opts);
  const img = await ensureImage(store, req.image, req.pull, req.platform);
  const imageConfig = imageRuntimeConfig(store, img);
  const ports = early ?? (await planPorts(opts, Object.keys(imageConfig.ExposedPorts ?? {})));
  log.debug(`image ${img.id.slice(0, 12)} ready`);
  const settled = createOptions(req.flags ?? {}, imageConfig, process.env);
  if (req.replace && req.name !== undefined) await replaceNamed(paths, req.name);
  const imageVolumes = Object.keys((imageConfig as { Volumes?: Record<string, unknown> }).Volumes ?? {});
  const attached = await attachVolumes(store, layerDirsOf(store, img.layers), withImageVolumes(plan, imageVolumes, req.flags?.imageVolume ?? "bind"));
  let rec: ContainerRecord | undefined;
  const config: ContainerConfig = {
    rm: req.rm || Boolean(req.rmi),
    ...(req.rmi ? { rmi: req.image } : {}),
    interactive: req.interactive,
    opts: { ...opts, ...settled, ...attached, ports, ...(secrets ? { secrets } : {}), ...(seccompProfile !== undefined ? { seccompProfile } : {}) },
    cidfile,
    ...(conmonPidfile ? { conmonPidfile } : {}),
    ...(logConfig ? { log: logConfig } : {}),
  };
  try {
    rec = await createRecord(paths.root, {
      image: img.names[0] ?? img.id,
      imageId: img.id,
      command: req.opts.command,
      created: new Date().toISOString(),
      state: "created",
      name: req.name,
      ...(req.createCommand ? { createCommand: req.createCommand } : {}),
      config,
    }, () => store.images().some((i) => i.id === img.id));
    if (cidfile) writeCidFile(cidfile, rec.id);
    linkCustomLog(containerDir(paths.root, rec.id), logConfig);
    await containerEvent(paths, eventOf(rec), "create");
  } catch (e) {
    // podman removes a container whose --cidfile it could not write
    if (rec) await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
    await removeAnonymousVolumes(store, attached.volumeMounts);
    throw e;
  }
  log.debug(`container ${rec.id.slice(0, 12)} (${rec.name}) created`);
  return rec;
}

/**
 * A container that `run` made but could not set up is removed again (its
 * anonymous volumes too), so nothing is left half made and a retry with the
 * same --name works. One whose command cannot be run (126, 127) stays
 * Created, as podman leaves it.
 */
async function unlessStarted<T>(paths: Paths, rec: ContainerRecord, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (e) {
    const cur = readRecord(paths.root, rec.id);
    const commandFailed = e instanceof PodError && (e.exit === 126 || e.exit === 127);
    if (cur && !commandFailed && cur.startedAt === undefined && !isUp(statusOf(cur))) {
      const store = new Store(paths);
      await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
      await removeAnonymousVolumes(store, rec.config?.opts.volumeMounts);
      rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
      await containerEvent(paths, eventOf(rec), "remove");
      log.debug(`container ${rec.id.slice(0, 12)} removed: it could not be started`);
    }
    throw e;
  }
}

/** `pod run -d`: resolves with the record once the container runs under its monitor. */
export async function runDetached(paths: Paths, req: RunRequest): Promise<ContainerRecord> {
  checkPreservedFds(req.preserveFds ?? 0, "pod run --preserve-fds 1 IMAGE CMD 3<file");
  const rec = await createContainer(paths, req);
  await unlessStarted(paths, rec, () => startContainer(paths, rec, { preserveFds: req.preserveFds }));
  return rec;
}

/** `pod run` in the foreground; resolves with the container's exit status. */
export async function runContainer(paths: Paths, req: RunRequest): Promise<number> {
  // the monitor carries out a restart policy: a foreground run without -it has none
  // -it, and --sig-proxy=false (a signal ends pod, not the container, as podman's conmon outlives podman), attach to a monitor
  const sigProxy = req.sigProxy !== false;
  const attached = (req.opts.tty && req.interactive) || !sigProxy;
  if (req.flags?.restart !== undefined && !req.rm && parseRestartPolicy(req.flags.restart).name !== "no" && !attached)
    throw new UsageError("--restart needs the container's monitor: run it with -d (or -it)", { hint: `pod run -d --restart ${req.flags.restart} …` });
  checkLogConfig(parseLogConfig(req.log), { tty: req.opts.tty, foreground: !attached });
  checkPreservedFds(req.preserveFds ?? 0, "pod run --preserve-fds 1 IMAGE CMD 3<file");
  const rec = await createContainer(paths, req);
  if (attached) return unlessStarted(paths, rec, () => runAttached(paths, rec, req.detachKeys ?? [0x10, 0x11], { preserveFds: req.preserveFds, stdin: req.interactive, sigProxy }));
  const store = new Store(paths);
  try {
    return await unlessStarted(paths, rec, () => runForeground(store, paths, rec, req.interactive, req.preserveFds));
  } finally {
    if (req.rm || req.rmi) {
      await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
      await containerEvent(paths, eventOf(rec), "remove");
      await removeAnonymousVolumes(store, rec.config?.opts.volumeMounts);
      log.debug(`container ${rec.id.slice(0, 12)} removed`);
      if (req.rmi) await removeRunImage(paths, req.image);
    }
  }
}

/**
 * `run -it`: the container goes to a monitor and this terminal attaches to
 * it, so the detach keys leave it running (podman's conmon does the same).
 * The monitor replays what the container wrote before we attached (its exit
 * too, when it ended first) and owns --rm.
 */
async function runAttached(paths: Paths, rec: ContainerRecord, detachKeys: number[], o: { preserveFds?: number; stdin: boolean; sigProxy: boolean }): Promise<number> {
  await startContainer(paths, rec, { ttySize: hostWindowSize(), awaitAttach: true, preserveFds: o.preserveFds });
  const r = await attachContainer(paths, findContainer(paths.root, rec.id), { stdin: o.stdin, detachKeys, justStarted: true, sigProxy: o.sigProxy });
  return r.detached ? 0 : r.code;
}

/** quiet: the command's output goes to /dev/null (`pod build -q`'s RUN steps) */
export async function runForeground(store: Store, paths: Paths, rec: ContainerRecord, interactive: boolean, preserveFds = 0, quiet = false): Promise<number> {
  const tty = rec.config?.opts.tty ?? false;
  const devNull = interactive || tty ? -1 : openSync("/dev/null", quiet ? "r+" : "r");
  const out = quiet && devNull >= 0 ? devNull : -1;
  const stdio = tty ? { stdin: -1, stdout: -1, stderr: -1, tty: hostWindowSize() } : { stdin: devNull, stdout: out, stderr: out };
  // Forwarding is in place before the container starts: a signal that arrives while it starts is
  // held and delivered once its pid is known, instead of killing pod (and so the container).
  let pid1: number | undefined;
  const pending: number[] = [];
  const deliver = (sig: number) => (pid1 === undefined ? pending.push(sig) : signalContainer(pid1, pid1, sig, paths.runroot));
  const handlers = Object.entries(PROXIED_SIGNALS).map(([s, n]) => [s, () => deliver(n)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  let term: ContainerTerminal | undefined;
  let published: { stop(): void } | undefined;
  let code: number;
  try {
    let started;
    try {
      ({ started } = await launchContainer(store, paths, rec, (plan, procs) => {
        const s = spawnContainer({ ...plan, preserveFds }, stdio, paths.runroot, procs);
        return { ...s, pid: s.child.pid };
      }));
    } finally {
      if (devNull >= 0) closeSync(devNull);
    }
    const { child, ttyMaster } = started;
    // the foreground pod holds the container's stdio from its start: podman's attach
    await containerEvent(paths, eventOf(rec), "attach");
    term = ttyMaster !== undefined ? new ContainerTerminal(ttyMaster) : undefined;
    pid1 = child.pid;
    // the foreground pod is what podman's conmon is there: it holds the container's stdio and records its exit
    writeConmonPidfile(rec, process.pid);
    published = await publishPorts(paths, readRecord(paths.root, rec.id), child.pid);
    for (const sig of pending.splice(0)) deliver(sig);
    term?.start(interactive);
    const timeout = rec.config?.opts.timeout;
    let timedOut = false;
    const timer = timeout ? setTimeout(() => ((timedOut = true), deliver(9)), timeout * 1000) : undefined;
    code = await child.wait();
    clearTimeout(timer);
    // podman (conmon) records -1 for a container its --timeout killed, and run exits 255
    if (timedOut) code = -1;
    if (started.netHelperPid !== undefined) killHelper(started.netHelperPid);
    await term?.finish();
  } finally {
    term?.restore();
    published?.stop();
    for (const [s, h] of handlers) process.off(s, h);
  }
  await containerEvent(paths, eventOf(rec), "died", code);
  await recordExit(paths, rec.id, code);
  rmSync(runtimeDir(paths, rec.id), { recursive: true, force: true });
  log.debug(`container ${rec.id.slice(0, 12)} exited with ${code}`);
  return code;
}
