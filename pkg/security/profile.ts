// A seccomp profile in the JSON format podman, docker and containers-common
// share (containers/common pkg/seccomp types.go): read and checked in full,
// so a malformed profile is one clear error before any container starts.
import { PodError } from "../errors.ts";

export type Action = "SCMP_ACT_KILL" | "SCMP_ACT_KILL_PROCESS" | "SCMP_ACT_KILL_THREAD" | "SCMP_ACT_TRAP" | "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE" | "SCMP_ACT_ALLOW" | "SCMP_ACT_LOG";
export const ACTIONS: readonly Action[] = ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP", "SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG"];

export type Op = "SCMP_CMP_NE" | "SCMP_CMP_LT" | "SCMP_CMP_LE" | "SCMP_CMP_EQ" | "SCMP_CMP_GE" | "SCMP_CMP_GT" | "SCMP_CMP_MASKED_EQ";
const OPS: readonly Op[] = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"];

/** One comparison of a syscall argument; for MASKED_EQ, `value` is the mask and `valueTwo` the datum. */
export type ArgCheck = { index: number; value: bigint; valueTwo: bigint; op: Op };

export type Filter = { caps: string[]; arches: string[]; minKernel?: string };

export type Rule = {
  names: string[];
  action: Action;
  /** ERRNO's errno, TRACE's message (absent: EPERM for ERRNO, as containers-common does) */
  errnoRet?: number;
  /** all must hold (AND) */
  args: ArgCheck[];
  includes: Filter;
  excludes: Filter;
};

export type Profile = {
  defaultAction: Action;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names: the native one and the ones it may run (archMap), or the old flat list */
  archMap: { architecture: string; subArchitectures: string[] }[];
  architectures: string[];
  rules: Rule[];
};

type Json = Record<string, unknown>;

/** Integers beyond 2^53 keep their digits: they are read as strings before JSON.parse and become bigints. */
function parseJson(text: string): unknown {
  return JSON.parse(text.replace(/("value(?:Two)?"\s*:\s*)(\d{16,})(?=\s*[,}])/g, '$1"$2"'));
}

const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Parses and checks a profile. `source` names it in errors (a path, or
 * "the default profile"). Unknown syscall names are kept: the compiler skips
 * the ones an architecture does not have, as libseccomp does.
 */
export function parseProfile(text: string, source: string): Profile {
  const fail = (what: string): never => {
    throw new PodError(`loading seccomp profile ${source}: ${what}`, { hint: "fix the profile (podman's format: containers-common's seccomp.json), or use --security-opt seccomp=unconfined" });
  };
  let j: unknown;
  try {
    j = parseJson(text);
  } catch (e) {
    return fail(`not valid JSON: ${(e as Error).message}`);
  }
  if (!isObj(j)) return fail("the profile is not a JSON object");
  const action = (v: unknown, where: string): Action => {
    if (v === "SCMP_ACT_NOTIFY") return fail(`${where}: SCMP_ACT_NOTIFY needs a seccomp listener, which pod does not run`);
    if (typeof v !== "string" || !ACTIONS.includes(v as Action)) return fail(`${where}: unknown action ${JSON.stringify(v)} (one of ${ACTIONS.join(", ")})`);
    return v as Action;
  };
  const errno = (v: unknown, where: string): number | undefined => {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffff) return fail(`${where}: errnoRet ${JSON.stringify(v)} is not a number from 0 to 65535`);
    return v;
  };
  const strings = (v: unknown, where: string): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) return fail(`${where} is not a list of strings`);
    return v as string[];
  };
  const big = (v: unknown, where: string): bigint => {
    if (v === undefined || v === null) return 0n;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === "string" && /^\d+$/.test(v) && BigInt(v) < 1n << 64n) return BigInt(v);
    return fail(`${where}: ${JSON.stringify(v)} is not an unsigned 64-bit integer`);
  };
  const filter = (v: unknown, where: string): Filter => {
    if (v === undefined || v === null) return { caps: [], arches: [] };
    if (!isObj(v)) return fail(`${where} is not an object`);
    const minKernel = v.minKernel;
    if (minKernel !== undefined && minKernel !== null && (typeof minKernel !== "string" || !/^\d+(\.\d+)*$/.test(minKernel)))
      return fail(`${where}.minKernel ${JSON.stringify(minKernel)} is not a kernel version like "5.8"`);
    return { caps: strings(v.caps, `${where}.caps`), arches: strings(v.arches, `${where}.arches`), ...(typeof minKernel === "string" ? { minKernel } : {}) };
  };
  const defaultAction = action(j.defaultAction, "defaultAction");
  const defaultErrnoRet = errno(j.defaultErrnoRet, "defaultErrnoRet");
  const archMap: Profile["archMap"] = [];
  if (j.archMap !== undefined && j.archMap !== null) {
    if (!Array.isArray(j.archMap)) return fail("archMap is not a list");
    j.archMap.forEach((a, i) => {
      if (!isObj(a) || typeof a.architecture !== "string") return fail(`archMap[${i}] has no architecture`);
      archMap.push({ architecture: a.architecture, subArchitectures: strings(a.subArchitectures, `archMap[${i}].subArchitectures`) });
    });
  }
  const architectures = strings(j.architectures, "architectures");
  const rules: Rule[] = [];
  const list = j.syscalls ?? [];
  if (!Array.isArray(list)) return fail("syscalls is not a list");
  list.forEach((s, i) => {
    const where = `syscalls[${i}]`;
    if (!isObj(s)) return fail(`${where} is not an object`);
    // the old single-name form ("name": "read") is still accepted by podman
    const names = typeof s.name === "string" && s.name ? [s.name, ...strings(s.names, `${where}.names`)] : strings(s.names, `${where}.names`);
    if (!names.length) return fail(`${where} names no syscall`);
    const args: ArgCheck[] = [];
    if (s.args !== undefined && s.args !== null) {
      if (!Array.isArray(s.args)) return fail(`${where}.args is not a list`);
      s.args.forEach((a, k) => {
        const at = `${where}.args[${k}]`;
        if (!isObj(a)) return fail(`${at} is not an object`);
        if (typeof a.index !== "number" || !Number.isInteger(a.index) || a.index < 0 || a.index > 5) return fail(`${at}.index ${JSON.stringify(a.index)} is not 0 to 5`);
        if (typeof a.op !== "string" || !OPS.includes(a.op as Op)) return fail(`${at}.op ${JSON.stringify(a.op)} is not one of ${OPS.join(", ")}`);
        args.push({ index: a.index, value: big(a.value, `${at}.value`), valueTwo: big(a.valueTwo, `${at}.valueTwo`), op: a.op as Op });
      });
    }
    const act = action(s.action, `${where}.action`);
    const ret = errno(s.errnoRet, where);
    rules.push({ names, action: act, ...(ret !== undefined ? { errnoRet: ret } : {}), args, includes: filter(s.includes, `${where}.includes`), excludes: filter(s.excludes, `${where}.excludes`) });
  });
  return { defaultAction, ...(defaultErrnoRet !== undefined ? { defaultErrnoRet } : {}), archMap, architectures, rules };
}
