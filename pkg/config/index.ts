// Paths and configuration files pod reads (XDG locations). No network, no storage logic.
export { resolvePaths, ensurePrivateDir, home, configHome, type Paths } from "./paths.ts";
