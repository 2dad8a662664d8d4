// Which stages a build runs and in what order. A stage is named by `AS name`
// or by its index; FROM can start from an earlier stage by name, COPY --from
// and RUN --mount from= can read one by name or index. The target (`--target`,
// else the last stage) needs the stages it reaches through those edges; the
// rest are skipped. Independent needed stages can run side by side (`--jobs`).
//
// FROM lines see only the ARGs declared before the first FROM and docker's
// automatic platform ARGs; inside a stage an ARG must be declared to be used.

import { PodError } from "../errors.ts";
import type { Containerfile, Instruction, Stage } from "./containerfile.ts";
import { instructionError, parseError } from "./containerfile.ts";
import { expand, parseKeyValues } from "./expand.ts";

export interface Platform {
  os: string;
  arch: string;
  variant?: string;
}

/** ARGs every build knows without a declaration; RUN sees them, history leaves them out unless declared. */
export const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] as const;

/** The automatic platform ARGs, usable in FROM lines and, once declared with `ARG NAME`, in a stage. */
export const PLATFORM_ARGS = ["TARGETPLATFORM", "TARGETOS", "TARGETARCH", "TARGETVARIANT", "BUILDPLATFORM", "BUILDOS", "BUILDARCH", "BUILDVARIANT"] as const;

const NODE_ARCH: Record<string, string> = { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64", loong64: "loong64", mips: "mips", mipsel: "mipsle" };

/** The platform pod runs on, in OCI terms. */
export function hostPlatform(): Platform {
  const arch = NODE_ARCH[process.arch] ?? process.arch;
  return arch === "arm" ? { os: "linux", arch, variant: "v7" } : arch === "arm64" ? { os: "linux", arch, variant: "v8" } : { os: "linux", arch };
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.arch}/${p.variant}` : `${p.os}/${p.arch}`;
}

/** `os/arch[/variant]` (or `arch` alone: linux), lower-cased; `x86_64` and `aarch64` spelled the OCI way. */
export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split("/");
  const alias: Record<string, string> = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64", i386: "386" };
  const bad = () => new PodError(`invalid platform "${text}": expected os/arch[/variant]`, { exit: 125, hint: "for example --platform linux/amd64" });
  if (parts.some((p) => p === "") || parts.length > 3) throw bad();
  if (parts.length === 1) return { os: "linux", arch: alias[parts[0]!] ?? parts[0]! };
  const [os, arch, variant] = parts as [string, string, string | undefined];
  const p: Platform = { os, arch: alias[arch] ?? arch };
  if (variant) p.variant = variant;
  else if (p.arch === "arm64" && arch === "aarch64") p.variant = "v8";
  return p;
}

/** TARGET* and BUILD* values for a build for `target` on `build`. */
export function platformArgs(target: Platform, build: Platform = hostPlatform()): Map<string, string> {
  return new Map([
    ["TARGETPLATFORM", formatPlatform(target)],
    ["TARGETOS", target.os],
    ["TARGETARCH", target.arch],
    ["TARGETVARIANT", target.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(build)],
    ["BUILDOS", build.os],
    ["BUILDARCH", build.arch],
    ["BUILDVARIANT", build.variant ?? ""],
  ]);
}

/** An expansion failure turned into a parse-style error at the instruction. */
function at(cf: Containerfile, instr: Instruction, e: unknown): PodError {
  return instructionError(cf.file, instr, e);
}

export interface GlobalArgs {
  /** The values FROM lines expand with: the platform ARGs, then the global ARGs that have a value. */
  scope: Map<string, string>;
  /** Every ARG declared before the first FROM, with or without a value. */
  declared: Set<string>;
}

/** The ARGs before the first FROM, in order: a `--build-arg` overrides a default; defaults may use earlier ones. */
export function globalArgs(cf: Containerfile, buildArgs: ReadonlyMap<string, string> = new Map(), predefined: ReadonlyMap<string, string> = platformArgs(hostPlatform())): GlobalArgs {
  const scope = new Map(predefined);
  const declared = new Set<string>();
  for (const instr of cf.globalArgs) {
    let pairs;
    try {
      pairs = parseKeyValues(instr.args, "ARG");
    } catch (e) {
      throw at(cf, instr, e);
    }
    for (const kv of pairs) {
      declared.add(kv.key);
      const given = buildArgs.get(kv.key);
      if (given !== undefined) scope.set(kv.key, given);
      else if (kv.hasValue) {
        try {
          scope.set(kv.key, expand(kv.value, scope, cf.escape));
        } catch (e) {
          throw at(cf, instr, e);
        }
      }
    }
  }
  return { scope, declared };
}

/** What a stage starts from. */
export type StageBase = { kind: "scratch" } | { kind: "stage"; index: number } | { kind: "image"; ref: string };

/** A reference from one stage to another, or to an image: COPY --from, RUN --mount from=. */
export interface StageEdge {
  instruction: Instruction;
  /** The value as expanded (stage name, index or image reference). */
  from: string;
  /** The stage it names, when it names one; otherwise `from` is an image to pull. */
  stage?: number;
}

export interface StagePlan {
  target: Stage;
  /** The stages the target needs (itself included), in file order: a stage's dependencies always come first. */
  needed: number[];
  /** For every stage: the stages it needs directly (FROM, COPY --from, RUN --mount from=). */
  deps: Map<number, number[]>;
  /** For every stage: its FROM, expanded with the global ARGs. */
  bases: Map<number, StageBase>;
  /** For every stage: FROM --platform expanded, when given. */
  platforms: Map<number, string>;
  /** For every stage: the COPY --from / RUN --mount from= references, expanded. */
  edges: Map<number, StageEdge[]>;
  global: GlobalArgs;
}

/**
 * The stage a `--from` value names, seen from stage `current`: a name of an
 * earlier stage (case-insensitive) or an earlier stage's index. Undefined means
 * the value is an image reference. An index of this stage or a later one is an
 * error, as in BuildKit.
 */
export function findStage(cf: Containerfile, ref: string, current: number, instr?: Instruction): Stage | undefined {
  const lower = ref.toLowerCase();
  const named = cf.stages.find((s) => s.name === lower && s.index < current);
  if (named) return named;
  if (/^\d+$/.test(ref)) {
    const index = Number(ref);
    if (index < current) return cf.stages[index];
    const msg = `invalid from flag value ${ref}: refers to ${index === current ? "the current" : "a later"} build stage`;
    if (instr) throw parseError(cf.file, instr.line, `${instr.keyword}: ${msg}`, "--from can name only a stage defined before this one");
    throw new PodError(msg, { exit: 125 });
  }
  return undefined;
}

/** `--mount` options (`type=cache,target=/x,from=builder`), keys lower-cased; a bare key has the value "". */
export function mountOptions(value: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of splitCsv(value)) {
    if (field === "") continue;
    const eq = field.indexOf("=");
    if (eq < 0) out.set(field.toLowerCase(), "");
    else out.set(field.slice(0, eq).toLowerCase(), field.slice(eq + 1));
  }
  return out;
}

/** CSV fields as Go's encoding/csv reads them in --mount: double quotes group, `""` is a quote. */
function splitCsv(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/**
 * The variables a stage's instructions can expand with, as far as the file tells
 * before anything runs: declared ARGs (build arg, else default, else the global
 * value) and ENVs. The base image's ENV is not known here; a reference that needs
 * it falls back to the text as written.
 */
class StaticScope {
  readonly vars = new Map<string, string>();
  constructor(
    private readonly cf: Containerfile,
    private readonly buildArgs: ReadonlyMap<string, string>,
    private readonly global: GlobalArgs,
  ) {}
  apply(instr: Instruction): void {
    if (instr.keyword !== "ARG" && instr.keyword !== "ENV") return;
    let pairs;
    try {
      pairs = parseKeyValues(instr.args, instr.keyword);
    } catch {
      return;
    }
    for (const kv of pairs) {
      const key = this.tryExpand(kv.key);
      if (instr.keyword === "ENV") {
        this.vars.set(key, this.tryExpand(kv.value));
        continue;
      }
      const given = this.buildArgs.get(key);
      if (given !== undefined) this.vars.set(key, given);
      else if (kv.hasValue) this.vars.set(key, this.tryExpand(kv.value));
      else if (this.global.scope.has(key)) this.vars.set(key, this.global.scope.get(key)!);
    }
  }
  tryExpand(text: string): string {
    try {
      return expand(text, this.vars, this.cf.escape);
    } catch {
      return text;
    }
  }
}

/** The `from` references of one instruction: COPY --from=X, RUN --mount=...,from=X (types bind and cache). */
function fromValues(instr: Instruction): string[] {
  const out: string[] = [];
  for (const f of instr.flags) {
    if (instr.keyword === "COPY" && f.name === "from") out.push(f.value);
    if (instr.keyword === "RUN" && f.name === "mount") {
      const opts = mountOptions(f.value);
      const type = opts.get("type") ?? "bind";
      const from = opts.get("from");
      if (from && (type === "bind" || type === "cache")) out.push(from);
    }
  }
  return out;
}

export interface PlanOptions {
  /** `--target`: a stage name (an index is accepted too). Default: the last stage. */
  target?: string;
  buildArgs?: ReadonlyMap<string, string>;
  /** The automatic ARGs (platformArgs); default: this host for both target and build. */
  predefined?: ReadonlyMap<string, string>;
}

export function planStages(cf: Containerfile, opts: PlanOptions = {}): StagePlan {
  const buildArgs = opts.buildArgs ?? new Map<string, string>();
  const global = globalArgs(cf, buildArgs, opts.predefined);
  const deps = new Map<number, number[]>();
  const bases = new Map<number, StageBase>();
  const platforms = new Map<number, string>();
  const edges = new Map<number, StageEdge[]>();
  for (const stage of cf.stages) {
    const direct = new Set<number>();
    let base: string;
    try {
      base = expand(stage.base, global.scope, cf.escape);
      if (stage.platform !== undefined) platforms.set(stage.index, expand(stage.platform, global.scope, cf.escape));
    } catch (e) {
      throw at(cf, stage.from, e);
    }
    if (base === "") throw parseError(cf.file, stage.from.line, `FROM: base name (${stage.base}) should not be blank`, "give FROM an image, or declare the ARG it uses before the first FROM");
    const lower = base.toLowerCase();
    const earlier = cf.stages.find((s) => s.name === lower && s.index < stage.index);
    if (earlier) {
      bases.set(stage.index, { kind: "stage", index: earlier.index });
      direct.add(earlier.index);
    } else if (lower === "scratch") bases.set(stage.index, { kind: "scratch" });
    else bases.set(stage.index, { kind: "image", ref: base });
    const scope = new StaticScope(cf, buildArgs, global);
    const mine: StageEdge[] = [];
    for (const instr of stage.instructions) {
      for (const raw of fromValues(instr)) {
        const from = scope.tryExpand(raw);
        const found = findStage(cf, from, stage.index, instr);
        mine.push(found ? { instruction: instr, from, stage: found.index } : { instruction: instr, from });
        if (found) direct.add(found.index);
      }
      scope.apply(instr);
    }
    edges.set(stage.index, mine);
    deps.set(stage.index, [...direct].sort((a, b) => a - b));
  }
  const target = pickTarget(cf, opts.target);
  const needed = new Set<number>();
  const visit = (i: number) => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of deps.get(i) ?? []) visit(d);
  };
  visit(target.index);
  return { target, needed: [...needed].sort((a, b) => a - b), deps, bases, platforms, edges, global };
}

function pickTarget(cf: Containerfile, target: string | undefined): Stage {
  if (target === undefined || target === "") return cf.stages[cf.stages.length - 1]!;
  const lower = target.toLowerCase();
  const found = cf.stages.find((s) => s.name === lower) ?? (/^\d+$/.test(target) ? cf.stages[Number(target)] : undefined);
  if (found) return found;
  const names = cf.stages.map((s) => s.name).filter((n): n is string => !!n);
  throw new PodError(`target stage "${target}" could not be found`, {
    exit: 125,
    hint: names.length ? `${cf.file} names the stages ${names.join(", ")}` : `${cf.file} names no stages (FROM IMAGE AS NAME)`,
  });
}

/**
 * The needed stages in waves: every stage of a wave depends only on stages of
 * earlier waves, so a wave's stages can run at the same time.
 */
export function stageWaves(plan: StagePlan): number[][] {
  const level = new Map<number, number>();
  for (const i of plan.needed) {
    const ds = plan.deps.get(i) ?? [];
    level.set(i, ds.length === 0 ? 0 : Math.max(...ds.map((d) => level.get(d)!)) + 1);
  }
  const waves: number[][] = [];
  for (const i of plan.needed) (waves[level.get(i)!] ??= []).push(i);
  return waves;
}

/**
 * The ARG value a stage's `ARG NAME[=default]` gives, docker's precedence: the
 * `--build-arg`, else the default (already expanded by the caller), else the
 * value of a global ARG of that name (including the platform ARGs). Undefined:
 * declared but unset.
 */
export function stageArgValue(name: string, expandedDefault: string | undefined, buildArgs: ReadonlyMap<string, string>, global: GlobalArgs): string | undefined {
  return buildArgs.get(name) ?? expandedDefault ?? global.scope.get(name);
}

/** `--build-arg`s no ARG in the needed stages declares (podman warns about them). */
export function unusedBuildArgs(cf: Containerfile, plan: StagePlan, buildArgs: ReadonlyMap<string, string>): string[] {
  const declared = new Set<string>(plan.global.declared);
  for (const i of plan.needed) {
    for (const instr of cf.stages[i]!.instructions) {
      if (instr.keyword !== "ARG") continue;
      try {
        for (const kv of parseKeyValues(instr.args, "ARG")) declared.add(kv.key);
      } catch {
        // a malformed ARG fails where the stage runs
      }
    }
  }
  return [...buildArgs.keys()].filter((k) => !declared.has(k) && !(PROXY_ARGS as readonly string[]).includes(k));
}
