// Local image operations people ask for by name: look up, list, inspect, tag,
// remove. Names are parsed with pkg/image and resolved against the store.
import { formatReference, isShortName, parseReference } from "../image/index.ts";
import { InvalidReference, PodError } from "../errors.ts";
import { Store, findImage, noSuchImage, type ImageRecord, type ImageQuery } from "../store/index.ts";

export { imageSummary, imageInspect, type ImageSummary } from "./views.ts";

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
  await store.updateImages((images) => {
    const img = lookupImage(store, source, images);
    const updated = images.map((i) =>
      i.id === img.id ? { ...i, names: [...new Set([...i.names, ...names])] } : { ...i, names: i.names.filter((n) => !names.includes(n)) },
    );
    return { images: updated, result: undefined };
  });
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
  await store.updateImages((images) => {
    const img = lookupImage(store, source, images);
    for (const n of wanted)
      if (!img.names.includes(n)) throw new PodError(`${n}: tag not known`, { hint: `pod images ${source} lists the names it has` });
    const drop = new Set(names.length ? wanted : img.names);
    return { images: images.map((i) => (i.id === img.id ? { ...i, names: i.names.filter((n) => !drop.has(n)) } : i)), result: undefined };
  });
}

export type RemoveReport = { untagged: string[]; deleted: string[]; errors: PodError[] };

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

/**
 * podman rmi semantics: removing by name untags it, and the image is deleted
 * once no name is left; removing by ID deletes the image with all its names,
 * which needs -f when it has several names. An image a container uses is not
 * deleted (exit 2), unless -f, which removes those containers first. Layers no
 * image uses are deleted.
 */
export async function removeImages(
  store: Store,
  inputs: string[],
  o: { force: boolean; all: boolean; users: ImageUsers; /** default: force */ removeUsers?: boolean },
): Promise<RemoveReport> {
  if (o.removeUsers ?? o.force) {
    const doomed = planRemoval(store.images(), inputs, { ...o, users: { ...o.users, usersOf: () => [] } }).deleted;
    const users = doomed.flatMap((id) => o.users.usersOf(id).map((u) => u.id));
    if (users.length) await o.users.remove(users);
  }
  let report!: RemoveReport;
  const orphans = await o.users.locked(() =>
    store.updateImages((images) => {
      const plan = planRemoval(images, inputs, o);
      report = plan;
      const left = plan.left;
      const deleted = images.filter((i) => !left.some((l) => l.id === i.id));
      store.removeBlobs(deleted.flatMap((i) => [`sha256:${i.id}`, i.manifestDigest]), left);
      return { images: left, result: store.orphanLayers(left) };
    }),
  );
  await store.removeLayers(orphans);
  return { untagged: report.untagged, deleted: report.deleted, errors: report.errors };
}

function planRemoval(images: ImageRecord[], inputs: string[], o: { force: boolean; all: boolean; users: ImageUsers }): RemoveReport & { left: ImageRecord[] } {
  const report: RemoveReport = { untagged: [], deleted: [], errors: [] };
  let left = images;
  const targets = o.all ? images.map((i) => i.id) : inputs;
  for (const input of targets) {
    const q = toQuery(input);
    const hit = findImage(left, input, q);
    if (!hit) {
      report.errors.push(noSuchImage(input));
      continue;
    }
    const img = hit.image;
    const byName = hit.matchedName !== undefined && img.names.length > 1;
    if (byName) {
      left = left.map((i) => (i.id === img.id ? { ...i, names: i.names.filter((n) => n !== hit.matchedName) } : i));
      report.untagged.push(hit.matchedName!);
      continue;
    }
    if (!o.all && !o.force && hit.matchedName === undefined && img.names.length > 1) {
      report.errors.push(
        new PodError(`unable to delete image ${img.id.slice(0, 12)}: it is referenced in multiple names (${img.names.join(", ")})`, {
          hint: "remove the names one by one, or use -f to remove the image and all its names",
        }),
      );
      continue;
    }
    const users = o.users.usersOf(img.id);
    if (users.length) {
      const names = users.map((u) => u.name);
      report.errors.push(
        new PodError(`image used by ${users[0]!.id.slice(0, 12)}: image is in use by a container: ${names.join(", ")}`, {
          exit: IMAGE_IN_USE_EXIT,
          hint: `remove the container${users.length > 1 ? "s" : ""} first (pod rm -f ${names.join(" ")}), or use pod rmi -f to remove ${users.length > 1 ? "them" : "it"} with the image`,
        }),
      );
      continue;
    }
    report.untagged.push(...img.names);
    report.deleted.push(img.id);
    left = left.filter((i) => i.id !== img.id);
  }
  return { ...report, left };
}
