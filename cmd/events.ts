// `pod events` (and `pod system events`): podman's file events backend.
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { formatValue, outWhileRead } from "../pkg/output/index.ts";
import { eventJson, humanLine, templateView, watchEvents, type PodEvent } from "../pkg/events/index.ts";

const EXAMPLES = [
  "pod events",
  "pod events --stream=false --since 10m",
  "pod events --filter container=web --filter event=start --filter event=died",
  "pod events --stream=false --format json",
  "pod events --stream=false --format '{{.Time}} {{.Type}} {{.Status}} {{.Name}}'",
];

const eventsArgs = {
  filter: { type: "string", alias: "f", multiple: true, description: "Filter: container=, event=, status=, image=, volume=, network=, type=, label=, pod=", valueHint: "filter" },
  format: { type: "string", description: "Output format: json, or a Go template", valueHint: "format" },
  "no-trunc": { type: "boolean", default: true, description: "Do not truncate IDs (default true)" },
  since: { type: "string", description: "Show events since TIMESTAMP (RFC 3339, Unix seconds, or a duration like 10m)", valueHint: "time" },
  until: { type: "string", description: "Show events until TIMESTAMP (RFC 3339, Unix seconds, or a duration like 10m)", valueHint: "time" },
  stream: { type: "boolean", default: true, description: "Follow new events until interrupted (--stream=false: print the events kept and exit)" },
} satisfies PodArgs;

export const events: PodCommand = {
  meta: { name: "events", description: "Show pod events" },
  examples: EXAMPLES,
  args: eventsArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const format = (args.format as string | undefined)?.trim();
    const render = (e: PodEvent) =>
      format === "json" ? `${eventJson(e)}\n` : format ? formatValue(format, [templateView(e)]) : `${humanLine(e, !args["no-trunc"])}\n`;
    await watchEvents(
      ctx.paths,
      { filters: (args.filter as unknown as string[]) ?? [], since: args.since as string | undefined, until: args.until as string | undefined, stream: Boolean(args.stream) },
      (e) => outWhileRead(render(e)),
    );
  },
};
