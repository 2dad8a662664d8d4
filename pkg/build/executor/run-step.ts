// RUN steps: the command in a container made from the step's parent image
// (the store's user namespace, the build's network, the config's user, workdir
// and environment plus the stage's ARG values), its output on pod's; then its
// upper dir becomes the step's layer and the container is removed. The cache
// key holds the command and the values of every ARG declared so far (docker's
// rule: RUN sees them all), not the ARG lines themselves.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../../errors.ts";
import { Store } from "../../store/index.ts";
import { createContainer, readRecord, removeContainer, runForeground, type ContainerRecord } from "../../container/index.ts";
import { containerLayout, keepIdSwap, runFilesJob } from "../../container/fs/files.ts";
import type { RunOptions } from "../../runtime/index.ts";
import { instructionError, type Instruction } from "../containerfile.ts";
import { expand } from "../expand.ts";
import { mountOptions, PROXY_ARGS } from "../stages.ts";
import { cacheMountsDir, stepKey } from "./cache.ts";
import { cached, commitStep, fromCache, materialize, type BuildContext, type StageState } from "./build.ts";

/** The argv: exec form as written; shell form through SHELL; a bare heredoc is the script itself. */
export function runArgv(instr: Instruction, shell: string[], expandBody: (s: string) => string): string[] {
  if (instr.json) return [...instr.args];
  const text = instr.args[0] ?? "";
  const doc = instr.heredocs[0];
  if (doc && /^<<-?["']?[A-Za-z0-9_]+["']?$/.test(text.trim())) return [...shell, doc.expand ? expandBody(doc.body) : doc.body];
  if (instr.heredocs.length === 0) return [...shell, text];
  // heredocs after a command: the shell reads them, as written
  return [...shell, [text, ...instr.heredocs.map((h) => `${h.body}${h.name}`)].join("\n")];
}

/** The build ARGs a RUN sees: the declared ones with values, and the proxy ones given with --build-arg. */
function argEnv(ctx: BuildContext, st: StageState): [string, string][] {
  const out = new Map(st.vars.args);
  for (const p of PROXY_ARGS) if (ctx.req.buildArgs.has(p)) out.set(p, ctx.req.buildArgs.get(p)!);
  return [...out].sort(([a], [b]) => a.localeCompare(b));
}

type Mounts = { volumes: string[]; tmpfs: string[] };

/** RUN --mount: cache dirs kept under the store, context binds read-only, tmpfs. */
function runMounts(ctx: BuildContext, instr: Instruction, x: (s: string) => string): Mounts {
  const m: Mounts = { volumes: [], tmpfs: [] };
  for (const f of instr.flags.filter((f) => f.name === "mount")) {
    const o = mountOptions(x(f.value));
    const type = o.get("type") ?? "bind";
    const target = o.get("target") ?? o.get("dst") ?? o.get("destination") ?? (type === "secret" ? `/run/secrets/${o.get("id") ?? ""}` : undefined);
    if (!target || target === "/run/secrets/") throw new PodError(`RUN --mount=${f.value}: no target`, { exit: 125, hint: "give it target=/path" });
    const known = new Set(["type", "target", "dst", "destination", "id", "sharing", "source", "src", "ro", "readonly", "rw", "readwrite", "size", "required"]);
    for (const k of o.keys()) if (!known.has(k)) throw new PodError(`RUN --mount option ${k} is not supported by pod build yet`, { exit: 125, hint: "see docs/compat.md" });
    if (type === "cache") {
      const id = o.get("id") || target;
      const dir = join(cacheMountsDir(ctx.paths.root), new Bun.CryptoHasher("sha256").update(id).digest("hex").slice(0, 32));
      mkdirSync(dir, { recursive: true });
      const ro = o.has("ro") || o.has("readonly");
      m.volumes.push(`${dir}:${target}${ro ? ":ro" : ""}`);
    } else if (type === "bind") {
      if (o.has("from")) throw new PodError("RUN --mount=type=bind,from= is not supported by pod build yet", { exit: 125, hint: "COPY --from the files instead" });
      const source = (o.get("source") ?? o.get("src") ?? ".").replace(/^\/+/, "");
      if (source.split("/").includes("..")) throw new PodError(`RUN --mount source ${source} leaves the build context`, { exit: 125, hint: "bind only paths inside the context" });
      const rw = o.has("rw") || o.has("readwrite");
      m.volumes.push(`${join(ctx.req.contextDir, source)}:${target}${rw ? "" : ":ro"}`);
    } else if (type === "secret") {
      const id = o.get("id") ?? (target ? target.split("/").pop() : undefined);
      const given = id ? ctx.req.secrets.get(id) : undefined;
      if (!given) {
        if (o.has("required") && o.get("required") !== "false") throw new PodError(`RUN --mount=type=secret: no secret ${id} was given`, { exit: 125, hint: `pod build --secret id=${id},src=FILE …` });
        continue;
      }
      m.volumes.push(`${secretFile(ctx, id!, given)}:${target}:ro`);
    } else if (type === "tmpfs") {
      m.tmpfs.push(o.has("size") ? `${target}:size=${o.get("size")}` : target);
    } else throw new PodError(`RUN --mount=type=${type} is not supported by pod build yet`, { exit: 125, hint: "pod build supports type=cache, bind and tmpfs mounts" });
  }
  return m;
}

/** A --secret's data as a private file of the build (an env= secret is written out; a src= file is bound as it is). */
function secretFile(ctx: BuildContext, id: string, s: { src?: string; env?: string }): string {
  if (s.src) return s.src;
  const file = join(ctx.work, `secret-${new Bun.CryptoHasher("sha256").update(id).digest("hex").slice(0, 16)}`);
  writeFileSync(file, process.env[s.env!] ?? "", { mode: 0o600 });
  return file;
}

function networkOf(ctx: BuildContext, instr: Instruction): string {
  const f = instr.flags.find((f) => f.name === "network");
  if (!f || f.value === "default") return ctx.req.network;
  if (f.value === "none" || f.value === "host") return f.value;
  throw new PodError(`RUN --network=${f.value}: unknown network mode`, { exit: 125, hint: "RUN --network takes default, none or host" });
}

function runOptions(ctx: BuildContext, st: StageState, argv: string[], env: string[], mounts: Mounts, network: string): RunOptions {
  const config = st.doc.config ?? {};
  return {
    command: argv,
    entrypoint: "",
    env,
    envFiles: [],
    workdir: config.WorkingDir || undefined,
    user: config.User || undefined,
    init: false,
    readOnly: false,
    readOnlyTmpfs: true,
    tmpfs: mounts.tmpfs,
    volumes: [...ctx.req.run.volumes, ...mounts.volumes],
    capAdd: ctx.req.run.capAdd,
    capDrop: ctx.req.run.capDrop,
    securityOpt: [],
    privileged: false,
    network,
    userns: ctx.req.run.userns,
    tty: false,
  };
}

export async function runStep(ctx: BuildContext, st: StageState, instr: Instruction, stageIndex: number, scope: Map<string, string>, last: boolean): Promise<StageState> {
  const cf = ctx.req.containerfile;
  const x = (s: string) => expand(s, scope, cf.escape);
  let argv: string[];
  let mounts: Mounts;
  let network: string;
  try {
    for (const f of instr.flags) if (f.name === "security") throw new PodError(`RUN --security=${f.value} is not supported by pod build`, { exit: 125, hint: "pod build runs every step unprivileged" });
    argv = runArgv(instr, st.shell, x);
    mounts = runMounts(ctx, instr, x);
    network = networkOf(ctx, instr);
  } catch (e) {
    throw instructionError(cf.file, instr, e);
  }
  const args = argEnv(ctx, st);
  const key = stepKey(st.key, ["RUN", JSON.stringify(argv), JSON.stringify(instr.flags.map((f) => [f.name, f.value])), JSON.stringify(args), ...(ctx.req.run.userns ? [`--userns=${ctx.req.run.userns}`] : [])]);
  const hit = cached(ctx, key, last);
  if (hit) return fromCache(ctx, st, hit, key);
  const base = await materialize(ctx, st);
  const imageEnv = st.doc.config?.Env ?? [];
  const env = [...args.filter(([k]) => !imageEnv.some((e) => e.startsWith(`${k}=`))).map(([k, v]) => `${k}=${v}`), ...imageEnv];
  let rec: ContainerRecord | undefined;
  const tar = join(ctx.work, `layer-${stageIndex}-${instr.line}.tar`);
  try {
    rec = await createContainer(ctx.paths, {
      image: base.imageId,
      pull: "never",
      rm: false,
      interactive: false,
      opts: runOptions(ctx, st, argv, env, mounts, network),
      ...(ctx.req.run.ulimits.length ? { flags: { ulimits: ctx.req.run.ulimits } } : {}),
    });
    const code = await runForeground(new Store(ctx.paths), ctx.paths, rec, false, 0, ctx.req.quiet);
    if (code !== 0) {
      throw new PodError(`building at STEP "${instr.original}": while running runtime: exit status ${code}`, {
        exit: code > 0 && code < 256 ? code : 125,
        hint: `${cf.file}:${instr.line}: the command failed; the steps before it stay cached, so the next build starts here`,
      });
    }
    const prune = [...[...ctx.req.run.volumes, ...mounts.volumes].map((v) => v.split(":")[1] ?? v), ...mounts.tmpfs.map((t) => t.split(":")[0]!)];
    await runFilesJob(ctx.paths, { op: "layer", output: tar, layout: containerLayout(ctx.paths, rec), container: rec.name, swap: keepIdSwap(rec), prune });
  } finally {
    if (rec) await removeContainer(ctx.paths, readRecord(ctx.paths.root, rec.id) ?? rec, true);
  }
  const prefix = args.length ? `|${args.length} ${args.map(([k, v]) => `${k}=${v}`).join(" ")} ` : "";
  const next = await commitStep(ctx, base, { key, createdBy: `${prefix}${argv.join(" ")}`, config: st.doc.config ?? {}, layerTar: tar });
  if (!last) ctx.say(`--> ${next.imageId!.slice(0, 12)}\n`);
  return next;
}
