// pkg/push owns sending a local image elsewhere: to a registry (docker://,
// the default) or into a layout or archive (oci:, oci-archive:,
// docker-archive:, dir:, written as `pod save` writes them). For a registry
// every blob is asked about first (HEAD, then a cross-repository mount from a
// repository of the same registry known to hold it, through the store's blob
// info); only missing layers are compressed (in the storage worker, which
// can read their files) and uploaded, several at a time; the manifest goes
// last, so a push that fails or is killed leaves no half image behind.
// Registry location, insecure, credentials and certs.d come from the same
// configuration as pull.
import { rmSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { PodError, UsageError, wrap } from "../errors.ts";
import { formatReference, isLoopbackHost, loadRegistriesConfig, lookupCredentials, parseReference, pullSources, tlsFor, tlsIn, type ImageReference } from "../image/index.ts";
import { RegistryClient, type Credentials } from "../registry/index.ts";
import { blobsFor, findImage, noSuchImage, recordBlob, writeFileAtomic, type ImageRecord, type Store } from "../store/index.ts";
import { toQuery } from "../catalog/index.ts";
import { jobImage, runBlobs, runWrite, imageManifest, layerMediaType, MT, type Descriptor, type LayerCompression, type SaveFormat } from "../archive/index.ts";
import { ProgressBoard, log } from "../output/index.ts";
import { imageEvent } from "../events/index.ts";

export type PushOptions = {
  /** false = --tls-verify=false */
  tlsVerify?: boolean;
  credentials?: Credentials;
  certDir?: string;
  /** manifest format; undefined: the image's own (docker for an image pulled as docker schema 2) */
  format?: "oci" | "v2s2";
  compression: "gzip" | "zstd";
  compressionLevel?: number;
  digestFile?: string;
  quiet: boolean;
  /** attempts per blob and for the manifest */
  retry: number;
  env?: Record<string, string | undefined>;
};

export type Destination =
  | { transport: "docker"; ref: ImageReference }
  | { transport: "oci" | "oci-archive" | "docker-archive" | "dir"; path: string; name?: string };

const TRANSPORTS = ["docker", "oci", "oci-archive", "docker-archive", "dir"] as const;
/** c/image transports pod does not write (anything else before a colon is a registry host or a name:tag) */
const UNSUPPORTED = ["containers-storage", "docker-daemon", "ostree", "sif", "tarball"];

/** podman's transport:reference forms; a plain name is a registry reference. */
export function parseDestination(dest: string): Destination {
  const m = /^([a-z-]+):(.*)$/.exec(dest);
  const t = m?.[1];
  if (t === "docker") {
    if (!m![2]!.startsWith("//")) throw new UsageError(`invalid destination "${dest}": docker: references start with docker://`, { hint: "docker://REGISTRY/REPOSITORY[:TAG]" });
    return { transport: "docker", ref: parseReference(m![2]!.slice(2)) };
  }
  if (t && (TRANSPORTS as readonly string[]).includes(t)) {
    const rest = m![2]!;
    if (!rest) throw new UsageError(`invalid destination "${dest}": no path given`, { hint: `${t}:PATH` });
    if (t === "dir") return { transport: "dir", path: rest };
    const at = rest.indexOf(":");
    return at < 0 ? { transport: t as "oci", path: rest } : { transport: t as "oci", path: rest.slice(0, at), name: rest.slice(at + 1) || undefined };
  }
  if (t && UNSUPPORTED.includes(t))
    throw new UsageError(`invalid destination "${dest}": unknown transport "${t}"`, { hint: "pod pushes to docker://, oci:, oci-archive:, docker-archive: and dir:" });
  return { transport: "docker", ref: parseReference(dest) };
}

/** The local image and the name it was found by. */
function source(store: Store, input: string): { image: ImageRecord; name?: string } {
  const hit = findImage(store.images(), input, toQuery(input));
  if (!hit) throw noSuchImage(input);
  return { image: hit.image, name: hit.matchedName };
}

export async function pushImage(store: Store, input: string, destination: string | undefined, o: PushOptions): Promise<string | undefined> {
  store.init();
  const src = source(store, input);
  let dest: Destination;
  if (destination === undefined) {
    if (!src.name) throw new UsageError(`${input}: an image given by ID needs a DESTINATION`, { hint: `pod push ${input} REGISTRY/REPOSITORY[:TAG]` });
    dest = { transport: "docker", ref: parseReference(src.name) };
  } else dest = parseDestination(destination);
  if (dest.transport !== "docker") return pushToLayout(store, src, dest, o);
  const digest = await pushToRegistry(store, src.image, dest.ref, o);
  await imageEvent(store.paths, src.image.id, formatReference(dest.ref), "push");
  return digest;
}

async function pushToLayout(store: Store, src: { image: ImageRecord; name?: string }, dest: Exclude<Destination, { transport: "docker" }>, o: PushOptions): Promise<undefined> {
  const format: SaveFormat = dest.transport === "oci" ? "oci-dir" : dest.transport === "dir" ? "docker-dir" : dest.transport;
  const names = dest.transport === "dir" ? [] : dest.name ? [dest.name] : src.name ? [src.name] : [];
  // layouts are compressed as podman compresses them (oci:), archives and dir: keep the layers as stored
  const compression: LayerCompression = dest.transport === "oci" ? o.compression : "none";
  const progress = new ProgressBoard(o.quiet);
  progress.line("Getting image source signatures");
  const res = await runWrite(store.paths, { format, output: resolve(dest.path), compression, images: [jobImage(store, { image: src.image, names })] });
  for (const l of src.image.layers) progress.finish(progress.add(`Copying blob ${l.slice(7, 19)}`, 0));
  progress.finish(progress.add(`Copying config ${src.image.id.slice(0, 12)}`, 0));
  progress.line("Writing manifest to image destination");
  progress.stop();
  if (o.digestFile && res.manifests?.[0]) writeFileAtomic(o.digestFile, res.manifests[0].digest);
  return undefined;
}

export async function withRetry<T>(what: string, tries: number, fn: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await fn();
    } catch (e) {
      // refusals (auth, a digest the registry rejects) are not helped by trying again
      if (n >= tries || !(e instanceof PodError) || /authentication|access denied|unauthorized|invalid username/i.test(e.message)) throw e;
      log.warn(`${what}: ${e.message}; retrying (${n + 1}/${tries})`);
      await new Promise((r) => setTimeout(r, 200 * 2 ** n));
    }
  }
}

type Upload = { diffID: string; desc?: Descriptor; bar: number };

/** A client for the registry `ref` lives in, as registries.conf, auth.json and certs.d say (the last of its pull sources: the one pushes go to). */
export function registryFor(ref: ImageReference, o: Pick<PushOptions, "tlsVerify" | "credentials" | "certDir" | "env">): { client: RegistryClient; host: string; repo: string } {
  const env = o.env ?? process.env;
  const cfg = loadRegistriesConfig(env);
  const target = pullSources(cfg, ref).at(-1)!;
  const client = new RegistryClient({
    host: target.host,
    name: ref.registry,
    insecure: target.insecure || o.tlsVerify === false,
    loopback: isLoopbackHost(target.host),
    tls: o.certDir ? tlsIn(o.certDir) : tlsFor(target.host, env),
    credentials: o.credentials ?? lookupCredentials(target.host, target.repository, env) ?? lookupCredentials(ref.registry, ref.repository, env),
    log: (m: string) => log.debug(m),
  });
  return { client, host: target.host, repo: target.repository };
}

/** What a registry now holds for a pushed image: its manifest's digest, size and type. */
export type PushedManifest = { digest: string; size: number; mediaType: string };

async function pushToRegistry(store: Store, img: ImageRecord, ref: ImageReference, o: PushOptions): Promise<string> {
  const pushed = await pushImageManifest(store, img, ref, o);
  if (o.digestFile) writeFileAtomic(o.digestFile, pushed.digest);
  return pushed.digest;
}

/**
 * Pushes one local image's blobs and then its manifest, under `ref`'s tag or,
 * with `byDigest` (an instance of a manifest list), under the manifest's own digest.
 */
export async function pushImageManifest(store: Store, img: ImageRecord, ref: ImageReference, o: PushOptions, byDigest = false): Promise<PushedManifest> {
  const { client, host, repo } = registryFor(ref, o);
  const here = `${host}/${repo}`;
  const kind: "oci" | "docker" = o.format === "oci" ? "oci" : o.format === "v2s2" ? "docker" : o.compression === "zstd" || img.manifestMediaType.includes("oci") ? "oci" : "docker";
  if (kind === "docker" && o.compression === "zstd") throw new UsageError("zstd compression is not supported with the docker v2s2 manifest format", { hint: "use --format oci with --compression-format zstd" });
  const progress = new ProgressBoard(o.quiet);
  progress.line("Getting image source signatures");
  const work = store.tempDir("push");
  try {
    const uploads: Upload[] = img.layers.map((diffID) => ({ diffID, bar: progress.add(`Copying blob ${diffID.slice(7, 19)}`, store.layerInfo(diffID)?.size ?? 0) }));
    // what the registry has already, or can mount from a repository of its own
    await Promise.all(uploads.map(async (u) => {
      u.desc = await withRetry(`checking blob ${u.diffID}`, o.retry, () => reuse(client, store, u.diffID, o.compression, kind, host, repo));
      if (u.desc) progress.finish(u.bar, "skip");
    }));
    const missing = uploads.filter((u) => !u.desc);
    if (missing.length) {
      const job = jobImage(store, { image: { ...img, layers: missing.map((u) => u.diffID) }, names: [] });
      // one storage worker per layer, as many at a time as there are cores: compression is the
      // slow part and each worker compresses on its own core; a layer uploads as soon as it is ready
      await pool(missing.map((u, i) => async () => {
        const file = { ...job.layers[i]!, path: join(work, `blob-${i}`) };
        const res = await runBlobs(store.paths, { layers: [file], compression: o.compression, level: o.compressionLevel });
        const b = res.blobs![0]!;
        await withRetry(`writing blob ${b.digest}`, o.retry, async () => {
          if ((await client.blobSize(repo, b.digest)) === undefined) await client.uploadBlob(repo, b.digest, file.path, b.size);
        });
        rmSync(file.path, { force: true });
        u.desc = { mediaType: layerMediaType(kind, o.compression), digest: b.digest, size: b.size };
        await recordBlob(store.root, { diffID: u.diffID, digest: b.digest, compression: o.compression, size: b.size }, here).catch((e) => log.debug((e as Error).message));
        progress.finish(u.bar);
      }), Math.max(2, availableParallelism()));
    }
    const configDigest = `sha256:${img.id}`;
    const config = store.readBlob(configDigest);
    const cbar = progress.add(`Copying config ${img.id.slice(0, 12)}`, config.length);
    await withRetry("writing the config", o.retry, async () => {
      if ((await client.blobSize(repo, configDigest)) !== undefined) return progress.finish(cbar, "skip");
      const path = join(work, "config.json");
      writeFileAtomic(path, config);
      await client.uploadBlob(repo, configDigest, path, config.length);
      progress.finish(cbar);
    });
    progress.line("Writing manifest to image destination");
    const manifest = new TextEncoder().encode(imageManifest(kind, { mediaType: "", digest: configDigest, size: config.length }, uploads.map((u) => u.desc!), store.imageAnnotations(img)));
    const mediaType = kind === "oci" ? MT.ociManifest : MT.dockerManifest;
    const own = `sha256:${new Bun.CryptoHasher("sha256").update(manifest).digest("hex")}`;
    const digest = await withRetry("writing the manifest", o.retry, () => client.putManifest(repo, byDigest ? own : ref.digest ?? ref.tag ?? "latest", mediaType, manifest));
    return { digest, size: manifest.length, mediaType };
  } catch (e) {
    throw e instanceof PodError ? e : wrap(`pushing ${formatReference(ref)}`, e);
  } finally {
    progress.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** A blob of this layer the registry has (HEAD), or can mount from another repository it holds it in. */
async function reuse(client: RegistryClient, store: Store, diffID: string, compression: "gzip" | "zstd", kind: "oci" | "docker", host: string, repo: string): Promise<Descriptor | undefined> {
  for (const b of blobsFor(store.root, diffID, compression)) {
    const desc = { mediaType: layerMediaType(kind, compression), digest: b.digest, size: b.size };
    const size = await client.blobSize(repo, b.digest);
    if (size !== undefined) return { ...desc, size };
    for (const loc of b.locations) {
      if (!loc.startsWith(`${host}/`) || loc === `${host}/${repo}`) continue;
      if (await client.mountBlob(repo, b.digest, loc.slice(host.length + 1))) {
        await recordBlob(store.root, b, `${host}/${repo}`).catch(() => undefined);
        return desc;
      }
    }
  }
  return undefined;
}

/** Runs tasks with at most `n` at a time; the first failure is thrown once all have settled. */
async function pool(tasks: (() => Promise<void>)[], n: number): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, async () => {
    while (next < tasks.length) {
      const t = tasks[next++]!;
      try {
        await t();
      } catch (e) {
        errors.push(e);
      }
    }
  }));
  if (errors.length) throw errors[0];
}

export function parseCompression(v: string): "gzip" | "zstd" {
  if (v === "gzip" || v === "zstd") return v;
  throw new UsageError(`unsupported compression format "${v}"`, { hint: "--compression-format takes gzip or zstd (zstd:chunked is not supported)" });
}

