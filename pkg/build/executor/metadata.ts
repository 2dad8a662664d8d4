// The instructions that change only the image's config (ENV, LABEL, WORKDIR,
// USER, EXPOSE, VOLUME, CMD, ENTRYPOINT, STOPSIGNAL, HEALTHCHECK, SHELL,
// ONBUILD, MAINTAINER) and ARG, which changes only what later steps see.
// Pure: the next state, the parts of its cache key and its history line.
// As buildah does, HEALTHCHECK, SHELL and ONBUILD are kept in docker-format
// images only; an OCI image warns and leaves them out (SHELL still applies to
// this build's RUN steps).
import { PodError } from "../../errors.ts";
import { log } from "../../output/index.ts";
import type { ContainerConfig } from "../../archive/image-config.ts";
import { instructionError, parseDuration, type Containerfile, type Instruction } from "../containerfile.ts";
import { expand, parseKeyValues } from "../expand.ts";
import { stageArgValue, type GlobalArgs } from "../stages.ts";
import type { StageState } from "./build.ts";

/** ARGs a stage declared: the names, and the values the declared ones have. */
export type StageVars = { args: Map<string, string>; declared: Set<string> };

const METADATA = new Set(["ENV", "LABEL", "WORKDIR", "USER", "EXPOSE", "VOLUME", "CMD", "ENTRYPOINT", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "ONBUILD", "MAINTAINER", "ARG"]);

export const isMetadata = (keyword: string): boolean => METADATA.has(keyword);

/** What expansion sees in a stage: its ARG values, then the image's ENV (ENV wins, as in docker). */
export function scopeOf(st: StageState): Map<string, string> {
  const scope = new Map(st.vars.args);
  for (const e of st.doc.config?.Env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) scope.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return scope;
}

export type MetadataChange = { state: StageState; keyParts: string[]; createdBy: string; onlyVars?: boolean };

function command(instr: Instruction, shell: string[]): string[] {
  return instr.json ? [...instr.args] : [...shell, instr.args[0] ?? ""];
}

function healthcheck(cf: Containerfile, instr: Instruction): Record<string, unknown> {
  if (instr.args[0]?.toUpperCase() === "NONE") return { Test: ["NONE"] };
  const rest = instr.args.slice(1);
  const test = instr.json ? ["CMD", ...rest] : ["CMD-SHELL", rest.join(" ")];
  const out: Record<string, unknown> = { Test: test };
  const names: Record<string, string> = { interval: "Interval", timeout: "Timeout", "start-period": "StartPeriod", "start-interval": "StartInterval" };
  for (const f of instr.flags) {
    if (f.name === "retries") {
      if (!/^\d+$/.test(f.value)) throw instructionError(cf.file, instr, new PodError(`HEALTHCHECK: invalid --retries value ${JSON.stringify(f.value)}`, { exit: 125 }));
      out.Retries = Number(f.value);
      continue;
    }
    const ns = parseDuration(f.value);
    if (ns === undefined) throw instructionError(cf.file, instr, new PodError(`HEALTHCHECK: invalid --${f.name} duration ${JSON.stringify(f.value)}`, { exit: 125 }));
    out[names[f.name]!] = ns;
  }
  return out;
}

function dockerOnly(format: "oci" | "docker", keyword: string, what: string): boolean {
  if (format === "docker") return true;
  log.warn(`${keyword} is not supported for OCI image format, ${what} will be ignored. Must use \`docker\` format`);
  return false;
}

/** ENV KEY=V replaces an earlier KEY. */
function setEnv(env: string[] | undefined, key: string, value: string): string[] {
  return [...(env ?? []).filter((e) => e.slice(0, e.indexOf("=") < 0 ? e.length : e.indexOf("=")) !== key), `${key}=${value}`];
}

export function applyMetadata(cf: Containerfile, instr: Instruction, st: StageState, scope: Map<string, string>, global: GlobalArgs, buildArgs: ReadonlyMap<string, string>, format: "oci" | "docker"): MetadataChange {
  const x = (s: string) => expand(s, scope, cf.escape);
  const config: ContainerConfig = structuredClone(st.doc.config ?? {});
  let next: StageState = { ...st };
  let author = st.doc.author;
  try {
    switch (instr.keyword) {
      case "ARG": {
        const vars: StageVars = { args: new Map(st.vars.args), declared: new Set(st.vars.declared) };
        for (const kv of parseKeyValues(instr.args, "ARG")) {
          const name = x(kv.key);
          vars.declared.add(name);
          const value = stageArgValue(name, kv.hasValue ? x(kv.value) : undefined, buildArgs, global);
          if (value !== undefined) vars.args.set(name, value);
          else vars.args.delete(name);
        }
        return { state: { ...st, vars }, keyParts: [], createdBy: "", onlyVars: true };
      }
      case "ENV":
        for (const kv of parseKeyValues(instr.args, "ENV", scope, cf.escape)) {
          config.Env = setEnv(config.Env, kv.key, kv.value);
          scope.set(kv.key, kv.value);
        }
        break;
      case "LABEL":
        for (const kv of parseKeyValues(instr.args, "LABEL", scope, cf.escape)) config.Labels = { ...(config.Labels ?? {}), [kv.key]: kv.value };
        break;
      case "WORKDIR": {
        const dir = x(instr.args[0] ?? "");
        config.WorkingDir = dir.startsWith("/") ? dir : `${(config.WorkingDir || "/").replace(/\/+$/, "")}/${dir}`;
        break;
      }
      case "USER":
        config.User = x(instr.args[0] ?? "");
        break;
      case "EXPOSE":
        for (const raw of instr.args) {
          const p = x(raw);
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new PodError(`EXPOSE: invalid port ${JSON.stringify(p)}`, { exit: 125 });
          config.ExposedPorts = { ...(config.ExposedPorts ?? {}), [p.includes("/") ? p.toLowerCase() : `${p}/tcp`]: {} };
        }
        break;
      case "VOLUME":
        for (const raw of instr.args) {
          const v = x(raw);
          if (v === "") throw new PodError("VOLUME specified can not be an empty string", { exit: 125 });
          config.Volumes = { ...(config.Volumes ?? {}), [v]: {} };
        }
        break;
      case "CMD":
        config.Cmd = command(instr, st.shell);
        next.cmdSet = true;
        break;
      case "ENTRYPOINT":
        config.Entrypoint = command(instr, st.shell);
        // docker: an ENTRYPOINT drops the CMD the base image had, not one this stage set
        if (!st.cmdSet) config.Cmd = null;
        break;
      case "STOPSIGNAL":
        config.StopSignal = x(instr.args[0] ?? "");
        break;
      case "HEALTHCHECK":
        if (dockerOnly(format, "HEALTHCHECK", "the healthcheck")) config.Healthcheck = healthcheck(cf, instr);
        break;
      case "SHELL":
        if (!instr.json) throw new PodError("SHELL requires the arguments to be in JSON form", { exit: 125 });
        next.shell = [...instr.args];
        if (dockerOnly(format, "SHELL", JSON.stringify(instr.args))) config.Shell = [...instr.args];
        break;
      case "ONBUILD":
        if (dockerOnly(format, "ONBUILD", "the ONBUILD trigger")) config.OnBuild = [...((config.OnBuild as string[] | undefined) ?? []), instr.args[0] ?? ""];
        break;
      case "MAINTAINER":
        author = instr.args[0] ?? "";
        break;
    }
  } catch (e) {
    throw instructionError(cf.file, instr, e);
  }
  next = { ...next, doc: { ...st.doc, config, ...(author !== undefined ? { author } : {}) } };
  return {
    state: next,
    keyParts: [instr.keyword, JSON.stringify(config), author ?? "", JSON.stringify(next.shell)],
    createdBy: `/bin/sh -c #(nop) ${instr.original}`,
  };
}
