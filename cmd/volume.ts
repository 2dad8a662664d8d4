// `pod volume`: create, ls, inspect, rm, prune, exists, import, export, mount, unmount.
import type { PodArgs, PodCommand } from "./_args.ts";
import { reportAll } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { existsCommand } from "./_exists.ts";
import {
  createNamedVolume,
  inspectVolumes,
  listVolumeViews,
  mountVolumes,
  pruneVolumes,
  removeVolumes,
  unusedVolumes,
  volumeExists,
} from "../pkg/volume/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { err, formatItems, formatValue, out, stdoutIsTTY } from "../pkg/output/index.ts";

const volumesArg = { volume: { type: "positional", description: "Volumes (names)", required: false } } satisfies PodArgs;

async function readLine(): Promise<string> {
  for await (const line of console) return line;
  return "";
}

const createArgs = {
  label: { type: "string", alias: "l", multiple: true, description: "Set a label on the volume (KEY=VALUE or KEY)", valueHint: "label" },
  driver: { type: "enum", alias: "d", options: ["local"], default: "local", description: "Volume driver (pod has only local)", valueHint: "driver" },
  ignore: { type: "boolean", description: "Do not fail when a volume of that name exists" },
  opt: { type: "string", alias: "o", multiple: true, description: "Driver option: type=tmpfs|bind, device=…, o=… (mount options)", valueHint: "option" },
  uid: { type: "string", description: "Set the UID of the volume's owner (as containers see it)", valueHint: "uid" },
  gid: { type: "string", description: "Set the GID of the volume's owner (as containers see it)", valueHint: "gid" },
  name: { type: "positional", description: "Volume name (default: a random one)", required: false },
} satisfies PodArgs;

export const create: PodCommand = {
  meta: { name: "create", description: "Create a new volume" },
  examples: ["pod volume create data", "pod volume create --label app=web web-data", "pod volume create -o type=tmpfs -o o=size=64m,uid=1000 scratch", "pod volume create -o type=bind -o device=/srv/data srv", "pod volume create --uid 1000 --gid 1000 data"],
  args: createArgs,
  async run({ args }) {
    const names = args._ as string[];
    if (names.length > 1) throw new UsageError("too many arguments: `pod volume create` takes at most one NAME", { hint: "pod volume create data" });
    const owner = (flag: "uid" | "gid") => {
      const v = args[flag] as string | undefined;
      if (v === undefined) return {};
      if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
        throw new UsageError(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, { hint: "pod volume create --uid 1000 --gid 1000 data" });
      return { [flag]: Number(v) };
    };
    const ctx = openContext(args);
    const o = { name: names[0], labels: args.label as unknown as string[], ignore: Boolean(args.ignore), options: args.opt as unknown as string[] | undefined, ...owner("uid"), ...owner("gid") };
    out(`${await createNamedVolume(ctx.paths, o)}\n`);
  },
};

const lsSpec = { table: "{{.Driver}}\t{{.Name}}", headers: { Driver: "DRIVER", Name: "VOLUME NAME" } };

const lsArgs = {
  quiet: { type: "boolean", alias: "q", description: "Print only volume names" },
  filter: { type: "string", alias: "f", multiple: true, description: "Filter: name=, label=, driver=, scope=, dangling=", valueHint: "filter" },
  noheading: { type: "boolean", alias: "n", description: "Do not print headers" },
  ...formatArg,
} satisfies PodArgs;

export const ls: PodCommand = {
  meta: { name: "ls", description: "List volumes" },
  examples: ["pod volume ls", "pod volume ls -q --filter dangling=true", "pod volume ls --format '{{.Name}} {{.Mountpoint}}'"],
  args: lsArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const views = listVolumeViews(ctx.paths, args.filter as unknown as string[]);
    if (args.quiet) return out(views.map((v) => `${v.Name}\n`).join(""));
    out(formatItems(args.format as string | undefined, views, lsSpec, { noHeading: Boolean(args.noheading) }));
  },
};

export const inspect: PodCommand = {
  meta: { name: "inspect", description: "Display the configuration of volumes" },
  examples: ["pod volume inspect data", "pod volume inspect --format '{{.Mountpoint}}' data", "pod volume inspect -a"],
  args: {
    all: { type: "boolean", alias: "a", description: "Inspect all volumes" },
    format: { type: "string", alias: "f", description: "Output format: json or a Go template", valueHint: "format" },
    ...volumesArg,
  },
  async run({ args }) {
    const names = args._ as string[];
    if (!names.length && !args.all) throw new UsageError("provide at least one volume name, or --all", { hint: "pod volume inspect data" });
    const ctx = openContext(args);
    const { views, errors } = inspectVolumes(ctx.paths, names, Boolean(args.all));
    if (views.length || !errors.length) out(formatValue(args.format as string | undefined, views));
    reportAll(errors);
  },
};

export const rm: PodCommand = {
  meta: { name: "rm", description: "Remove one or more volumes" },
  examples: ["pod volume rm data", "pod volume rm -f data", "pod volume rm -a"],
  args: {
    force: { type: "boolean", alias: "f", description: "Remove the containers that use the volume first; no error for missing volumes" },
    all: { type: "boolean", alias: "a", description: "Remove all volumes" },
    time: { type: "string", alias: "t", description: "With --force: seconds running containers using the volume get to stop before they are killed", valueHint: "seconds" },
    ...volumesArg,
  },
  async run({ args }) {
    const names = args._ as string[];
    if (!names.length && !args.all) throw new UsageError("provide at least one volume name, or --all", { hint: "pod volume rm data" });
    if (args.time !== undefined && !args.force) throw new UsageError("--force option must be specified to use the --time option", { hint: "pod volume rm -f -t 5 NAME" });
    if (args.time !== undefined && !/^\d+$/.test(String(args.time)))
      throw new UsageError(`invalid --time ${JSON.stringify(args.time)}: expected whole seconds`, { hint: "pod volume rm -f -t 5 NAME" });
    const ctx = openContext(args);
    const timeout = args.time === undefined ? undefined : Number(args.time);
    const { removed, errors } = await removeVolumes(ctx.paths, names, { force: Boolean(args.force), all: Boolean(args.all), timeout });
    out(removed.map((n) => `${n}\n`).join(""));
    reportAll(errors);
  },
};

const pruneArgs = {
  force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
  filter: { type: "string", multiple: true, description: "Remove only the volumes that match: label=, label!=, until=", valueHint: "filter" },
} satisfies PodArgs;

export const prune: PodCommand = {
  meta: { name: "prune", description: "Remove all volumes no container uses" },
  examples: ["pod volume prune", "pod volume prune -f", "pod volume prune -f --filter label=tmp --filter until=24h"],
  args: pruneArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const filters = (args.filter as unknown as string[] | undefined) ?? [];
    if (!args.force) {
      const names = unusedVolumes(ctx.paths, filters);
      err("WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:\n");
      err(names.map((n) => `${n}\n`).join(""));
      err("Are you sure you want to continue? [y/N] ");
      if (!/^y(es)?$/i.test((await readLine()).trim())) return 0;
    }
    out((await pruneVolumes(ctx.paths, filters)).map((n) => `${n}\n`).join(""));
  },
};

export const exportCmd: PodCommand = {
  meta: { name: "export", description: "Export the contents of a volume as a tar archive" },
  examples: ["pod volume export data > data.tar", "pod volume export -o data.tar data"],
  args: {
    output: { type: "string", alias: "o", description: "Write to a file instead of STDOUT", valueHint: "file" },
    volume: { type: "positional", description: "Volume name" },
  },
  async run({ args }) {
    const names = args._ as string[];
    if (names.length !== 1) throw new UsageError("`pod volume export` takes exactly one volume name", { hint: "pod volume export data > data.tar" });
    const output = args.output as string | undefined;
    if (output === undefined && stdoutIsTTY()) throw new PodError("refusing to export to terminal. Use -o flag or redirect", { hint: `pod volume export ${names[0]} > ${names[0]}.tar` });
    const { exportVolume } = await import("../pkg/container/index.ts");
    await exportVolume(openContext(args).paths, names[0]!, output);
  },
};

export const importCmd: PodCommand = {
  meta: { name: "import", description: "Import a tar archive into a volume" },
  examples: ["pod volume import data data.tar", "cat data.tar | pod volume import data -"],
  args: {
    volume: { type: "positional", description: "Volume name" },
    file: { type: "positional", description: "Tar archive, or - for stdin" },
  },
  async run({ args }) {
    const pos = args._ as string[];
    if (pos.length !== 2) throw new UsageError("`pod volume import` takes a volume name and a tar file (or - for stdin)", { hint: "pod volume import data data.tar" });
    const { importVolume } = await import("../pkg/container/index.ts");
    await importVolume(openContext(args).paths, pos[0]!, pos[1]!);
  },
};

const mountVerb = (verb: "mount" | "unmount"): PodCommand => ({
  meta: { name: verb, description: verb === "mount" ? "Mount volumes and print their mount points (as root or in pod unshare)" : "Unmount volumes (as root or in pod unshare)" },
  examples: [`pod unshare pod volume ${verb} data`],
  args: volumesArg,
  async run({ args }) {
    const names = args._ as string[];
    if (!names.length) throw new UsageError(`provide at least one volume name`, { hint: `pod unshare pod volume ${verb} data` });
    const { done, errors } = mountVolumes(openContext(args).paths, names, verb);
    out(done.map((d) => `${d}\n`).join(""));
    reportAll(errors);
  },
});

export const exists = existsCommand("volume", "data", volumeExists);

export const volume: PodCommand = {
  meta: { name: "volume", description: "Manage volumes" },
  examples: ["pod volume create data", "pod run --rm -v data:/data alpine ls /data", "pod volume ls", "pod volume prune -f"],
  subCommands: { create, exists, export: exportCmd, import: importCmd, inspect, list: ls, ls, mount: mountVerb("mount"), prune, remove: rm, rm, unmount: mountVerb("unmount"), umount: mountVerb("unmount") } as never,
};
