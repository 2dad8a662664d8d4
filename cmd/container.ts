// Lifecycle commands for containers: start, stop, kill, restart, rm, wait,
// pause, unpause, rename, ps, logs, attach, exec, and the `container` group.
import type { PodArgs, PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import {
  attachContainer,
  execContainer,
  findContainer,
  killContainer,
  listRecords,
  parseDetachKeys,
  parseSignal,
  pruneContainers,
  psJsonRow,
  psRow,
  psTemplateRow,
  removeContainer,
  renameContainer,
  startContainer,
  statusOf,
  stopContainer,
  waitContainer,
  stopSignalOf,
  containerDir,
  followLog,
  mayStillLog,
  readRecord,
  logPath,
  logSize,
  renderLine,
  type ContainerRecord,
} from "../pkg/container/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, formatItems, out } from "../pkg/output/index.ts";
import type { Paths } from "../pkg/config/index.ts";

const allArg = { all: { type: "boolean", alias: "a", description: "Act on all containers" } } satisfies PodArgs;
const latestArg = { latest: { type: "boolean", alias: "l", description: "Act on the latest container pod knows about" } } satisfies PodArgs;
const ctrArg = { container: { type: "positional", description: "Containers (name or ID)", required: false } } satisfies PodArgs;

/** Resolves the targets of a bulk verb: names/IDs, --all or --latest. */
function targets(paths: Paths, args: Record<string, unknown>, filter?: (r: ContainerRecord) => boolean): { input: string; rec?: ContainerRecord; error?: PodError }[] {
  const all = listRecords(paths.root);
  if (args.all) return all.filter(filter ?? (() => true)).map((r) => ({ input: r.id, rec: r }));
  if (args.latest) {
    const r = [...all].sort((a, b) => b.created.localeCompare(a.created))[0];
    if (!r) throw new PodError("no containers to act on", { hint: "`pod ps -a` lists containers" });
    return [{ input: r.id, rec: r }];
  }
  const names = args._ as string[];
  if (!names.length) throw new UsageError("you must provide at least one name or ID", { hint: "or use --all / --latest" });
  return names.map((input) => {
    try {
      return { input, rec: findContainer(paths.root, input, all) };
    } catch (e) {
      if (e instanceof PodError) return { input, error: e };
      throw e;
    }
  });
}

/** Runs fn on each target, prints what podman prints per success, reports every failure, fails if any did. */
async function eachTarget(
  paths: Paths,
  args: Record<string, unknown>,
  fn: (rec: ContainerRecord) => Promise<string | undefined> | string | undefined,
  filter?: (r: ContainerRecord) => boolean,
): Promise<void> {
  const errors: PodError[] = [];
  for (const t of targets(paths, args, filter)) {
    if (t.error) {
      errors.push(t.error);
      continue;
    }
    try {
      const line = await fn(t.rec!);
      if (line !== undefined) out(`${line}\n`);
    } catch (e) {
      if (!(e instanceof PodError)) throw e;
      errors.push(e);
    }
  }
  for (const e of errors.slice(0, -1)) err(`Error: ${e.message}\n`);
  if (errors.length) throw errors.at(-1)!;
}

export const start: PodCommand = {
  meta: { name: "start", description: "Start one or more containers" },
  examples: ["pod start web", "pod start -a -i shell"],
  args: {
    attach: { type: "boolean", alias: "a", description: "Attach to the container's output (one container)" },
    interactive: { type: "boolean", alias: "i", description: "Keep STDIN open and attach it" },
    "detach-keys": { type: "string", default: "ctrl-p,ctrl-q", description: "Key sequence that detaches", valueHint: "keys" },
    // podman's start has -a for --attach, so --all has no short form here
    all: { type: "boolean", description: "Start all containers" },
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    if (args.attach || args.interactive) {
      const [t, ...more] = targets(ctx.paths, args);
      if (!t || more.length) throw new UsageError("you cannot start and attach multiple containers at once", { hint: "name one container" });
      if (t.error) throw t.error;
      const rec = t.rec!;
      const file = logPath(containerDir(ctx.paths.root, rec.id));
      const from = logSize(file);
      await startContainer(ctx.paths, rec);
      if (rec.config?.opts.tty || args.interactive) {
        const r = await attachContainer(ctx.paths, findContainer(ctx.paths.root, rec.id), {
          stdin: Boolean(args.interactive),
          detachKeys: parseDetachKeys(String(args["detach-keys"])),
        });
        return r.detached ? 0 : r.code;
      }
      // Without a terminal, the log from this start on is the output: nothing is lost to a late attach.
      await followLog(file, from, () => mayStillLog(readRecord(ctx.paths.root, rec.id)), (l) => (l.stream === "stderr" ? err : out)(renderLine(l, false)));
      return (await waitContainer(ctx.paths, rec.id)) ?? 0;
    }
    await eachTarget(ctx.paths, args, async (rec) => (await startContainer(ctx.paths, rec), args.all ? rec.id : inputFor(args, rec)));
  },
};

export const stop: PodCommand = {
  meta: { name: "stop", description: "Stop one or more running containers" },
  examples: ["pod stop web", "pod stop -t 2 web", "pod stop -a"],
  args: {
    time: { type: "string", alias: "t", default: "10", description: "Seconds to wait before killing the container", valueHint: "seconds" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors when a container does not exist" },
    ...allArg,
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    const t = Number(args.time);
    if (!Number.isInteger(t) || t < 0) throw new UsageError(`invalid --time "${args.time}": expected whole seconds`, { hint: "pod stop -t 5 NAME" });
    await eachTarget(ctx.paths, args, async (rec) => {
      await stopContainer(ctx.paths, rec, t, stopSignalOf(ctx.paths, rec));
      return args.all ? rec.id : undefined;
    }).catch((e) => {
      if (!(args.ignore && /no such container/.test((e as Error).message))) throw e;
    });
    if (!args.all) for (const n of args._ as string[]) out(`${n}\n`);
  },
};

export const kill: PodCommand = {
  meta: { name: "kill", description: "Kill one or more running containers with a signal" },
  examples: ["pod kill web", "pod kill -s HUP web"],
  args: {
    signal: { type: "string", alias: "s", default: "KILL", description: "Signal to send", valueHint: "signal" },
    ...allArg,
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    const sig = parseSignal(String(args.signal));
    await eachTarget(
      ctx.paths,
      args,
      (rec) => (killContainer(ctx.paths, rec, sig), args.all ? rec.id : inputFor(args, rec)),
      args.all ? (r) => statusOf(r) === "running" : undefined,
    );
  },
};

function inputFor(args: Record<string, unknown>, rec: ContainerRecord): string {
  return (args._ as string[]).find((n) => rec.name === n || rec.id.startsWith(n)) ?? rec.id;
}

export const restart: PodCommand = {
  meta: { name: "restart", description: "Restart one or more containers" },
  examples: ["pod restart web"],
  args: {
    time: { type: "string", alias: "t", default: "10", description: "Seconds to wait before killing the container", valueHint: "seconds" },
    ...allArg,
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    await eachTarget(ctx.paths, args, async (rec) => {
      await stopContainer(ctx.paths, rec, Number(args.time), stopSignalOf(ctx.paths, rec));
      await startContainer(ctx.paths, findContainer(ctx.paths.root, rec.id));
      return args.all ? rec.id : inputFor(args, rec);
    });
  },
};

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove one or more containers" },
  examples: ["pod rm web", "pod rm -f web", "pod rm -a"],
  args: {
    force: { type: "boolean", alias: "f", description: "Stop and remove running containers" },
    volumes: { type: "boolean", alias: "v", description: "Remove anonymous volumes of the container" },
    ignore: { type: "boolean", alias: "i", description: "Ignore errors when a container does not exist" },
    ...allArg,
    ...latestArg,
    ...ctrArg,
  },
  async run({ args }) {
    const ctx = openContext(args);
    await eachTarget(ctx.paths, args, async (rec) => {
      await removeContainer(ctx.paths, rec, Boolean(args.force), { volumes: Boolean(args.volumes) });
      return rec.id;
    }).catch((e) => {
      // podman: -f (like -i) does not fail on containers that are not there
      if (!((args.ignore || args.force) && /no such container/.test((e as Error).message))) throw e;
    });
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

const noFreezer = (verb: string): PodCommand => ({
  meta: { name: verb, description: `${verb[0]!.toUpperCase()}${verb.slice(1)} all processes in one or more containers` },
  examples: [`pod ${verb} web`],
  args: { ...allArg, ...latestArg, ...ctrArg },
  async run({ args }) {
    const ctx = openContext(args);
    await eachTarget(ctx.paths, args, (rec) => {
      throw new PodError(`${verb} ${rec.name}: pausing needs the cgroup v2 freezer of a delegated cgroup, and pod does not create container cgroups on this host`, {
        hint: "on a host with a unified cgroup v2 hierarchy and systemd user delegation, this arrives with the cgroups issue",
      });
    });
  },
});

export const pause = noFreezer("pause");
export const unpause = noFreezer("unpause");

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

const psSpec = {
  table: "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
  headers: { ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", Created: "CREATED", Status: "STATUS", Ports: "PORTS", Names: "NAMES" },
};

const psArgs = {
    all: { type: "boolean", alias: "a", description: "Show all containers, not only running ones" },
    quiet: { type: "boolean", alias: "q", description: "Print only container IDs" },
    last: { type: "string", alias: "n", description: "Print the n last created containers", valueHint: "n" },
    latest: { type: "boolean", alias: "l", description: "Print the latest created container" },
    filter: { type: "string", alias: "f", multiple: true, description: "Filter: name=, status=, ancestor=, id=", valueHint: "filter" },
    "no-trunc": { type: "boolean", description: "Do not truncate output" },
    noheading: { type: "boolean", description: "Do not print headers" },
    ...formatArg,
} satisfies PodArgs;

export const ps: PodCommand = {
  meta: { name: "ps", description: "List containers" },
  examples: ["pod ps", "pod ps -a --filter status=exited", "pod ps --format '{{.Names}} {{.Status}}'"],
  args: psArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const now = Date.now();
    let rows = listRecords(ctx.paths.root)
      .sort((a, b) => b.created.localeCompare(a.created))
      .map((r) => psRow(r, now, Boolean(args["no-trunc"])));
    const filters = (args.filter as unknown as string[]).map(parseFilter);
    // podman: --last/--latest pick among all containers, like -a
    const everything = args.all || args.last !== undefined || args.latest;
    if (!everything && !filters.some((f) => f.key === "status")) rows = rows.filter((r) => r.State === "running");
    rows = rows.filter((r) => filters.every((f) => matchFilter(r, f)));
    if (args.last !== undefined) rows = rows.slice(0, Number(args.last));
    if (args.latest) rows = rows.slice(0, 1);
    if (args.quiet) return out(rows.map((r) => `${r.ID}\n`).join(""));
    if (args.format === "json") return out(formatItems("json", rows.map(psJsonRow), psSpec));
    out(formatItems(args.format as string | undefined, rows.map(psTemplateRow), psSpec, { noHeading: Boolean(args.noheading) }));
  },
};

type Filter = { key: string; value: string };

function parseFilter(f: string): Filter {
  const i = f.indexOf("=");
  const key = f.slice(0, i);
  if (i <= 0 || !["name", "status", "ancestor", "id"].includes(key))
    throw new UsageError(`invalid filter "${f}"`, { hint: "supported: name=, status=, ancestor=, id=" });
  if (key === "status" && !["created", "running", "exited", "paused", "stopped", "configured", "stopping", "removing", "unknown"].includes(f.slice(i + 1)))
    throw new UsageError(`${f.slice(i + 1)} is not a valid status`, { hint: "use created, running or exited" });
  return { key, value: f.slice(i + 1) };
}

function matchFilter(r: ReturnType<typeof psRow>, f: Filter): boolean {
  if (f.key === "name") return r.Names.some((n) => new RegExp(f.value).test(n));
  if (f.key === "status") return r.State === f.value;
  if (f.key === "id") return r.Id.startsWith(f.value);
  return r.Image === f.value || r.Image.startsWith(`${f.value}:`) || r.Image.endsWith(`/${f.value}`) || r.Image.includes(`/${f.value}:`) || r.ImageID.startsWith(f.value);
}
