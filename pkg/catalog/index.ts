// Local image operations people ask for by name: look up, list, inspect, tag,
// remove. Names are parsed with pkg/image and resolved against the store.
import { formatReference, isShortName, parseReference } from "../image/index.ts";
import { ImageUnknown, InvalidReference, PodError } from "../errors.ts";
import { Store, addNames, findImage, noSuchImage, type ImageRecord, type ImageQuery } from "../store/index.ts";
import { childrenOf, compileImageFilters, isDangling, parentOf, type FilterFacts, type HistoryEntry } from "./filters.ts";
import { readConfig } from "./views.ts";
import { imageHistory, renderImageTree, type HistoryLayer } from "./tree.ts";
import { imageEvent } from "../events/index.ts";
export type { HistoryLayer } from "./tree.ts";

export { imageSummary, imageInspect, type ImageSummary } from "./views.ts";
export { checkImageSort, sortImageRows, IMAGE_SORT_FIELDS, type ImageSortField } from "./filters.ts";

/** Parses user input into a store query; undefined when it is not a valid reference (it may still be an ID). */
export function toQuery(input: string): ImageQuery | undefined {
  let ref;
  try {
    ref = parseReference(input);
  } catch (e) {
    if (e instanceof InvalidReference) return undefined;
    throw e;
  }
  const short = isShortName(input);
  const repo = formatReference({ registry: ref.registry, repository: ref.repository });
  const tail = input.replace(/@.*$/, "");
  return {
    full: formatReference(ref),
    repo,
    digest: ref.digest,
    shortTail: short ? (/:[^/]*$/.test(tail) || ref.digest ? tail : `${tail}:latest`) : undefined,
  };
}

export function lookupImage(store: Store, input: string, images = store.images()): ImageRecord {
  const hit = findImage(images, input, toQuery(input));
  if (!hit) throw noSuchImage(input);
  return hit.image;
}

/** podman names local tags without a registry under localhost/ (`pod tag alpine web` → localhost/web:latest). */
export function localName(input: string): string {
  const ref = parseReference(input);
  if (!isShortName(input)) return formatReference(ref);
  return formatReference({ ...ref, registry: "localhost", repository: ref.repository.replace(/^library\//, input.startsWith("library/") ? "library/" : "") });
}

export async function tagImage(store: Store, source: string, targets: string[]): Promise<void> {
  const names = targets.map(localName);
  for (const [i, n] of names.entries())
    if (n.includes("@")) throw new InvalidReference(`invalid tag "${targets[i]}": a tag cannot contain a digest`, { hint: "use NAME:TAG" });
  const id = await store.updateImages((images) => {
    const img = lookupImage(store, source, images);
    const updated = images.map((i) =>
      i.id === img.id ? addNames(i, names) : { ...i, names: i.names.filter((n) => !names.includes(n)) },
    );
    return { images: updated, result: img.id };
  });
  for (const n of names) await imageEvent(store.paths, id, n, "tag");
}

/**
 * podman untag: removes the given names from the image (all of its names when
 * none are given). A name the image does not carry fails the whole call before
 * anything changes ("NAME: tag not known"). The image itself stays, even with
 * no name left (it becomes dangling), as in podman.
 */
export async function untagImage(store: Store, source: string, names: string[]): Promise<void> {
  const wanted = names.map((n) => {
    const full = localName(n);
    if (full.includes("@")) throw new InvalidReference(`invalid tag "${n}": a tag cannot contain a digest`, { hint: "use NAME:TAG" });
    return full;
  });
  const untagged = await store.updateImages((images) => {
    const img = lookupImage(store, source, images);
    for (const n of wanted)
      if (!img.names.includes(n)) throw new PodError(`${n}: tag not known`, { hint: `pod images ${source} lists the names it has` });
    const drop = new Set(names.length ? wanted : img.names);
    return { images: images.map((i) => (i.id === img.id ? { ...i, names: i.names.filter((n) => !drop.has(n)) } : i)), result: { id: img.id, dropped: [...drop] } };
  });
  for (const n of untagged.dropped) await imageEvent(store.paths, untagged.id, n, "untag");
}

export type RemoveReport = {
  untagged: string[];
  /** the images rmi reports as deleted: podman leaves out one that had children (its layers stay theirs) */
  deleted: string[];
  /** every image taken out of the index */
  removed: string[];
  errors: PodError[];
};

/** The containers that use images, as pkg/container sees them (imageUsers). */
export type ImageUsers = {
  usersOf(imageId: string): { id: string; name: string }[];
  /** removes the containers, stopping running ones (`rmi -f`) */
  remove(ids: string[]): Promise<void>;
  /** runs fn while no container can be created */
  locked<T>(fn: () => Promise<T>): Promise<T>;
};

/** podman's exit code for an image a container uses. */
export const IMAGE_IN_USE_EXIT = 2;
/** podman's exit code of rmi when the only failures are missing images. */
export const IMAGE_MISSING_EXIT = 1;

export type RemoveOptions = {
  force: boolean;
  all: boolean;
  users: ImageUsers;
  /** default: force */
  removeUsers?: boolean;
  /** keep a parent left dangling (podman's --no-prune) */
  noPrune?: boolean;
  /** missing images are not errors (--ignore; -f too, as in podman) */
  ignore?: boolean;
};

/**
 * podman rmi semantics: removing by name untags it, and the image is deleted
 * once no name is left; removing by ID deletes the image with all its names,
 * which needs -f when it has several names. An image a container uses is not
 * deleted (exit 2), unless -f, which removes those containers first. A parent
 * (filters.ts) left without name and children goes too, unless noPrune.
 * Layers no image uses are deleted.
 */
export async function removeImages(store: Store, inputs: string[], o: RemoveOptions): Promise<RemoveReport> {
  const history = configHistory(store);
  if (o.removeUsers ?? o.force) {
    const doomed = planRemoval(store.images(), o.all ? undefined : inputs, { ...o, history, users: { ...o.users, usersOf: () => [] } }).removed;
    const users = doomed.flatMap((id) => o.users.usersOf(id).map((u) => u.id));
    if (users.length) await o.users.remove(users);
  }
  return commitRemoval(store, o.users, (images) => planRemoval(images, o.all ? undefined : inputs, { ...o, history }));
}

async function commitRemoval(store: Store, users: ImageUsers, plan: (images: ImageRecord[]) => RemoveReport & { left: ImageRecord[] }): Promise<RemoveReport> {
  let report!: RemoveReport;
  let before: ImageRecord[] = [];
  const orphans = await users.locked(() =>
    store.updateImages((images) => {
      const p = plan(images);
      report = p;
      before = images;
      const deleted = images.filter((i) => !p.left.some((l) => l.id === i.id));
      store.removeBlobs(deleted.flatMap((i) => [`sha256:${i.id}`, i.manifestDigest]), p.left);
      return { images: p.left, result: store.orphanLayers(p.left) };
    }),
  );
  await store.removeLayers(orphans);
  for (const name of report.untagged) await imageEvent(store.paths, before.find((i) => i.names.includes(name))?.id ?? "", name, "untag");
  for (const id of report.removed) await imageEvent(store.paths, id, before.find((i) => i.id === id)?.names[0] ?? id, "remove");
  return { untagged: report.untagged, deleted: report.deleted, removed: report.removed, errors: report.errors };
}

/** rmi's exit code for its errors: 2 if an image is in use, 1 if images were only missing, else 125. */
export function rmiExitCode(errors: PodError[]): number {
  if (!errors.length) return 0;
  if (errors.some((e) => e.exit === IMAGE_IN_USE_EXIT)) return IMAGE_IN_USE_EXIT;
  if (errors.every((e) => e instanceof ImageUnknown)) return IMAGE_MISSING_EXIT;
  return 125;
}

type PlanOptions = { force: boolean; all: boolean; users: ImageUsers; noPrune?: boolean; ignore?: boolean; history: (i: ImageRecord) => HistoryEntry[] };

/** targets undefined: every image (rmi -a); ids removed whole, as podman's filter-driven removal does. */
function planRemoval(images: ImageRecord[], inputs: string[] | undefined, o: PlanOptions): RemoveReport & { left: ImageRecord[] } {
  const report: RemoveReport = { untagged: [], deleted: [], removed: [], errors: [] };
  let left = images;
  const whole = inputs === undefined;
  const removeWhole = (img: ImageRecord): void => {
    const users = o.users.usersOf(img.id);
    if (users.length) {
      const names = users.map((u) => u.name);
      report.errors.push(
        new PodError(`image used by ${users[0]!.id.slice(0, 12)}: image is in use by a container: ${names.join(", ")}`, {
          exit: IMAGE_IN_USE_EXIT,
          hint: `remove the container${users.length > 1 ? "s" : ""} first (pod rm -f ${names.join(" ")}), or use pod rmi -f to remove ${users.length > 1 ? "them" : "it"} with the image`,
        }),
      );
      return;
    }
    const hasChildren = childrenOf(img, left, o.history).length > 0;
    const parent = o.noPrune ? undefined : parentOf(img, left, o.history);
    report.untagged.push(...img.names);
    if (!hasChildren) report.deleted.push(img.id);
    report.removed.push(img.id);
    left = left.filter((i) => i.id !== img.id);
    if (parent && !whole && isDangling(parent, left, o.history)) removeWhole(parent);
  };
  for (const input of whole ? images.map((i) => i.id) : inputs) {
    const hit = findImage(left, input, toQuery(input));
    if (!hit) {
      if (whole) continue;
      if (!o.ignore) report.errors.push(noSuchImage(input));
      continue;
    }
    const img = hit.image;
    if (!whole && hit.matchedName !== undefined && img.names.length > 1) {
      left = left.map((i) => (i.id === img.id ? { ...i, names: i.names.filter((n) => n !== hit.matchedName) } : i));
      report.untagged.push(hit.matchedName!);
      continue;
    }
    if (!whole && !o.force && hit.matchedName === undefined && img.names.length > 1) {
      report.errors.push(
        new PodError(`unable to delete image ${img.id.slice(0, 12)}: it is referenced in multiple names (${img.names.join(", ")})`, {
          hint: "remove the names one by one, or use -f to remove the image and all its names",
        }),
      );
      continue;
    }
    removeWhole(img);
  }
  return { ...report, left };
}

/** Each image's config history, read once. */
function configHistory(store: Store): (i: ImageRecord) => HistoryEntry[] {
  const cache = new Map<string, HistoryEntry[]>();
  return (i) => {
    if (!cache.has(i.id)) cache.set(i.id, (readConfig(store, i).history as HistoryEntry[] | undefined) ?? []);
    return cache.get(i.id)!;
  };
}

function filterFacts(store: Store, images: ImageRecord[], users?: ImageUsers): FilterFacts {
  return {
    history: configHistory(store),
    labels: (i) => i.labels ?? (readConfig(store, i).config?.Labels as Record<string, string> | undefined) ?? null,
    containers: (i) => {
      if (!users) throw new PodError("the containers filter needs the container list", { hint: "report this as a bug" });
      return users.usersOf(i.id).length;
    },
    lookup: (input) => lookupImage(store, input, images),
    now: Date.now(),
  };
}

/**
 * The images `images` lists: podman hides intermediate images without -a
 * (an added intermediate=false filter, so --filter intermediate=true needs -a
 * as in podman), then applies --filter.
 */
export function listImages(store: Store, o: { all: boolean; filters: string[]; users?: ImageUsers }): ImageRecord[] {
  const images = store.images();
  const specs = o.all ? o.filters : [...o.filters, "intermediate=false"];
  const keep = compileImageFilters(specs, images, filterFacts(store, images, o.users));
  return images.filter(keep);
}

/**
 * podman image prune: removes the dangling images (every image with -a) that
 * no container uses and that pass the filters, again until nothing more goes
 * (a removed child can leave its parent dangling). Returns the IDs removed.
 */
export async function pruneImages(store: Store, o: { all: boolean; filters: string[]; users: ImageUsers }): Promise<string[]> {
  const specs = [...o.filters, "readonly=false", ...(o.all ? [] : ["dangling=true"]), "containers=false"];
  compileImageFilters(specs, store.images(), filterFacts(store, store.images(), o.users));
  const removed: string[] = [];
  for (;;) {
    const r = await commitRemoval(store, o.users, (images) => {
      const keep = compileImageFilters(specs, images, filterFacts(store, images, o.users));
      const doomed = images.filter(keep).map((i) => i.id);
      return planRemoval(images, doomed, { force: true, all: false, users: o.users, history: configHistory(store) });
    });
    if (r.errors.length) throw r.errors.at(-1)!;
    removed.push(...r.removed);
    if (!r.removed.length) return removed;
  }
}

/** `pod image tree IMAGE [--whatrequires]`, rendered as podman does. */
export function imageTree(store: Store, input: string, whatRequires: boolean): string {
  const images = store.images();
  return renderImageTree(lookupImage(store, input, images), images, (d) => store.layerInfo(d)?.size ?? 0, whatRequires);
}

/** `pod history IMAGE`: the config's history, newest first. */
export function historyOf(store: Store, input: string): HistoryLayer[] {
  const images = store.images();
  const img = lookupImage(store, input, images);
  return imageHistory(img, configHistory(store)(img), images, (d) => store.layerInfo(d)?.size ?? 0);
}
