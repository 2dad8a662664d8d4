// The image index: one JSON file listing every image, rewritten atomically
// under the store lock. `pod images` reads it without a lock (rename is atomic).
import { readFileSync } from "node:fs";
import { ImageUnknown, PodError } from "../errors.ts";
import { writeFileAtomic } from "./atomic.ts";

export type ImageRecord = {
  /** config digest hex: podman's image ID */
  id: string;
  /** fully qualified names, e.g. docker.io/library/alpine:latest */
  names: string[];
  /** name@digest forms the image was pulled by (manifest and index digests) */
  repoDigests: string[];
  manifestDigest: string;
  manifestMediaType: string;
  /** layer diffIDs, bottom first */
  layers: string[];
  /** uncompressed bytes of all layers */
  size: number;
  created: string;
  pulled: string;
  os: string;
  architecture: string;
  variant?: string;
  labels?: Record<string, string>;
  /** every name the image has had, the latest first (c/storage's NamesHistory); absent in records older than it */
  namesHistory?: string[];
  /** a manifest list's instances not stored here (`manifest add docker://…`): digest → the repository ("host/repository") to copy it from at push */
  instanceSources?: Record<string, string>;
  /** a manifest list's local instances: digest → image ID (an image's manifest digest changes when it is pulled again) */
  instanceImages?: Record<string, string>;
};

/** The record with `added` among its names, remembered in its names history (latest first), as c/storage does. */
export function addNames(img: ImageRecord, added: string[]): ImageRecord {
  let history = img.namesHistory ?? img.names;
  for (const n of added) history = [n, ...history.filter((h) => h !== n)];
  return { ...img, names: [...new Set([...img.names, ...added])], namesHistory: history };
}

type IndexFile = { version: 1; images: ImageRecord[] };

export function readIndex(file: string): ImageRecord[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  try {
    return (JSON.parse(text) as IndexFile).images ?? [];
  } catch (e) {
    throw new PodError(`reading the image index ${file}: ${(e as Error).message}`, {
      hint: "the store is damaged; `pod system reset -f` starts afresh",
      cause: e,
    });
  }
}

export function writeIndex(file: string, images: ImageRecord[]): void {
  writeFileAtomic(file, JSON.stringify({ version: 1, images } satisfies IndexFile));
}

/** Adds or merges an image and moves its names away from any other image (a tag names one image). */
export function upsertImage(images: ImageRecord[], rec: ImageRecord): ImageRecord[] {
  const names = new Set(rec.names);
  const others = images
    .filter((i) => i.id !== rec.id)
    .map((i) => ({ ...i, names: i.names.filter((n) => !names.has(n)) }));
  const old = images.find((i) => i.id === rec.id);
  const merged = old
    ? { ...addNames({ ...rec, names: old.names, namesHistory: old.namesHistory }, rec.names), names: [...new Set([...rec.names, ...old.names])], repoDigests: [...new Set([...rec.repoDigests, ...old.repoDigests])] }
    : addNames({ ...rec, names: [] }, rec.names);
  return [...others, merged];
}

export type Lookup = { image: ImageRecord; matchedName?: string };

/** A reference as findImage wants it: the full name, and for short names the tail to match. */
export type ImageQuery = {
  /** docker.io/library/alpine:latest, or …@sha256:… */
  full: string;
  /** for short input: "alpine:latest" (matches …/alpine:latest in any registry) */
  shortTail?: string;
  /** repository without tag, e.g. docker.io/library/alpine */
  repo: string;
  digest?: string;
};

/**
 * Finds an image by ID prefix, full name, short name (`alpine` matches
 * docker.io/library/alpine:latest or localhost/alpine:latest) or name@digest.
 */
export function findImage(images: ImageRecord[], input: string, q?: ImageQuery): Lookup | undefined {
  const hex = input.startsWith("sha256:") ? input.slice(7) : input;
  if (/^[0-9a-f]{3,64}$/.test(hex)) {
    const hits = images.filter((i) => i.id.startsWith(hex));
    if (hits.length === 1) return { image: hits[0]! };
    if (hits.length > 1)
      throw new PodError(`image ID prefix "${input}" is ambiguous: ${hits.length} images match`, { hint: "give more characters of the ID" });
  }
  if (!q) return undefined;
  if (q.digest) {
    const repoTail = q.shortTail?.replace(/[:@].*$/, "");
    const hit = images.find((i) =>
      i.repoDigests.some((d) => d === `${q.repo}@${q.digest}` || (repoTail !== undefined && d.endsWith(`/${repoTail}@${q.digest}`))),
    );
    return hit ? { image: hit } : undefined;
  }
  for (const i of images) if (i.names.includes(q.full)) return { image: i, matchedName: q.full };
  if (q.shortTail)
    for (const i of images) {
      const n = i.names.find((x) => x.endsWith(`/${q.shortTail}`));
      if (n) return { image: i, matchedName: n };
    }
  return undefined;
}

export function noSuchImage(input: string): ImageUnknown {
  return new ImageUnknown(`${input}: image not known`, { hint: "`pod images` lists local images; `pod pull` fetches one" });
}
