// Pulling: resolve a name through registries.conf, fetch the manifest (picking
// this host's platform from an index), fetch and verify the config and layers,
// extract layers in the storage namespace, then record the image. Layers
// already in the store are never fetched again; concurrent pulls of the same
// layer wait for each other on a per-layer lock.
import { join } from "node:path";
import { existsSync, rmSync } from "node:fs";
import { PodError, NotFoundInRegistry, Unauthorized, DigestMismatch, wrap } from "../errors.ts";
import {
  formatReference,
  isShortName,
  loadRegistriesConfig,
  lookupCredentials,
  pullSources,
  resolveShortName,
  tlsFor,
  isLoopbackHost,
  type ImageReference,
} from "../image/index.ts";
import { RegistryClient, parseManifest, selectPlatform, type Credentials, type Platform } from "../registry/index.ts";
import { Store, recordBlob, upsertImage, type ImageRecord } from "../store/index.ts";
import { ProgressBoard, log } from "../output/index.ts";
import { imageEvent } from "../events/index.ts";

export type PullOptions = {
  platform: Platform;
  quiet: boolean;
  /** false = --tls-verify=false */
  tlsVerify?: boolean;
  credentials?: Credentials;
  env?: Record<string, string | undefined>;
};

export type PullResult = { id: string; name: string };

type Fetched = {
  ref: ImageReference;
  client: RegistryClient;
  /** the host the manifest came from (a mirror's, maybe) */
  host: string;
  repository: string;
  manifestDigest: string;
  manifestMediaType: string;
  manifestBytes: Uint8Array;
  indexDigest?: string;
  configDigest: string;
  layers: { digest: string; size: number; mediaType: string }[];
};

/** `docker-archive:FILE[:NAME|@N]`, `oci-archive:FILE[:REF]`, `oci:DIR[:REF]`: an image from a file, as podman pulls one. */
const ARCHIVE_REF = /^(docker-archive|oci-archive|oci):([^:]+)(?::(.+))?$/;

export function isArchiveReference(input: string): boolean {
  return ARCHIVE_REF.test(input);
}

async function pullFromArchive(store: Store, input: string, quiet: boolean): Promise<PullResult> {
  const [, transport, path, pick] = ARCHIVE_REF.exec(input)!;
  const { loadArchive } = await import("../archive/load.ts");
  const loaded = await loadArchive(store, transport === "oci" ? { layoutDir: path, pick, quiet, single: true } : { input: path, pick, quiet, single: true }).catch((e) => {
    throw wrap(input, e);
  });
  return { id: loaded[0]!.id, name: loaded[0]!.names[0] ?? loaded[0]!.id };
}

export async function pullImage(store: Store, input: string, o: PullOptions): Promise<PullResult> {
  if (ARCHIVE_REF.test(input)) return pullFromArchive(store, input, o.quiet);
  const env = o.env ?? process.env;
  const cfg = loadRegistriesConfig(env);
  const candidates = resolveShortName(cfg, input);
  const progress = new ProgressBoard(o.quiet);
  store.init();
  await store.sweepTemp();
  const errors: PodError[] = [];
  try {
    for (const ref of candidates) {
      const name = formatReference(ref);
      progress.line(`Trying to pull ${name}...`);
      try {
        const fetched = await fetchManifest(cfg, ref, o, env);
        const id = await storeImage(store, fetched, progress);
        await imageEvent(store.paths, id, name, "pull");
        progress.stop();
        progress.line("Writing manifest to image destination");
        return { id, name };
      } catch (e) {
        const pe = e instanceof PodError ? e : wrap(`pulling ${name}`, e);
        // Only "this registry doesn't have it" moves on to the next search registry.
        if (!(pe instanceof NotFoundInRegistry) || candidates.length === 1) throw pe;
        errors.push(pe);
      }
    }
  } finally {
    progress.stop();
  }
  throw new NotFoundInRegistry(`${input}: image not found in any search registry: ${errors.map((e) => e.message).join("; ")}`, {
    hint: isShortName(input) ? "give the full name (registry/repository:tag) or check unqualified-search-registries in registries.conf" : undefined,
  });
}

async function fetchManifest(
  cfg: ReturnType<typeof loadRegistriesConfig>,
  ref: ImageReference,
  o: PullOptions,
  env: Record<string, string | undefined>,
): Promise<Fetched> {
  const sources = pullSources(cfg, ref);
  let last: unknown;
  for (const src of sources) {
    const client = new RegistryClient({
      host: src.host,
      insecure: src.insecure || o.tlsVerify === false,
      loopback: isLoopbackHost(src.host),
      tls: tlsFor(src.host, env),
      credentials: o.credentials ?? lookupCredentials(src.host, src.repository, env),
      log: (m: string) => log.debug(m),
    });
    try {
      const wanted = src.digest ?? src.tag ?? ref.digest ?? ref.tag ?? "latest";
      let m = await client.getManifest(src.repository, wanted);
      let indexDigest: string | undefined;
      let parsed = parseManifest(m.bytes, m.mediaType);
      if (parsed.kind === "index") {
        indexDigest = m.digest;
        const desc = selectPlatform(parsed, o.platform);
        m = await client.getManifest(src.repository, desc.digest);
        parsed = parseManifest(m.bytes, m.mediaType);
        if (parsed.kind === "index") throw new PodError(`${formatReference(ref)}: an index inside an index is not supported`);
      }
      return {
        ref,
        client,
        host: src.host,
        repository: src.repository,
        manifestDigest: m.digest,
        manifestMediaType: m.mediaType,
        manifestBytes: m.bytes,
        indexDigest,
        configDigest: parsed.config.digest,
        layers: parsed.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      };
    } catch (e) {
      last = e;
      // A mirror that fails is skipped; auth and integrity failures are not hidden behind the next source.
      if (e instanceof Unauthorized || e instanceof DigestMismatch || src === sources.at(-1)) throw e;
      log.warn(`pulling from mirror ${src.host} failed, trying the next source: ${(e as Error).message}`);
    }
  }
  throw last;
}

async function fetchConfig(store: Store, f: Fetched, progress: ProgressBoard): Promise<Record<string, any>> {
  const label = `Copying config ${f.configDigest.slice(0, 19)}`;
  if (!existsSync(store.blobPath(f.configDigest))) {
    const work = store.tempDir("config");
    try {
      const tmp = join(work, "config.json");
      await f.client.downloadBlob(f.repository, { digest: f.configDigest }, tmp);
      store.putBlob(f.configDigest, await Bun.file(tmp).bytes());
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  const p = progress.add(label, 0);
  progress.finish(p);
  return JSON.parse(new TextDecoder().decode(store.readBlob(f.configDigest)));
}

async function fetchLayer(store: Store, f: Fetched, index: number, diffID: string, progress: ProgressBoard): Promise<void> {
  const layer = f.layers[index]!;
  const bar = progress.add(`Copying blob ${layer.digest.slice(0, 19)}`, layer.size);
  if (store.hasLayer(diffID)) return progress.finish(bar, "skip");
  await store.withLayerLock(diffID, async () => {
    if (store.hasLayer(diffID)) return progress.finish(bar, "skip");
    const work = store.tempDir("layer");
    const blob = join(work, "blob");
    try {
      await f.client.downloadBlob(f.repository, { digest: layer.digest, size: layer.size }, blob, (n: number) => progress.update(bar, n));
      await store.extractLayers([{ blob, workDir: work, diffID, compressedDigest: layer.digest }]);
      const compression = /zstd/.test(layer.mediaType) ? "zstd" : /gzip/.test(layer.mediaType) ? "gzip" : "none";
      await recordBlob(store.root, { diffID, digest: layer.digest, compression, size: layer.size }, `${f.host}/${f.repository}`).catch((e) => log.debug(`recording blob ${layer.digest}: ${(e as Error).message}`));
    } catch (e) {
      if (existsSync(work)) await store.removeTrees([work]);
      throw e;
    }
    progress.finish(bar);
  });
}

async function storeImage(store: Store, f: Fetched, progress: ProgressBoard): Promise<string> {
  const config = await fetchConfig(store, f, progress);
  const diffIDs: string[] = config?.rootfs?.diff_ids ?? [];
  if (diffIDs.length !== f.layers.length)
    throw new PodError(`${formatReference(f.ref)}: the manifest lists ${f.layers.length} layers but the config ${diffIDs.length}`, {
      hint: "the image is malformed; ask its publisher to rebuild it",
    });
  const id = f.configDigest.slice("sha256:".length);
  const name = formatReference({ ...f.ref, digest: undefined, tag: f.ref.tag ?? (f.ref.digest ? undefined : "latest") });
  const repo = formatReference({ registry: f.ref.registry, repository: f.ref.repository });
  for (let attempt = 0; ; attempt++) {
    const results = await Promise.allSettled(diffIDs.map((d, i) => fetchLayer(store, f, i, d, progress)));
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    if (failed) throw failed.reason;
    store.putBlob(f.manifestDigest, f.manifestBytes);
    const size = diffIDs.reduce((s, d) => s + (store.layerInfo(d)?.size ?? 0), 0);
    const record: ImageRecord = {
      id,
      names: f.ref.tag || !f.ref.digest ? [name] : [],
      repoDigests: [...new Set([`${repo}@${f.manifestDigest}`, ...(f.indexDigest ? [`${repo}@${f.indexDigest}`] : [])])],
      manifestDigest: f.manifestDigest,
      manifestMediaType: f.manifestMediaType,
      layers: diffIDs,
      size,
      created: config.created ?? new Date(0).toISOString(),
      pulled: new Date().toISOString(),
      os: config.os ?? "linux",
      architecture: config.architecture ?? "",
      variant: config.variant,
      labels: config.config?.Labels ?? undefined,
    };
    // A concurrent `rmi` may have removed a layer between our check and now: record only a complete image.
    const complete = await store.updateImages((images) =>
      diffIDs.every((d) => store.hasLayer(d)) ? { images: upsertImage(images, record), result: true } : { images, result: false },
    );
    if (complete) return id;
    if (attempt >= 2) throw new PodError(`${name}: layers keep disappearing while pulling`, { hint: "another pod is removing images; try again" });
  }
}
