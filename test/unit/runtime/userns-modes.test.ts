// --userns modes beyond keep-id, keep-id's uid=/gid=, and --uidmap/--gidmap composed with the storage maps.
import { describe, expect, test } from "bun:test";
import { containerIdMaps, keepIdIds, parseIdMapFlags, parseUserns } from "../../../pkg/runtime/index.ts";

const storage = { uid: [0, 1000, 1, 1, 100000, 65536], gid: [0, 1000, 1, 1, 100000, 65536] };
const single = { uid: [0, 1000, 1], gid: [0, 1000, 1] };

describe("parseUserns", () => {
  test("host and the default are the storage mapping", () => {
    expect(parseUserns("host")).toEqual({ kind: "host" });
    expect(containerIdMaps(storage, "host", 1000, 1000)).toEqual(storage);
    expect(containerIdMaps(single, "host", 1000, 1000)).toEqual(single);
  });
  test("keep-id with uid= and gid=", () => {
    expect(parseUserns("keep-id:uid=200,gid=210")).toEqual({ kind: "keep-id", uid: 200, gid: 210 });
    expect(keepIdIds("keep-id:uid=200", 1000, 1001)).toEqual({ uid: 200, gid: 1001 });
    expect(keepIdIds("keep-id", 1000, 1001)).toEqual({ uid: 1000, gid: 1001 });
    expect(keepIdIds("", 1000, 1001)).toBeUndefined();
    const m = containerIdMaps(storage, "keep-id:uid=200,gid=210", 1000, 1000);
    // container 200 is storage 0 (you), container 0 is storage 200
    expect(m.uid).toEqual([0, 100199, 1, 1, 100000, 199, 200, 1000, 1, 201, 100200, 65336]);
    expect(m.gid.slice(0, 3)).toEqual([0, 100209, 1]);
  });
  test("keep-id options other than uid and gid are refused", () => {
    expect(() => parseUserns("keep-id:size=10")).toThrow('unknown or malformed option "size=10"');
    expect(() => parseUserns("keep-id:uid=x")).toThrow("malformed");
  });
  test("nomap and auto are refused with the reason", () => {
    expect(() => parseUserns("nomap")).toThrow("--userns nomap is not supported by pod");
    expect(() => parseUserns("auto:size=1024")).toThrow("--userns auto:size=1024 is not supported by pod");
    expect(() => parseUserns("bogus")).toThrow("unrecognized namespace mode bogus passed");
  });
});

describe("--uidmap/--gidmap", () => {
  test("host ids are storage ids: 0 is you, 1.. the subordinate range", () => {
    expect(parseIdMapFlags("uidmap", ["0:0:1", "1:1:1000"], storage.uid)).toEqual([0, 1000, 1, 1, 100000, 1000]);
    expect(parseIdMapFlags("uidmap", ["0:0:1,1000:500:10"], storage.uid)).toEqual([0, 1000, 1, 1000, 100499, 10]);
  });
  test("a range across the storage map's segments is split", () => {
    expect(parseIdMapFlags("uidmap", ["0:0:3"], storage.uid)).toEqual([0, 1000, 1, 1, 100000, 2]);
  });
  test("without --gidmap the uid map serves both", () => {
    const m = containerIdMaps(storage, "", 1000, 1000, { uidmap: ["0:0:1", "1:1:10"] });
    expect(m.gid).toEqual(m.uid);
  });
  test("refusals: syntax, overlap, outside the range, container 0 or host 0 unmapped, with --userns", () => {
    expect(() => parseIdMapFlags("uidmap", ["0:0"], storage.uid)).toThrow("want CONTAINER_ID:HOST_ID:AMOUNT");
    expect(() => parseIdMapFlags("uidmap", ["0:0:0"], storage.uid)).toThrow("want CONTAINER_ID:HOST_ID:AMOUNT");
    expect(() => parseIdMapFlags("uidmap", ["0:0:10", "5:100:10"], storage.uid)).toThrow("the ranges overlap");
    expect(() => parseIdMapFlags("uidmap", ["0:0:10", "100:5:10"], storage.uid)).toThrow("the ranges overlap");
    expect(() => parseIdMapFlags("uidmap", ["0:0:70000"], storage.uid)).toThrow("outside the 65537 ids pod can map");
    expect(() => parseIdMapFlags("uidmap", ["0:0:2"], single.uid)).toThrow("outside the 1 ids");
    expect(() => parseIdMapFlags("uidmap", ["1:0:1"], storage.uid)).toThrow("does not map container uid 0");
    expect(() => parseIdMapFlags("gidmap", ["0:1:100"], storage.gid)).toThrow("does not map host gid 0 (you)");
    expect(() => containerIdMaps(storage, "keep-id", 1000, 1000, { uidmap: ["0:0:1"] })).toThrow("cannot be used together");
  });
});
