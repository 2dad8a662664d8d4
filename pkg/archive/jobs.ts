// The storage-worker job kinds pkg/archive owns (the worker reads layers as
// root of the storage namespace); cmd's `_storage-worker` registers them.
import { registerJobKind, runStorageJob } from "../store/index.ts";
import { PodError } from "../errors.ts";
import type { Paths } from "../config/index.ts";
import type { WriteJob, WriteResult, BlobsJob, BlobsResult } from "./_write.ts";

const writeKind = "archive-write";
const blobsKind = "layer-blobs";

export function registerArchiveJobs(): void {
  registerJobKind(writeKind, async () => {
    const { runWriteJob } = await import("./_write.ts");
    return (input) => runWriteJob(input as WriteJob);
  });
  registerJobKind(blobsKind, async () => {
    const { runBlobsJob } = await import("./_write.ts");
    return (input) => runBlobsJob(input as BlobsJob);
  });
}

async function run<T extends { error?: string; hint?: string }>(paths: Paths, kind: string, input: unknown): Promise<T> {
  const res = await runStorageJob(paths.runroot, { owned: { kind, input } });
  if (res.ownedError !== undefined) throw new PodError(res.ownedError, { hint: "run again with --log-level debug" });
  const r = res.owned as T | undefined;
  if (!r) throw new PodError("the storage worker gave no result", { hint: "run again with --log-level debug" });
  if (r.error) throw new PodError(r.error, { hint: r.hint });
  return r;
}

export const runWrite = (paths: Paths, job: WriteJob) => run<WriteResult>(paths, writeKind, job);
export const runBlobs = (paths: Paths, job: BlobsJob) => run<BlobsResult>(paths, blobsKind, job);
