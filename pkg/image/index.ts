// pkg/image owns what names an image and how to reach it: reference parsing,
// registries.conf (search, aliases, mirrors, blocking), registry credentials
// (auth.json) and per-registry TLS files (certs.d). It does no network I/O and
// touches no image storage; pkg/registry and pkg/store build on it.

export { type ImageReference, formatReference, isShortName, parseReference } from "./reference.ts";
export {
  type MirrorEntry,
  type PullFromMirror,
  type PullSource,
  type RegistriesConfig,
  type RegistryEntry,
  type ShortNameMode,
  findRegistry,
  isLoopbackHost,
  loadRegistriesConfig,
  pullSources,
  resolveShortName,
} from "./registries.ts";
export {
  type Credentials,
  authFileForWrite,
  authFilePaths,
  lookupCredentials,
  removeAllCredentials,
  removeCredentials,
  saveCredentials,
} from "./auth.ts";
export { type TlsFiles, certDirFor, tlsFor, tlsIn } from "./certs.ts";
export type { ConfigRoots } from "./_paths.ts";
