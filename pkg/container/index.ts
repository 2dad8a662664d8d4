// Containers: records on disk, `run` in the foreground, the terminal. Uses
// pkg/runtime for decisions and pkg/native to start processes.
export { runContainer, ensureImage, type RunRequest, type PullPolicy } from "./run.ts";
export { listRecords, readRecord, type ContainerRecord } from "./records.ts";
