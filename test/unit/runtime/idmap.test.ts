// The container's id maps: the storage maps as they are, or keep-id.
import { describe, expect, test } from "bun:test";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { containerIdMaps, idIsMapped, keepIdMap } from "../../../pkg/runtime/index.ts";
import { thrown } from "./_layers.ts";

/** Host id of container id `id` through a flattened map. */
function hostOf(map: number[], id: number): number | undefined {
  for (let i = 0; i + 2 < map.length; i += 3) {
    if (id >= map[i]! && id < map[i]! + map[i + 2]!) return map[i + 1]! + (id - map[i]!);
  }
  return undefined;
}

const storage = { uid: [0, 1000, 1, 1, 100000, 65536], gid: [0, 1000, 1, 1, 100000, 65536] };

describe("default", () => {
  test("the storage maps, unchanged", () => {
    expect(containerIdMaps(storage, "", 1000, 1000)).toEqual(storage);
  });
});

describe("keep-id", () => {
  test("U=1000 swaps 0 and 1000 and keeps every other storage id", () => {
    const want = [0, 100999, 1, 1, 100000, 999, 1000, 1000, 1, 1001, 101000, 64536];
    expect(keepIdMap(storage.uid, 1000, "uid")).toEqual(want);
    expect(containerIdMaps(storage, "keep-id", 1000, 1000)).toEqual({ uid: want, gid: want });
  });

  test("is a bijection onto the same host ids", () => {
    const m = keepIdMap(storage.uid, 1000, "uid");
    const hosts = new Set<number>();
    for (let id = 0; id <= 65536; id++) hosts.add(hostOf(m, id)!);
    expect(hosts.size).toBe(65537);
    const lost: number[] = [];
    for (let id = 0; id <= 65536; id++) if (!hosts.has(hostOf(storage.uid, id)!)) lost.push(id);
    expect(lost).toEqual([]);
    expect(hostOf(m, 1000)).toBe(1000);
    expect(hostOf(m, 0)).toBe(hostOf(storage.uid, 1000));
    expect(hostOf(m, 5)).toBe(hostOf(storage.uid, 5));
    expect(hostOf(m, 65537)).toBeUndefined();
  });

  test("uid and gid are handled separately", () => {
    const m = containerIdMaps(storage, "keep-id", 1000, 100);
    expect(m.gid).toEqual([0, 100099, 1, 1, 100000, 99, 100, 1000, 1, 101, 100100, 65436]);
  });

  test("storage ranges split over several subordinate ranges", () => {
    const split = [0, 1000, 1, 1, 100000, 500, 501, 300000, 1000];
    const m = keepIdMap(split, 700, "uid");
    expect(m).toEqual([0, 300199, 1, 1, 100000, 500, 501, 300000, 199, 700, 1000, 1, 701, 300200, 800]);
  });

  test("small ids: U = 1 and U = 0", () => {
    expect(keepIdMap(storage.uid, 1, "uid")).toEqual([0, 100000, 1, 1, 1000, 1, 2, 100001, 65535]);
    expect(keepIdMap(storage.uid, 0, "uid")).toEqual(storage.uid);
  });

  test("the single-id fallback cannot keep ids", () => {
    const e = thrown(() => containerIdMaps({ uid: [0, 1000, 1], gid: [0, 1000, 1] }, "keep-id", 1000, 1000));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toContain("keep-id");
    expect(e.hint).toContain("usermod --add-subuids");
  });

  test("a uid beyond the mapped range", () => {
    const e = thrown(() => keepIdMap([0, 70000, 1, 1, 100000, 65536], 70000, "uid"));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toContain("70000");
  });
});

test("other --userns values are usage errors naming the value", () => {
  for (const v of ["auto", "nomap", "keep-id:bogus=5", "ns:/proc/1/ns/user", "private"]) {
    const e = thrown(() => containerIdMaps(storage, v, 1000, 1000));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain(v);
  }
});

test("idIsMapped", () => {
  expect(idIsMapped(storage.uid, 0)).toBe(true);
  expect(idIsMapped(storage.uid, 65536)).toBe(true);
  expect(idIsMapped(storage.uid, 65537)).toBe(false);
  expect(idIsMapped([0, 1000, 1], 1)).toBe(false);
});
