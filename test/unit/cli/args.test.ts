import { describe, expect, test } from "bun:test";
import { parseArgv, suggest, type PodArgs } from "../../../cmd/_args.ts";
import { UsageError } from "../../../pkg/errors.ts";

const defs: PodArgs = {
  quiet: { type: "boolean", alias: "q" },
  all: { type: "boolean", alias: "a" },
  format: { type: "string" },
  volume: { type: "string", alias: "v", multiple: true },
  pull: { type: "enum", options: ["always", "missing", "never"] },
  "tls-verify": { type: "boolean", default: true },
  image: { type: "positional" },
};

describe("parseArgv", () => {
  test("flags, values and positionals", () => {
    const p = parseArgv(["-q", "--format", "json", "alpine"], defs, "x");
    expect(p).toMatchObject({ quiet: true, format: "json", _: ["alpine"] });
  });
  test("--flag=value and combined short booleans", () => {
    expect(parseArgv(["--format={{.ID}}", "-qa"], defs, "x")).toMatchObject({ format: "{{.ID}}", quiet: true, all: true });
  });
  test("repeatable flags keep every value", () => {
    expect(parseArgv(["-v", "a:/a", "-v", "b:/b", "--volume=c:/c"], defs, "x").volume).toEqual(["a:/a", "b:/b", "c:/c"]);
  });
  test("boolean with explicit value", () => {
    expect(parseArgv(["--tls-verify=false"], defs, "x")["tls-verify"]).toBe(false);
    expect(parseArgv([], defs, "x")["tls-verify"]).toBe(true);
    expect(() => parseArgv(["--tls-verify=maybe"], defs, "x")).toThrow(UsageError);
  });
  test("unknown flag is an error with a suggestion", () => {
    try {
      parseArgv(["--formt", "json"], defs, "images");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(UsageError);
      expect((e as UsageError).message).toBe("unknown flag: --formt");
      expect((e as UsageError).hint).toContain("--format");
      expect((e as UsageError).exit).toBe(125);
    }
  });
  test("missing value and closed vocabularies", () => {
    expect(() => parseArgv(["--format"], defs, "x")).toThrow("flag needs an argument: --format");
    expect(() => parseArgv(["--pull", "sometimes"], defs, "x")).toThrow(/expected one of always, missing, never/);
  });
  test("non-interspersed commands stop at the first positional", () => {
    const p = parseArgv(["-q", "alpine", "sh", "-c", "echo -q"], defs, "run", false);
    expect(p._).toEqual(["alpine", "sh", "-c", "echo -q"]);
    expect(p.quiet).toBe(true);
  });
  test("everything after -- is positional", () => {
    expect(parseArgv(["--", "-q"], defs, "x")._).toEqual(["-q"]);
  });
});

test("suggest finds near misses only", () => {
  expect(suggest("imgaes", ["images", "pull", "tag"])).toBe("images");
  expect(suggest("zzzzzz", ["images", "pull"])).toBeUndefined();
});
