// `pod doctor`: checks every prerequisite of rootless containers on this host
// and prints ok/warn/fail lines, each problem with the command that fixes it.
import type { PodCommand } from "./_args.ts";
import { formatArg } from "./_args.ts";
import { openContext } from "./_context.ts";
import { diagnose, renderChecks } from "../pkg/doctor/index.ts";
import { formatItems, out, stdoutIsTTY } from "../pkg/output/index.ts";

export const doctor: PodCommand = {
  meta: { name: "doctor", description: "Check this host's prerequisites for rootless containers" },
  examples: ["pod doctor", "pod doctor --format json", "pod doctor --format '{{.Status}} {{.Name}}'"],
  args: { ...formatArg },
  async run({ args }) {
    const ctx = openContext(args);
    const { checks } = await diagnose(ctx.paths);
    const format = args.format as string | undefined;
    if (format) out(formatItems(format, checks.map((c) => ({ ...c, fix: c.fix ?? "" })), { table: "{{.Status}}\t{{.Name}}\t{{.Message}}\t{{.Fix}}", headers: {} }));
    else out(renderChecks(checks, stdoutIsTTY() && !process.env.NO_COLOR && process.env.TERM !== "dumb"));
    // 1, not 125: doctor worked; what it found is what failed
    return checks.some((c) => c.status === "fail") ? 1 : 0;
  },
};
