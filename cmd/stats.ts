// `pod stats` and `pod update`: podman's flags and columns; the numbers come
// from each container's own cgroup (pkg/container/stats.ts), the limits go
// into it (pkg/container/update.ts).
import type { PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { updateLimitArgs, limitFlags } from "./_limits.ts";
import { findContainer, listRecords, pickContainer, sampleStats, statsJson, statsView, statusOf, updateContainer, type ContainerStats } from "../pkg/container/index.ts";
import { UsageError } from "../pkg/errors.ts";
import { formatItems, out } from "../pkg/output/index.ts";

const TABLE = "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}";
const HEADERS = { ID: "ID", Name: "NAME", CPUPerc: "CPU %", AVGCPU: "AVG CPU %", MemUsage: "MEM USAGE / LIMIT", MemUsageBytes: "MEM USAGE / LIMIT", MemPerc: "MEM %", NetIO: "NET IO", BlockIO: "BLOCK IO", PIDS: "PIDS", UpTime: "CPU TIME" };

export const stats: PodCommand = {
  meta: { name: "stats", description: "Display a live stream of container resource usage statistics" },
  examples: ["pod stats --all --no-stream", "pod stats web", 'pod stats --no-stream --format "table {{.ID}} {{.Name}} {{.MemUsage}}" web'],
  args: {
    all: { type: "boolean", alias: "a", description: "Show all containers (only running ones by default)" },
    ...formatArg,
    latest: { type: "boolean", alias: "l", description: "Act on the latest container pod knows about" },
    "no-trunc": { type: "boolean", description: "Do not truncate output" },
    "no-reset": { type: "boolean", description: "Disable resetting the screen between intervals" },
    "no-stream": { type: "boolean", description: "Disable streaming stats and only pull the first result" },
    interval: { type: "string", alias: "i", default: "5", description: "Time in seconds between stats reports", valueHint: "seconds" },
    container: { type: "positional", description: "Containers (default: the running ones)", required: false },
  },
  async run({ args }) {
    const names = args._ as string[];
    if ([args.all, args.latest, names.length > 0].filter(Boolean).length > 1) throw new UsageError("--all, --latest and containers cannot be used together", { hint: "pod stats -a, or pod stats NAME…" });
    const interval = Number(args.interval);
    if (!/^\d+$/.test(String(args.interval)) || interval < 1) throw new UsageError(`invalid argument "${args.interval}" for "-i, --interval" flag: give whole seconds, at least 1`, { hint: "pod stats -i 2" });
    const ctx = openContext(args);
    const pick = () =>
      args.latest ? [pickContainer(ctx.paths, undefined, true)] : names.length ? names.map((n) => findContainer(ctx.paths.root, n)) : listRecords(ctx.paths.root).filter((r) => args.all || ["running", "paused"].includes(statusOf(r)));
    const prev = new Map<string, ContainerStats>();
    for (;;) {
      const samples = pick().map((r) => sampleStats(r, prev.get(r.id), Boolean(args.all)));
      for (const s of samples) prev.set(s.ContainerID, s);
      const noTrunc = Boolean(args["no-trunc"]);
      const format = args.format as string | undefined;
      const text = format?.trim() === "json" ? `${JSON.stringify(samples.map((s) => statsJson(s, noTrunc)), null, 1)}\n` : formatItems(format, samples.map((s) => statsView(s, noTrunc)), { table: TABLE, headers: HEADERS });
      // podman clears the screen before each report of a stream
      out(args["no-stream"] || args["no-reset"] ? text : `\x1b[2J\x1b[H${text}`);
      if (args["no-stream"]) return;
      await Bun.sleep(interval * 1000);
    }
  },
};

export const update: PodCommand = {
  meta: { name: "update", description: "Update the configuration of a given container" },
  examples: ["pod update --memory 256m web", "pod update --cpus 0.5 --pids-limit 100 web"],
  args: {
    ...updateLimitArgs,
    container: { type: "positional", description: "Container" },
  },
  async run({ args }) {
    const [name, ...rest] = args._ as string[];
    if (!name || rest.length) throw new UsageError("`pod update` takes exactly one container", { hint: "pod update --memory 256m web" });
    const ctx = openContext(args);
    const rec = await updateContainer(ctx.paths, findContainer(ctx.paths.root, name), limitFlags(args));
    out(`${rec.id}\n`);
  },
};
