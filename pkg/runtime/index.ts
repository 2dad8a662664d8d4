// pkg/runtime owns turning an image config plus `pod run` options into a
// LaunchPlan (pkg/native/plan.ts): the argv, environment, user, capabilities,
// id maps and the ordered mount steps. It decides; the native core applies.
// It must not spawn processes, mount anything or write files: it only reads
// the image's layer directories (without mounting them), host paths named by
// -v, and --env-file files. The caller writes the returned files into the
// container directory.
export { buildLaunchPlan, type ContainerFile, type RunInput, type RunOptions } from "./spec.ts";
export { imagePathIsDir, readImageFile, resolveImagePath, type ResolvedImagePath } from "./imagefs.ts";
export { resolveGroupAdd, resolveUser, type ResolvedUser } from "./user.ts";
export { CAPABILITIES, DEFAULT_CAPABILITIES, capabilityNames, capabilityNumber, computeCaps, type CapsInput } from "./caps.ts";
export { buildMountOps, DEFAULT_SHM_SIZE, MASKED_PATHS, parseShmSize, READONLY_PATHS, type MountInput } from "./mounts.ts";
export { containerPath, isHostPath, parseTmpfs, parseVolume, type BindVolume, type TmpfsVolume, type UserMount, type VolumeMount } from "./volumes.ts";
export { buildEnv, DEFAULT_PATH, frozenEnv, hostEnvEntries, parseEnvFile, type EnvInput } from "./env.ts";
export { resolveArgv, resolveWorkdir, type CommandInput } from "./command.ts";
export { containerIdMaps, idIsMapped, isSingleIdMap, keepIdIds, keepIdMap, parseIdMapFlags, parseUserns, type IdMaps, type UsernsMode } from "./idmap.ts";
export { mergeLabels, parseAnnotations, parseLabelFile, parseLabels, type StringMap } from "./labels.ts";
export { timezoneFile } from "./tz.ts";
export { checkUlimits, ownHardLimits, parseUlimits, RLIM_INFINITY, RLIMITS, rlimitsOf, type Ulimit } from "./ulimits.ts";
export { networkNsMode, parseSysctls, sysctlOps } from "./sysctl.ts";
export { checkNamespaceOptions, NAMESPACE_MODES, namespaceModes, nsFile, ownsIpc, parseNamespaceMode, type NamespaceFlag, type NamespaceMode, type NamespaceModes } from "./namespaces.ts";
export { deviceOps, parseDevice, resolveDevice, type DeviceMapping } from "./devices.ts";
export { secretMountOps, storageIdOf, withSecretEnv, type SecretFacts, type SecretRef } from "./secrets.ts";
