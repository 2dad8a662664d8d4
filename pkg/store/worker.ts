// Work that must happen as root of the storage user namespace, so that file
// owners land on the subordinate ids: extracting layers and deleting them,
// and giving files owners (a container's secret files).
// The parent writes a job file; `pod _storage-worker JOB` (a re-exec of pod in
// the namespace) runs it and writes the result next to it. Jobs of other
// folders (pkg/container's files job) are kinds their owners register here,
// so the store runs them without importing their owners.
import { chmodSync, chownSync, readFileSync, rmSync, mkdirSync } from "node:fs";
import { writeFileAtomic } from "./atomic.ts";
import { runInStorageNamespace, runInUsernsOf, selfCommand, storageMaps } from "../userns/index.ts";
import { PodError } from "../errors.ts";
import { ensurePrivateDir } from "../config/index.ts";
import { err } from "../output/index.ts";
import { summarizeTree, type TreeSummary } from "./tree.ts";

/** tarSplit: where to record the stream without file bodies, to give the tar back later (pkg/layer tar-split.ts) */
export type ExtractJob = { blob: string; dest: string; tarSplit?: string; range?: { start: number; length: number } };
/** copySubtree: the image directory `path` of `layers` into `dest` (filling a new volume). */
export type StorageJob = {
  /** the namespace maps only the user (set by the parent, which can read /etc/subuid as itself) */
  singleId?: boolean;
  extract?: ExtractJob[];
  remove?: string[];
  copy?: { layers: string[]; dest: string };
  copySubtree?: { layers: string[]; path: string; dest: string };
  /** a job of a registered kind (registerJobKind), with its owner's input */
  owned?: { kind: string; input: unknown };
  /** layer diff/ dirs to sum up again (`pod system check`) */
  verify?: string[];
  /** files to give owners (storage ids) and modes: a container's secret files */
  chown?: { path: string; uid: number; gid: number; mode: number }[];
  result: string;
};
export type ExtractResult = { diffID: string; size: number; entries: number; tree?: TreeSummary } | { error: string; hint?: string };
export type VerifyResult = TreeSummary | { error: string };
export type JobResult = { extracted: ExtractResult[]; removeErrors: string[]; owned?: unknown; ownedError?: string; verified?: VerifyResult[] };

/**
 * Runs a job of one kind in the worker. MUST NOT throw: failures belong in
 * the result, which goes back to the parent as JSON.
 */
export type JobHandler = (input: unknown) => Promise<unknown>;
const jobKinds = new Map<string, () => Promise<JobHandler>>();

/**
 * Makes a job kind runnable in this process. The owner registers it in the
 * worker (cmd's `_storage-worker`) before executeStorageJob; `load` runs only
 * for a job of that kind, so the worker loads nothing else.
 */
export function registerJobKind(kind: string, load: () => Promise<JobHandler>): void {
  jobKinds.set(kind, load);
}

async function runOwned(job: NonNullable<StorageJob["owned"]>): Promise<Pick<JobResult, "owned" | "ownedError">> {
  const load = jobKinds.get(job.kind);
  if (!load) return { ownedError: `the storage worker knows no job of kind ${job.kind}` };
  try {
    return { owned: await (await load())(job.input) };
  } catch (e) {
    return { ownedError: `storage job ${job.kind}: ${(e as Error).message}` };
  }
}

/** Runs in the namespace (as the hidden command). Never throws: failures go into the result. */
export async function executeStorageJob(jobFile: string): Promise<number> {
  const job = JSON.parse(readFileSync(jobFile, "utf8")) as StorageJob;
  const result: JobResult = { extracted: [], removeErrors: [] };
  const removeErrors: string[] = [];
  for (const p of job.remove ?? []) {
    try {
      rmSync(p, { recursive: true, force: true, maxRetries: 2 });
    } catch (e) {
      removeErrors.push(`removing ${p}: ${(e as Error).message}`);
    }
  }
  result.removeErrors = removeErrors;
  if (job.copy) {
    try {
      const { copyLayers } = await import("./copy.ts");
      copyLayers(job.copy.layers, job.copy.dest);
    } catch (e) {
      result.removeErrors.push(`copying layers into ${job.copy.dest}: ${(e as Error).message}`);
    }
  }
  if (job.copySubtree) {
    const { layers, path, dest } = job.copySubtree;
    try {
      const { copySubtree } = await import("./copy.ts");
      copySubtree(layers, path, dest);
    } catch (e) {
      result.removeErrors.push(`copying ${path} of the image into ${dest}: ${(e as Error).message}`);
    }
  }
  for (const c of job.chown ?? []) {
    try {
      chownSync(c.path, c.uid, c.gid);
      chmodSync(c.path, c.mode);
    } catch (e) {
      result.removeErrors.push(`giving ${c.path} to ${c.uid}:${c.gid}: ${(e as Error).message}`);
    }
  }
  if (job.verify)
    result.verified = job.verify.map((dir): VerifyResult => {
      try {
        return summarizeTree(dir);
      } catch (e) {
        return { error: (e as Error).message };
      }
    });
  if (job.owned) Object.assign(result, await runOwned(job.owned));
  if (job.extract?.length) {
    const { extractLayer } = await import("../layer/index.ts");
    // With a single-id mapping only root exists in the namespace: every file becomes the user's.
    const single = job.singleId === true;
    result.extracted = await Promise.all(
      job.extract.map(async (x): Promise<ExtractResult> => {
        try {
          mkdirSync(x.dest, { recursive: true, mode: 0o755 });
          const r = await extractLayer(x.blob, x.dest, { onWarning: (m: string) => err(`WARN ${m}\n`), ignoreUnmappedOwners: single, tarSplit: x.tarSplit, range: x.range });
          return { ...r, tree: summarizeTree(x.dest) };
        } catch (e) {
          rmSync(x.dest, { recursive: true, force: true });
          return { error: (e as Error).message, hint: e instanceof PodError ? e.hint : undefined };
        }
      }),
    );
  }
  writeFileAtomic(job.result, JSON.stringify(result));
  return 0;
}

/** Runs a job in the storage namespace from the live process and returns its result. */
export async function runStorageJob(runroot: string, job: Omit<StorageJob, "result">, o: { usernsOf?: number } = {}): Promise<JobResult> {
  ensurePrivateDir(runroot);
  const file = `${runroot}/job-${process.pid}-${Math.random().toString(36).slice(2, 8)}.json`;
  const full: StorageJob = { ...job, singleId: process.getuid!() !== 0 && storageMaps().single, result: `${file}.result` };
  writeFileAtomic(file, JSON.stringify(full), 0o600);
  try {
    const argv = [...selfCommand(), "_storage-worker", file];
    // usernsOf: a running container's PID 1, whose user namespace the job joins instead (`pod cp` with a running container)
    const code = o.usernsOf ? await runInUsernsOf(o.usernsOf, argv, { runroot }) : await runInStorageNamespace(argv, { runroot, newMountNs: false });
    let text: string;
    try {
      text = readFileSync(full.result, "utf8");
    } catch {
      throw new PodError(`storage worker exited with status ${code} and no result`, {
        hint: "run again with --log-level debug; `pod unshare` shows whether the user namespace works",
      });
    }
    return JSON.parse(text) as JobResult;
  } finally {
    rmSync(file, { force: true });
    rmSync(full.result, { force: true });
  }
}
