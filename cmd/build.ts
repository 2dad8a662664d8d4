// `pod build` (and `pod image build`): a Containerfile and its context into an image.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { PodArgs, PodCommand } from "./_args.ts";
import { openContext } from "./_context.ts";
import { platformFrom } from "./image.ts";
import { PodError, UsageError } from "../pkg/errors.ts";
import { log, out } from "../pkg/output/index.ts";
import { writeFileAtomic } from "../pkg/store/index.ts";
import { parseContainerfile } from "../pkg/build/index.ts";
import { openBuildContext } from "../pkg/build/context-source.ts";
import { buildImage } from "../pkg/build/executor/build.ts";
import type { PullPolicy } from "../pkg/container/index.ts";
import { parseUserns } from "../pkg/runtime/index.ts";

const buildArgs = {
  file: { type: "string", alias: "f", multiple: true, description: "Pathname or URL of a Dockerfile", valueHint: "file" },
  tag: { type: "string", alias: "t", multiple: true, description: "tagged name to apply to the built image", valueHint: "name" },
  "build-arg": { type: "string", multiple: true, description: "argument=value to supply to the builder", valueHint: "argument=value" },
  "build-arg-file": { type: "string", multiple: true, description: "argfile.conf containing lines of argument=value to supply to the builder", valueHint: "argfile.conf" },
  target: { type: "string", description: "set the target build stage to build", valueHint: "stage" },
  "no-cache": { type: "boolean", description: "Do not use existing cached images for the container build. Build from the start with a new set of cached layers." },
  pull: { type: "enum", options: ["always", "missing", "never", "newer", "true", "false"], default: "missing", description: "Pull image policy", valueHint: "policy" },
  layers: { type: "boolean", default: true, description: "Use intermediate layers during build (cache)" },
  format: { type: "string", default: "oci", description: "format of the built image's manifest and metadata", valueHint: "oci|docker" },
  quiet: { type: "boolean", alias: "q", description: "refrain from announcing build instructions and image read/write progress" },
  iidfile: { type: "string", description: "Write the image ID to the file", valueHint: "file" },
  label: { type: "string", multiple: true, description: "Set metadata for an image", valueHint: "label=value" },
  timestamp: { type: "string", description: "Set created timestamp to the specified epoch seconds to allow for deterministic builds, defaults to current time", valueHint: "seconds" },
  annotation: { type: "string", multiple: true, description: "Set metadata for an image (default [])", valueHint: "annotation=value" },
  network: { type: "string", description: "Network for RUN instructions: the default network, none, host, pasta, slirp4netns", valueHint: "mode" },
  ignorefile: { type: "string", description: "Path to an alternate .containerignore file", valueHint: "file" },
  platform: { type: "string", description: "Set the OS/ARCH[/VARIANT] of the image to the provided value instead of the current operating system and architecture of the host", valueHint: "os/arch" },
  jobs: { type: "string", default: "1", description: "How many stages to run in parallel", valueHint: "n" },
  volume: { type: "string", alias: "v", multiple: true, description: "Bind mount a volume into the containers of RUN steps", valueHint: "volume" },
  "cap-add": { type: "string", multiple: true, description: "Add the specified capability when running", valueHint: "capability" },
  "cap-drop": { type: "string", multiple: true, description: "Drop the specified capability when running", valueHint: "capability" },
  ulimit: { type: "string", multiple: true, description: "ulimit options for RUN steps", valueHint: "type=soft:hard" },
  secret: { type: "string", multiple: true, description: "Secret file to expose to the build: id=ID,src=PATH or id=ID,env=VAR", valueHint: "id=ID,src=PATH" },
  squash: { type: "boolean", description: "Squash all of the image's new layers into a single new layer; any preexisting layers are not squashed" },
  "squash-all": { type: "boolean", description: "Squash all of the new image's layers (including those inherited from a base image) into a single new layer" },
  userns: { type: "string", description: "'host' or 'keep-id[:uid=N,gid=N]': the user namespace mode of the RUN containers", valueHint: "mode" },
  rm: { type: "boolean", default: true, description: "Remove intermediate containers after a successful build" },
  "force-rm": { type: "boolean", description: "Always remove intermediate containers after a build, even if the build is unsuccessful" },
  context: { type: "positional", required: false, description: "Build context: a directory (default: .), - (a tar or a Containerfile on stdin), a URL of either, or a git repository (git://…, git@…, https://….git, #ref:subdir)", valueHint: "dir" },
} satisfies PodArgs;

/** -f FILE relative to the working directory, else to the context; without it Containerfile, then Dockerfile in the context. */
function findContainerfile(contextDir: string, given: string | undefined): { path: string; text: string } {
  if (given === "-") return { path: "stdin", text: readFileSync(0, "utf8") };
  if (given !== undefined) {
    const candidates = isAbsolute(given) ? [given] : [resolve(given), join(contextDir, given)];
    const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
    if (!found) throw new PodError(`the specified Containerfile or Dockerfile does not exist, ${given}: no such file or directory`, { exit: 125, hint: "check the -f path (relative to the working directory or the context)" });
    return { path: found, text: readFileSync(found, "utf8") };
  }
  for (const name of ["Containerfile", "Dockerfile"]) {
    const p = join(contextDir, name);
    if (existsSync(p)) return { path: p, text: readFileSync(p, "utf8") };
  }
  throw new PodError(`no Containerfile or Dockerfile specified or found in context directory, ${contextDir}: no such file or directory`, { exit: 125, hint: "write a Containerfile there, or name one with -f" });
}

/** --build-arg KEY=VALUE, or KEY alone (its value from pod's environment, or left out); --build-arg-file lines first. */
function buildArgMap(args: Record<string, unknown>): Map<string, string> {
  const m = new Map<string, string>();
  const add = (kv: string) => {
    const eq = kv.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid build arg "${kv}": the name is empty`, { hint: "--build-arg NAME=VALUE" });
    if (eq > 0) m.set(kv.slice(0, eq), kv.slice(eq + 1));
    else if (process.env[kv] !== undefined) m.set(kv, process.env[kv]!);
  };
  for (const f of (args["build-arg-file"] as string[] | undefined) ?? []) {
    let text: string;
    try {
      text = readFileSync(f, "utf8");
    } catch (e) {
      throw new PodError(`reading build arg file ${f}: ${(e as Error).message}`, { exit: 125, hint: "check the --build-arg-file path" });
    }
    for (const line of text.split("\n").map((l) => l.trim())) if (line && !line.startsWith("#")) add(line);
  }
  for (const kv of (args["build-arg"] as string[] | undefined) ?? []) add(kv);
  return m;
}

function labelMap(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf("=");
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? "" : l.slice(eq + 1);
  }
  return out;
}

/** --secret id=ID,src=PATH (or type=file,…) and id=ID,env=VAR, as podman reads them. */
function secretMap(list: string[]): Map<string, { src?: string; env?: string }> {
  const m = new Map<string, { src?: string; env?: string }>();
  for (const spec of list) {
    const o = Object.fromEntries(spec.split(",").map((kv) => [kv.slice(0, kv.indexOf("=") < 0 ? kv.length : kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const id = o.id;
    if (!id) throw new UsageError(`invalid secret "${spec}": no id`, { hint: "--secret id=ID,src=PATH" });
    const src = o.src ?? o.source;
    if (o.type === "env" || (o.env !== undefined && src === undefined)) m.set(id, { env: o.env ?? id });
    else {
      if (!src) throw new UsageError(`invalid secret "${spec}": no src`, { hint: "--secret id=ID,src=PATH" });
      if (!existsSync(src)) throw new PodError(`secret ${id}: ${src}: no such file or directory`, { exit: 125, hint: "--secret src= names a file to expose to RUN --mount=type=secret" });
      m.set(id, { src: resolve(src) });
    }
  }
  return m;
}

function timestampOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid argument "${v}" for "--timestamp" flag: strconv.ParseInt: parsing "${v}": invalid syntax`, { hint: "--timestamp takes seconds since the epoch, e.g. $(date +%s) or 0" });
  return Number(v);
}

function pullPolicy(v: string): PullPolicy {
  return v === "true" ? "always" : v === "false" ? "missing" : (v as PullPolicy);
}

export const build: PodCommand = {
  meta: { name: "build", description: "Build an image using instructions from Containerfiles" },
  examples: ["pod build -t web .", "pod build -f Containerfile.dev --build-arg VERSION=2 -t web:dev .", "pod build --no-cache -q ."],
  args: buildArgs,
  async run({ args }) {
    const ctx = openContext(args);
    const positional = args._ as string[];
    if (positional.length > 1) throw new UsageError("`pod build` takes at most one CONTEXT", { hint: "pod build -t NAME DIR" });
    const contextArg = positional[0] ?? ".";
    const files = (args.file as string[] | undefined) ?? [];
    if (files.length > 1) throw new UsageError("more than one -f is not supported by pod build yet", { hint: "join the Containerfiles into one" });
    if (contextArg === "-" && files[0] === "-") throw new UsageError("-f - and the context - cannot both read stdin", { hint: "pipe the context's tar on stdin and name the Containerfile inside it with -f" });
    const format = String(args.format);
    if (format !== "oci" && format !== "docker") throw new UsageError(`unrecognized image type "${format}"`, { hint: "--format takes oci or docker" });
    if (args.rm === false) throw new UsageError("--rm=false is not supported: pod build always removes its step containers", { hint: "drop --rm=false" });
    const jobs = Number(args.jobs);
    if (!Number.isInteger(jobs) || jobs < 0) throw new UsageError(`invalid argument "${args.jobs}" for "--jobs" flag`, { hint: "--jobs takes a number of stages; 0 means all at once" });
    if (args.squash && args["squash-all"]) throw new UsageError("--squash and --squash-all cannot be used together", { hint: "pick one: --squash keeps the base image's layers" });
    if (args.userns) parseUserns(String(args.userns));
    const list = (k: string) => (args[k] as string[] | undefined) ?? [];
    const request = {
      tags: (args.tag as string[] | undefined) ?? [],
      buildArgs: buildArgMap(args),
      target: args.target as string | undefined,
      noCache: Boolean(args["no-cache"]),
      pull: pullPolicy(String(args.pull)),
      layers: args.layers !== false,
      format: format as "oci" | "docker",
      quiet: Boolean(args.quiet),
      labels: labelMap((args.label as string[] | undefined) ?? []),
      timestamp: timestampOf(args.timestamp as string | undefined),
      annotations: labelMap((args.annotation as string[] | undefined) ?? []),
      network: (args.network as string | undefined) ?? "",
      ignoreFile: args.ignorefile ? resolve(String(args.ignorefile)) : undefined,
      platform: args.platform ? platformFrom(args) : undefined,
      jobs: jobs === 0 ? Number.MAX_SAFE_INTEGER : jobs,
      run: { volumes: list("volume"), capAdd: list("cap-add"), capDrop: list("cap-drop"), ulimits: list("ulimit"), userns: (args.userns as string | undefined) ?? "" },
      secrets: secretMap(list("secret")),
      squash: args["squash-all"] ? ("all" as const) : args.squash ? ("new" as const) : ("none" as const),
    };
    // a context that is not a local directory is unpacked or cloned into a temp dir, removed however the build ends
    const source = await openBuildContext(contextArg, { onWarning: (m) => log.warn(m) });
    let res: { id: string };
    try {
      const cfFile = source.containerfileText !== undefined && files[0] === undefined ? { path: "Containerfile", text: source.containerfileText } : findContainerfile(source.dir, files[0]);
      res = await buildImage(ctx.paths, { ...request, contextDir: source.dir, containerfile: parseContainerfile(cfFile.text, cfFile.path) });
    } finally {
      source.cleanup();
    }
    if (args.iidfile) writeFileAtomic(String(args.iidfile), `sha256:${res.id}`);
    out(`${res.id}\n`);
  },
};
