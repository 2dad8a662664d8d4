// `pod healthcheck run CTR`: one check now (the container's monitor runs the same on its timer).
import type { PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { findContainer } from "../pkg/container/record/records.ts";
import { runHealthcheck } from "../pkg/container/engine/health.ts";
import { UsageError } from "../pkg/errors.ts";
import { out } from "../pkg/output/index.ts";

export const run: PodCommand = {
  meta: { name: "run", description: "Run a container's healthcheck now: exit 0 healthy, 1 not (yet) healthy" },
  examples: ["pod healthcheck run web"],
  args: { container: { type: "positional", description: "Container name or ID", required: false } },
  async run({ args }) {
    const refs = args._ as string[];
    if (refs.length !== 1) throw new UsageError("`pod healthcheck run` takes exactly one container", { hint: "pod healthcheck run web" });
    const ctx = openContext(args);
    const state = await runHealthcheck(ctx.paths, findContainer(ctx.paths.root, refs[0]!));
    if (state.status === "healthy") return 0;
    // podman prints the state when it is not healthy, and exits 1
    out(`${state.status}\n`);
    return 1;
  },
};

export const healthcheck: PodCommand = {
  meta: { name: "healthcheck", description: "Manage healthchecks of containers" },
  examples: ["pod healthcheck run web"],
  subCommands: { run } as never,
};
