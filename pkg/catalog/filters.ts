// podman's image relations and filters, pure: parents and children
// (containers/common libimage/layer_tree.go: a child has its parent's layers
// and at most one more, and the parent's history plus one entry), dangling and
// intermediate images, the `--filter` keys of images, image prune and rmi
// (libimage/filters.go: filters of one key are OR-ed, different keys AND-ed,
// `key!=value` negates), and `images --sort`.
import { PodError } from "../errors.ts";
import { parseTime } from "../output/index.ts";
import type { ImageRecord } from "../store/index.ts";

export type HistoryEntry = { created?: string; created_by?: string; author?: string; comment?: string; empty_layer?: boolean };

/** What filters need besides the records; the caller reads configs and containers. */
export type FilterFacts = {
  history(img: ImageRecord): HistoryEntry[];
  labels(img: ImageRecord): Record<string, string> | null;
  containers(img: ImageRecord): number;
  /** finds an image for before=/since= (throws ImageUnknown) */
  lookup(input: string): ImageRecord;
  now: number;
};

/** libimage historiesMatch: how many leading entries are the same. */
function historiesMatch(a: HistoryEntry[], b: HistoryEntry[]): number {
  let i = 0;
  for (; i < a.length && i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((x.created === undefined) !== (y.created === undefined)) return i;
    if (x.created !== undefined && Date.parse(x.created) !== Date.parse(y.created!)) return i;
    if ((x.created_by ?? "") !== (y.created_by ?? "") || (x.author ?? "") !== (y.author ?? "") || (x.comment ?? "") !== (y.comment ?? "")) return i;
    if (Boolean(x.empty_layer) !== Boolean(y.empty_layer)) return i;
  }
  return i;
}

/**
 * podman's parent test: the child sits on the parent's top layer (the same
 * layer, or one more on it), and its history is the parent's plus one entry.
 * Images without layers relate only to each other.
 */
export function isParentOf(parent: ImageRecord, child: ImageRecord, history: (i: ImageRecord) => HistoryEntry[]): boolean {
  if (parent.id === child.id) return false;
  const extra = child.layers.length - parent.layers.length;
  if (extra < 0 || extra > 1 || (parent.layers.length === 0) !== (child.layers.length === 0)) return false;
  if (parent.layers.some((l, i) => child.layers[i] !== l)) return false;
  const ph = history(parent);
  const ch = history(child);
  return ph.length + 1 === ch.length && historiesMatch(ph, ch) === ph.length;
}

export function childrenOf(img: ImageRecord, images: ImageRecord[], history: (i: ImageRecord) => HistoryEntry[]): ImageRecord[] {
  return images.filter((c) => isParentOf(img, c, history));
}

/** The first parent in store order among images with the same top layer, then those one layer down (layer_tree.go parent). */
export function parentOf(img: ImageRecord, images: ImageRecord[], history: (i: ImageRecord) => HistoryEntry[]): ImageRecord | undefined {
  const same = images.filter((p) => p.layers.length === img.layers.length);
  const below = images.filter((p) => p.layers.length === img.layers.length - 1);
  return [...same, ...below].find((p) => isParentOf(p, img, history));
}

/** No name and no children. */
export const isDangling = (img: ImageRecord, images: ImageRecord[], history: (i: ImageRecord) => HistoryEntry[]) =>
  img.names.length === 0 && childrenOf(img, images, history).length === 0;

/** No name, but children: a layer of another image's history (podman hides these without -a). */
export const isIntermediate = (img: ImageRecord, images: ImageRecord[], history: (i: ImageRecord) => HistoryEntry[]) =>
  img.names.length === 0 && childrenOf(img, images, history).length > 0;

/** Go's path.Match: `*` and `?` stop at `/`, `[...]` classes with `^` negation, `\` escapes; a bad pattern matches nothing. */
export function pathMatch(pattern: string, name: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (++i >= pattern.length) return false;
      re += pattern[i]!.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    } else if (c === "[") {
      const end = pattern.indexOf("]", i + 2);
      if (end < 0) return false;
      let body = pattern.slice(i + 1, end);
      const neg = body.startsWith("^");
      if (neg) body = body.slice(1);
      if (!body) return false;
      re += `[${neg ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  try {
    return new RegExp(`^${re}$`).test(name);
  } catch {
    return false;
  }
}

/** The forms of a stored name `reference=` tries (filterReferences): full, path, name, each with and without tag. */
export function referenceCandidates(name: string): string[] {
  const slash = name.indexOf("/");
  const at = name.indexOf("@");
  const colon = name.lastIndexOf(":");
  const cut = at >= 0 ? at : colon > name.lastIndexOf("/") ? colon : name.length;
  const trimmed = name.slice(0, cut);
  const path = trimmed.slice(slash < 0 ? 0 : slash + 1);
  const c = [name, path, name.slice(name.lastIndexOf("/") + 1)];
  if (trimmed !== name) c.push(trimmed, path + name.slice(cut), trimmed.slice(trimmed.lastIndexOf("/") + 1));
  return c;
}

/** pkg/filters MatchLabelFilters for one value: `key` or `key=value`; a key with `*` is a pattern. */
export function matchLabel(filter: string, labels: Record<string, string> | null): boolean {
  const eq = filter.indexOf("=");
  const key = eq < 0 ? filter : filter.slice(0, eq);
  const value = eq < 0 ? "" : filter.slice(eq + 1);
  return Object.entries(labels ?? {}).some(
    ([k, v]) => (value === "" || v === value) && (k === key || (key.includes("*") && pathMatch(`*${key}*`.replaceAll("/", "|"), k.replaceAll("/", "|")))),
  );
}

const TRUE = ["1", "t", "T", "TRUE", "true", "True"];
const FALSE = ["0", "f", "F", "FALSE", "false", "False"];

function parseBool(key: string, value: string): boolean {
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new PodError(`non-boolean value "${value}" for ${key} filter`, { hint: `use ${key}=true or ${key}=false` });
}

export type ImagePredicate = (img: ImageRecord) => boolean;

/** Filters as podman writes them (`key=value`, `key!=value`) compiled against one listing of the store. */
export function compileImageFilters(specs: string[], images: ImageRecord[], facts: FilterFacts): ImagePredicate {
  const byKey = new Map<string, ImagePredicate[]>();
  const seen = new Map<string, string>();
  const once = (key: string, value: string) => {
    const was = seen.get(key);
    if (was !== undefined && was !== value)
      throw new PodError(`specifying "${key}" filter more than once with different values is not supported`, { hint: `give --filter ${key}=… once` });
    seen.set(key, value);
  };
  const history = memo(facts.history);
  for (const spec of specs) {
    let negate = false;
    let at = spec.indexOf("!=");
    if (at >= 0) negate = true;
    else at = spec.indexOf("=");
    if (at < 0)
      throw new PodError(`invalid image filter "${spec}": must be in the format "filter=value or filter!=value"`, { hint: "pod images --filter dangling=true" });
    let key = spec.slice(0, at);
    const value = spec.slice(at + (negate ? 2 : 1));
    let f: ImagePredicate;
    switch (key) {
      case "after":
      case "since":
      case "before": {
        let ref: ImageRecord;
        try {
          ref = facts.lookup(value);
        } catch (e) {
          throw new PodError(`could not find local image for filter "${key}"="${value}": ${(e as Error).message}`, {
            hint: "before= and since= take a local image: `pod images` lists them",
            exit: e instanceof PodError ? e.exit : 125,
          });
        }
        const t = Date.parse(ref.created);
        f = key === "before" ? (i) => Date.parse(i.created) < t : (i) => Date.parse(i.created) > t;
        if (key === "after") key = "since";
        break;
      }
      case "until": {
        const t = parseTime(value, facts.now, "ago");
        if (t === undefined)
          throw new PodError(`failed to parse value as time or duration: "${value}"`, { hint: "until= takes a duration (24h), an RFC 3339 time or Unix seconds" });
        f = (i) => Date.parse(i.created) < t;
        break;
      }
      case "containers": {
        once(key, value);
        if (!["true", "false", "external"].includes(value))
          throw new PodError(`unsupported value "${value}" for containers filter`, { hint: "use containers=true, containers=false or containers=external" });
        // pod's store holds no other tool's containers: every image's containers are all external only when it has none
        f = value === "true" ? (i) => facts.containers(i) > 0 : (i) => facts.containers(i) === 0;
        break;
      }
      case "dangling":
      case "intermediate":
      case "readonly":
      case "manifest": {
        once(key, value);
        const want = parseBool(key, value);
        if (key === "dangling") f = (i) => isDangling(i, images, history) === want;
        else if (key === "intermediate") f = (i) => isIntermediate(i, images, history) === want;
        // pod has no read-only (additional) image stores and keeps no manifest lists as images
        else f = () => !want;
        break;
      }
      case "id":
        f = (i) => i.id === value;
        break;
      case "label":
        f = (i) => matchLabel(value, facts.labels(i));
        break;
      case "reference":
        f = (i) => i.names.some((n) => referenceCandidates(n).some((c) => pathMatch(value, c)));
        break;
      default:
        throw new PodError(`unsupported image filter "${key}"`, {
          hint: "image filters: after, before, containers, dangling, id, intermediate, label, manifest, readonly, reference, since, until",
        });
    }
    const g = negate ? (i: ImageRecord) => !f(i) : f;
    byKey.set(key, [...(byKey.get(key) ?? []), g]);
  }
  return (img) => [...byKey.values()].every((fs) => fs.some((f) => f(img)));
}

function memo<T>(fn: (i: ImageRecord) => T): (i: ImageRecord) => T {
  const cache = new Map<string, T>();
  return (i) => {
    if (!cache.has(i.id)) cache.set(i.id, fn(i));
    return cache.get(i.id)!;
  };
}

export const IMAGE_SORT_FIELDS = ["created", "id", "repository", "size", "tag"] as const;
export type ImageSortField = (typeof IMAGE_SORT_FIELDS)[number];

export function checkImageSort(field: string): ImageSortField {
  if (!(IMAGE_SORT_FIELDS as readonly string[]).includes(field))
    throw new PodError(`"${field}" is not a valid field for sorting. Choose from: ${IMAGE_SORT_FIELDS.join(", ")}`, { hint: "pod images --sort repository" });
  return field as ImageSortField;
}

type SortRow = { Id: string; Repository: string; Tag: string; Size: number; Created: number };

/** podman's order per --sort: newest first for created, ascending otherwise. */
export function sortImageRows<T extends SortRow>(rows: T[], field: ImageSortField): T[] {
  const cmp: Record<ImageSortField, (a: T, b: T) => number> = {
    created: (a, b) => b.Created - a.Created,
    id: (a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0),
    repository: (a, b) => (a.Repository < b.Repository ? -1 : a.Repository > b.Repository ? 1 : 0),
    size: (a, b) => a.Size - b.Size,
    tag: (a, b) => (a.Tag < b.Tag ? -1 : a.Tag > b.Tag ? 1 : 0),
  };
  return [...rows].sort(cmp[field]);
}
