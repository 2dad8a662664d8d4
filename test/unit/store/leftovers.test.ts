import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { atomicTempPid, jobFilePid, staleAtomicTemps, staleJobFiles, staleTmpEntries, tmpEntryPid } from "../../../pkg/store/leftovers.ts";
import { summarizeTree, treeMismatch } from "../../../pkg/store/tree.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-leftovers-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const alive = (pid: number) => pid === 100;

test("names carry their creator's pid", () => {
  expect(atomicTempPid(".images.json.4242.k3j2h1g0.tmp")).toBe(4242);
  expect(atomicTempPid(".job-1-abc.json.result.77.x9.tmp")).toBe(77);
  expect(atomicTempPid("images.json")).toBeUndefined();
  expect(jobFilePid("job-4242-abc123.json")).toBe(4242);
  expect(jobFilePid("job-4242-abc123.json.result")).toBe(4242);
  expect(jobFilePid("job-x-abc.json")).toBeUndefined();
  expect(jobFilePid("rootfs-driver")).toBeUndefined();
  expect(tmpEntryPid("4242-ab12cd34-layer")).toBe(4242);
  expect(tmpEntryPid("4242-rm-" + "a".repeat(64))).toBe(4242);
  expect(tmpEntryPid("stray")).toBeNaN();
});

test("only dead pids' files are stale", () => {
  const run = join(tmp, "run");
  mkdirSync(run);
  for (const n of ["job-100-a.json", "job-100-a.json.result", "job-200-b.json", "job-200-b.json.result", ".job-200-b.json.200.zz.tmp", ".job-100-a.json.result.300.q.tmp", "rootfs-driver", ".rootfs-driver.200.r.tmp"])
    writeFileSync(join(run, n), "");
  expect(staleJobFiles(run, alive).map((p) => p.slice(run.length + 1)).sort()).toEqual([
    ".job-100-a.json.result.300.q.tmp",
    ".job-200-b.json.200.zz.tmp",
    "job-200-b.json",
    "job-200-b.json.result",
  ]);
  expect(staleAtomicTemps(run, alive).map((p) => p.slice(run.length + 1)).sort()).toEqual([
    ".job-100-a.json.result.300.q.tmp",
    ".job-200-b.json.200.zz.tmp",
    ".rootfs-driver.200.r.tmp",
  ]);
  expect(staleJobFiles(join(tmp, "missing"), alive)).toEqual([]);
});

test("tmp/ entries of dead pids and without a pid are stale", () => {
  const root = join(tmp, "root");
  mkdirSync(join(root, "tmp"), { recursive: true });
  for (const n of ["100-live-layer", "200-dead-layer", "stray", "0-zero"]) mkdirSync(join(root, "tmp", n));
  expect(staleTmpEntries(root, alive).map((p) => p.slice(root.length + 5)).sort()).toEqual(["0-zero", "200-dead-layer", "stray"]);
});

test("a tree summary counts entries and file bytes, and a change shows", () => {
  const d = join(tmp, "tree");
  mkdirSync(join(d, "etc", "sub"), { recursive: true });
  writeFileSync(join(d, "etc", "a"), "12345");
  writeFileSync(join(d, "etc", "sub", "b"), "xy");
  symlinkSync("a", join(d, "etc", "link"));
  const s = summarizeTree(d);
  expect(s).toEqual({ entries: 5, bytes: 7 });
  expect(treeMismatch(s, { ...s })).toBeUndefined();
  writeFileSync(join(d, "etc", "a"), "1");
  rmSync(join(d, "etc", "sub", "b"));
  expect(treeMismatch(s, summarizeTree(d))).toBe("its files changed since it was stored: 4 entries, 5 recorded; 1 bytes in files, 7 recorded");
});
