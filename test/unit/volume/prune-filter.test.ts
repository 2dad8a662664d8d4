// volume prune --filter: podman's keys, how values combine, and what fails before anything is removed.
import { describe, expect, test } from "bun:test";
import { parsePruneFilters } from "../../../pkg/volume/prune-filter.ts";
import type { VolumeRecord } from "../../../pkg/volume/records.ts";

const now = Date.parse("2026-01-02T00:00:00Z");
const vol = (name: string, labels: Record<string, string>, createdAt: string): VolumeRecord => ({ name, labels, createdAt, anonymous: false, needsCopyUp: false });
const vols = [vol("a", { tmp: "" }, "2026-01-01T00:00:00Z"), vol("b", { tmp: "1", app: "web" }, "2026-01-01T23:30:00Z"), vol("c", {}, "2025-06-01T00:00:00Z")];
const pick = (...f: string[]) => vols.filter(parsePruneFilters(f, now)).map((v) => v.name);

describe("volume prune filters", () => {
  test("no filter matches everything", () => expect(pick()).toEqual(["a", "b", "c"]));
  test("label= by key and by key=value", () => {
    expect(pick("label=tmp")).toEqual(["a", "b"]);
    expect(pick("label=tmp=1")).toEqual(["b"]);
  });
  test("label!= excludes", () => expect(pick("label!=tmp")).toEqual(["c"]));
  test("every label filter must hold", () => expect(pick("label=tmp", "label=app")).toEqual(["b"]));
  test("until= takes durations and times", () => {
    expect(pick("until=1h")).toEqual(["a", "c"]);
    expect(pick("until=2026-01-01T12:00:00Z")).toEqual(["a", "c"]);
    expect(pick("until=1h", "label=tmp")).toEqual(["a"]);
  });
  test("unknown keys, missing values and bad times fail", () => {
    expect(() => parsePruneFilters(["name=a"])).toThrow(/not a volume prune filter/);
    expect(() => parsePruneFilters(["label="])).toThrow(/needs a value/);
    expect(() => parsePruneFilters(["until=soon"])).toThrow(/failed to parse value as time or duration/);
  });
});
