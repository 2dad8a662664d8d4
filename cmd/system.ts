// System-level commands: `info`, `version`, `system check|df|events|prune|reset`,
// `unshare`, and the hidden storage worker.
import type { PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { executeStorageJob } from "../pkg/store/index.ts";
import { registerContainerJobs } from "../pkg/container/fs/jobs.ts";
import { err, formatItems, formatValue, out } from "../pkg/output/index.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { events } from "./events.ts";

// Loaded on use: this file also holds `_storage-worker`, which runs for every layer
// extraction and must not evaluate the info/prune code (and the container engine it reaches).
const sys = () => import("../pkg/system/index.ts");

declare const POD_VERSION: string;
const podVersion = typeof POD_VERSION === "string" ? POD_VERSION : "0.0.0-dev";

export const reset: PodCommand = {
  meta: { name: "reset", description: "Remove all images, layers and state pod has made" },
  examples: ["pod system reset -f"],
  args: { force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" } },
  async run({ args }) {
    const ctx = openContext(args);
    if (!args.force && !(await confirm(`WARNING! This will remove all of pod's images, layers and state in\n  ${ctx.paths.root}\n  ${ctx.paths.runroot}`))) return 0;
    await (await sys()).resetStorage(ctx.paths);
  },
};

async function readLine(): Promise<string> {
  for await (const line of console) return line;
  return "";
}

/** Asks on stderr; true for y or yes. */
async function confirm(question: string): Promise<boolean> {
  err(`${question}\nAre you sure you want to continue? [y/N] `);
  return /^y(es)?$/i.test((await readLine()).trim());
}

export const info: PodCommand = {
  meta: { name: "info", description: "Display pod, host and storage information" },
  examples: ["pod info", "pod info --format json", "pod info --format '{{.Store.GraphRoot}} {{.Store.GraphDriverName}}'"],
  args: {
    ...formatArg,
    // podman 4 declares -D and prints the same report with it (its `debug` is never read): so does pod
    debug: { type: "boolean", alias: "D", description: "Accepted as podman does: the report is the same with it (all pod knows is always shown)" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const { systemInfo, toYaml } = await sys();
    const data = systemInfo(ctx.paths, podVersion);
    const format = args.format as string | undefined;
    if (format === "json") return out(JSON.stringify(data, null, 4) + "\n");
    out(format ? formatValue(format, [data]) : toYaml(data));
  },
};

const dfTable = {
  table: "{{.Type}}\t{{.Total}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
  headers: { Type: "TYPE", Total: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" },
};

const dfVerboseTables = {
  images: {
    title: "Images space usage:",
    spec: {
      table: "{{.Repository}}\t{{.Tag}}\t{{.ImageID}}\t{{.Created}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
      headers: { ImageID: "IMAGE ID", SharedSize: "SHARED SIZE", UniqueSize: "UNIQUE SIZE" },
    },
  },
  containers: {
    title: "Containers space usage:",
    spec: {
      table: "{{.ContainerID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.Created}}\t{{.Status}}\t{{.Names}}",
      headers: { ContainerID: "CONTAINER ID", LocalVolumes: "LOCAL VOLUMES" },
    },
  },
  volumes: { title: "Local Volumes space usage:", spec: { table: "{{.VolumeName}}\t{{.Links}}\t{{.Size}}", headers: { VolumeName: "VOLUME NAME" } } },
} as const;

export const df: PodCommand = {
  meta: { name: "df", description: "Show pod disk usage" },
  examples: ["pod system df", "pod system df -v", "pod system df --format json", "pod system df --format '{{.Type}}: {{.Size}}'"],
  args: { ...formatArg, verbose: { type: "boolean", alias: "v", description: "Show disk usage per image, container and volume" } },
  async run({ args }) {
    const ctx = openContext(args);
    const format = args.format as string | undefined;
    if (!args.verbose) return out(formatItems(format, (await sys()).diskUsage(ctx.paths), dfTable));
    if (format !== undefined) throw new UsageError("cannot combine --format and --verbose flags", { hint: "pod system df -v, or pod system df --format FORMAT" });
    const v = (await sys()).diskUsageVerbose(ctx.paths);
    out(
      (["images", "containers", "volumes"] as const)
        .map((k) => `${dfVerboseTables[k].title}\n\n${formatItems(undefined, v[k], dfVerboseTables[k].spec)}`)
        .join("\n"),
    );
  },
};

export const prune: PodCommand = {
  meta: { name: "prune", description: "Remove unused containers and images" },
  examples: ["pod system prune -f", "pod system prune -a -f", "pod system prune -a -f --build"],
  args: {
    all: { type: "boolean", alias: "a", description: "Remove all images no container uses, not only those without a name" },
    force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" },
    volumes: { type: "boolean", description: "Prune volumes no container uses too" },
    build: { type: "boolean", description: "Remove the build cache's RUN --mount=type=cache directories too" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const what = ["all stopped containers", args.all ? "all images without at least one container associated with them" : "all dangling images"];
    if (args.volumes) what.push("all volumes not used by at least one container");
    if (args.build) what.push("all build cache mounts");
    if (!args.force && !(await confirm(`WARNING! This command removes:\n${what.map((w) => `\t- ${w}\n`).join("")}`))) return 0;
    const { pruneSystem, compactSize } = await sys();
    const r = await pruneSystem(ctx.paths, { all: Boolean(args.all), volumes: Boolean(args.volumes), build: Boolean(args.build) });
    const section = (title: string, ids: string[]) => (ids.length ? `${title}\n${ids.map((i) => `${i}\n`).join("")}` : "");
    out(`${section("Deleted Containers", r.containers)}${section("Deleted Volumes", r.volumes)}${section("Deleted Images", r.images)}Total reclaimed space: ${compactSize(r.reclaimed)}\n`);
  },
};

export const check: PodCommand = {
  meta: { name: "check", description: "Check storage for consistency and remove what nothing uses" },
  examples: ["pod system check", "pod system check --repair", "pod system check --quick --repair --force"],
  args: {
    force: { type: "boolean", alias: "f", description: "Also remove damaged container directories (implies --repair)" },
    max: { type: "string", alias: "m", description: "Maximum age of unused layers and blobs left alone (default 24h)", valueHint: "duration" },
    quick: { type: "boolean", alias: "q", description: "Skip the time-consuming checks (blob digests, layer files)" },
    repair: { type: "boolean", alias: "r", description: "Remove what no image or container uses" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const { checkStorage, parseMaxAge, problemLine, removedLine } = await sys();
    const maxAgeMs = args.max === undefined ? undefined : parseMaxAge(String(args.max));
    const r = await checkStorage(ctx.paths, { quick: Boolean(args.quick), repair: Boolean(args.repair), force: Boolean(args.force), maxAgeMs });
    out([...r.found.map(problemLine), ...r.removed.map(removedLine)].map((l) => `${l}\n`).join(""));
    for (const f of r.failures) err(`Error: ${f}\n`);
    if (!r.remaining.length && !r.failures.length) return;
    const hints = [...new Set(r.remaining.map((p) => (p.repair === "repair" ? "`pod system check --repair` removes what nothing uses" : p.repair === "force" ? "`pod system check --repair --force` also removes damaged container directories" : p.hint)).filter(Boolean))];
    if (!r.remaining.length) throw new PodError(`repairing local storage: ${r.failures.length} removal${r.failures.length === 1 ? "" : "s"} failed`, { hint: "`pod unshare rm -rf PATH` removes a path by hand" });
    const what = r.found === r.remaining ? "damage detected in local storage" : "damage in local storage still present after repair attempt";
    throw new PodError(`${what}: ${r.remaining.length} problem${r.remaining.length === 1 ? "" : "s"}`, { hint: hints.join("; ") || undefined });
  },
};

export const system: PodCommand = {
  meta: { name: "system", description: "Manage pod" },
  examples: ["pod system check", "pod system df", "pod system events --stream=false", "pod system prune -f", "pod system info", "pod system reset -f"],
  subCommands: { check, df, events, info, prune, reset } as never,
};

export const unshare: PodCommand = {
  meta: { name: "unshare", description: "Run a command in pod's storage user namespace" },
  examples: ["pod unshare", "pod unshare cat /proc/self/uid_map", "pod unshare rm -rf ~/.local/share/pod/tmp/x"],
  interspersed: false,
  args: { command: { type: "positional", description: "Command and arguments (default: $SHELL)", required: false } },
  async run({ args }) {
    const ctx = openContext(args);
    return (await sys()).runUnshare(ctx.paths, args._ as string[]);
  },
};

export const storageWorker: PodCommand = {
  meta: { name: "_storage-worker", description: "internal: runs a storage job inside the user namespace", hidden: true },
  args: { job: { type: "positional", description: "job file" } },
  async run({ args }) {
    const job = (args._ as string[])[0];
    if (!job) throw new PodError("_storage-worker needs a job file");
    registerContainerJobs();
    (await import("../pkg/archive/jobs.ts")).registerArchiveJobs();
    return executeStorageJob(job);
  },
};

export const version: PodCommand = {
  meta: { name: "version", description: "Display the pod version information" },
  examples: ["pod version", "pod version --format json", "pod version --format '{{.Client.Version}}'"],
  args: { ...formatArg },
  async run({ args }) {
    const v = (await sys()).versionInfo(podVersion);
    const format = args.format as string | undefined;
    if (format === "json") return out(JSON.stringify({ Client: v }) + "\n");
    if (format) return out(formatValue(format, [{ Client: v }]));
    const rows: [string, string][] = [
      ["Client:", "pod"],
      ["Version:", v.Version],
      ["API Version:", v.APIVersion],
      ["Bun Version:", v.BunVersion],
      ["Built:", v.BuiltTime],
      ["OS/Arch:", v.OsArch],
    ];
    out(rows.map(([k, x]) => `${k.padEnd(14)}${x}\n`).join(""));
  },
};
