// The documents of image archives and layouts, pure: docker-archive's
// manifest.json and repositories (docker save, c/image docker/internal/tarfile),
// the OCI image layout's oci-layout and index.json with ref.name annotations,
// OCI and Docker schema 2 manifests of uncompressed or compressed layers, and
// reading them back from an archive someone else wrote.
import { PodError } from "../errors.ts";

export const MT = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  dockerLayerZstd: "application/vnd.docker.image.rootfs.diff.tar.zstd",
} as const;

export const REF_NAME = "org.opencontainers.image.ref.name";
export const OCI_LAYOUT = JSON.stringify({ imageLayoutVersion: "1.0.0" });
/** The dir: transport's version file (c/image directory/directory_dest.go). */
export const DIR_VERSION = "Directory Transport Version: 1.1\n";

export type SaveFormat = "docker-archive" | "oci-archive" | "oci-dir" | "docker-dir";
export const SAVE_FORMATS: SaveFormat[] = ["docker-archive", "oci-archive", "oci-dir", "docker-dir"];
export type LayerCompression = "none" | "gzip" | "zstd";

export type Descriptor = { mediaType: string; digest: string; size: number; annotations?: Record<string, string> };

export const hexOf = (digest: string) => digest.replace(/^sha256:/, "");

export function layerMediaType(kind: "oci" | "docker", c: LayerCompression): string {
  if (kind === "oci") return c === "gzip" ? MT.ociLayerGzip : c === "zstd" ? MT.ociLayerZstd : MT.ociLayer;
  return c === "gzip" ? MT.dockerLayerGzip : c === "zstd" ? MT.dockerLayerZstd : MT.dockerLayer;
}

/** An image manifest as bytes; the caller digests them. */
/** annotations: OCI manifests only (docker's schema2 has none) */
export function imageManifest(kind: "oci" | "docker", config: Descriptor, layers: Descriptor[], annotations?: Record<string, string>): string {
  const m = {
    schemaVersion: 2,
    mediaType: kind === "oci" ? MT.ociManifest : MT.dockerManifest,
    config: { ...config, mediaType: kind === "oci" ? MT.ociConfig : MT.dockerConfig },
    layers,
    ...(kind === "oci" && annotations && Object.keys(annotations).length ? { annotations } : {}),
  };
  return JSON.stringify(m);
}

export function ociIndex(manifests: Descriptor[]): string {
  return JSON.stringify({ schemaVersion: 2, manifests });
}

export type DockerArchiveEntry = { Config: string; RepoTags: string[] | null; Layers: string[] };

/** docker-archive's manifest.json: one entry per image, layer files named <diffID hex>.tar. */
export function dockerArchiveManifest(images: { configDigest: string; names: string[]; diffIDs: string[] }[]): string {
  const list: DockerArchiveEntry[] = images.map((i) => ({
    Config: `${hexOf(i.configDigest)}.json`,
    RepoTags: i.names.length ? i.names : null,
    Layers: i.diffIDs.map((d) => `${hexOf(d)}.tar`),
  }));
  return JSON.stringify(list);
}

/** The legacy `repositories` file: repository → tag → top layer. */
export function dockerRepositories(images: { names: string[]; diffIDs: string[] }[]): string | undefined {
  const repos: Record<string, Record<string, string>> = {};
  for (const i of images) {
    const top = i.diffIDs.at(-1);
    if (!top) continue;
    for (const n of i.names) {
      const at = n.lastIndexOf(":");
      if (at <= n.lastIndexOf("/")) continue;
      (repos[n.slice(0, at)] ??= {})[n.slice(at + 1)] = hexOf(top);
    }
  }
  return Object.keys(repos).length ? JSON.stringify(repos) : undefined;
}

/** What an archive names for one image, before any of it is stored. */
export type ArchivedImage = {
  /** sha256:… of the config */
  configDigest: string;
  /** path of the config file inside the unpacked archive */
  configPath: string;
  /** layer files inside the unpacked archive, bottom first, with their digests if the archive says them */
  layers: { path: string; digest?: string; mediaType?: string }[];
  /** names to give the image (full references or as written) */
  names: string[];
};

const digestRe = /^sha256:[0-9a-f]{64}$/;
const safeRel = (p: string) => !p.startsWith("/") && !p.split("/").includes("..");

function need(cond: unknown, what: string): asserts cond {
  if (!cond) throw new PodError(`reading the archive: ${what}`, { hint: "the archive is damaged or not a docker-archive or oci-archive" });
}

/** docker-archive: manifest.json's entries. */
export function readDockerArchive(manifestJson: string): ArchivedImage[] {
  let list: DockerArchiveEntry[];
  try {
    list = JSON.parse(manifestJson);
  } catch (e) {
    throw new PodError(`reading the archive's manifest.json: ${(e as Error).message}`, { hint: "the archive is damaged" });
  }
  need(Array.isArray(list) && list.length > 0, "manifest.json lists no image");
  return list.map((e) => {
    need(typeof e.Config === "string" && safeRel(e.Config), `manifest.json names a bad config ${JSON.stringify(e.Config)}`);
    need(Array.isArray(e.Layers) && e.Layers.every((l) => typeof l === "string" && safeRel(l)), "manifest.json names bad layers");
    const hex = /([0-9a-f]{64})(\.json)?$/.exec(e.Config)?.[1];
    need(hex, `manifest.json's config ${JSON.stringify(e.Config)} is not named by its digest`);
    return { configDigest: `sha256:${hex}`, configPath: e.Config, layers: e.Layers.map((path) => ({ path })), names: e.RepoTags ?? [] };
  });
}

type ManifestDoc = { mediaType?: string; config?: Descriptor; layers?: Descriptor[]; manifests?: Descriptor[] };

/**
 * OCI layout: index.json's manifests (an index inside is followed through
 * `readBlob`), each with its ref.name annotation as its name.
 */
export function readOciLayout(indexJson: string, readBlob: (digest: string) => string): ArchivedImage[] {
  let index: ManifestDoc;
  try {
    index = JSON.parse(indexJson);
  } catch (e) {
    throw new PodError(`reading the archive's index.json: ${(e as Error).message}`, { hint: "the archive is damaged" });
  }
  need(Array.isArray(index.manifests) && index.manifests.length > 0, "index.json lists no image");
  const out: ArchivedImage[] = [];
  for (const d of index.manifests) {
    need(digestRe.test(d.digest), `index.json names a bad digest ${JSON.stringify(d.digest)}`);
    const m = JSON.parse(readBlob(d.digest)) as ManifestDoc;
    if (m.manifests) {
      const nested = readOciLayout(JSON.stringify({ manifests: [m.manifests[0]] }), readBlob);
      out.push(...nested.map((n) => ({ ...n, names: d.annotations?.[REF_NAME] ? [d.annotations[REF_NAME]] : n.names })));
      continue;
    }
    need(m.config && digestRe.test(m.config.digest) && Array.isArray(m.layers), `manifest ${d.digest} has no config or layers`);
    need(m.layers.every((l) => digestRe.test(l.digest)), `manifest ${d.digest} names a bad layer digest`);
    out.push({
      configDigest: m.config.digest,
      configPath: `blobs/sha256/${hexOf(m.config.digest)}`,
      layers: m.layers.map((l) => ({ path: `blobs/sha256/${hexOf(l.digest)}`, digest: l.digest, mediaType: l.mediaType })),
      names: d.annotations?.[REF_NAME] ? [d.annotations[REF_NAME]] : [],
    });
  }
  return out;
}
