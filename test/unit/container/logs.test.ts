// `logs --since/--until` times (podman's util.ParseInputTime) and which lines
// --tail, --since and --until keep.
import { describe, expect, test } from "bun:test";
import { parseGoDuration, parseSince, parseTime, parseUntil, selectLines, type LogLine } from "../../../pkg/container/io/logs.ts";

const NOW = Date.parse("2026-11-23T12:00:00Z");

describe("times", () => {
  test("RFC 3339 with and without fractions and zones; podman's shorter layouts are UTC", () => {
    expect(parseTime("2026-11-23T10:00:00Z")).toBe(Date.parse("2026-11-23T10:00:00Z"));
    expect(parseTime("2026-11-23T10:00:00.123456789Z")).toBe(Date.parse("2026-11-23T10:00:00.123Z"));
    expect(parseTime("2026-11-23T10:00:00+02:00")).toBe(Date.parse("2026-11-23T08:00:00Z"));
    expect(parseTime("2026-11-23T10:00:00")).toBe(Date.parse("2026-11-23T10:00:00Z"));
    expect(parseTime("2026-11-23T10:00:00.5")).toBe(Date.parse("2026-11-23T10:00:00.500Z"));
    expect(parseTime("2026-11-23")).toBe(Date.parse("2026-11-23T00:00:00Z"));
    expect(parseTime("2026-11-23-05:00")).toBe(Date.parse("2026-11-23T05:00:00Z"));
  });

  test("Unix seconds, with a fraction", () => {
    expect(parseTime("1700000000")).toBe(1_700_000_000_000);
    expect(parseTime("1700000000.25")).toBe(1_700_000_000_250);
  });

  test("Go durations: back from now for --since, forward for --until", () => {
    expect(parseSince("10m", NOW)).toBe(NOW - 600_000);
    expect(parseUntil("10m", NOW)).toBe(NOW + 600_000);
    expect(parseSince("1h30m", NOW)).toBe(NOW - 5_400_000);
    expect(parseSince("1.5h", NOW)).toBe(NOW - 5_400_000);
    expect(parseSince("-10s", NOW)).toBe(NOW + 10_000);
    // a bare number is Unix seconds before it could be a duration, as in podman
    expect(parseSince("0", NOW)).toBe(0);
  });

  test("Go's duration grammar: units ns to h, fractions, signs; a number needs a unit", () => {
    expect(parseGoDuration("300ms")).toBe(300);
    expect(parseGoDuration("2h45m30.5s")).toBe(9_930_500);
    expect(parseGoDuration("1500us")).toBe(1.5);
    expect(parseGoDuration("10")).toBeUndefined();
    expect(parseGoDuration("10d")).toBeUndefined();
    expect(parseGoDuration("")).toBeUndefined();
  });

  test("anything else is undefined", () => {
    for (const v of ["yesterday-ish", "", "10 m", "2026-13-45", "T10:00:00Z", "1e9x"]) expect(parseTime(v, NOW)).toBeUndefined();
  });
});

describe("selectLines", () => {
  const line = (s: number, text: string): LogLine => ({ time: new Date(NOW + s * 1000).toISOString(), stream: "stdout", text, partial: false });
  const lines = [line(0, "a"), line(10, "b"), line(20, "c"), line(30, "d")];
  const texts = (q: Parameters<typeof selectLines>[1]) => selectLines(lines, q).map((l) => l.text);

  test("--until keeps lines before it; --since lines from it on", () => {
    expect(texts({ until: NOW + 20_000, timestamps: false })).toEqual(["a", "b"]);
    expect(texts({ since: NOW + 10_000, timestamps: false })).toEqual(["b", "c", "d"]);
    expect(texts({ since: NOW + 5_000, until: NOW + 25_000, timestamps: false })).toEqual(["b", "c"]);
    expect(texts({ since: NOW + 25_000, until: NOW + 5_000, timestamps: false })).toEqual([]);
  });

  test("--tail takes the last lines first, then the window applies to them (podman's order)", () => {
    expect(texts({ tail: 2, timestamps: false })).toEqual(["c", "d"]);
    expect(texts({ tail: 2, until: NOW + 25_000, timestamps: false })).toEqual(["c"]);
    expect(texts({ tail: 0, timestamps: false })).toEqual([]);
    expect(texts({ tail: 9, since: NOW + 10_000, timestamps: false })).toEqual(["b", "c", "d"]);
  });
});
