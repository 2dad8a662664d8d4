// Containers: records on disk, `run` in the foreground, the monitor of
// detached containers, lifecycle verbs, logs, attach and exec. Uses
// pkg/runtime for decisions and pkg/native to start processes.
export { runContainer, runDetached, createContainer, ensureImage, runForeground, type RunRequest, type PullPolicy } from "./engine/run.ts";
export { listRecords, readRecord, findContainer, type ContainerRecord } from "./record/records.ts";
export { statusOf, statusText, isAlive, mayStillLog, type Status } from "./record/state.ts";
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
} from "./engine/lifecycle.ts";
export { runMonitor } from "./engine/monitor.ts";
export { attachContainer, checkExecOptions, execContainer, parseDetachKeys, type ExecOptions } from "./io/session.ts";
export { proxySignals } from "./io/sig-proxy.ts";
export { psRow, psTemplateRow, psJsonRow, containerInspect, type PsRow } from "./record/views.ts";
export { logTargets, logSources, renderSourceLine, showLogs, type LogsOptions, type LogSource } from "./io/logs-view.ts";
export { logPath, readLogFrom, selectLines, inWindow, renderLine, parseSince, parseUntil, followLog, logSize, type LogLine } from "./io/logs.ts";
export { containerDir } from "./record/records.ts";
export { stopSignalOf, stopTimeoutOf } from "./record/stop-signal.ts";
export { copyFiles, diffContainer, exportContainer, parseCopyTarget, pickContainer, type CopyOptions } from "./fs/files.ts";
export type { CommitOptions } from "./fs/commit.ts";
/** Loaded on use: commit brings in the image-writing code, which no other container verb needs. */
export const commitContainer = async (...a: Parameters<typeof import("./fs/commit.ts").commitContainer>) => (await import("./fs/commit.ts")).commitContainer(...a);
export { exportVolume, importVolume } from "./fs/volume-files.ts";
export { changesJson, changesText, type Change } from "./fs/changes.ts";
export { topContainer, DESCRIPTORS } from "./engine/procs.ts";
export { compileFilters, groupFilters, FILTER_KEYS, type ContainerFilter } from "./record/filters.ts";
export { checkTargetFlags, startRules, readCidFiles, selectTargets, resolveTargets, isNoSuchContainer, eachTarget, inParallel, type EachOptions, type Target, type TargetFlags } from "./record/targets.ts";
export { listContainers, checkPsQuery, containerNamespaces, namespaceInode, PS_SORT_KEYS, type PsQuery, type PsSortKey } from "./record/ps.ts";
export { removeCidFileOf } from "./engine/cidfile.ts";
export { liveExecSessions } from "./io/live.ts";
export { imageUsers } from "./record/image-users.ts";
export { connectContainer, reloadNetworks, createUserNetwork, containersOn, disconnectContainer, listNetworks, networkRow, pruneNetworks, removeNetworks } from "./engine/networks.ts";
export { checkLogsReadable, logDriverOf, type LogConfig, type LogDriver } from "./io/log-driver.ts";
export { sampleStats, statsView, statsJson, type ContainerStats } from "./engine/stats.ts";
export { updateContainer } from "./engine/update.ts";
