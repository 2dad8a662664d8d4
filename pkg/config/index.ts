// Paths and configuration files pod reads (XDG locations), and the engine-wide
// settings of the global flags. No network, no storage logic.
export { resolvePaths, ensurePrivateDir, home, configHome, volumesPath, containersRunPath, type Paths } from "./paths.ts";
export { engineOptions, engineArgv, STORAGE_DRIVERS, type EngineOptions, type EngineFlags } from "./engine.ts";
