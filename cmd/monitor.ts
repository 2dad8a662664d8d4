// The hidden `_monitor` command, apart from the user-facing ones: a monitor
// idles for the container's lifetime, so it loads no more than it needs.
import type { PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { parseMonitoredChild, runMonitor } from "../pkg/container/engine/monitor.ts";
import { PodError } from "../pkg/errors.ts";

export const monitor: PodCommand = {
  meta: { name: "_monitor", description: "internal: supervises a detached container the native core started as its child", hidden: true },
  args: {
    child: { type: "string", description: "the container's host pid and terminal master fd (PID,FD)", valueHint: "pid,fd" },
    fds: { type: "string", description: "the monitor's ends of the container's stdout, stderr and stdin (OUT,ERR,IN)", valueHint: "fds" },
    "await-attach": { type: "boolean", description: "keep the output for an attach that comes right after the start" },
    id: { type: "positional", description: "container ID" },
  },
  async run({ args }) {
    const ctx = openContext(args);
    const id = (args._ as string[])[0];
    const child = parseMonitoredChild(String(args.child ?? ""), String(args.fds ?? ""));
    if (!id || !child) throw new PodError("_monitor is started by pod itself, with --child, --fds and a container ID", { hint: "use pod start or pod run -d" });
    return runMonitor(ctx.paths, id, child, Boolean(args["await-attach"]));
  },
};
