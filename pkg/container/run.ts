// `pod run`: make sure the image is here, create the container's directory,
// let pkg/runtime decide the launch plan, start it through the native core,
// then stay in the foreground: forward signals, copy the terminal, and return
// the container's exit status. --rm removes everything afterwards.
import { closeSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../errors.ts";
import { Store, type ImageRecord } from "../store/index.ts";
import { lookupImage } from "../catalog/index.ts";
import { pullImage } from "../pull/index.ts";
import { hostPlatform, type Platform } from "../registry/index.ts";
import { storageMaps, warnSingleOnce } from "../userns/index.ts";
import { spawnContainer, signalContainer, ContainerSpawnError, compileMs, type UsernsChild } from "../native/core.ts";
import { Stage } from "../native/protocol.ts";
import { buildLaunchPlan, type RunOptions } from "../runtime/index.ts";
import { nextDriver, preferredDriver, rememberDriver, rootfsLayout, type RootfsDriver } from "../rootfs/index.ts";
import { log } from "../output/index.ts";
import type { Paths } from "../config/index.ts";
import { containerDir, createRecord, removeContainerDir, writeRecord, type ContainerRecord } from "./records.ts";
import { ContainerTerminal, hostWindowSize } from "./tty.ts";
import { copyLayersForVfs } from "./vfs.ts";

export type PullPolicy = "always" | "missing" | "never" | "newer";

export type RunRequest = {
  image: string;
  pull: PullPolicy;
  platform?: Platform;
  rm: boolean;
  name?: string;
  interactive: boolean;
  opts: RunOptions;
};

const forwarded = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
const signalNumber: Record<(typeof forwarded)[number], number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGUSR1: 10, SIGUSR2: 12, SIGTERM: 15 };

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

function readHostFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export async function runContainer(paths: Paths, req: RunRequest): Promise<number> {
  const store = new Store(paths).init();
  const img = await ensureImage(store, req.image, req.pull, req.platform);
  log.debug(`image ${img.id.slice(0, 12)} ready`);
  const imageConfig = JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${img.id}`)));
  const layerDirs = img.layers.map((d) => join(store.layerDir(d), "diff"));
  const rec = await createRecord(paths.root, {
    image: img.names[0] ?? img.id,
    imageId: img.id,
    command: req.opts.command,
    created: new Date().toISOString(),
    state: "created",
    name: req.name,
  });
  const dir = containerDir(paths.root, rec.id);
  log.debug(`container ${rec.id.slice(0, 12)} (${rec.name}) created`);
  try {
    return await startAndWait(store, paths, req, rec, dir, imageConfig, layerDirs);
  } finally {
    if (req.rm) {
      await removeContainerDir(paths.root, rec.id, (p) => store.removeTrees(p));
      log.debug(`container ${rec.id.slice(0, 12)} removed`);
    }
  }
}

async function startAndWait(
  store: Store,
  paths: Paths,
  req: RunRequest,
  rec: ContainerRecord,
  dir: string,
  imageConfig: unknown,
  layerDirs: string[],
): Promise<number> {
  const maps = storageMaps();
  warnSingleOnce(maps, paths.runroot);
  const devNull = req.interactive || req.opts.tty ? -1 : openSync("/dev/null", "r");
  const stdio = req.opts.tty ? { stdin: -1, stdout: -1, stderr: -1, tty: hostWindowSize() } : { stdin: devNull, stdout: -1, stderr: -1 };
  let term: ContainerTerminal | undefined;
  let driver: RootfsDriver = preferredDriver(paths.runroot);
  let child: UsernsChild | undefined;
  while (!child) {
    const layout = rootfsLayout(driver, paths.root, layerDirs, dir);
    if (driver === "vfs") await copyLayersForVfs(store, layerDirs, layout.rootfs);
    const { plan, files } = buildLaunchPlan({
      id: rec.id,
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
      hostResolv: readHostFile("/etc/resolv.conf"),
      opts: req.opts,
    });
    plan.rootfsHelper = layout.rootfsHelper;
    log.debug(`launch plan built: ${driver} root, ${plan.ops.length} mount steps`);
    for (const f of files) writeFileSync(join(dir, f.path), f.content);
    try {
      const started = spawnContainer(plan, stdio, paths.runroot);
      child = started.child;
      if (started.ttyMaster !== undefined) term = new ContainerTerminal(started.ttyMaster);
    } catch (e) {
      if (!(e instanceof ContainerSpawnError)) throw e;
      const next: RootfsDriver | undefined = e.stage === Stage.Rootfs || e.stage === Stage.Helper ? nextDriver(driver) : undefined;
      if (!next) throw spawnError(e, plan.argv[0] ?? "");
      rememberDriver(paths.runroot, next, `${driver} root filesystem failed (${e.message})`);
      driver = next;
    }
  }
  log.debug(`container process ${child.pid} started (compiling the native core took ${compileMs.toFixed(1)} ms)`);
  rec.state = "running";
  rec.pid = child.pid;
  rec.startedAt = new Date().toISOString();
  writeRecord(paths.root, rec);
  if (devNull >= 0) closeSync(devNull);
  const pid1 = child.pid;
  const handlers = forwarded.map((s) => [s, () => signalContainer(pid1, pid1, signalNumber[s], paths.runroot)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  term?.start(req.interactive);
  let code: number;
  try {
    code = await child.wait();
    await term?.finish();
  } finally {
    term?.restore();
    for (const [s, h] of handlers) process.off(s, h);
  }
  rec.state = "exited";
  rec.exitCode = code;
  rec.finishedAt = new Date().toISOString();
  if (!req.rm) writeRecord(paths.root, rec);
  log.debug(`container ${rec.id.slice(0, 12)} exited with ${code}`);
  return code;
}

function spawnError(e: ContainerSpawnError, command: string): PodError {
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
  if (e.stage === Stage.Mount && e.op)
    return new PodError(`setting up ${e.op.op} of ${e.op.target}: ${e.message.replace(/^[^:]*: /, "")}`, {
      hint: e.op.op === "bind" ? `check that ${e.op.source} exists and that you may read it` : undefined,
    });
  return new PodError(`starting the container: ${e.message}`, { hint: "run again with --log-level debug; `pod unshare` checks the user namespace" });
}

