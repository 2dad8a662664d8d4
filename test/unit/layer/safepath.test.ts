import { describe, expect, test } from "bun:test";
import { cleanEntryPath } from "../../../pkg/layer/index.ts";

describe("cleanEntryPath", () => {
  const clean: [string, string][] = [
    ["usr/bin/sh", "usr/bin/sh"],
    ["./usr/bin/", "usr/bin"],
    ["/etc/passwd", "etc/passwd"],
    ["//a//b/./c", "a/b/c"],
    ["a/b/../c", "a/c"],
    ["a/..", ""],
    ["./", ""],
    ["/", ""],
    ["..a/b..", "..a/b.."],
    ["a\\..\\b", "a\\..\\b"],
  ];
  for (const [raw, want] of clean) test(`${JSON.stringify(raw)} → ${JSON.stringify(want)}`, () => expect(cleanEntryPath(raw)).toBe(want));

  const escapes = ["..", "../x", "a/../../x", "/../x", "./a/b/../../../x"];
  for (const raw of escapes) {
    test(`${JSON.stringify(raw)} escapes`, () => expect(() => cleanEntryPath(raw)).toThrow(`entry ${JSON.stringify(raw)} escapes the layer root`));
  }

  test("caps names at 255 bytes and paths at 4096, counting UTF-8 bytes", () => {
    expect(cleanEntryPath("n".repeat(255))).toHaveLength(255);
    expect(() => cleanEntryPath("é".repeat(128))).toThrow("a name is longer than 255 bytes");
    expect(() => cleanEntryPath("ab/".repeat(1366))).toThrow("path is longer than 4096 bytes");
  });
});
