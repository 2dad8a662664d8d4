// The import rules AGENTS.md states, checked over every .ts under cmd/ and pkg/:
// bun:ffi only in pkg/native, citty only in cmd/, cmd/ never imports
// pkg/native, and pkg/ folders import only along the one-way order.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const repo = resolve(import.meta.dir, "../../..");

/** AGENTS.md's order, lowest first; a folder may import its own tier and the ones below. */
const tiers: string[][] = [
  ["errors", "output"],
  ["config", "image", "registry", "layer", "native", "security"],
  ["userns", "cgroup"],
  ["store", "events"],
  ["runtime", "rootfs", "network"],
  ["volume", "secret"],
  ["pull", "catalog", "auth", "system", "container", "doctor", "completion", "archive", "push", "build", "manifest"],
];

/** AGENTS.md's exceptions: `volume rm -f` removes the containers that use a volume. */
const exceptions = new Set(["pkg/volume/manage.ts -> pkg/container/record/records.ts", "pkg/volume/manage.ts -> pkg/container/index.ts"]);

function sources(dir: string): string[] {
  return readdirSync(join(repo, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => relative(repo, join(e.parentPath, e.name)))
    .sort();
}

/** Every module specifier of static imports, re-exports and dynamic import() calls. */
export function specifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const m of code.matchAll(/(?:^|[;\s])(?:import|export)\s[^;"']*?from\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of code.matchAll(/(?:^|[;\s])import\s*["']([^"']+)["']/g)) found.push(m[1]!);
  for (const m of code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

type Edge = { file: string; spec: string; target?: string };

function edges(file: string): Edge[] {
  return specifiers(readFileSync(join(repo, file), "utf8")).map((spec) => ({
    file,
    spec,
    target: spec.startsWith(".") ? relative(repo, resolve(dirname(join(repo, file)), spec)) : undefined,
  }));
}

/** pkg/store/lock.ts → store; pkg/errors.ts → errors */
const folderOf = (path: string) => path.split("/")[1]!.replace(/\.ts$/, "");
const tierOf = (folder: string) => tiers.findIndex((t) => t.includes(folder));

const all = [...sources("cmd"), ...sources("pkg")].flatMap(edges);

describe("imports", () => {
  test("the scan sees the tree", () => {
    expect(all.length).toBeGreaterThan(200);
    expect(all.some((e) => e.spec === "bun:ffi")).toBe(true);
  });

  test("bun:ffi only in pkg/native", () => {
    expect(all.filter((e) => e.spec === "bun:ffi" && !e.file.startsWith("pkg/native/")).map((e) => e.file)).toEqual([]);
  });

  test("citty only in cmd/", () => {
    expect(all.filter((e) => (e.spec === "citty" || e.spec.startsWith("citty/")) && !e.file.startsWith("cmd/")).map((e) => e.file)).toEqual([]);
  });

  test("cmd/ never imports pkg/native", () => {
    expect(all.filter((e) => e.file.startsWith("cmd/") && e.target?.startsWith("pkg/native/")).map((e) => `${e.file} -> ${e.target}`)).toEqual([]);
  });

  test("pkg/ never imports cmd/", () => {
    expect(all.filter((e) => e.file.startsWith("pkg/") && e.target?.startsWith("cmd/")).map((e) => `${e.file} -> ${e.target}`)).toEqual([]);
  });

  test("every pkg/ folder has a place in the order", () => {
    const folders = new Set(sources("pkg").map(folderOf));
    expect([...folders].filter((f) => tierOf(f) < 0)).toEqual([]);
  });

  test("pkg/ imports go one way", () => {
    const wrong = all
      .filter((e) => e.file.startsWith("pkg/") && e.target?.startsWith("pkg/"))
      .filter((e) => tierOf(folderOf(e.target!)) > tierOf(folderOf(e.file)))
      .map((e) => `${e.file} -> ${e.target}`)
      .filter((e) => !exceptions.has(e));
    expect(wrong).toEqual([]);
  });

  test("no two pkg/ folders import each other both ways", () => {
    const pairs = new Set(
      all
        .filter((e) => e.file.startsWith("pkg/") && e.target?.startsWith("pkg/") && folderOf(e.file) !== folderOf(e.target))
        .filter((e) => !exceptions.has(`${e.file} -> ${e.target}`))
        .map((e) => `${folderOf(e.file)} ${folderOf(e.target!)}`),
    );
    expect([...pairs].filter((p) => pairs.has(p.split(" ").reverse().join(" ")))).toEqual([]);
  });

  test("the exceptions are still needed", () => {
    const seen = new Set(all.map((e) => `${e.file} -> ${e.target}`));
    expect([...exceptions].filter((x) => !seen.has(x))).toEqual([]);
  });
});

test("specifiers finds static, type, re-export and dynamic imports, not comments", () => {
  const text = [
    `import { a } from "./a.ts";`,
    `import type { B } from "../b/index.ts";`,
    `export { c } from "./c.ts";`,
    `import "./side.ts";`,
    `const m = await import("../container/fs-job.ts");`,
    `// import { x } from "./commented.ts";`,
    `/* import("./block.ts") */`,
    `import {\n  d,\n  e,\n} from "./multi.ts";`,
  ].join("\n");
  expect(specifiers(text)).toEqual(["./a.ts", "../b/index.ts", "./c.ts", "./multi.ts", "./side.ts", "../container/fs-job.ts"]);
});
