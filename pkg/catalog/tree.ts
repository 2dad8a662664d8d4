// `image tree` and `history` as podman prints them (libimage image_tree.go,
// history.go). podman names a pulled layer by its chain (the base layer's
// diffID, then sha256 of "parent+diffID"), so pod computes those IDs: two
// images share a node exactly where podman's storage would share a layer.
import { createHash } from "node:crypto";
import type { ImageRecord } from "../store/index.ts";
import type { HistoryEntry } from "./filters.ts";

const hex = (d: string) => d.replace(/^sha256:/, "");

/** podman's storage layer IDs of an image's layers, bottom first. */
export function layerIds(layers: string[]): string[] {
  const ids: string[] = [];
  for (const d of layers) ids.push(ids.length ? createHash("sha256").update(`${ids.at(-1)}+${hex(d)}`).digest("hex") : hex(d));
  return ids;
}

/** go-units HumanSizeWithPrecision: decimal units, `prec` significant digits, no space ("1.986MB"). */
export function goSize(bytes: number, prec: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(prec))}${units[i]}`;
}

type Node = { id: string; size: number; parent?: Node; children: Node[]; images: ImageRecord[] };

function buildTree(images: ImageRecord[], layerSize: (diffID: string) => number): Map<string, Node> {
  const nodes = new Map<string, Node>();
  for (const img of images) {
    const ids = layerIds(img.layers);
    ids.forEach((id, k) => {
      let n = nodes.get(id);
      if (!n) {
        n = { id, size: layerSize(img.layers[k]!), children: [], images: [] };
        const parent = k > 0 ? nodes.get(ids[k - 1]!) : undefined;
        if (parent) {
          n.parent = parent;
          parent.children.push(n);
        }
        nodes.set(id, n);
      }
    });
    if (ids.length) nodes.get(ids.at(-1)!)!.images.push(img);
  }
  return nodes;
}

const goList = (xs: string[]) => `[${xs.join(" ")}]`;

function nodeLine(n: Node): string {
  const tags = [...new Set(n.images.flatMap((i) => i.names))];
  return `ID: ${n.id.slice(0, 12)} Size: ${goSize(n.size, 4).padStart(7)}${tags.length ? ` Top Layer of: ${goList(tags)}` : ""}`;
}

type Tree = { text: string; items: Tree[] };

/** gotree's printer, as podman uses it. */
function printTree(t: Tree): string {
  const items = (ts: Tree[], spaces: boolean[]): string =>
    ts
      .map((f, i) => {
        const last = i === ts.length - 1;
        const lead = spaces.map((s) => (s ? "    " : "│   ")).join("");
        const text = f.text
          .split("\n")
          .map((l, j) => lead + (j === 0 ? (last ? "└── " : "├── ") : last ? "    " : "│   ") + l + "\n")
          .join("");
        return text + (f.items.length ? items(f.items, [...spaces, last]) : "");
      })
      .join("");
  return `${t.text}\n${items(t.items, [])}`;
}

/** podman image tree [--whatrequires]: the image's layers bottom up, or its top layer and every layer built on it. */
export function renderImageTree(img: ImageRecord, images: ImageRecord[], layerSize: (diffID: string) => number, whatRequires: boolean): string {
  const head = [
    `Image ID: ${img.id.slice(0, 12)}`,
    `Tags:     ${goList(img.names)}`,
    `Size:     ${goSize(img.size, 4)}`,
    img.layers.length ? "Image Layers" : "No Image Layers",
  ].join("\n");
  const nodes = buildTree(images, layerSize);
  const top = img.layers.length ? nodes.get(layerIds(img.layers).at(-1)!) : undefined;
  const root: Tree = { text: head, items: [] };
  if (top && whatRequires) {
    const walk = (n: Node, into: Tree) => {
      let next = into;
      const item = { text: nodeLine(n), items: [] };
      if (!n.parent || n.parent.children.length <= 1) into.items.push(item);
      else {
        into.items.push(item);
        next = item;
      }
      for (const c of n.children) walk(c, next);
    };
    walk(top, root);
  } else if (top) {
    const chain: Node[] = [];
    for (let n: Node | undefined = top; n; n = n.parent) chain.unshift(n);
    root.items = chain.map((n) => ({ text: nodeLine(n), items: [] }));
  }
  return printTree(root);
}

export type HistoryLayer = { id: string; created: string; createdBy: string; size: number; comment: string };

/**
 * libimage History: the config's history newest first, each entry with the
 * size of the layer it made (0 for an empty layer) and, where that layer is
 * the top of a local image, the ID of the first such image (once).
 */
export function imageHistory(img: ImageRecord, history: HistoryEntry[], images: ImageRecord[], layerSize: (diffID: string) => number): HistoryLayer[] {
  const nodes = buildTree(images, layerSize);
  const ids = layerIds(img.layers);
  let k = ids.length - 1;
  const used = new Set<string>();
  const out: HistoryLayer[] = [];
  for (let x = history.length - 1; x >= 0; x--) {
    const h = history[x]!;
    const e: HistoryLayer = { id: "<missing>", created: h.created ?? "0001-01-01T00:00:00Z", createdBy: h.created_by ?? "", size: 0, comment: h.comment ?? "" };
    if (k >= 0) {
      const node = nodes.get(ids[k]!)!;
      if (!h.empty_layer) e.size = node.size;
      const owner = node.images[0]?.id;
      if (owner && !used.has(owner)) {
        e.id = owner;
        used.add(owner);
      }
      if (k > 0 && !h.empty_layer) k--;
    }
    out.push(e);
  }
  return out;
}
