import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { ago, checkStorage, findProblems, parseMaxAge, problemLine, removedLine, type Problem } from "../../../pkg/system/check.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-check-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha = (s: string | Uint8Array) => new Bun.CryptoHasher("sha256").update(s).digest("hex");
const DAY = 24 * 3_600_000;

/** A dead pid: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["/bin/true"]);
  await p.exited;
  return p.pid;
}

function layer(root: string, hex: string, created: string, o: { diff?: boolean } = {}) {
  const dir = join(root, "layers", hex);
  mkdirSync(join(dir, ...(o.diff === false ? [] : ["diff"])), { recursive: true });
  writeFileSync(join(dir, "layer.json"), JSON.stringify({ diffID: `sha256:${hex}`, size: 1, created }));
}

test("--max takes Go durations", () => {
  expect(parseMaxAge("24h")).toBe(DAY);
  expect(parseMaxAge("0")).toBe(0);
  expect(parseMaxAge("1h30m")).toBe(90 * 60_000);
  expect(() => parseMaxAge("soon")).toThrow('invalid argument "soon" for "-m, --max": not a duration');
  expect(() => parseMaxAge("-1h")).toThrow("not a duration");
});

test("lines have podman's shape", () => {
  const p: Problem = { kind: "container", subject: "abc", reason: "container.json is missing", repair: "force" };
  expect(problemLine(p)).toBe("Damaged container abc: container.json is missing");
  expect(removedLine(p)).toBe("Deleted damaged container: abc");
  expect(ago(3 * DAY)).toBe("3 days ago");
  expect(ago(3_600_000)).toBe("1 hour ago");
  expect(ago(5_000)).toBe("just now");
});

test("a planted store: each problem found once, nothing a record names offered for removal", async () => {
  const root = join(tmp, "root");
  const runroot = join(tmp, "run");
  for (const d of ["blobs/sha256", "layers", "tmp", "containers"]) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(runroot);
  const config = new TextEncoder().encode('{"rootfs":{}}');
  const id = sha(config);
  writeFileSync(join(root, "blobs", "sha256", id), config);
  const manifest = "e".repeat(64);
  const used = "1".repeat(64);
  const old = new Date(Date.now() - 3 * DAY).toISOString();
  layer(root, used, old);
  layer(root, "2".repeat(64), old); // unused, old
  layer(root, "3".repeat(64), new Date().toISOString()); // unused, young: a pull may be about to record it
  layer(root, "4".repeat(64), old, { diff: false }); // damaged, unused
  writeFileSync(join(root, "images.json"), JSON.stringify({ version: 1, images: [{ id, names: ["docker.io/library/x:latest"], repoDigests: [], manifestDigest: `sha256:${manifest}`, layers: [`sha256:${used}`] }] }));
  const orphanBlob = join(root, "blobs", "sha256", "5".repeat(64));
  writeFileSync(orphanBlob, "x");
  utimesSync(orphanBlob, new Date(Date.now() - 2 * DAY), new Date(Date.now() - 2 * DAY));
  const good = "a".repeat(64);
  mkdirSync(join(root, "containers", good));
  writeFileSync(join(root, "containers", good, "container.json"), JSON.stringify({ id: good, name: "gone-image", image: "y", imageId: "9".repeat(64), state: "exited" }));
  const broken = "b".repeat(64);
  mkdirSync(join(root, "containers", broken));
  writeFileSync(join(root, "containers", broken, "container.json"), '{"id":');
  writeFileSync(join(root, "containers", `${"c".repeat(64)}.lock`), "");
  writeFileSync(join(root, "containers", `${good}.lock`), "");
  const dead = await deadPid();
  mkdirSync(join(root, "tmp", `${dead}-abc-layer`));
  mkdirSync(join(root, "tmp", `${process.pid}-abc-layer`));
  writeFileSync(join(root, `.images.json.${dead}.abc.tmp`), "");
  writeFileSync(join(runroot, `job-${dead}-abc.json`), "{}");
  writeFileSync(join(runroot, `job-${process.pid}-abc.json`), "{}");

  const found = await findProblems({ root, runroot }, { quick: true });
  const lines = found.map(problemLine).sort();
  expect(lines).toEqual([
    `Damaged container ${good}: its image ${"9".repeat(12)} (y) is not in storage`,
    `Damaged container ${broken}: container.json is unreadable: JSON Parse error: Unexpected EOF`,
    `Damaged image ${id}: its manifest blob sha256:${manifest} is missing`,
    `Damaged layer ${"4".repeat(64)}: its diff/ directory is missing`,
    `Leftover job file ${runroot}/job-${dead}-abc.json: its process ${dead} is gone`,
    `Leftover temporary file ${root}/.images.json.${dead}.abc.tmp: its process ${dead} is gone`,
    `Leftover temporary file ${root}/tmp/${dead}-abc-layer: its process ${dead} is gone`,
    `Stale lock file ${root}/containers/${"c".repeat(64)}.lock: container cccccccccccc does not exist`,
    `Unused blob sha256:${"5".repeat(64)}: no image uses it (stored 2 days ago)`,
    `Unused layer ${"2".repeat(64)}: no image uses it (stored 3 days ago)`,
  ]);
  const repair = Object.fromEntries(found.map((p) => [`${p.kind} ${p.subject}`, p.repair ?? "never"]));
  expect(repair[`container ${broken}`]).toBe("force");
  expect(repair[`container ${good}`]).toBe("never");
  expect(repair[`image ${id}`]).toBe("never");
  expect(repair[`layer ${"4".repeat(64)}`]).toBe("repair");

  // --max 0: the young unused layer counts too
  const all = await findProblems({ root, runroot }, { quick: true, maxAgeMs: 0 });
  expect(all.some((p) => p.kind === "unused-layer" && p.subject === "3".repeat(64))).toBe(true);

  // the hash check (not --quick) catches a blob that changed under its name
  writeFileSync(join(root, "blobs", "sha256", id), "tampered");
  const full = await findProblems({ root, runroot });
  expect(full.map(problemLine)).toContain(`Damaged image ${id}: its config blob sha256:${id} hashes to sha256:${sha("tampered")}`);
});

test("a store that does not exist has no problems, and check on it changes nothing", async () => {
  const r = await checkStorage({ root: join(tmp, "none"), runroot: join(tmp, "none-run") }, { repair: true });
  expect(r).toEqual({ found: [], removed: [], remaining: [], failures: [] });
});
