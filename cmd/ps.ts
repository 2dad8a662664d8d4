// `pod ps`: the flags, and the table, JSON or template it prints (once, or
// every --watch seconds).
import type { Parsed, PodArgs, PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { UsageError } from "../pkg/errors.ts";
import { checkPsQuery, FILTER_KEYS, listContainers, PS_SORT_KEYS, psJsonRow, psTemplateRow, type PsQuery, type PsSortKey } from "../pkg/container/index.ts";
import { formatItems, out, repaint } from "../pkg/output/index.ts";
import type { Paths } from "../pkg/config/index.ts";

const headers = {
  ID: "CONTAINER ID", Image: "IMAGE", Command: "COMMAND", Created: "CREATED", Status: "STATUS", Ports: "PORTS", Names: "NAMES", Size: "SIZE",
  Pod: "POD ID", PodName: "PODNAME", Pid: "PID", CGROUPNS: "CGROUPNS", IPC: "IPC", MNT: "MNT", NET: "NET", PIDNS: "PIDNS", USERNS: "USERNS", UTS: "UTS",
};
const TABLE = "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.Created}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";
// podman's --ns table replaces the usual columns
const NS_TABLE = "{{.ID}}\t{{.Names}}\t{{.Pid}}\t{{.CGROUPNS}}\t{{.IPC}}\t{{.MNT}}\t{{.NET}}\t{{.PIDNS}}\t{{.USERNS}}\t{{.UTS}}";

const psArgs = {
  all: { type: "boolean", alias: "a", description: "Show all containers, not only running ones" },
  quiet: { type: "boolean", alias: "q", description: "Print only container IDs" },
  last: { type: "string", alias: "n", description: "Print the n last created containers", valueHint: "n" },
  latest: { type: "boolean", alias: "l", description: "Print the latest created container" },
  filter: { type: "string", alias: "f", multiple: true, description: `Filter: ${FILTER_KEYS.map((k) => `${k}=`).join(", ")}`, valueHint: "filter" },
  sort: { type: "enum", options: [...PS_SORT_KEYS], description: `Sort output by: ${PS_SORT_KEYS.join(", ")}`, valueHint: "key" },
  size: { type: "boolean", alias: "s", description: "Display the total file sizes" },
  ns: { type: "boolean", description: "Display the namespaces of each container's first process" },
  pod: { type: "boolean", alias: "p", description: "Print the ID and name of the pod of each container (pod has no pods yet: empty)" },
  watch: { type: "string", alias: "w", description: "Print the list again every N seconds, until interrupted", valueHint: "seconds" },
  "no-trunc": { type: "boolean", description: "Do not truncate output" },
  noheading: { type: "boolean", description: "Do not print headers" },
  // podman lists containers other tools made in its storage (buildah's); pod's store holds only its own, so the list is the same
  external: { type: "boolean", description: "Also show containers made by other tools (pod's store has none: the same list)" },
  ...formatArg,
} satisfies PodArgs;

/** --watch's interval in whole seconds (podman's uint); 0 means no watching. */
function watchSeconds(v: unknown): number {
  if (v === undefined) return 0;
  const s = String(v);
  if (!/^\d+$/.test(s)) throw new UsageError(`invalid argument "${s}" for "-w, --watch" flag: expected a whole number of seconds`, { hint: "pod ps --watch 2" });
  return Number(s);
}

function psText(paths: Paths, args: Parsed, q: PsQuery): string {
  const rows = listContainers(paths, q);
  if (args.format === "json") return formatItems("json", rows.map(psJsonRow), { table: TABLE, headers });
  if (args.quiet && args.format === undefined) return rows.map((r) => `${r.ID}\n`).join("");
  const table = (q.ns ? NS_TABLE : TABLE) + (args.pod ? "\t{{.Pod}}\t{{.PodName}}" : "") + (q.size ? "\t{{.Size}}" : "");
  return formatItems(args.format as string | undefined, rows.map(psTemplateRow), { table, headers }, { noHeading: Boolean(args.noheading) });
}

export const ps: PodCommand = {
  meta: { name: "ps", description: "List containers" },
  examples: ["pod ps", "pod ps -a --filter status=exited", "pod ps -a --size --sort names", "pod ps --ns", "pod ps -w 2", "pod ps --format '{{.Names}} {{.Status}}'"],
  args: psArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const q: PsQuery = {
      all: Boolean(args.all),
      filters: args.filter as unknown as string[],
      last: args.last !== undefined ? Number(args.last) : undefined,
      latest: Boolean(args.latest),
      sort: args.sort as PsSortKey | undefined,
      size: Boolean(args.size),
      ns: Boolean(args.ns),
      noTrunc: Boolean(args["no-trunc"]),
    };
    checkPsQuery({ ...q, quiet: Boolean(args.quiet) });
    const every = watchSeconds(args.watch);
    if (every > 0) return void (await repaint(every, () => psText(ctx.paths, args, q)));
    out(psText(ctx.paths, args, q));
  },
};
