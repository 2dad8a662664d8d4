import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanPath, createMatcher, loadIgnore, readPatterns } from "../../../pkg/build/ignore.ts";

const m = (text: string) => createMatcher(readPatterns(text));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("ignore files", () => {
  test("patterns are cleaned, leading / dropped, # only in column one", () => {
    expect(readPatterns("# c\n  /a/b/../c/ \n!./d\n\n #x\n")).toEqual(["a/c", "!d", "#x"]);
    expect(cleanPath("a//b/./c/..")).toBe("a/b");
  });

  test("docker's documented example", () => {
    const x = m("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
    expect(x.excluded("somedir/temporary.txt")).toBe(true);
    expect(x.excluded("somedir/temp")).toBe(true);
    expect(x.excluded("somedir/subdir/temporary.txt")).toBe(true);
    expect(x.excluded("tempa")).toBe(true);
    expect(x.excluded("temp")).toBe(false);
    expect(x.excluded("temporary.txt")).toBe(false);
    expect(x.excluded("a/b/c/temp")).toBe(false);
  });

  test("** spans directories", () => {
    const x = m("**/*.go\n");
    expect(x.excluded("main.go")).toBe(true);
    expect(x.excluded("a/b/c.go")).toBe(true);
    expect(x.excluded("a/b/c.gone")).toBe(false);
    expect(m("a/**\n").excluded("a/b/c")).toBe(true);
    expect(m("a/**/z\n").excluded("a/z")).toBe(true);
    expect(m("a/**/z\n").excluded("a/b/c/z")).toBe(true);
  });

  test("exceptions and last match wins (docker's README examples)", () => {
    const a = m("*.md\n!README.md\n");
    expect(a.excluded("CHANGES.md")).toBe(true);
    expect(a.excluded("README.md")).toBe(false);
    const b = m("*.md\n!README*.md\nREADME-secret.md\n");
    expect(b.excluded("README-secret.md")).toBe(true);
    expect(b.excluded("README-public.md")).toBe(false);
    const c = m("*.md\nREADME-secret.md\n!README*.md\n");
    expect(c.excluded("README-secret.md")).toBe(false);
  });

  test("an excluded directory excludes its contents; exceptions below it", () => {
    const x = m("build\n!build/keep.txt\n");
    expect(x.excluded("build")).toBe(true);
    expect(x.excluded("build/out.o")).toBe(true);
    expect(x.excluded("build/keep.txt")).toBe(false);
    expect(x.mayHaveExceptionsBelow("build")).toBe(true);
    expect(x.mayHaveExceptionsBelow("other")).toBe(false);
    const y = m("node_modules\n");
    expect(y.excluded("node_modules/x/y.js")).toBe(true);
    expect(y.mayHaveExceptionsBelow("node_modules")).toBe(false);
    const z = m("*\n!**/keep\n");
    expect(z.mayHaveExceptionsBelow("deep/er")).toBe(true);
    expect(z.excluded("deep/er/keep")).toBe(false);
    expect(m("a\n!b/*/c\n").mayHaveExceptionsBelow("a")).toBe(false);
  });

  test("? and [...] stay inside one element; escapes", () => {
    expect(m("a?c\n").excluded("abc")).toBe(true);
    expect(m("a?c\n").excluded("a/c")).toBe(false);
    expect(m("[ab].txt\n").excluded("b.txt")).toBe(true);
    expect(m("[ab].txt\n").excluded("c.txt")).toBe(false);
    expect(m("a\\*b\n").excluded("a*b")).toBe(true);
    expect(m("a\\*b\n").excluded("axb")).toBe(false);
    expect(m("a.b\n").excluded("axb")).toBe(false);
  });

  test("loadIgnore prefers .containerignore over .dockerignore", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pod-build-ignore-"));
    dirs.push(dir);
    expect((await loadIgnore(dir)).excluded("x")).toBe(false);
    writeFileSync(join(dir, ".dockerignore"), "d\n");
    expect((await loadIgnore(dir)).excluded("d")).toBe(true);
    writeFileSync(join(dir, ".containerignore"), "c\n");
    const mm = await loadIgnore(dir);
    expect([mm.excluded("c"), mm.excluded("d"), mm.source]).toEqual([true, false, join(dir, ".containerignore")]);
    await expect(loadIgnore(dir, join(dir, "nope"))).rejects.toThrow("no such file or directory");
  });
});
