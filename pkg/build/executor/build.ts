// `pod build`: the stages a target needs, each instruction a step on the
// image the previous one left. RUN runs in a container on pod's own runtime
// (the store's user namespace, the build's network) and its upper dir becomes
// the layer; COPY and ADD write their layer straight from the sources; the
// rest change only the config (an empty_layer history entry). With --layers
// (the default) each step is stored as an untagged image and remembered in
// the cache under its key, so an unchanged step is taken, not run; the final
// image gets the tags.
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../../errors.ts";
import { log, outWhileRead } from "../../output/index.ts";
import type { Paths } from "../../config/index.ts";
import { Store, type ImageRecord } from "../../store/index.ts";
import { localName, lookupImage, removeImages, tagImage } from "../../catalog/index.ts";
import { hostPlatform, type Platform } from "../../registry/index.ts";
import { childConfig, type ContainerConfig, type ImageConfigDoc } from "../../archive/image-config.ts";
import { storeNewImage } from "../../archive/new-image.ts";
import { ensureImage, imageUsers, type PullPolicy } from "../../container/index.ts";
import { layerDirsOf } from "../../container/engine/launch.ts";
import { FsView } from "../../container/fs/view.ts";
import { imageExportTar, imageLayersDiffTar } from "../../container/fs/files.ts";
import { openLayer, reemitArchive } from "./copy-layer.ts";
import { parseInstructionLine, type Containerfile, type Instruction } from "../containerfile.ts";
import { planStages, stageWaves, unusedBuildArgs, platformArgs, hostPlatform as buildHostPlatform, type StagePlan } from "../stages.ts";
import { loadIgnore, type Matcher } from "../ignore.ts";
import type { HashCache } from "../context-hash.ts";
import { BuildCache, stepKey } from "./cache.ts";
import { applyMetadata, isMetadata, scopeOf, type StageVars } from "./metadata.ts";
import { copyStep } from "./copy-step.ts";
import { runStep } from "./run-step.ts";

export type BuildRequest = {
  contextDir: string;
  containerfile: Containerfile;
  tags: string[];
  buildArgs: Map<string, string>;
  target?: string;
  noCache: boolean;
  pull: PullPolicy;
  layers: boolean;
  format: "oci" | "docker";
  quiet: boolean;
  /** --label KEY=VALUE: on the final image */
  labels: Record<string, string>;
  /** --timestamp: seconds since the epoch for every created time and every file of the new layers */
  timestamp?: number;
  /** --annotation KEY=VALUE: on the final image's manifest (OCI format only) */
  annotations: Record<string, string>;
  /** --network for RUN steps ("" the default network) */
  network: string;
  ignoreFile?: string;
  platform?: Platform;
  /** --jobs: independent stages at the same time */
  jobs: number;
  /** what RUN containers get besides the step's own mounts: -v, --cap-add, --cap-drop, --ulimit, --userns */
  run: { volumes: string[]; capAdd: string[]; capDrop: string[]; ulimits: string[]; userns: string };
  /** --secret id=ID,src=PATH|env=VAR: what RUN --mount=type=secret,id=ID reads */
  secrets: Map<string, { src?: string; env?: string }>;
  /** --squash: the final stage's new layers as one; --squash-all: the whole file system as one */
  squash: "none" | "new" | "all";
};

/** What a stage has built so far. */
export type StageState = {
  doc: ImageConfigDoc;
  /** the stored image of `doc`; undefined while steps are kept in memory (--layers=false) or for scratch */
  imageId?: string;
  /** the cache key of `doc`: its base and every step on the way */
  key: string;
  vars: StageVars;
  shell: string[];
  /** CMD set in this stage: a later ENTRYPOINT keeps it */
  cmdSet: boolean;
  /** how many of doc's layers the stage's FROM gave it (--squash keeps those) */
  baseLayers: number;
};

export type BuildContext = {
  paths: Paths;
  store: Store;
  req: BuildRequest;
  plan: StagePlan;
  cache: BuildCache;
  ignore: Matcher;
  hashes: HashCache;
  /** a private directory for layer tars, removed at the end */
  work: string;
  /** every stage's final state, by index */
  results: Map<number, StageState>;
  /** the images this build stored, so that --layers=false can remove the ones the result does not need */
  created: string[];
  say(text: string): void;
};

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

function scratchDoc(p: Platform): ImageConfigDoc {
  return { architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), config: {}, rootfs: { type: "layers", diff_ids: [] }, history: [] };
}

function readDoc(store: Store, img: ImageRecord): ImageConfigDoc {
  return JSON.parse(new TextDecoder().decode(store.readBlob(`sha256:${img.id}`))) as ImageConfigDoc;
}

/** The layer dirs of a state's image (bottom first), for FsView and COPY --from. */
export function stateLayers(ctx: BuildContext, st: StageState): string[] {
  return layerDirsOf(ctx.store, st.doc.rootfs?.diff_ids ?? []);
}

export function stateView(ctx: BuildContext, st: StageState): FsView {
  return new FsView(stateLayers(ctx, st));
}

const createdAt = (ctx: BuildContext) => (ctx.req.timestamp === undefined ? new Date().toISOString() : new Date(ctx.req.timestamp * 1000).toISOString().replace(".000Z", "Z"));

/** --timestamp: the layer tar written again with every file's time set to it (a reproducible layer). */
async function stampLayer(ctx: BuildContext, tar: string | undefined): Promise<string | undefined> {
  if (tar === undefined || ctx.req.timestamp === undefined) return tar;
  const out = openLayer(`${tar}.stamped`);
  try {
    await reemitArchive(out, tar, { dest: "/", mtime: ctx.req.timestamp });
  } finally {
    out.close();
  }
  return `${tar}.stamped`;
}

/** Stores `doc` (with a new layer or none) as an image; the cache remembers it under `key` unless told not to. */
export async function commitStep(ctx: BuildContext, st: StageState, step: { key: string; createdBy: string; config: ContainerConfig; layerTar?: string; names?: string[]; remember?: boolean }): Promise<StageState> {
  let next: ImageConfigDoc | undefined;
  const img = await storeNewImage(ctx.store, {
    layerTar: await stampLayer(ctx, step.layerTar),
    format: ctx.req.format,
    names: step.names ?? [],
    config: (diffID) => (next = childConfig(st.doc, { diffID, created: createdAt(ctx), createdBy: step.createdBy, config: step.config, author: st.doc.author })),
  });
  ctx.created.push(img.id);
  if (step.remember !== false && ctx.req.layers) await ctx.cache.remember(step.key, img.id);
  return { ...st, doc: next!, imageId: img.id, key: step.key };
}

/** A state whose steps are only in memory is stored, so a container can start from it. */
export async function materialize(ctx: BuildContext, st: StageState): Promise<StageState & { imageId: string }> {
  if (st.imageId) return st as StageState & { imageId: string };
  const img = await storeNewImage(ctx.store, { format: ctx.req.format, names: [], config: () => st.doc });
  ctx.created.push(img.id);
  return { ...st, imageId: img.id };
}

/** The image a cache hit names, as the next state. */
export function fromCache(ctx: BuildContext, st: StageState, imageId: string, key: string): StageState {
  const img = lookupImage(ctx.store, imageId);
  return { ...st, doc: readDoc(ctx.store, img), imageId, key };
}

async function baseState(ctx: BuildContext, index: number): Promise<StageState> {
  const base = ctx.plan.bases.get(index)!;
  const platform = ctx.req.platform ?? hostPlatform();
  const common = { vars: { args: new Map<string, string>(), declared: new Set<string>() }, shell: DEFAULT_SHELL, cmdSet: false };
  if (base.kind === "scratch") return { ...common, doc: scratchDoc(platform), key: "scratch", baseLayers: 0 };
  if (base.kind === "stage") {
    const prev = ctx.results.get(base.index)!;
    return { ...common, doc: prev.doc, imageId: prev.imageId, key: prev.key, shell: prev.shell, baseLayers: prev.doc.rootfs?.diff_ids.length ?? 0 };
  }
  const img = await ensureImage(ctx.store, base.ref, ctx.req.pull, ctx.req.platform);
  const doc = readDoc(ctx.store, img);
  return { ...common, doc, imageId: img.id, key: `image:${img.id}`, baseLayers: doc.rootfs?.diff_ids.length ?? 0 };
}

/** An image from COPY --from or RUN --mount from= that is not a stage. */
export async function imageFor(ctx: BuildContext, ref: string): Promise<ImageRecord> {
  return ensureImage(ctx.store, ref, ctx.req.pull, ctx.req.platform);
}

function stepLabel(ctx: BuildContext, index: number): string {
  return ctx.plan.needed.length > 1 ? `[${ctx.plan.needed.indexOf(index) + 1}/${ctx.plan.needed.length}] ` : "";
}

/** The base image's ONBUILD triggers, run first in the stage, as docker runs them. */
function triggersOf(ctx: BuildContext, st: StageState, from: Instruction): Instruction[] {
  const triggers = (st.doc.config?.OnBuild ?? []) as string[];
  return triggers.map((t) => parseInstructionLine(t, `${ctx.req.containerfile.file} (ONBUILD of the base image)`, from.line, ctx.req.containerfile.escape));
}

async function buildStage(ctx: BuildContext, index: number, final: boolean): Promise<StageState> {
  const cf = ctx.req.containerfile;
  const stage = cf.stages[index]!;
  const prefix = stepLabel(ctx, index);
  const total = stage.instructions.length + 1;
  ctx.say(`${prefix}STEP 1/${total}: ${stage.from.original}\n`);
  let st = await baseState(ctx, index);
  // the base's triggers are consumed: a child of this image does not run them again
  const triggers = triggersOf(ctx, st, stage.from);
  if (triggers.length) st = { ...st, doc: { ...st.doc, config: { ...st.doc.config, OnBuild: undefined } } };
  const steps = [...triggers.map((t) => ({ instr: t, shown: false })), ...stage.instructions.map((instr) => ({ instr, shown: true }))];
  let n = 1;
  for (const [i, { instr, shown }] of steps.entries()) {
    if (shown) ctx.say(`${prefix}STEP ${++n}/${total}: ${instr.original}\n`);
    const last = final && i === steps.length - 1;
    st = await buildStep(ctx, st, instr, index, last);
  }
  return st;
}

/** One instruction: a cache hit, or the step carried out and stored. */
async function buildStep(ctx: BuildContext, st: StageState, instr: Instruction, stageIndex: number, last: boolean): Promise<StageState> {
  const cf = ctx.req.containerfile;
  const scope = scopeOf(st);
  if (isMetadata(instr.keyword)) {
    const change = applyMetadata(cf, instr, st, scope, ctx.plan.global, ctx.req.buildArgs, ctx.req.format);
    const key = stepKey(st.key, change.keyParts);
    // ARG changes only what later steps see: no image of its own
    if (change.onlyVars) return { ...change.state, key };
    return metadataStep(ctx, change.state, key, change.createdBy, change.state.doc.config ?? {}, last);
  }
  if (instr.keyword === "COPY" || instr.keyword === "ADD") return copyStep(ctx, st, instr, stageIndex, scope, last);
  if (instr.keyword === "RUN") return runStep(ctx, st, instr, stageIndex, scope, last);
  throw new PodError(`${cf.file}:${instr.line}: ${instr.keyword} is not supported by pod build yet`, { exit: 125, hint: "see docs/compat.md" });
}

/** A config-only step: cached, stored (with --layers) or kept in memory until something needs an image. */
async function metadataStep(ctx: BuildContext, st: StageState, key: string, createdBy: string, config: ContainerConfig, last: boolean): Promise<StageState> {
  const hit = cached(ctx, key, last);
  if (hit) return fromCache(ctx, st, hit, key);
  if (!ctx.req.layers) {
    const doc = childConfig(st.doc, { created: createdAt(ctx), createdBy, config, author: st.doc.author });
    return { ...st, doc, imageId: undefined, key };
  }
  const next = await commitStep(ctx, st, { key, createdBy, config });
  if (!last) ctx.say(`--> ${next.imageId!.slice(0, 12)}\n`);
  return next;
}

/** A cache hit for `key` (said as podman says it), unless --no-cache or --layers=false. */
export function cached(ctx: BuildContext, key: string, last: boolean): string | undefined {
  if (ctx.req.noCache || !ctx.req.layers) return undefined;
  const images = new Set(ctx.store.images().map((i) => i.id));
  const hit = ctx.cache.lookup(key, (id) => images.has(id));
  if (hit) {
    ctx.say(`--> Using cache ${hit}\n`);
    if (!last) ctx.say(`--> ${hit.slice(0, 12)}\n`);
  }
  return hit;
}

/** `--label`s on the final image: one more config step when there are any. */
async function finalLabels(ctx: BuildContext, st: StageState): Promise<StageState> {
  const entries = Object.entries(ctx.req.labels);
  if (entries.length === 0) return st;
  const config = { ...(st.doc.config ?? {}), Labels: { ...(st.doc.config?.Labels ?? {}), ...ctx.req.labels } };
  const createdBy = `/bin/sh -c #(nop) LABEL ${entries.map(([k, v]) => `${k}=${v}`).join(" ")}`;
  const key = stepKey(st.key, ["--label", ...entries.map(([k, v]) => `${k}=${v}`)]);
  return metadataStep(ctx, st, key, createdBy, config, true);
}

/** --squash-all: the final file system as the image's one layer, with one history entry. */
async function squashAll(ctx: BuildContext, st: StageState): Promise<StageState> {
  const tar = join(ctx.work, "squashed.tar");
  await imageExportTar(ctx.paths, stateLayers(ctx, st), tar, "the built image");
  let doc: ImageConfigDoc | undefined;
  const img = await storeNewImage(ctx.store, {
    layerTar: await stampLayer(ctx, tar),
    format: ctx.req.format,
    names: [],
    config: (diffID) => (doc = childConfig(st.doc, { diffID, created: createdAt(ctx), createdBy: "/bin/sh -c #(nop) squashed", config: st.doc.config ?? {}, author: st.doc.author, squash: true })),
  });
  return { ...st, doc: doc!, imageId: img.id };
}

/**
 * --squash and --layers=false: the final stage's layers above its FROM as one
 * new layer; the history keeps every step, the ones before the last marked
 * as adding no layer, so that history and layers still pair up.
 */
async function squashNew(ctx: BuildContext, st: StageState): Promise<StageState> {
  const diffIDs = st.doc.rootfs?.diff_ids ?? [];
  if (diffIDs.length <= st.baseLayers + 1) return materialize(ctx, st);
  const tar = join(ctx.work, "squashed-new.tar");
  await imageLayersDiffTar(ctx.paths, stateLayers(ctx, st), st.baseLayers, tar, "the built image");
  const history = [...(st.doc.history ?? [])];
  const own = history.filter((h) => !h.empty_layer).length - st.baseLayers;
  // the stage's own entries with a layer, from the newest back: all but the newest lose theirs
  for (let i = history.length - 1, seen = 0; i >= 0 && seen < own; i--) {
    if (history[i]!.empty_layer) continue;
    if (seen++ > 0) history[i] = { ...history[i]!, empty_layer: true };
  }
  let doc: ImageConfigDoc | undefined;
  const img = await storeNewImage(ctx.store, {
    layerTar: await stampLayer(ctx, tar),
    format: ctx.req.format,
    names: [],
    config: (diffID) => (doc = { ...st.doc, rootfs: { type: "layers", diff_ids: [...diffIDs.slice(0, st.baseLayers), diffID!] }, history }),
  });
  return { ...st, doc: doc!, imageId: img.id };
}

/** --layers=false: the images of the steps go once the result is stored (podman keeps none of them). */
async function removeIntermediates(ctx: BuildContext, keep: string | undefined): Promise<void> {
  const ids = [...new Set(ctx.created)].filter((id) => id !== keep);
  if (ids.length === 0) return;
  try {
    const r = await removeImages(ctx.store, ids, { force: false, all: false, users: imageUsers(ctx.paths), noPrune: true });
    for (const e of r.errors) log.warn(`removing an intermediate image of the build: ${e.message}`);
  } catch (e) {
    log.warn(`removing the intermediate images of the build: ${(e as Error).message}`);
  }
}

/** --annotation: the final image's manifest written again with them (the config, and so the ID, stay the same). */
async function annotate(ctx: BuildContext, st: StageState): Promise<void> {
  const annotations = ctx.req.annotations;
  if (Object.keys(annotations).length === 0) return;
  if (ctx.req.format === "docker") return log.warn("annotations are not supported for docker image format, they will be ignored: use --format oci");
  await storeNewImage(ctx.store, { format: ctx.req.format, names: [], config: () => st.doc, annotations });
}

export type BuildResult = { id: string; names: string[] };

export async function buildImage(paths: Paths, req: BuildRequest): Promise<BuildResult> {
  const store = new Store(paths).init();
  const cf = req.containerfile;
  const target = req.platform ? { os: req.platform.os, arch: req.platform.architecture, variant: req.platform.variant } : buildHostPlatform();
  const plan = planStages(cf, { target: req.target, buildArgs: req.buildArgs, predefined: platformArgs(target) });
  for (const a of unusedBuildArgs(cf, plan, req.buildArgs)) log.warn(`one or more build args were not consumed: [${a}]`);
  const work = store.tempDir("build");
  mkdirSync(work, { recursive: true });
  const ctx: BuildContext = {
    paths,
    store,
    req,
    plan,
    cache: new BuildCache(paths.root),
    ignore: await loadIgnore(req.contextDir, req.ignoreFile),
    hashes: new Map(),
    work,
    results: new Map(),
    created: [],
    say: (text) => {
      if (!req.quiet) outWhileRead(text);
    },
  };
  let result: string | undefined;
  try {
    for (const wave of stageWaves(plan)) {
      for (let i = 0; i < wave.length; i += Math.max(1, req.jobs)) {
        const batch = wave.slice(i, i + Math.max(1, req.jobs));
        const done = await Promise.all(batch.map(async (s) => [s, await buildStage(ctx, s, s === plan.target.index)] as const));
        for (const [s, st] of done) ctx.results.set(s, st);
      }
    }
    let st = await finalLabels(ctx, ctx.results.get(plan.target.index)!);
    const names = req.tags.map(localName);
    ctx.say(`COMMIT${req.tags[0] ? ` ${req.tags[0]}` : ""}\n`);
    st = req.squash === "all" ? await squashAll(ctx, st) : req.squash === "new" || !req.layers ? await squashNew(ctx, st) : await materialize(ctx, st);
    const id = (result = st.imageId!);
    await annotate(ctx, st);
    if (names.length) await tagImage(store, id, names);
    ctx.say(`--> ${id.slice(0, 12)}\n`);
    for (const n of names) ctx.say(`Successfully tagged ${n}\n`);
    return { id, names };
  } finally {
    rmSync(work, { recursive: true, force: true });
    if (!req.layers) await removeIntermediates(ctx, result);
  }
}
