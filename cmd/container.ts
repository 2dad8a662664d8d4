// Lifecycle commands for containers: start, stop, kill, restart, rm, wait,
// pause, unpause, rename, ps, logs, attach, exec, and the `container` group.
import type { PodArgs, PodCommand } from "./_args.ts";
import { detachKeysArg, formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { existsCommand } from "./_exists.ts";
import {
  attachContainer,
  proxySignals,
  findContainer,
  killContainer,
  restartContainer,
  parseDetachKeys,
  parseSignal,
  pruneContainers,
  removeUnreadable,
  psJsonRow,
  psTemplateRow,
  removeContainer,
  renameContainer,
  startContainer,
  statusOf,
  stopContainer,
  waitContainer,
  pauseContainer,
  unpauseContainer,
  stopSignalOf,
  stopTimeoutOf,
  containerDir,
  followLog,
  mayStillLog,
  readRecord,
  logPath,
  logSize,
  renderLine,
  resolveTargets,
  isNoSuchContainer,
  listContainers,
  checkPsQuery,
  FILTER_KEYS,
  PS_SORT_KEYS,
  type ContainerRecord,
  type PsQuery,
  type PsSortKey,
  type Target,
  type EachOptions,
  eachTarget as eachTargetOf,
  logDriverOf,
} from "../pkg/container/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, formatItems, out } from "../pkg/output/index.ts";
import type { Paths } from "../pkg/config/index.ts";

const allArg = { all: { type: "boolean", alias: "a", description: "Act on all containers" } } satisfies PodArgs;
const latestArg = { latest: { type: "boolean", alias: "l", description: "Act on the latest container pod knows about" } } satisfies PodArgs;
const ctrArg = { container: { type: "positional", description: "Containers (name or ID)", required: false } } satisfies PodArgs;

const cidfileArg = {
  cidfile: { type: "string", multiple: true, description: "Read the container ID from the file (repeatable)", valueHint: "file" },
} satisfies PodArgs;
const filterArg = {
  filter: { type: "string", alias: "f", multiple: true, description: "Act on the containers the filter matches (KEY=VALUE, as ps)", valueHint: "filter" },
} satisfies PodArgs;

/** The target flags of a bulk verb as pkg/container takes them: names/IDs, --all, --latest, --cidfile, --filter. */
function targetFlags(args: Record<string, unknown>) {
  const list = (k: string) => (args[k] as string[] | undefined) ?? [];
  return { names: args._ as string[], all: Boolean(args.all), latest: Boolean(args.latest), cidfiles: list("cidfile"), filters: list("filter"), ignore: Boolean(args.ignore), attach: Boolean(args.attach) };
}

function targets(paths: Paths, args: Record<string, unknown>, filter?: (r: ContainerRecord) => boolean, rules?: EachOptions["rules"]): Target[] {
  return resolveTargets(paths, targetFlags(args), { rules, allFilter: filter });
}

/** pkg/container's bulk runner over the command's targets (`filter` narrows --all). */
function eachTarget(
  paths: Paths,
  args: Record<string, unknown>,
  fn: (rec: ContainerRecord, input: string) => Promise<string | undefined> | string | undefined,
  filter?: (r: ContainerRecord) => boolean,
  o: Omit<EachOptions, "allFilter"> = {},
): Promise<void> {
  return eachTargetOf(paths, targetFlags(args), fn, { ...o, allFilter: filter });
}

export const start: PodCommand = {
  meta: { name: "start", description: "Start one or more containers" },
  examples: ["pod start web", "pod start -a -i shell", "pod start --filter status=exited"],
  args: {
    attach: { type: "boolean", alias: "a", description: "Attach to the container's output (one container)" },
    interactive: { type: "boolean", alias: "i", description: "Keep STDIN open and attach it" },
    "sig-proxy": { type: "boolean", description: "Proxy the signals pod receives to the container's process (default true with --attach)" },
    ...detachKeysArg,
    // podman's start has -a for --attach, so --all has no short form here
    all: { type: "boolean", description: "Start all containers" },
    ...filterArg,
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    // podman: on by default with --attach, and only there
    const sigProxy = args["sig-proxy"] === undefined ? Boolean(args.attach) : Boolean(args["sig-proxy"]);
    if (sigProxy && !args.attach) throw new UsageError("you cannot use sig-proxy without --attach: invalid argument", { hint: "pod start --attach --sig-proxy NAME" });
    if (args.attach || args.interactive) {
      const [t, ...more] = targets(ctx.paths, args, undefined, "start");
      if (!t || more.length) throw new UsageError("you cannot start and attach multiple containers at once", { hint: "name one container" });
      if (t.error) throw t.error;
      const rec = t.rec!;
      const file = logPath(containerDir(ctx.paths.root, rec.id));
      const from = logSize(file);
      // --log-driver none: no log to follow; the monitor keeps the output until we attach
      const none = logDriverOf(rec) === "none";
      await startContainer(ctx.paths, rec, none ? { awaitAttach: true } : {});
      if (rec.config?.opts.tty || args.interactive || none) {
        const r = await attachContainer(ctx.paths, findContainer(ctx.paths.root, rec.id), {
          stdin: Boolean(args.interactive),
          detachKeys: parseDetachKeys(String(args["detach-keys"])),
          sigProxy,
          ...(none ? { justStarted: true } : {}),
        });
        return r.detached ? 0 : r.code;
      }
      // Without a terminal, the log from this start on is the output: nothing is lost to a late attach.
      const stopProxy = sigProxy ? proxySignals(ctx.paths, rec.id) : undefined;
      try {
        await followLog(file, from, () => mayStillLog(readRecord(ctx.paths.root, rec.id)), (l) => (l.stream === "stderr" ? err : out)(renderLine(l, false)));
        return (await waitContainer(ctx.paths, rec.id)) ?? 0;
      } finally {
        stopProxy?.();
      }
    }
    await eachTarget(ctx.paths, args, async (rec, input) => (await startContainer(ctx.paths, rec), input), undefined, { rules: "start" });
  },
};

/** --time: whole seconds. */
function seconds(args: Record<string, unknown>, example: string): number {
  const t = Number(args.time);
  if (!/^\d+$/.test(String(args.time)) || !Number.isSafeInteger(t)) throw new UsageError(`invalid --time "${args.time}": expected whole seconds`, { hint: example });
  return t;
}

export const stop: PodCommand = {
  meta: { name: "stop", description: "Stop one or more running containers" },
  examples: ["pod stop web", "pod stop -t 2 web", "pod stop -a", "pod stop --cidfile /run/web.cid"],
  args: {
    time: { type: "string", alias: ["t", "timeout"], description: "Seconds to wait before killing the container (default: its --stop-timeout, 10)", valueHint: "seconds" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors when a container (or --cidfile) does not exist" },
    ...allArg,
    ...latestArg,
    ...cidfileArg,
    ...filterArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    const t = args.time !== undefined ? seconds(args, "pod stop -t 5 NAME") : undefined;
    const forgive = (e: PodError) => Boolean(args.ignore) && isNoSuchContainer(e);
    // podman's --all passes over paused containers instead of failing on them
    const notPaused = args.all ? (r: ContainerRecord) => statusOf(r) !== "paused" : undefined;
    await eachTarget(ctx.paths, args, async (rec, input) => (await stopContainer(ctx.paths, rec, t ?? stopTimeoutOf(rec), stopSignalOf(ctx.paths, rec)), input), notPaused, { forgive });
  },
};

export const kill: PodCommand = {
  meta: { name: "kill", description: "Kill one or more running containers with a signal" },
  examples: ["pod kill web", "pod kill -s HUP web", "pod kill --cidfile /run/web.cid"],
  args: {
    signal: { type: "string", alias: "s", default: "KILL", description: "Signal to send", valueHint: "signal" },
    ...allArg,
    ...latestArg,
    ...cidfileArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    const sig = parseSignal(String(args.signal));
    // podman: --all signals the running and the paused containers
    const up = (r: ContainerRecord) => ["running", "paused"].includes(statusOf(r));
    await eachTarget(ctx.paths, args, async (rec, input) => (await killContainer(ctx.paths, rec, sig), input), args.all ? up : undefined);
  },
};

function inputFor(args: Record<string, unknown>, rec: ContainerRecord): string {
  return (args._ as string[]).find((n) => rec.name === n || rec.id.startsWith(n)) ?? rec.id;
}

export const restart: PodCommand = {
  meta: { name: "restart", description: "Restart one or more containers" },
  examples: ["pod restart web", "pod restart --running", "pod restart -t 2 --filter name=^web"],
  args: {
    time: { type: "string", alias: "t", description: "Seconds to wait before killing the container (default: its --stop-timeout, 10)", valueHint: "seconds" },
    running: { type: "boolean", description: "Restart every running container" },
    ...allArg,
    ...latestArg,
    ...cidfileArg,
    ...filterArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    const t = args.time !== undefined ? seconds(args, "pod restart -t 5 NAME") : undefined;
    const list = (k: string) => (args as Record<string, unknown>)[k] as string[];
    const picks = list("_").length || args.all || args.latest || list("cidfile").length || list("filter").length;
    if (args.running && picks)
      throw new UsageError("--running restarts every running container: it takes no names, --all, --latest, --cidfile or --filter", { hint: "pod restart --running" });
    const restartOne = async (rec: ContainerRecord, input: string) => (await restartContainer(ctx.paths, rec, t ?? stopTimeoutOf(rec), stopSignalOf(ctx.paths, rec)), input);
    if (args.running) return void (await eachTarget(ctx.paths, { ...args, all: true }, restartOne, (r) => statusOf(r) === "running"));
    await eachTarget(ctx.paths, args, restartOne);
  },
};

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove one or more containers" },
  examples: ["pod rm web", "pod rm -f -t 2 web", "pod rm -a", "pod rm --filter status=exited"],
  args: {
    force: { type: "boolean", alias: "f", description: "Stop and remove running containers" },
    time: { type: "string", alias: "t", description: "With --force: seconds to wait for the stop before killing the container", valueHint: "seconds" },
    volumes: { type: "boolean", alias: "v", description: "Remove anonymous volumes of the container" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors when a container (or --cidfile) does not exist" },
    depend: { type: "boolean", description: "Also remove the containers that depend on it (pod containers have no dependencies)" },
    ...allArg,
    ...latestArg,
    ...cidfileArg,
    // rm's -f is --force: its --filter has no short form (podman)
    ...({ filter: { type: "string", multiple: true, description: filterArg.filter.description, valueHint: "filter" } } satisfies PodArgs),
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    if (args.time !== undefined && !args.force) throw new UsageError("--force option must be specified to use the --time option", { hint: "pod rm -f -t 5 NAME" });
    const t = args.time !== undefined ? seconds(args, "pod rm -f -t 5 NAME") : undefined;
    // podman: -f, like -i, does not fail on containers that are not there
    const forgive = (e: PodError) => Boolean(args.ignore || args.force) && isNoSuchContainer(e);
    await eachTarget(
      ctx.paths,
      args,
      async (rec) => {
        // without -t, only a container with its own --stop-timeout is stopped first (pod's rm -f kills at once otherwise)
        const wait = t ?? rec.config?.opts.stopTimeout;
        if (wait !== undefined && args.force && statusOf(rec) === "running") await stopContainer(ctx.paths, rec, wait, stopSignalOf(ctx.paths, rec));
        await removeContainer(ctx.paths, rec, Boolean(args.force), { volumes: Boolean(args.volumes) });
        return rec.id;
      },
      undefined,
      { forgive },
    );
    if (args.all) for (const id of await removeUnreadable(ctx.paths, Boolean(args.force))) out(`${id}\n`);
  },
};

export const wait: PodCommand = {
  meta: { name: "wait", description: "Wait for containers to stop and print their exit codes" },
  examples: ["pod wait web"],
  args: { ...latestArg, ...ctrArg },
  async run({ args }) {
    const ctx = openContext(args);
    await eachTarget(ctx.paths, args, async (rec) => String(await waitContainer(ctx.paths, rec.id)));
  },
};

/** pause/unpause through the cgroup v2 freezer; podman's --all acts only on the containers in the right state. */
const freezeVerb = (verb: "pause" | "unpause"): PodCommand => ({
  meta: { name: verb, description: `${verb[0]!.toUpperCase()}${verb.slice(1)} all processes in one or more containers` },
  examples: [`pod ${verb} web`, `pod ${verb} --all`, `pod ${verb} --filter name=web`],
  args: { ...allArg, ...cidfileArg, ...filterArg, ...latestArg, ...ctrArg },
  async run({ args }) {
    const ctx = openContext(args);
    const [act, wanted] = verb === "pause" ? [pauseContainer, "running"] : [unpauseContainer, "paused"];
    await eachTarget(
      ctx.paths,
      args,
      async (rec, input) => (await act(ctx.paths, rec), input),
      args.all ? (r) => statusOf(r) === wanted : undefined,
    );
  },
});

export const pause = freezeVerb("pause");
export const unpause = freezeVerb("unpause");

export const rename: PodCommand = {
  meta: { name: "rename", description: "Rename an existing container" },
  examples: ["pod rename web web-old"],
  args: { container: { type: "positional", description: "Container" }, name: { type: "positional", description: "New name" } },
  async run({ args }) {
    const [from, to] = args._ as string[];
    if (!to) throw new UsageError("`pod rename` needs CONTAINER and NEW_NAME", { hint: "pod rename web web2" });
    const ctx = openContext(args);
    await renameContainer(ctx.paths, from!, to);
  },
};

export const containerExists = existsCommand("container", "web", (paths, name) => {
  try {
    findContainer(paths.root, name);
    return true;
  } catch (e) {
    if (isNoSuchContainer(e)) return false;
    throw e;
  }
});

export { ps } from "./ps.ts";
