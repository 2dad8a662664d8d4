// --label, --label-file, --annotation, the image's labels under the container's, and --tz's zone file.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { mergeLabels, parseAnnotations, parseLabelFile, parseLabels, timezoneFile } from "../../../pkg/runtime/index.ts";
import { removeScratch, scratchDir, thrown } from "./_layers.ts";

afterAll(removeScratch);

describe("labels", () => {
  test("KEY=VALUE, a lone KEY is an empty value, later wins, values keep their = and spaces", () => {
    expect(parseLabels(["a=1", "b", "c=x=y", "a=2", "d= spaced "])).toEqual({ a: "2", b: "", c: "x=y", d: " spaced " });
  });
  test("label files: comments and blank lines skipped, --label over the file", () => {
    const dir = scratchDir();
    const f = join(dir, "labels");
    writeFileSync(f, "\uFEFF# owner\n\napp=web\r\n  tier=front\nempty\n");
    expect(parseLabelFile("# c\n\nk=v\n")).toEqual([["k", "v"]]);
    expect(parseLabels(["tier=back"], [f])).toEqual({ app: "web", tier: "back", empty: "" });
  });
  test("an empty key or one with whitespace is a usage error; a missing file names its path", () => {
    for (const bad of ["=x", "", "a b=1"]) expect(thrown(() => parseLabels([bad]))).toBeInstanceOf(UsageError);
    expect(thrown(() => parseLabelFile("ok=1\n=oops\n", "/f")).message).toBe('invalid label "=oops" on line 2 of /f: empty key');
    const e = thrown(() => parseLabels([], ["/nonexistent/labels"]));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe("reading label file /nonexistent/labels: no such file or directory");
  });
  test("the image's labels sit under the container's", () => {
    expect(mergeLabels({ maintainer: "x", version: "1" }, { version: "2" })).toEqual({ maintainer: "x", version: "2" });
    expect(mergeLabels(null, { a: "1" })).toEqual({ a: "1" });
    expect(mergeLabels({ n: 3 }, {})).toEqual({});
  });
});

describe("annotations", () => {
  test("KEY=VALUE only", () => {
    expect(parseAnnotations(["a=1", "b=x=y", "c="])).toEqual({ a: "1", b: "x=y", c: "" });
    for (const bad of ["novalue", "=1"]) {
      const e = thrown(() => parseAnnotations([bad]));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain("annotations must be formatted KEY=VALUE");
    }
  });
});

describe("timezoneFile", () => {
  test("a zone under zoneinfo, symlinks resolved; local is /etc/localtime resolved", () => {
    const dir = scratchDir();
    mkdirSync(join(dir, "zi/Europe"), { recursive: true });
    writeFileSync(join(dir, "zi/Europe/Berlin"), "TZif");
    symlinkSync("Europe/Berlin", join(dir, "zi/CET-link"));
    symlinkSync(join(dir, "zi/Europe/Berlin"), join(dir, "localtime"));
    expect(timezoneFile("Europe/Berlin", join(dir, "zi"))).toBe(join(dir, "zi/Europe/Berlin"));
    expect(timezoneFile("CET-link", join(dir, "zi"))).toBe(join(dir, "zi/Europe/Berlin"));
    expect(timezoneFile("local", join(dir, "zi"), join(dir, "localtime"))).toBe(join(dir, "zi/Europe/Berlin"));
  });
  test("unknown zones, directories, absolute paths and .. are podman's unknown time zone", () => {
    const dir = scratchDir();
    mkdirSync(join(dir, "zi/Europe"), { recursive: true });
    for (const tz of ["Mars/Olympus", "Europe", "/etc/passwd", "../../etc/passwd", ""]) {
      const e = thrown(() => timezoneFile(tz, join(dir, "zi")));
      expect(e).toBeInstanceOf(PodError);
      expect(e.message).toBe(`finding timezone: unknown time zone ${tz}`);
    }
  });
});
