// Commands that look into one container: port, top, diff, export, cp.
import type { PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import {
  changesJson,
  changesText,
  copyFiles,
  diffContainer,
  DESCRIPTORS,
  exportContainer,
  listRecords,
  pickContainer,
  topContainer,
  type ContainerRecord,
} from "../pkg/container/index.ts";
import { formatPort } from "../pkg/network/mode.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { out, stdoutIsTTY } from "../pkg/output/index.ts";

const latestArg = { latest: { type: "boolean", alias: "l", description: "Act on the latest container pod knows about" } } as const;

export const port: PodCommand = {
  meta: { name: "port", description: "List port mappings of a container" },
  examples: ["pod port web", "pod port web 80", "pod port -a"],
  args: {
    all: { type: "boolean", alias: "a", description: "Display port information for all containers" },
    ...latestArg,
    container: { type: "positional", description: "Container", required: false },
    "private-port": { type: "positional", description: "Port inside the container (PORT[/PROTO])", required: false, valueHint: "port" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const [name, privatePort] = args._ as string[];
    if (args.all) {
      if (name) throw new UsageError("--all takes no container", { hint: "pod port -a" });
      for (const rec of listRecords(ctx.paths.root))
        for (const line of portLines(rec)) out(`${rec.id.slice(0, 12)}\t${line}\n`);
      return;
    }
    const rec = pickContainer(ctx.paths, args.latest ? undefined : name, Boolean(args.latest));
    const asked = args.latest ? name : privatePort;
    if (!asked) return out(portLines(rec).map((l) => `${l}\n`).join(""));
    const want = asked.includes("/") ? asked : `${asked}/tcp`;
    const hits = (rec.config?.opts.ports ?? []).filter((p) => `${p.containerPort}/${p.protocol}` === want);
    if (!hits.length) throw new PodError(`failed to find published port "${want}"`, { hint: `pod port ${rec.name} lists the ports it publishes` });
    out(hits.map((p) => `${formatPort(p).split("->")[0]}\n`).join(""));
  },
};

/** podman's `80/tcp -> 0.0.0.0:8080` lines. */
function portLines(rec: ContainerRecord): string[] {
  return (rec.config?.opts.ports ?? []).map((p) => `${p.containerPort}/${p.protocol} -> ${formatPort(p).split("->")[0]}`);
}

export const top: PodCommand = {
  meta: { name: "top", description: "Display the running processes of a container" },
  examples: ["pod top web", "pod top web pid user args", "pod top -l pid,comm,etime"],
  interspersed: false,
  args: {
    ...latestArg,
    container: { type: "positional", description: "Container", required: false },
    descriptors: { type: "positional", description: "Format descriptors (podman's: user, pid, args, …)", required: false, valueHint: Object.keys(DESCRIPTORS).join("|") },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const words = args._ as string[];
    const rec = pickContainer(ctx.paths, args.latest ? undefined : words[0], Boolean(args.latest));
    out(topContainer(ctx.paths, rec, args.latest ? words : words.slice(1)));
  },
};

export const diff: PodCommand = {
  meta: { name: "diff", description: "Inspect changes to a container's file systems" },
  examples: ["pod diff web", "pod diff --format json web"],
  args: {
    ...formatArg,
    ...latestArg,
    container: { type: "positional", description: "Container", required: false },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const format = args.format as string | undefined;
    if (format !== undefined && format !== "json") throw new UsageError(`invalid --format "${format}": diff prints lines, or json`, { hint: "pod diff --format json NAME" });
    const names = args._ as string[];
    if (args.latest && names.length) throw new UsageError("--latest and containers cannot be used together", { hint: "pod diff --latest, or pod diff NAME" });
    const rec = pickContainer(ctx.paths, names[0], Boolean(args.latest));
    const changes = await diffContainer(ctx.paths, rec);
    out(format === "json" ? changesJson(changes) : changesText(changes));
  },
};

export const exportCmd: PodCommand = {
  meta: { name: "export", description: "Export a container's filesystem contents as a tar archive" },
  examples: ["pod export web > web.tar", "pod export -o web.tar web"],
  args: {
    output: { type: "string", alias: "o", description: "Write to a file instead of STDOUT", valueHint: "file" },
    container: { type: "positional", description: "Container" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const output = args.output as string | undefined;
    if (output === undefined && stdoutIsTTY()) throw new PodError("refusing to export to terminal. Use -o flag or redirect", { hint: "pod export NAME > NAME.tar" });
    const rec = pickContainer(ctx.paths, (args._ as string[])[0], false);
    await exportContainer(ctx.paths, rec, output);
  },
};

export const cp: PodCommand = {
  meta: { name: "cp", description: "Copy files/folders between a container and the local filesystem" },
  examples: ["pod cp web:/etc/nginx/nginx.conf .", "pod cp ./site web:/usr/share/html", "pod cp web:/var/log/. ./logs", "pod cp web:/etc - | tar -t"],
  args: {
    archive: { type: "boolean", alias: "a", default: true, description: "Chown copied files to the primary uid/gid of the destination container (--archive=false keeps the source's)" },
    overwrite: { type: "boolean", description: "Allow to overwrite directories with non-directories and vice versa" },
    source: { type: "positional", description: "[CONTAINER:]SRC_PATH", valueHint: "path" },
    destination: { type: "positional", description: "[CONTAINER:]DEST_PATH", valueHint: "path" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const [src, dest, ...extra] = args._ as string[];
    if (extra.length) throw new UsageError(`\`pod cp\` takes exactly two arguments, got ${extra.length + 2}`, { hint: "pod cp [CONTAINER:]SRC_PATH [CONTAINER:]DEST_PATH" });
    if (src === "-" && process.stdin.isTTY) throw new PodError("refusing to read a tar stream from a terminal", { hint: "pod cp - NAME:/dir < archive.tar" });
    await copyFiles(ctx.paths, src!, dest!, { archive: Boolean(args.archive), overwrite: Boolean(args.overwrite) });
  },
};
