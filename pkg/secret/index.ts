// pkg/secret owns secrets: podman's file driver under <root>/secrets (records
// and data in 0600 files under a lock), the `pod secret` verbs, the --secret
// grammar of run/create, and each start's secret files and variables. The
// data never enters a container record: records keep references (name, ID,
// target), and the data is read when the container starts. It must not print.
export { checkSecretName, MAX_SECRET_SIZE, type SecretRecord } from "./records.ts";
export { parseSecretFlag } from "./spec.ts";
export {
  createNamedSecret,
  inspectSecrets,
  listSecretViews,
  parseDriverOptions,
  prettySecret,
  prepareSecrets,
  readSecretSource,
  removeSecrets,
  resolveSecretRefs,
  secretExists,
  type SecretListView,
} from "./manage.ts";
export { listSecrets } from "./records.ts";
