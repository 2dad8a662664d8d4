// pod system check: a store that pulls, runs and removes leaves nothing to
// report; what killed pods leave (temp dirs, job files, lock files, unused
// layers) and what breaks (a truncated container.json, a blob or layer file
// that changed) is reported one line each, exit 125; --repair removes what
// no record names, --force also damaged container dirs, and a running
// container keeps every file.
import { describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, safeName, layerDirOf } from "./helpers.ts";
import { useLifecycle, runD, create, statusOf, recordDir } from "./lifecycle-helpers.ts";

useSuite("460-system-check");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const DAY = 24 * 3_600_000;

/** A pid no process has: a child that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["/bin/true"]);
  await p.exited;
  return p.pid;
}

const runroot = () => join(pod().runtimeDir, "pod");
const store = () => pod().storage;
const randomHex = () => new Bun.CryptoHasher("sha256").update(crypto.getRandomValues(new Uint8Array(16))).digest("hex");

type Image = { id: string; manifestDigest: string; layers: string[] };
const alpineImage = (): Image => (JSON.parse(readFileSync(join(store(), "images.json"), "utf8")).images as Image[])[0]!;

/** Runs argv in pod's storage namespace (as its root), expecting success. */
async function unshare(script: string): Promise<void> {
  expectExit(await runPod(["unshare", "sh", "-c", script]), 0);
}

/** A layer directory no image names, as a pull killed before recording its image leaves, stored `ageMs` ago. */
function plantLayer(ageMs: number): string {
  const hex = randomHex();
  const dir = join(store(), "layers", hex);
  mkdirSync(join(dir, "diff", "etc"), { recursive: true });
  writeFileSync(join(dir, "diff", "etc", "planted"), "x");
  writeFileSync(join(dir, "layer.json"), JSON.stringify({ diffID: `sha256:${hex}`, size: 1, created: new Date(Date.now() - ageMs).toISOString() }));
  return hex;
}

type Planted = { layer: string; youngLayer: string; broken: string; tmpEntry: string; job: string; lock: string; dead: number };

/** Every kind of leftover and damage, with subordinate-id files where pod leaves them (tmp/ and container dirs). */
async function plant(): Promise<Planted> {
  const dead = await deadPid();
  const layer = plantLayer(3 * DAY);
  const youngLayer = plantLayer(0);
  const broken = await create(safeName("broken"), ["alpine", "true"]);
  const tmpEntry = join(store(), "tmp", `${dead}-k1lled00-layer`);
  await unshare(`mkdir -p ${tmpEntry}/diff ${recordDir(broken)}/upper/owned && touch ${tmpEntry}/diff/f ${recordDir(broken)}/upper/owned/f && chown -R 1234:1234 ${tmpEntry}/diff ${recordDir(broken)}/upper/owned`);
  const rec = join(recordDir(broken), "container.json");
  truncateSync(rec, Math.floor(statSync(rec).size / 2));
  const job = join(runroot(), `job-${dead}-abc123.json`);
  writeFileSync(job, "{}");
  writeFileSync(`${job}.result`, "{}");
  const lock = join(store(), "containers", `${randomHex()}.lock`);
  writeFileSync(lock, "");
  return { layer, youngLayer, broken, tmpEntry, job, lock, dead };
}

describe("pod system check", () => {
  A("a store that pulled, ran and removed containers, with one running, has nothing to report", async () => {
    expectExit(await runPod(["run", "--rm", "alpine", "true"]), 0);
    const gone = safeName("gone");
    expectExit(await runPod(["run", "--name", gone, "alpine", "true"]), 0);
    expectExit(await runPod(["rm", gone]), 0);
    const name = safeName("up");
    await runD(name, ["alpine", "sleep", "1000"]);
    for (const flags of [[], ["--quick"], ["--repair"], ["-r", "-f"]]) {
      const r = await runPod(["system", "check", ...flags]);
      expectExit(r, 0);
      expect(r.stdout, `system check ${flags.join(" ")}`).toBe("");
      expect(r.stderr).toBe("");
    }
    expect(await statusOf(name)).toBe("running");
  });

  A("each planted problem is reported once; exit 125 with the fix; nothing is removed without --repair", async () => {
    const p = await plant();
    const img = alpineImage();
    const manifest = join(store(), "blobs", "sha256", img.manifestDigest.slice(7));
    const good = readFileSync(manifest);
    writeFileSync(manifest, "corrupted");
    const layerFile = join(layerDirOf("etc/alpine-release"), "etc", "alpine-release");
    const release = readFileSync(layerFile);
    writeFileSync(layerFile, Buffer.concat([release, Buffer.from("changed\n")]));
    try {
      const r = await runPod(["system", "check"]);
      expectPodError(r, /damage detected in local storage: \d+ problems/, "pod system check --repair");
      const out = lines(r.stdout);
      const expected = [
        new RegExp(`^Unused layer ${p.layer}: no image uses it \\(stored 3 days ago\\)$`),
        new RegExp(`^Damaged container ${p.broken}: container.json is unreadable: `),
        new RegExp(`^Leftover temporary file ${p.tmpEntry}: its process ${p.dead} is gone$`),
        new RegExp(`^Leftover job file ${p.job}: its process ${p.dead} is gone$`),
        new RegExp(`^Leftover job file ${p.job}\\.result: its process ${p.dead} is gone$`),
        new RegExp(`^Stale lock file ${p.lock}: container [0-9a-f]{12} does not exist$`),
        new RegExp(`^Damaged image ${img.id}: its manifest blob ${img.manifestDigest} hashes to sha256:[0-9a-f]{64}$`),
        new RegExp(`^Damaged layer ${img.layers[0]!.slice(7)}: its files changed since it was stored: \\d+ bytes in files, \\d+ recorded$`),
        new RegExp(`^Damaged image ${img.id}: its layer ${img.layers[0]} is damaged$`),
      ];
      for (const re of expected) expect(out.filter((l) => re.test(l)), `one line matching ${re}`).toHaveLength(1);
      expect(out, "the young unused layer may belong to a pull in progress (podman's --max 24h)").toHaveLength(expected.length);
      // --quick skips the hashes and file sums
      const q = await runPod(["system", "check", "--quick"]);
      expectExit(q, 125);
      expect(q.stdout).not.toContain("Damaged image");
      expect(q.stdout).not.toContain("Damaged layer");
      // --max 0: no unused layer is young enough to be left alone
      expect((await runPod(["system", "check", "--quick", "--max", "0"])).stdout).toContain(`Unused layer ${p.youngLayer}: no image uses it (stored just now)`);
      expectPodError(await runPod(["system", "check", "--max", "soon"]), 'invalid argument "soon" for "-m, --max"');
      for (const path of [join(store(), "layers", p.layer), recordDir(p.broken), p.tmpEntry, p.job, p.lock]) expect(existsSync(path), `${path} is still there`).toBe(true);
    } finally {
      writeFileSync(manifest, good);
      writeFileSync(layerFile, release);
    }
    const r = await runPod(["system", "check", "-r", "-f", "--max", "0"]);
    expectExit(r, 0);
    expectExit(await runPod(["system", "check"]), 0);
  });

  A("--repair removes what nothing uses and keeps the damaged container; --force removes it; a running container keeps its files", async () => {
    const name = safeName("up");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const before = lines((await runPod(["unshare", "find", recordDir(id)])).stdout).sort();
    const p = await plant();
    const img = alpineImage();
    const manifest = join(store(), "blobs", "sha256", img.manifestDigest.slice(7));
    const good = readFileSync(manifest);
    writeFileSync(manifest, "corrupted");

    const r = await runPod(["system", "check", "--repair"]);
    expectPodError(r, /damage in local storage still present after repair attempt: 2 problems/, "--force", "pod rmi -f");
    const out = lines(r.stdout);
    for (const l of [
      `Deleted unused layer: ${p.layer}`,
      `Deleted leftover temporary file: ${p.tmpEntry}`,
      `Deleted leftover job file: ${p.job}`,
      `Deleted leftover job file: ${p.job}.result`,
      `Deleted stale lock file: ${p.lock}`,
    ])
      expect(out).toContain(l);
    expect(out.some((l) => l.startsWith("Deleted damaged container"))).toBe(false);
    for (const path of [join(store(), "layers", p.layer), p.tmpEntry, p.job, `${p.job}.result`, p.lock]) expect(existsSync(path), `${path} was removed`).toBe(false);
    expect(existsSync(recordDir(p.broken)), "the damaged container's dir stays without --force").toBe(true);
    expect(existsSync(join(store(), "layers", p.youngLayer)), "a young unused layer stays").toBe(true);
    expect(existsSync(manifest), "a blob an image names is never removed").toBe(true);

    writeFileSync(manifest, good);
    const f = await runPod(["system", "check", "--force"]);
    expectExit(f, 0);
    expect(lines(f.stdout)).toContain(`Deleted damaged container: ${p.broken}`);
    expect(existsSync(recordDir(p.broken)), "--force removes the damaged container's dir, subordinate-id files included").toBe(false);
    expect(lines((await runPod(["unshare", "find", recordDir(id)])).stdout).sort(), "the running container's files").toEqual(before);
    expect(await statusOf(name)).toBe("running");
    const e = await runPod(["exec", name, "cat", "/etc/alpine-release"]);
    expectExit(e, 0);
    expect(e.stdout.trim()).toMatch(/^3\.20\.\d+$/);
    expectExit(await runPod(["system", "check", "--max", "0", "-f"]), 0);
    expect(existsSync(join(store(), "layers", p.youngLayer))).toBe(false);
    expectExit(await runPod(["system", "check"]), 0);
  });
});

describe("job files of killed pods", () => {
  A("a job file of a dead pid is swept by the next pull, and a live pod's is kept", async () => {
    const dead = await deadPid();
    const stale = [`job-${dead}-zz9.json`, `job-${dead}-zz9.json.result`, `.job-${dead}-zz9.json.${dead}.q1w2.tmp`].map((n) => join(runroot(), n));
    const live = join(runroot(), `job-${process.pid}-live01.json`);
    for (const f of [...stale, live]) writeFileSync(f, "{}");
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
    for (const f of stale) expect(existsSync(f), `${f} was swept`).toBe(false);
    expect(existsSync(live), "the job file of a live process stays").toBe(true);
    writeFileSync(stale[0]!, "{}");
    expectExit(await runPod(["system", "prune", "-f"]), 0);
    expect(existsSync(stale[0]!), "system prune sweeps it too").toBe(false);
    writeFileSync(live.replace(String(process.pid), String(dead)), "{}");
    const r = await runPod(["system", "check"]);
    expectExit(r, 125);
    expect(lines(r.stdout)).toEqual([`Leftover job file ${live.replace(String(process.pid), String(dead))}: its process ${dead} is gone`]);
    expectExit(await runPod(["system", "check", "-r"]), 0);
    expect(existsSync(live)).toBe(true);
    rmSync(live);
  });
});
