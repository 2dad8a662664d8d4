// Containers: records on disk, `run` in the foreground, the monitor of
// detached containers, lifecycle verbs, logs, attach and exec. Uses
// pkg/runtime for decisions and pkg/native to start processes.
export { runContainer, runDetached, createContainer, ensureImage, runForeground, type RunRequest, type PullPolicy } from "./run.ts";
export { listRecords, readRecord, findContainer, type ContainerRecord } from "./records.ts";
export { statusOf, statusText, isAlive, mayStillLog, type Status } from "./state.ts";
export {
  startContainer,
  stopContainer,
  killContainer,
  restartContainer,
  removeContainer,
  waitContainer,
  renameContainer,
  pruneContainers,
  parseSignal,
  pauseContainer,
  unpauseContainer,
  stopAllContainers,
  removeUnreadable,
} from "./lifecycle.ts";
export { runMonitor } from "./monitor.ts";
export { attachContainer, checkExecOptions, execContainer, parseDetachKeys, type ExecOptions } from "./session.ts";
export { proxySignals } from "./sig-proxy.ts";
export { psRow, psTemplateRow, psJsonRow, containerInspect, type PsRow } from "./views.ts";
export { logTargets, logSources, renderSourceLine, showLogs, type LogsOptions, type LogSource } from "./logs-view.ts";
export { logPath, readLogFrom, selectLines, inWindow, renderLine, parseSince, parseUntil, followLog, logSize, type LogLine } from "./logs.ts";
export { containerDir } from "./records.ts";
export { stopSignalOf, stopTimeoutOf } from "./stop-signal.ts";
export { copyFiles, diffContainer, exportContainer, parseCopyTarget, pickContainer, type CopyOptions } from "./files.ts";
export type { CommitOptions } from "./commit.ts";
/** Loaded on use: commit brings in the image-writing code, which no other container verb needs. */
export const commitContainer = async (...a: Parameters<typeof import("./commit.ts").commitContainer>) => (await import("./commit.ts")).commitContainer(...a);
export { exportVolume, importVolume } from "./volume-files.ts";
export { changesJson, changesText, type Change } from "./fs-changes.ts";
export { topContainer, DESCRIPTORS } from "./procs.ts";
export { compileFilters, groupFilters, FILTER_KEYS, type ContainerFilter } from "./filters.ts";
export { checkTargetFlags, startRules, readCidFiles, selectTargets, resolveTargets, isNoSuchContainer, eachTarget, inParallel, type EachOptions, type Target, type TargetFlags } from "./targets.ts";
export { listContainers, checkPsQuery, containerNamespaces, namespaceInode, PS_SORT_KEYS, type PsQuery, type PsSortKey } from "./ps.ts";
export { removeCidFileOf } from "./cidfile.ts";
export { liveExecSessions } from "./live.ts";
export { imageUsers } from "./image-users.ts";
export { connectContainer, reloadNetworks, createUserNetwork, containersOn, disconnectContainer, listNetworks, networkRow, pruneNetworks, removeNetworks } from "./networks.ts";
export { checkLogsReadable, logDriverOf, type LogConfig, type LogDriver } from "./log-driver.ts";
export { sampleStats, statsView, statsJson, type ContainerStats } from "./stats.ts";
export { updateContainer } from "./update.ts";
