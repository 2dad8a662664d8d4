// pkg/manifest owns `pod manifest`: multi-arch lists kept as podman keeps
// them, as an image in the store whose manifest is the list (an OCI index in
// the blob store; the record's layers are empty and its ID is random, since a
// list has no config). Instances are local images, named by their manifest
// digests, or manifests in a registry (`add docker://…`), whose repository the
// record keeps so that a push can copy them. A push sends every instance
// first (local ones through pkg/push, which may recompress and so change
// their digests; the list is rewritten with what was pushed) and the list
// last, as `pod push` puts an image's manifest last.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { ImageUnknown, PodError, UsageError } from "../errors.ts";
import { formatReference, parseReference, type ImageReference } from "../image/index.ts";
import { MediaType, hostPlatform, parseManifest, selectPlatform, type Descriptor, type Platform } from "../registry/index.ts";
import { findImage, noSuchImage, writeFileAtomic, type ImageRecord, type Store } from "../store/index.ts";
import { localName, removeImages, toQuery, type RemoveReport } from "../catalog/index.ts";
import { pushImageManifest, registryFor, withRetry, type PushOptions } from "../push/index.ts";
import { err, log } from "../output/index.ts";

/** The platform fields podman's --arch, --os, --variant, --os-version, --os-features and --features set. */
export type PlatformOverrides = { arch?: string; os?: string; variant?: string; osVersion?: string; osFeatures?: string[]; features?: string[] };

/** What a registry lookup needs (docker:// instances). */
export type RemoteOptions = Pick<PushOptions, "tlsVerify" | "credentials" | "certDir" | "env">;

export type AddOptions = PlatformOverrides & RemoteOptions & { all?: boolean; annotations?: Record<string, string> };

type IndexPlatform = { architecture: string; os: string; variant?: string; "os.version"?: string; "os.features"?: string[]; features?: string[] };
type Instance = { mediaType: string; digest: string; size: number; platform?: IndexPlatform; annotations?: Record<string, string> };
type IndexDoc = { schemaVersion: 2; mediaType: string; manifests: Instance[]; annotations?: Record<string, string> };

const LIST_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList]);

export function isManifestList(img: ImageRecord): boolean {
  return LIST_TYPES.has(img.manifestMediaType);
}

const sha256 = (bytes: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
const encode = (doc: IndexDoc) => new TextEncoder().encode(JSON.stringify(doc));

function notAList(name: string): PodError {
  return new PodError(`${name}: image is not a manifest list`, { hint: "`pod manifest create LIST` makes one; `pod images` lists what is here" });
}

/** The list `input` names; podman's errors for a missing image and for one that is not a list. */
export function lookupList(store: Store, input: string, images = store.images()): ImageRecord {
  const hit = findImage(images, input, toQuery(input));
  if (!hit) throw noSuchImage(input);
  if (!isManifestList(hit.image)) throw notAList(hit.matchedName ?? input);
  return hit.image;
}

export function readList(store: Store, list: ImageRecord): IndexDoc {
  const doc = JSON.parse(new TextDecoder().decode(store.readBlob(list.manifestDigest))) as IndexDoc;
  return { ...doc, manifests: doc.manifests ?? [] };
}

export function listExists(store: Store, input: string): boolean {
  try {
    lookupList(store, input);
    return true;
  } catch (e) {
    if (e instanceof PodError) return false;
    throw e;
  }
}

/** `manifest inspect`: the list as JSON, indented as podman indents it. */
export async function inspectList(store: Store, input: string, o: RemoteOptions): Promise<string> {
  const hit = findImage(store.images(), input, toQuery(input));
  if (hit && isManifestList(hit.image)) return `${JSON.stringify(readList(store, hit.image), null, 4)}\n`;
  // as podman: a name that is no local list is looked up in its registry
  const ref = parseReference(input.replace(/^docker:\/\//, ""));
  const { client, repo } = registryFor(ref, o);
  const m = await client.getManifest(repo, ref.digest ?? ref.tag ?? "latest");
  return `${JSON.stringify(JSON.parse(new TextDecoder().decode(m.bytes)), null, 4)}\n`;
}

/**
 * Writes a new version of the list: `change` gets the current document and
 * record under the store lock and returns the new document (and record fields).
 */
async function updateList(store: Store, listId: string, change: (doc: IndexDoc, rec: ImageRecord) => { doc: IndexDoc; rec?: Partial<ImageRecord> }): Promise<string> {
  return store.updateImages((images) => {
    const rec = images.find((i) => i.id === listId);
    if (!rec) throw new ImageUnknown(`${listId}: image not known`, { hint: "the list was removed meanwhile" });
    const { doc, rec: fields } = change(readList(store, rec), rec);
    const bytes = encode(doc);
    const digest = sha256(bytes);
    store.putBlob(digest, bytes);
    const next = { ...rec, ...fields, manifestDigest: digest, manifestMediaType: doc.mediaType };
    const updated = images.map((i) => (i.id === listId ? next : i));
    if (rec.manifestDigest !== digest) store.removeBlobs([rec.manifestDigest], updated);
    return { images: updated, result: listId };
  });
}

/** `manifest create`: a new empty list (or, with amend, the one of that name), then the images added. */
export async function createList(store: Store, name: string, images: string[], o: AddOptions & { amend?: boolean }): Promise<string> {
  store.init();
  const full = localName(name);
  const existing = findImage(store.images(), full, toQuery(full));
  let id: string;
  if (existing) {
    if (!o.amend || !isManifestList(existing.image))
      throw new PodError(`creating manifest: image name "${full}" is already associated with image "${existing.image.id}": that name is already in use`, {
        hint: isManifestList(existing.image) ? `pass --amend to add to it, or remove it first: pod manifest rm ${name}` : `pick another name, or pod rmi ${name}`,
      });
    id = existing.image.id;
  } else {
    id = randomBytes(32).toString("hex");
    const doc: IndexDoc = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [], ...(o.annotations && Object.keys(o.annotations).length ? { annotations: o.annotations } : {}) };
    const bytes = encode(doc);
    const digest = sha256(bytes);
    const now = new Date().toISOString();
    await store.updateImages((all) => {
      if (findImage(all, full, toQuery(full))) throw new PodError(`creating manifest: image name "${full}" is already in use`, { hint: "another command made it meanwhile; try again with --amend" });
      store.putBlob(digest, bytes);
      const rec: ImageRecord = {
        id, names: [full], namesHistory: [full], repoDigests: [], manifestDigest: digest, manifestMediaType: MediaType.ociIndex,
        layers: [], size: 0, created: now, pulled: now, os: "", architecture: "",
      };
      return { images: [...all, rec], result: undefined };
    });
  }
  for (const image of images) await addToList(store, id, image, { ...o, annotations: undefined });
  return id;
}

type Candidate = { desc: Instance; source?: string; imageId?: string };

function platformOf(p: Platform | IndexPlatform | undefined, o: PlatformOverrides): IndexPlatform | undefined {
  const base: IndexPlatform | undefined = p ? { ...(p as IndexPlatform) } : undefined;
  if (!base && !o.arch && !o.os) return undefined;
  const out: IndexPlatform = { architecture: o.arch ?? base?.architecture ?? "", os: o.os ?? base?.os ?? "" };
  const variant = o.variant ?? (o.arch ? undefined : base?.variant);
  if (variant) out.variant = variant;
  const osVersion = o.osVersion ?? base?.["os.version"];
  if (osVersion) out["os.version"] = osVersion;
  const osFeatures = o.osFeatures ?? base?.["os.features"];
  if (osFeatures?.length) out["os.features"] = osFeatures;
  const features = o.features ?? base?.features;
  if (features?.length) out.features = features;
  return out;
}

function wantedPlatform(o: PlatformOverrides): Platform {
  const host = hostPlatform();
  return { os: o.os ?? host.os, architecture: o.arch ?? host.architecture, ...(o.variant ? { variant: o.variant } : o.arch ? {} : host.variant ? { variant: host.variant } : {}) };
}

/** The instances a local image gives: itself, or a list's entries (all, or the one for the wanted platform). */
function localCandidates(store: Store, img: ImageRecord, o: AddOptions): Candidate[] {
  if (isManifestList(img)) {
    const doc = readList(store, img);
    const picked = o.all ? doc.manifests : [selectPlatform({ kind: "index", mediaType: doc.mediaType, manifests: doc.manifests as Descriptor[] }, wantedPlatform(o)) as Instance];
    return picked.map((d) => ({ desc: { ...d }, source: img.instanceSources?.[d.digest], imageId: img.instanceImages?.[d.digest] }));
  }
  const size = store.readBlob(img.manifestDigest).length;
  const platform: Platform = { os: img.os || "linux", architecture: img.architecture, ...(img.variant ? { variant: img.variant } : {}) };
  return [{ desc: { mediaType: img.manifestMediaType, digest: img.manifestDigest, size, platform }, imageId: img.id }];
}

/** The instances a registry's manifest gives, with the repository to copy them from. */
async function remoteCandidates(store: Store, ref: ImageReference, o: AddOptions): Promise<Candidate[]> {
  const { client, host, repo } = registryFor(ref, o);
  const source = `${host}/${repo}`;
  const m = await client.getManifest(repo, ref.digest ?? ref.tag ?? "latest");
  const parsed = parseManifest(m.bytes, m.mediaType);
  if (parsed.kind === "index") {
    const picked = o.all ? parsed.manifests : [selectPlatform(parsed, wantedPlatform(o))];
    return picked.map((d) => ({ desc: { mediaType: d.mediaType, digest: d.digest, size: d.size, ...(d.platform ? { platform: d.platform as IndexPlatform } : {}) }, source }));
  }
  // a single image: its platform is in its config
  const work = store.tempDir("manifest");
  try {
    const path = join(work, "config.json");
    await client.downloadBlob(repo, { digest: parsed.config.digest, size: parsed.config.size }, path);
    const cfg = JSON.parse(readFileSync(path, "utf8")) as { os?: string; architecture?: string; variant?: string };
    const platform: IndexPlatform = { os: cfg.os ?? "linux", architecture: cfg.architecture ?? "", ...(cfg.variant ? { variant: cfg.variant } : {}) };
    return [{ desc: { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, platform }, source }];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `manifest add`: a local image (a plain name that is here, or
 * containers-storage:NAME) or a registry's (docker://…, or a name that is not
 * here). An instance already in the list with the same digest is replaced.
 */
export async function addToList(store: Store, listInput: string, image: string, o: AddOptions): Promise<string> {
  store.init();
  const list = lookupList(store, listInput);
  let candidates: Candidate[];
  const local = image.startsWith("containers-storage:") ? image.slice("containers-storage:".length) : image.startsWith("docker://") ? undefined : image;
  const hit = local !== undefined ? findImage(store.images(), local, toQuery(local)) : undefined;
  if (hit) candidates = localCandidates(store, hit.image, o);
  else if (image.startsWith("containers-storage:")) throw noSuchImage(local!);
  else if (/^(oci|oci-archive|docker-archive|dir|docker-daemon|ostree|sif|tarball):/.test(image))
    throw new UsageError(`invalid image reference "${image}": pod adds local images and docker:// references`, { hint: "pod manifest add LIST IMAGE, or docker://REGISTRY/REPOSITORY[:TAG]" });
  else candidates = await remoteCandidates(store, parseReference(image.replace(/^docker:\/\//, "")), o);
  return updateList(store, list.id, (doc, rec) => {
    const sources = { ...(rec.instanceSources ?? {}) };
    const ids = { ...(rec.instanceImages ?? {}) };
    let manifests = doc.manifests;
    for (const c of candidates) {
      const platform = platformOf(c.desc.platform, o);
      const annotations = { ...(c.desc.annotations ?? {}), ...(o.annotations ?? {}) };
      const entry: Instance = { mediaType: c.desc.mediaType, digest: c.desc.digest, size: c.desc.size, ...(platform ? { platform } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) };
      manifests = [...manifests.filter((d) => d.digest !== entry.digest), entry];
      if (c.source) sources[entry.digest] = c.source;
      else delete sources[entry.digest];
      if (c.imageId) ids[entry.digest] = c.imageId;
      else delete ids[entry.digest];
    }
    return { doc: { ...doc, manifests }, rec: { instanceSources: Object.keys(sources).length ? sources : undefined, instanceImages: Object.keys(ids).length ? ids : undefined } };
  });
}

/** The digest an annotate or remove names: a digest in the list, or a local image whose manifest is in it. */
function instanceDigest(store: Store, doc: IndexDoc, listName: string, target: string): string {
  if (/^sha256:[0-9a-f]{64}$/.test(target)) return target;
  const hit = findImage(store.images(), target, toQuery(target));
  if (hit && doc.manifests.some((d) => d.digest === hit.image.manifestDigest)) return hit.image.manifestDigest;
  throw new PodError(`${target}: no instance of it in manifest list ${listName}`, { hint: `pod manifest inspect ${listName} lists the instances' digests` });
}

export type AnnotateOptions = PlatformOverrides & { annotations?: Record<string, string>; index?: boolean };

/** `manifest annotate`: an instance's platform fields and annotations, or (index) the list's own annotations. */
export async function annotateList(store: Store, listInput: string, target: string | undefined, o: AnnotateOptions): Promise<string> {
  store.init();
  const list = lookupList(store, listInput);
  if (o.index) {
    if (o.arch || o.os || o.variant || o.osVersion || o.osFeatures?.length || o.features?.length)
      throw new UsageError("--index sets only annotations: platform fields belong to instances", { hint: "pod manifest annotate --index --annotation KEY=VALUE LIST" });
    return updateList(store, list.id, (doc) => ({ doc: { ...doc, annotations: { ...(doc.annotations ?? {}), ...(o.annotations ?? {}) } } }));
  }
  if (!target) throw new UsageError("`pod manifest annotate` takes a LIST and an IMAGE or digest", { hint: "pod manifest annotate --arch arm64 LIST sha256:…" });
  const digest = instanceDigest(store, readList(store, list), listInput, target);
  return updateList(store, list.id, (doc) => {
    const at = doc.manifests.findIndex((d) => d.digest === digest);
    if (at < 0) throw new PodError(`no instance with digest ${digest} in manifest list ${listInput}`, { hint: `pod manifest inspect ${listInput} lists the instances' digests` });
    const old = doc.manifests[at]!;
    const platform = platformOf(old.platform, { ...o, variant: o.variant ?? (o.arch ? undefined : old.platform?.variant) });
    const annotations = { ...(old.annotations ?? {}), ...(o.annotations ?? {}) };
    const entry: Instance = { mediaType: old.mediaType, digest: old.digest, size: old.size, ...(platform ? { platform } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) };
    return { doc: { ...doc, manifests: doc.manifests.map((d, i) => (i === at ? entry : d)) } };
  });
}

/** `manifest remove`: the instance with this digest leaves the list. */
export async function removeFromList(store: Store, listInput: string, digest: string): Promise<string> {
  store.init();
  const list = lookupList(store, listInput);
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new UsageError(`invalid digest "${digest}"`, { hint: "pod manifest remove LIST sha256:<64 hex digits> (see pod manifest inspect LIST)" });
  return updateList(store, list.id, (doc, rec) => {
    if (!doc.manifests.some((d) => d.digest === digest))
      throw new PodError(`removing from manifest list ${listInput}: no instance matching digest ${digest} found in manifest list`, { hint: `pod manifest inspect ${listInput} lists the instances' digests` });
    const sources = { ...(rec.instanceSources ?? {}) };
    const ids = { ...(rec.instanceImages ?? {}) };
    delete sources[digest];
    delete ids[digest];
    return { doc: { ...doc, manifests: doc.manifests.filter((d) => d.digest !== digest) }, rec: { instanceSources: Object.keys(sources).length ? sources : undefined, instanceImages: Object.keys(ids).length ? ids : undefined } };
  });
}

const NO_USERS = { usersOf: () => [], remove: async () => undefined, locked: <T>(fn: () => Promise<T>) => fn() };

/** `manifest rm`: lists only (as rmi by name: the name goes, the list with its last name); the instances stay. */
export async function removeLists(store: Store, inputs: string[], ignore: boolean): Promise<RemoveReport> {
  store.init();
  const errors: PodError[] = [];
  const targets: string[] = [];
  for (const input of inputs) {
    try {
      lookupList(store, input);
      targets.push(input);
    } catch (e) {
      if (!(e instanceof PodError)) throw e;
      if (!(ignore && e instanceof ImageUnknown)) errors.push(e);
    }
  }
  const r = targets.length ? await removeImages(store, targets, { force: false, all: false, users: NO_USERS, noPrune: true }) : { untagged: [], deleted: [], removed: [], errors: [] };
  return { ...r, errors: [...errors, ...r.errors] };
}

export type ListPushOptions = PushOptions & { all: boolean; removeList?: boolean };

/**
 * `manifest push`: each instance, then the list under DEST's tag. Local
 * instances are pushed as `pod push` pushes an image (by digest); those from
 * a registry are copied blob by blob (a mount within one registry).
 */
export async function pushList(store: Store, listInput: string, destination: string | undefined, o: ListPushOptions): Promise<string> {
  store.init();
  const list = lookupList(store, listInput);
  const destInput = (destination ?? listInput).replace(/^docker:\/\//, "");
  if (/^(oci|oci-archive|docker-archive|dir|containers-storage):/.test(destInput))
    throw new UsageError(`pushing a manifest list to "${destination}" is not supported`, { hint: "pod manifest push pushes to registries: docker://REGISTRY/REPOSITORY[:TAG]" });
  const dest = parseReference(destInput);
  const doc = readList(store, list);
  const docker = o.format === "v2s2" || (o.format === undefined && doc.mediaType === MediaType.dockerManifestList);
  if (docker && o.compression === "zstd") throw new UsageError("zstd compression is not supported with the docker v2s2 manifest format", { hint: "use --format oci with --compression-format zstd" });
  const { client, host, repo } = registryFor(dest, o);
  if (!o.quiet) err("Getting image list signatures\n");
  const manifests: Instance[] = [];
  const images = store.images();
  for (const [n, inst] of doc.manifests.entries()) {
    if (!o.all) {
      manifests.push(inst);
      continue;
    }
    if (!o.quiet) err(`Copying image ${inst.digest} (${n + 1}/${doc.manifests.length})\n`);
    const byId = list.instanceImages?.[inst.digest];
    const img = images.find((i) => !isManifestList(i) && (byId ? i.id === byId : i.manifestDigest === inst.digest));
    if (img) {
      const pushed = await pushImageManifest(store, img, dest, { ...o, format: docker ? "v2s2" : o.format }, true);
      manifests.push({ ...inst, mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size });
      continue;
    }
    const source = list.instanceSources?.[inst.digest];
    if (!source) throw new PodError(`instance ${inst.digest} of ${listInput} is neither a local image nor in a known registry`, { hint: `pod manifest remove ${listInput} ${inst.digest}, or add it again` });
    if (docker && inst.mediaType !== MediaType.dockerManifest)
      throw new UsageError(`instance ${inst.digest} is ${inst.mediaType}, which a docker manifest list (--format v2s2) cannot hold`, { hint: "push with --format oci" });
    await copyInstance(store, source, inst, { client, host, repo }, o);
    manifests.push(inst);
  }
  const out: Record<string, unknown> = docker
    ? { schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: manifests.map(({ annotations: _a, ...d }) => d) }
    : { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests, ...(doc.annotations ? { annotations: doc.annotations } : {}) };
  const bytes = new TextEncoder().encode(JSON.stringify(out));
  if (!o.quiet) err("Writing manifest list to image destination\nStoring list signatures\n");
  const digest = await withRetry("writing the manifest list", o.retry, () => client.putManifest(repo, dest.digest ?? dest.tag ?? "latest", String(out.mediaType), bytes));
  if (o.digestFile) writeFileAtomic(o.digestFile, digest);
  if (o.removeList) await removeImages(store, [list.id], { force: true, all: false, users: NO_USERS, noPrune: true });
  log.debug(`pushed ${formatReference(dest)}@${digest}`);
  return digest;
}

/** Copies a manifest and its blobs from another repository: mounted within one registry, else downloaded and uploaded. */
async function copyInstance(store: Store, source: string, inst: Instance, dest: { client: ReturnType<typeof registryFor>["client"]; host: string; repo: string }, o: ListPushOptions): Promise<void> {
  const slash = source.indexOf("/");
  const srcHost = source.slice(0, slash);
  const srcRepo = source.slice(slash + 1);
  const src = registryFor(parseReference(`${srcHost}/${srcRepo}@${inst.digest}`), o);
  const m = await src.client.getManifest(src.repo, inst.digest);
  const parsed = parseManifest(m.bytes, m.mediaType);
  if (parsed.kind !== "manifest") throw new PodError(`instance ${inst.digest} is itself a list, which pod does not nest`, { hint: "add its instances with manifest add --all" });
  const work = store.tempDir("manifest-push");
  try {
    for (const [i, b] of [parsed.config, ...parsed.layers].entries()) {
      await withRetry(`copying blob ${b.digest}`, o.retry, async () => {
        if ((await dest.client.blobSize(dest.repo, b.digest)) !== undefined) return;
        if (srcHost === dest.host && (await dest.client.mountBlob(dest.repo, b.digest, src.repo))) return;
        const path = join(work, `blob-${i}`);
        await src.client.downloadBlob(src.repo, { digest: b.digest, size: b.size }, path);
        await dest.client.uploadBlob(dest.repo, b.digest, path, b.size);
        rmSync(path, { force: true });
      });
    }
    await withRetry("writing an instance's manifest", o.retry, () => dest.client.putManifest(dest.repo, inst.digest, m.mediaType, m.bytes));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** podman's --annotation KEY=VALUE values. */
export function parseAnnotations(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw new UsageError(`no value given for annotation "${v}"`, { hint: "--annotation KEY=VALUE" });
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}
