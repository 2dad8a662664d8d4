// Manifests and indexes as registries serve them: media types (OCI image-spec
// and Docker schema 2), digests, and a validating parser. A digest is
// `algorithm:encoded`; pod verifies sha256 (64 hex) and sha512 (128 hex).
import { PodError } from "../errors.ts";
import type { Platform } from "./platform.ts";

export const MediaType = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerSchema1: "application/vnd.docker.distribution.manifest.v1+json",
  dockerSchema1Signed: "application/vnd.docker.distribution.manifest.v1+prettyjws",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

/** What pod asks for, most preferred first. */
export const MANIFEST_ACCEPT = [MediaType.ociIndex, MediaType.dockerManifestList, MediaType.ociManifest, MediaType.dockerManifest];

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);
const MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest]);
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MediaType.dockerSchema1, MediaType.dockerSchema1Signed]);

export type Descriptor = {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
};

export type ImageIndex = { kind: "index"; mediaType: string; manifests: Descriptor[]; annotations?: Record<string, string> };
export type ImageManifest = {
  kind: "manifest";
  mediaType: string;
  schemaVersion: 2;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
};
export type ManifestOrIndex = ImageIndex | ImageManifest;

const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

export function isDigest(s: string): boolean {
  return DIGEST.test(s);
}

/** The hash algorithm of a digest pod can verify; throws PodError otherwise. */
export function digestAlgorithm(digest: string): "sha256" | "sha512" {
  if (!DIGEST.test(digest)) {
    throw new PodError(`checking digest ${JSON.stringify(digest)}: not a sha256 or sha512 digest pod can verify`);
  }
  return digest.startsWith("sha512:") ? "sha512" : "sha256";
}

export function digestOf(bytes: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): string {
  return `${algorithm}:${new Bun.CryptoHasher(algorithm).update(bytes).digest("hex")}`;
}

const schema1Error = () =>
  new PodError("reading manifest: Docker schema 1 manifests are unsupported", {
    hint: "push the image again with a current docker, podman or skopeo; they write schema 2 or OCI",
  });

/**
 * The media type of manifest bytes a registry served: the document's own
 * `mediaType`, else the Content-Type, else (for a generic type) its shape.
 */
export function manifestMediaType(contentType: string | null, bytes: Uint8Array): string {
  const doc = parseJSON(bytes);
  const header = (contentType ?? "").split(";", 1)[0]?.trim().toLowerCase() ?? "";
  const declared = typeof doc.mediaType === "string" ? doc.mediaType : header;
  if (doc.schemaVersion === 1 || SCHEMA1_TYPES.has(declared) || SCHEMA1_TYPES.has(header)) throw schema1Error();
  if (INDEX_TYPES.has(declared) || MANIFEST_TYPES.has(declared)) return declared;
  if (declared === "" || declared === "application/json" || declared === "text/plain") {
    if (Array.isArray(doc.manifests)) return MediaType.ociIndex;
    if (typeof doc.config === "object" && doc.config !== null) return MediaType.ociManifest;
  }
  throw new PodError(`reading manifest: unsupported media type ${JSON.stringify(declared)}`);
}

export function parseManifest(bytes: Uint8Array, mediaType: string): ManifestOrIndex {
  if (SCHEMA1_TYPES.has(mediaType)) throw schema1Error();
  const doc = parseJSON(bytes);
  const where = `reading manifest (${mediaType})`;
  if (doc.schemaVersion === 1) throw schema1Error();
  if (doc.schemaVersion !== 2) throw new PodError(`${where}: schemaVersion is ${JSON.stringify(doc.schemaVersion)}, want 2`);
  const annotations = stringMap(doc.annotations, `${where}: annotations`);
  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(doc.manifests)) throw new PodError(`${where}: manifests is not a list`);
    const manifests = doc.manifests.map((d, i) => descriptor(d, `${where}: manifests[${i}]`));
    return { kind: "index", mediaType, manifests, ...(annotations && { annotations }) };
  }
  if (MANIFEST_TYPES.has(mediaType)) {
    const config = descriptor(doc.config, `${where}: config`);
    if (!Array.isArray(doc.layers)) throw new PodError(`${where}: layers is not a list`);
    const layers = doc.layers.map((d, i) => descriptor(d, `${where}: layers[${i}]`));
    return { kind: "manifest", mediaType, schemaVersion: 2, config, layers, ...(annotations && { annotations }) };
  }
  throw new PodError(`${where}: unsupported media type`);
}

type Json = Record<string, unknown>;

function parseJSON(bytes: Uint8Array): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    if (e instanceof SyntaxError) throw new PodError(`reading manifest: not JSON: ${e.message}`, { cause: e });
    throw e;
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new PodError("reading manifest: not a JSON object");
  return doc as Json;
}

function descriptor(v: unknown, where: string): Descriptor {
  if (typeof v !== "object" || v === null) throw new PodError(`${where}: not an object`);
  const d = v as Json;
  if (typeof d.mediaType !== "string" || d.mediaType === "") throw new PodError(`${where}: mediaType missing`);
  if (typeof d.digest !== "string" || !/^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(d.digest)) {
    throw new PodError(`${where}: digest ${JSON.stringify(d.digest)} is malformed`);
  }
  if (typeof d.size !== "number" || !Number.isSafeInteger(d.size) || d.size < 0) {
    throw new PodError(`${where}: size ${JSON.stringify(d.size)} is not a byte count`);
  }
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform !== undefined) out.platform = platform(d.platform, `${where}: platform`);
  const annotations = stringMap(d.annotations, `${where}: annotations`);
  if (annotations) out.annotations = annotations;
  return out;
}

function platform(v: unknown, where: string): Platform {
  const p = v as Json;
  if (typeof p !== "object" || p === null || typeof p.os !== "string" || typeof p.architecture !== "string") {
    throw new PodError(`${where}: os and architecture must be strings`);
  }
  const out: Platform = { os: p.os, architecture: p.architecture };
  if (typeof p.variant === "string" && p.variant !== "") out.variant = p.variant;
  return out;
}

function stringMap(v: unknown, where: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v) || !Object.values(v).every((x) => typeof x === "string")) {
    throw new PodError(`${where}: not a map of strings`);
  }
  return v as Record<string, string>;
}
