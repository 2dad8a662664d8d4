// Image relations, filters and sorting as podman 4 (containers/common
// libimage) computes them, on records built here.
import { describe, expect, test } from "bun:test";
import {
  checkImageSort,
  childrenOf,
  compileImageFilters,
  isDangling,
  isIntermediate,
  matchLabel,
  parentOf,
  pathMatch,
  referenceCandidates,
  sortImageRows,
  type FilterFacts,
  type HistoryEntry,
} from "../../../pkg/catalog/filters.ts";
import { noSuchImage, type ImageRecord } from "../../../pkg/store/index.ts";
import { goSize, imageHistory, layerIds, renderImageTree } from "../../../pkg/catalog/tree.ts";
import { addNames } from "../../../pkg/store/index.ts";

const L = (n: number) => `sha256:${String(n).repeat(64).slice(0, 64)}`;
const T0 = "2024-01-02T03:04:05Z";

function rec(id: string, o: Partial<ImageRecord> = {}): ImageRecord {
  return {
    id: id.padEnd(64, "0"),
    names: [],
    repoDigests: [],
    manifestDigest: "sha256:m",
    manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
    layers: [L(1)],
    size: 1000,
    created: T0,
    pulled: T0,
    os: "linux",
    architecture: "amd64",
    ...o,
  };
}

const hist = (n: number, created = T0): HistoryEntry[] => Array.from({ length: n }, (_, i) => ({ created, created_by: `step ${i}` }));

// base ← child (one more layer and history entry) ← grandchild; other stands alone
const base = rec("aa", { names: [], layers: [L(1)], created: "2024-01-01T00:00:00Z" });
const child = rec("bb", { names: ["docker.io/library/app:1"], layers: [L(1), L(2)], created: "2024-02-01T00:00:00Z", labels: { stage: "build", "org.x/y": "1" } });
const other = rec("cc", { names: ["localhost/other:latest", "quay.io/team/other:2"], layers: [L(3)], created: "2024-03-01T00:00:00Z", size: 50 });
const lonely = rec("dd", { names: [], layers: [L(4)], created: "2024-04-01T00:00:00Z" });
const histories: Record<string, HistoryEntry[]> = { [base.id]: hist(1), [child.id]: hist(2), [other.id]: hist(1), [lonely.id]: hist(1) };
const history = (i: ImageRecord) => histories[i.id] ?? [];
const all = [base, child, other, lonely];

function facts(images = all, containers: Record<string, number> = {}): FilterFacts {
  return {
    history,
    labels: (i) => i.labels ?? null,
    containers: (i) => containers[i.id] ?? 0,
    lookup: (input) => {
      const hit = images.find((i) => i.id.startsWith(input) || i.names.some((n) => n.endsWith(`/${input}`)));
      if (!hit) throw noSuchImage(input);
      return hit;
    },
    now: Date.parse("2024-05-01T00:00:00Z"),
  };
}
const pick = (specs: string[], images = all, f = facts(images)) => images.filter(compileImageFilters(specs, images, f)).map((i) => i.id.slice(0, 2));

describe("parents and children", () => {
  test("a child has the parent's layers plus at most one, and its history plus one matching entry", () => {
    expect(childrenOf(base, all, history).map((i) => i.id)).toEqual([child.id]);
    expect(parentOf(child, all, history)?.id).toBe(base.id);
    expect(parentOf(base, all, history)).toBeUndefined();
    expect(isIntermediate(base, all, history)).toBe(true);
    expect(isDangling(base, all, history)).toBe(false);
    expect(isDangling(lonely, all, history)).toBe(true);
    expect(isDangling(child, all, history)).toBe(false);
  });

  test("a history entry that differs (time, text) breaks the relation", () => {
    const h2 = (i: ImageRecord) => (i.id === child.id ? hist(2, "2024-02-01T00:00:00Z") : history(i));
    expect(childrenOf(base, all, h2)).toEqual([]);
    const h3 = (i: ImageRecord) => (i.id === child.id ? [{ created: T0, created_by: "other" }, ...hist(1)] : history(i));
    expect(childrenOf(base, all, h3)).toEqual([]);
  });

  test("two more layers is not a child; an image without layers relates only to images without layers", () => {
    const far = rec("ee", { layers: [L(1), L(2), L(5)] });
    const h = (i: ImageRecord) => (i.id === far.id ? hist(2) : history(i));
    expect(childrenOf(base, [...all, far], h).map((i) => i.id)).toEqual([child.id]);
    const empty = rec("ff", { layers: [] });
    const emptyChild = rec("f0", { layers: [] });
    const he = (i: ImageRecord) => (i.id === empty.id ? hist(1) : i.id === emptyChild.id ? hist(2) : hist(2));
    expect(childrenOf(empty, [empty, emptyChild, rec("f1", { layers: [L(1)] })], he).map((i) => i.id)).toEqual([emptyChild.id]);
  });
});

describe("filters", () => {
  test("dangling and intermediate follow the relation; without names and children only", () => {
    expect(pick(["dangling=true"])).toEqual(["dd"]);
    expect(pick(["dangling=false"])).toEqual(["aa", "bb", "cc"]);
    expect(pick(["intermediate=true"])).toEqual(["aa"]);
    expect(pick(["intermediate=0", "dangling=F"])).toEqual(["bb", "cc"]);
  });

  test("reference matches the full name, the path and the last part, with and without tag, as globs", () => {
    expect(referenceCandidates("docker.io/library/app:1")).toEqual([
      "docker.io/library/app:1",
      "library/app",
      "app:1",
      "docker.io/library/app",
      "library/app:1",
      "app",
    ]);
    expect(pick(["reference=app"])).toEqual(["bb"]);
    expect(pick(["reference=app:1"])).toEqual(["bb"]);
    expect(pick(["reference=docker.io/library/app:1"])).toEqual(["bb"]);
    expect(pick(["reference=*oth*"])).toEqual(["cc"]);
    expect(pick(["reference=quay.io/team/*"])).toEqual(["cc"]);
    expect(pick(["reference=team/other:2"])).toEqual(["cc"]);
    expect(pick(["reference=app:2"])).toEqual([]);
    expect(pick(["reference=*"])).toEqual(["bb", "cc"]);
  });

  test("the same key twice is OR, different keys AND; != negates", () => {
    expect(pick(["reference=app", "reference=other"])).toEqual(["bb", "cc"]);
    expect(pick(["reference=app", "label=stage"])).toEqual(["bb"]);
    expect(pick(["reference=other", "label=stage"])).toEqual([]);
    expect(pick(["label!=stage"])).toEqual(["aa", "cc", "dd"]);
    expect(pick(["reference!=app"])).toEqual(["aa", "cc", "dd"]);
  });

  test("label: key, key=value, a key pattern with *", () => {
    expect(matchLabel("stage", { stage: "build" })).toBe(true);
    expect(matchLabel("stage=build", { stage: "build" })).toBe(true);
    expect(matchLabel("stage=run", { stage: "build" })).toBe(false);
    expect(matchLabel("org.x*", { "org.x/y": "1" })).toBe(true);
    expect(matchLabel("stage", null)).toBe(false);
    expect(pick(["label=stage=build"])).toEqual(["bb"]);
  });

  test("before, since (after) an image; until a time; id is the full ID", () => {
    expect(pick(["before=app:1"])).toEqual(["aa"]);
    expect(pick(["since=app:1"])).toEqual(["cc", "dd"]);
    expect(pick(["after=app:1"])).toEqual(["cc", "dd"]);
    expect(pick(["since=aa", "before=dd"])).toEqual(["bb", "cc"]);
    expect(pick(["until=2024-02-15T00:00:00Z"])).toEqual(["aa", "bb"]);
    expect(pick(["until=1200h"])).toEqual(["aa", "bb", "cc"]);
    expect(pick([`id=${other.id}`])).toEqual(["cc"]);
    expect(pick(["id=cc"])).toEqual([]);
  });

  test("readonly and manifest: pod has neither read-only images nor manifest lists", () => {
    expect(pick(["readonly=false"])).toEqual(["aa", "bb", "cc", "dd"]);
    expect(pick(["readonly=true"])).toEqual([]);
    expect(pick(["manifest=true"])).toEqual([]);
  });

  test("containers=true|false|external counts the containers that use an image", () => {
    const f = facts(all, { [child.id]: 2 });
    expect(pick(["containers=true"], all, f)).toEqual(["bb"]);
    expect(pick(["containers=false"], all, f)).toEqual(["aa", "cc", "dd"]);
    expect(pick(["containers=external"], all, f)).toEqual(["aa", "cc", "dd"]);
  });

  test("podman's errors", () => {
    const e = (specs: string[]) => {
      try {
        compileImageFilters(specs, all, facts());
      } catch (x) {
        return (x as Error).message;
      }
      return "no error";
    };
    expect(e(["foo"])).toBe(`invalid image filter "foo": must be in the format "filter=value or filter!=value"`);
    expect(e(["foo=bar"])).toBe(`unsupported image filter "foo"`);
    expect(e(["dangling=true", "dangling=false"])).toBe(`specifying "dangling" filter more than once with different values is not supported`);
    expect(e(["dangling=true", "dangling=true"])).toBe("no error");
    expect(e(["dangling=maybe"])).toBe(`non-boolean value "maybe" for dangling filter`);
    expect(e(["since=nope"])).toBe(`could not find local image for filter "since"="nope": nope: image not known`);
    expect(e(["until=soon"])).toBe(`failed to parse value as time or duration: "soon"`);
    expect(e(["containers=maybe"])).toBe(`unsupported value "maybe" for containers filter`);
  });
});

describe("Go's path.Match", () => {
  test("* and ? stop at /, classes, escapes, bad patterns", () => {
    expect(pathMatch("a*", "abc")).toBe(true);
    expect(pathMatch("a*", "a/b")).toBe(false);
    expect(pathMatch("a?c", "abc")).toBe(true);
    expect(pathMatch("[ab]x", "bx")).toBe(true);
    expect(pathMatch("[^ab]x", "bx")).toBe(false);
    expect(pathMatch("a\\*", "a*")).toBe(true);
    expect(pathMatch("a.c", "abc")).toBe(false);
    expect(pathMatch("[", "[")).toBe(false);
  });
});

describe("--sort", () => {
  const rows = [
    { Id: "b", Repository: "r2", Tag: "t1", Size: 5, Created: 10 },
    { Id: "a", Repository: "r1", Tag: "t3", Size: 9, Created: 30 },
    { Id: "c", Repository: "r3", Tag: "t2", Size: 1, Created: 20 },
  ];
  test("created newest first; id, repository, size, tag ascending", () => {
    expect(sortImageRows(rows, "created").map((r) => r.Id)).toEqual(["a", "c", "b"]);
    expect(sortImageRows(rows, "id").map((r) => r.Id)).toEqual(["a", "b", "c"]);
    expect(sortImageRows(rows, "repository").map((r) => r.Id)).toEqual(["a", "b", "c"]);
    expect(sortImageRows(rows, "size").map((r) => r.Id)).toEqual(["c", "b", "a"]);
    expect(sortImageRows(rows, "tag").map((r) => r.Id)).toEqual(["b", "c", "a"]);
  });
  test("an unknown field is podman's error", () => {
    expect(() => checkImageSort("name")).toThrow(`"name" is not a valid field for sorting. Choose from: created, id, repository, size, tag`);
  });
});

describe("names history", () => {
  test("added names go first, removed ones stay", () => {
    let i = addNames(rec("11"), ["a:1"]);
    i = addNames(i, ["b:1"]);
    i = { ...i, names: ["b:1"] };
    i = addNames(i, ["a:1"]);
    expect(i.names).toEqual(["b:1", "a:1"]);
    expect(i.namesHistory).toEqual(["a:1", "b:1"]);
  });
});

describe("image tree and history", () => {
  test("layer IDs are podman's: the base diffID, then sha256 of parent+diffID", () => {
    const ids = layerIds([L(1), L(2)]);
    expect(ids[0]).toBe(L(1).slice(7));
    expect(ids[1]).toBe(new Bun.CryptoHasher("sha256").update(`${ids[0]}+${L(2).slice(7)}`).digest("hex"));
  });

  test("go-units sizes with 4 digits", () => {
    expect(goSize(1_986_123, 4)).toBe("1.986MB");
    expect(goSize(2048, 4)).toBe("2.048kB");
    expect(goSize(0, 4)).toBe("0B");
    expect(goSize(1000, 4)).toBe("1kB");
  });

  const size = (d: string) => (d === L(1) ? 1_985_000 : 2048);
  test("tree: the image's layers bottom up, each naming the images it tops", () => {
    const [a, b] = layerIds([L(1), L(2)]).map((x) => x.slice(0, 12));
    expect(renderImageTree(child, all, size, false)).toBe(
      `Image ID: bb0000000000\nTags:     [docker.io/library/app:1]\nSize:     1kB\nImage Layers\n` +
        `├── ID: ${a} Size: 1.985MB\n` +
        `└── ID: ${b} Size: 2.048kB Top Layer of: [docker.io/library/app:1]\n`,
    );
  });

  test("--whatrequires: the top layer and what is built on it; siblings branch", () => {
    const sib = rec("ab", { names: ["localhost/sib:1"], layers: [L(1), L(6)] });
    const [a, b] = layerIds([L(1), L(2)]).map((x) => x.slice(0, 12));
    const s = layerIds([L(1), L(6)])[1]!.slice(0, 12);
    expect(renderImageTree(base, [base, child, sib], size, true)).toBe(
      `Image ID: aa0000000000\nTags:     []\nSize:     1kB\nImage Layers\n` +
        `├── ID: ${a} Size: 1.985MB\n` +
        `├── ID: ${b} Size: 2.048kB Top Layer of: [docker.io/library/app:1]\n` +
        `└── ID: ${s} Size: 2.048kB Top Layer of: [localhost/sib:1]\n`,
    );
    expect(renderImageTree(rec("99", { layers: [] }), [], size, true)).toBe(`Image ID: 990000000000\nTags:     []\nSize:     1kB\nNo Image Layers\n`);
  });

  test("history: newest first, a layer's size on the entry that made it, the first image a layer tops on the first entry that reaches it", () => {
    const h: HistoryEntry[] = [
      { created: T0, created_by: "ADD base" },
      { created: T0, created_by: "ENV x", empty_layer: true },
      { created: T0, created_by: "COPY f", comment: "c" },
    ];
    const r = imageHistory(child, h, all, size);
    expect(r.map((x) => [x.id.slice(0, 2), x.createdBy, x.size, x.comment])).toEqual([
      ["bb", "COPY f", 2048, "c"],
      ["aa", "ENV x", 0, ""],
      ["<m", "ADD base", 1_985_000, ""],
    ]);
  });
});
