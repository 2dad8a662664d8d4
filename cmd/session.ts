// Commands that talk to one container: logs, attach, exec, inspect; the
// `container` group; and the hidden monitor entry point.
import type { PodArgs, PodCommand } from "./_args.ts";
import { detachKeysArg, formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import * as lifecycle from "./container.ts";
import * as files from "./files.ts";
import * as limits from "./stats.ts";
import { create, run } from "./run.ts";
import {
  attachContainer,
  containerInspect,
  execContainer,
  liveExecSessions,
  findContainer,
  parseDetachKeys,
  parseSince,
  parseUntil,
  pickContainer,
  pruneContainers,
  logSources,
  logTargets,
  showLogs,
  checkLogsReadable,
} from "../pkg/container/index.ts";
import { imageInspect, lookupImage } from "../pkg/catalog/index.ts";
import { Store } from "../pkg/store/index.ts";
import { PodError, UsageError, NoSuchContainer } from "../pkg/errors.ts";
import { err, formatValue, out } from "../pkg/output/index.ts";

export const logs: PodCommand = {
  meta: { name: "logs", description: "Fetch the logs of one or more containers" },
  examples: ["pod logs web", "pod logs -f --tail 10 web", "pod logs --since 10m -t web", "pod logs -f -n web db", "pod logs --since 2026-11-23T10:00:00Z --until 2026-11-23T11:00:00Z web"],
  args: {
    follow: { type: "boolean", alias: "f", description: "Follow log output" },
    timestamps: { type: "boolean", alias: "t", description: "Show timestamps" },
    tail: { type: "string", default: "-1", description: "Output the last N lines (-1: all)", valueHint: "n" },
    since: { type: "string", description: "Show logs since TIMESTAMP (RFC 3339, Unix seconds, or a duration like 10m)", valueHint: "time" },
    until: { type: "string", description: "Show logs until TIMESTAMP (RFC 3339, Unix seconds, or a duration from now like 10m)", valueHint: "time" },
    names: { type: "boolean", alias: "n", description: "Prefix lines with the container's name instead of its ID (several containers)" },
    color: { type: "boolean", description: "Output the containers with different colors in the log" },
    latest: { type: "boolean", alias: "l", description: "Act on the latest container" },
    container: { type: "positional", description: "Containers (none with --latest)", required: false },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const time = (flag: "since" | "until", parse: (v: string) => number | undefined) => {
      if (args[flag] === undefined) return undefined;
      const t = parse(String(args[flag]));
      if (t === undefined) throw new UsageError(`invalid --${flag} "${args[flag]}"`, { hint: "use RFC 3339 (2026-11-23T10:00:00Z), Unix seconds, or a duration like 10m" });
      return t;
    };
    const since = time("since", parseSince);
    const until = time("until", parseUntil);
    const tail = Number(args.tail);
    if (!/^-?\d+$/.test(String(args.tail))) throw new UsageError(`invalid argument "${args.tail}" for "--tail" flag: expected a number of lines`, { hint: "pod logs --tail 10 NAME" });
    const recs = logTargets(ctx.paths, args._ as string[], Boolean(args.latest));
    for (const r of recs) checkLogsReadable(r);
    const o = { tail: tail >= 0 ? tail : undefined, since, until, timestamps: Boolean(args.timestamps), follow: Boolean(args.follow), names: Boolean(args.names), color: Boolean(args.color) };
    await showLogs(ctx.paths, logSources(recs, o), o, (stream, text) => (stream === "stderr" ? err : out)(text));
  },
};

export const attach: PodCommand = {
  meta: { name: "attach", description: "Attach to a running container" },
  examples: ["pod attach web", "pod attach --detach-keys ctrl-x web"],
  args: {
    ...detachKeysArg,
    "no-stdin": { type: "boolean", description: "Do not attach STDIN" },
    "sig-proxy": { type: "boolean", default: true, description: "Proxy the signals pod receives to the container's process" },
    latest: { type: "boolean", alias: "l", description: "Act on the latest container" },
    container: { type: "positional", description: "Container (none with --latest)", required: false },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const [name, ...extra] = args._ as string[];
    if (args.latest && name) throw new UsageError("--latest and containers cannot be used together", { hint: "drop the name, or drop --latest" });
    if (extra.length) throw new UsageError("attach takes one container", { hint: "pod attach NAME" });
    const rec = pickContainer(ctx.paths, name, Boolean(args.latest));
    const r = await attachContainer(ctx.paths, rec, { stdin: !args["no-stdin"], detachKeys: parseDetachKeys(String(args["detach-keys"])), sigProxy: args["sig-proxy"] !== false });
    return r.detached ? 0 : r.code;
  },
};

const execArgs = {
  interactive: { type: "boolean", alias: "i", description: "Keep STDIN open" },
  tty: { type: "boolean", alias: "t", description: "Allocate a pseudo-TTY" },
  detach: { type: "boolean", alias: "d", description: "Run the command in the background" },
  env: { type: "string", alias: "e", multiple: true, description: "Set environment variables", valueHint: "env" },
  "env-file": { type: "string", multiple: true, description: "Read environment variables from a file (before -e)", valueHint: "file" },
  "preserve-fds": { type: "string", description: "Pass down N additional file descriptors (3 .. 3+N-1)", valueHint: "n" },
  "detach-keys": { type: "string", description: 'Key sequence that detaches; pod exec -it cannot detach, so only "" (none) with -it', valueHint: "keys" },
  latest: { type: "boolean", alias: "l", description: "Act on the latest container pod knows about (every argument is the command)" },
  user: { type: "string", alias: "u", description: "Username or UID (format: <name|uid>[:<group|gid>])", valueHint: "user" },
  workdir: { type: "string", alias: "w", description: "Working directory inside the container", valueHint: "dir" },
  privileged: { type: "boolean", description: "Give the process all capabilities of the user namespace" },
  container: { type: "positional", description: "Container (none with --latest)", required: false },
  command: { type: "positional", description: "Command and arguments", required: false },
} satisfies PodArgs;

export const exec: PodCommand = {
  meta: { name: "exec", description: "Run a process in a running container" },
  examples: ["pod exec web ls /", "pod exec -it web sh", "pod exec -u nobody -w /tmp web id", "pod exec --env-file ./web.env -l env", "pod exec --preserve-fds 1 web cat /proc/self/fd/3 3<notes.txt"],
  interspersed: false,
  args: execArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const words = args._ as string[];
    const [name, argv] = args.latest ? [undefined, words] : [words[0], words.slice(1)];
    if (!args.latest && !name) throw new UsageError("exec requires the name or ID of a container or the --latest flag", { hint: "pod exec CONTAINER CMD [ARG...]" });
    if (!argv.length) throw new UsageError("`pod exec` needs a command to run", { hint: args.latest ? "pod exec -l CMD [ARG...]" : "pod exec CONTAINER CMD [ARG...]" });
    const fds = args["preserve-fds"] as string | undefined;
    if (fds !== undefined && !/^\d+$/.test(fds)) throw new UsageError(`invalid argument "${fds}" for "--preserve-fds" flag: expected a number of descriptors`, { hint: "pod exec --preserve-fds 1 CTR CMD 3<file" });
    const rec = pickContainer(ctx.paths, name, Boolean(args.latest));
    const r = await execContainer(ctx.paths, rec, argv, {
      interactive: Boolean(args.interactive),
      tty: Boolean(args.tty),
      detach: Boolean(args.detach),
      env: (args.env as unknown as string[]) ?? [],
      envFiles: (args["env-file"] as unknown as string[]) ?? [],
      preserveFds: fds === undefined ? 0 : Number(fds),
      detachKeys: args["detach-keys"] as string | undefined,
      user: args.user as string | undefined,
      workdir: args.workdir as string | undefined,
      privileged: Boolean(args.privileged),
    });
    if ("session" in r) {
      out(`${r.session}\n`);
      return 0;
    }
    return r.code;
  },
};

export const inspect: PodCommand = {
  meta: { name: "inspect", description: "Display the configuration of containers or images" },
  examples: ["pod inspect web", "pod inspect --format '{{.State.Pid}}' web", "pod inspect alpine"],
  args: {
    ...formatArg,
    type: { type: "enum", options: ["all", "container", "image"], default: "all", description: "What to inspect", valueHint: "type" },
    latest: { type: "boolean", alias: "l", description: "Inspect the latest container" },
    name: { type: "positional", description: "Containers or images (none with --latest)", required: false },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const store = new Store(ctx.paths);
    const found: unknown[] = [];
    const missing: PodError[] = [];
    const names = args._ as string[];
    if (args.latest && names.length) throw new UsageError("--latest and containers cannot be used together", { hint: "drop the names, or drop --latest" });
    if (!args.latest && !names.length) throw new UsageError("inspect requires at least one name or ID, or --latest", { hint: "pod inspect NAME [NAME...]" });
    if (args.latest) {
      const rec = pickContainer(ctx.paths, undefined, true);
      return out(formatValue(args.format as string | undefined, [containerInspect(rec, liveExecSessions(ctx.paths, rec.id))]));
    }
    for (const n of names) {
      try {
        if (args.type !== "image") {
          try {
            const rec = findContainer(ctx.paths.root, n);
            found.push(containerInspect(rec, liveExecSessions(ctx.paths, rec.id)));
            continue;
          } catch (e) {
            if (!(e instanceof NoSuchContainer) || args.type === "container") throw e;
          }
        }
        found.push(imageInspect(store, lookupImage(store, n)));
      } catch (e) {
        if (!(e instanceof PodError)) throw e;
        missing.push(new PodError(`no such object: "${n}"`, { hint: "`pod ps -a` and `pod images` list what exists" }));
      }
    }
    if (found.length || !args.format) out(formatValue(args.format as string | undefined, found));
    if (missing.length) throw missing.at(-1)!;
  },
};

export const containerInspectCmd: PodCommand = { ...inspect, meta: { name: "inspect", description: "Display the configuration of containers" }, args: { ...inspect.args, type: { type: "enum", options: ["container"], default: "container", description: "What to inspect", valueHint: "type" } } };

export const prune: PodCommand = {
  meta: { name: "prune", description: "Remove all stopped containers" },
  examples: ["pod container prune -f"],
  args: { force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" } },
  async run({ args }) {
    const ctx = openContext(args);
    if (!args.force) {
      err("WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ");
      let answer = "";
      for await (const line of console) {
        answer = line;
        break;
      }
      if (!/^y(es)?$/i.test(answer.trim())) return 0;
    }
    for (const id of await pruneContainers(ctx.paths)) out(`${id}\n`);
  },
};

export const container: PodCommand = {
  meta: { name: "container", description: "Manage containers" },
  examples: ["pod container ls -a", "pod container run --rm alpine true", "pod container prune -f"],
  subCommands: {
    attach,
    commit: () => import("./commit.ts").then((m) => m.commit),
    cp: files.cp,
    create,
    diff: files.diff,
    exec,
    exists: lifecycle.containerExists,
    export: files.exportCmd,
    inspect: containerInspectCmd,
    kill: lifecycle.kill,
    list: lifecycle.ps,
    logs,
    ls: lifecycle.ps,
    pause: lifecycle.pause,
    port: files.port,
    prune,
    ps: lifecycle.ps,
    rename: lifecycle.rename,
    restart: lifecycle.restart,
    rm: lifecycle.rm,
    run,
    start: lifecycle.start,
    stats: limits.stats,
    stop: lifecycle.stop,
    top: files.top,
    unpause: lifecycle.unpause,
    update: limits.update,
    wait: lifecycle.wait,
  } as never,
};
