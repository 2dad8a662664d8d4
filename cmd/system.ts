// System-level commands: `system reset`, `unshare`, and the hidden storage worker.
import type { PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { resetStorage, runUnshare } from "../pkg/system/index.ts";
import { executeStorageJob } from "../pkg/store/index.ts";
import { err, out } from "../pkg/output/index.ts";
import { PodError } from "../pkg/errors.ts";

export const reset: PodCommand = {
  meta: { name: "reset", description: "Remove all images, layers and state pod has made" },
  examples: ["pod system reset -f"],
  args: { force: { type: "boolean", alias: "f", description: "Do not prompt for confirmation" } },
  async run({ args }) {
    const ctx = openContext(args);
    if (!args.force) {
      err(`WARNING! This will remove all of pod's images, layers and state in\n  ${ctx.paths.root}\n  ${ctx.paths.runroot}\nAre you sure you want to continue? [y/N] `);
      const answer = await readLine();
      if (!/^y(es)?$/i.test(answer.trim())) return 0;
    }
    await resetStorage(ctx.paths);
  },
};

async function readLine(): Promise<string> {
  for await (const line of console) return line;
  return "";
}

export const system: PodCommand = {
  meta: { name: "system", description: "Manage pod" },
  subCommands: { reset } as never,
};

export const unshare: PodCommand = {
  meta: { name: "unshare", description: "Run a command in pod's storage user namespace" },
  examples: ["pod unshare", "pod unshare cat /proc/self/uid_map", "pod unshare rm -rf ~/.local/share/pod/tmp/x"],
  interspersed: false,
  args: { command: { type: "positional", description: "Command and arguments (default: $SHELL)", required: false } },
  async run({ args }) {
    const ctx = openContext(args);
    return runUnshare(ctx.paths, args._ as string[]);
  },
};

export const storageWorker: PodCommand = {
  meta: { name: "_storage-worker", description: "internal: runs a storage job inside the user namespace", hidden: true },
  args: { job: { type: "positional", description: "job file" } },
  async run({ args }) {
    const job = (args._ as string[])[0];
    if (!job) throw new PodError("_storage-worker needs a job file");
    return executeStorageJob(job);
  },
};

export const version: PodCommand = {
  meta: { name: "version", description: "Display the pod version" },
  args: {},
  async run() {
    out(`pod version ${typeof POD_VERSION === "string" ? POD_VERSION : "0.0.0-dev"}\n`);
  },
};

declare const POD_VERSION: string;
