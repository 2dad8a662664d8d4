// The storage-worker job kinds pkg/container owns. pkg/store runs jobs but
// must not import pkg/container, so the worker learns this kind from here
// (cmd's `_storage-worker` registers it) and loads job.ts only for it.
import { registerJobKind } from "../../store/index.ts";
import type { FilesJob } from "./job.ts";

/** diff, export and cp of a container's files (job.ts) */
export const filesJobKind = "container-files";

export function registerContainerJobs(): void {
  registerJobKind(filesJobKind, async () => {
    const { runFilesJob } = await import("./job.ts");
    return (input) => runFilesJob(input as FilesJob);
  });
}
