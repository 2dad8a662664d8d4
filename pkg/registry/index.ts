// pkg/registry owns HTTP with container registries: the OCI distribution API
// for pulling (ping, manifests, blobs), token and Basic authentication, TLS
// and scheme choice, retries, and digest verification of everything fetched.
// It does no storage beyond the one file a blob download is told to write, and
// reads no config files (registries.conf, auth.json, certs.d): callers pass
// hosts, credentials and TLS material in.
export { RegistryClient, type ClientOptions, type Credentials, type FetchedManifest, type TlsOptions } from "./client.ts";
export {
  MediaType,
  parseManifest,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type ManifestOrIndex,
} from "./manifest.ts";
export { formatPlatform, hostPlatform, parsePlatform, selectPlatform, type Platform } from "./platform.ts";
