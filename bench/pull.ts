// Cold-pull benchmark: a ~100 MB (compressed), 6-layer image made of the
// host's own files (libraries, Python, docs, binaries: a realistic gzip
// ratio), pushed to a local registry on 127.0.0.1, then pulled into fresh
// storage by pod, by podman when it is installed, and compared with the floor:
// gunzip + sha256sum over the layer blobs, one after another.
//
//   bun bench/pull.ts            (as an unprivileged user; bench/run.sh does that)
//
// Env: POD_BIN (default dist/pod), POD_BENCH_RUNS (default 5),
//      POD_BENCH_MB (compressed target, default 100).
import { createWriteStream, existsSync, mkdtempSync, mkdirSync, readdirSync, lstatSync, readFileSync, writeFileSync, accessSync, constants } from "node:fs";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { createGzip } from "node:zlib";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { OciLayout, MT } from "../test/fixtures/oci.ts";
import { startRegistry, pushLayout, type Registry } from "../test/fixtures/registry.ts";
import { makeTempDir, removeDir, runEndCleanup, stopAllTracked } from "../test/fixtures/proc.ts";

const REPO = resolve(import.meta.dir, "..");
const POD = process.env.POD_BIN || join(REPO, "dist", "pod");
const RUNS = Number(process.env.POD_BENCH_RUNS || 5);
const TARGET_MB = Number(process.env.POD_BENCH_MB || 100);
const LAYERS = 6;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

if (process.getuid?.() === 0) {
  console.error("bench/pull.ts must run as an unprivileged user: use bash bench/run.sh, which runs it as podtest");
  process.exit(2);
}
if (!existsSync(POD)) {
  console.error(`${POD} does not exist: build it with node_modules/.bin/bun run build`);
  process.exit(2);
}

// ---- the image -------------------------------------------------------------------

/** Host trees the layers are cut from, in order (missing ones are skipped). */
const SOURCES = [
  "/usr/lib/x86_64-linux-gnu",
  "/usr/lib/aarch64-linux-gnu",
  "/usr/lib/python3",
  "/usr/lib/python3.11",
  "/usr/share/doc",
  "/usr/share/locale",
  "/usr/share/man",
  "/usr/share/perl",
  "/usr/share/vim",
  "/usr/bin",
  "/usr/lib/gcc",
  "/usr/libexec",
  "/usr/share",
];
const MAX_FILE = 16 * 1024 * 1024; // one huge library would make one layer of a single file

type Entry = { path: string; size: number };

/** Readable files, symlinks and dirs under the sources, dirs before their contents, no duplicates. */
function collect(): Entry[] {
  const seen = new Set<string>();
  const out: Entry[] = [];
  const add = (p: string, size: number) => {
    if (!seen.has(p)) {
      seen.add(p);
      out.push({ path: p, size });
    }
  };
  const walk = (dir: string) => {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      return; // unreadable dir: not part of the image
    }
    add(dir, 0);
    for (const n of names) {
      const p = join(dir, n);
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory()) walk(p);
      else if (st.isSymbolicLink()) add(p, 0);
      else if (st.isFile() && st.size <= MAX_FILE) {
        try {
          accessSync(p, constants.R_OK);
          add(p, st.size);
        } catch {
          // unreadable file: skipped
        }
      }
    }
  };
  for (const s of SOURCES) if (existsSync(s)) walk(s);
  return out;
}

/** Parent dirs of every path, so each layer tar is self-contained. */
function withParents(paths: string[]): string[] {
  const out = new Set<string>();
  for (const p of paths) {
    const parts = p.split("/").filter(Boolean);
    for (let i = 1; i < parts.length; i++) out.add("/" + parts.slice(0, i).join("/"));
    out.add(p);
  }
  return [...out];
}

export type Layer = { blob: string; diffID: string; digest: string; size: number; rawSize: number };

/** tar (GNU, numeric root owner) | gzip -6, hashing both sides. */
async function buildLayer(dir: string, i: number, paths: string[]): Promise<Layer> {
  const list = join(dir, `layer${i}.list`);
  writeFileSync(list, withParents(paths).map((p) => p.slice(1)).join("\n") + "\n");
  const tar = Bun.spawn(["tar", "-C", "/", "--no-recursion", "--numeric-owner", "--owner=0", "--group=0", "-cf", "-", "-T", list], {
    stdout: "pipe",
    stderr: "pipe",
    env: { PATH },
  });
  const raw = createHash("sha256");
  let rawSize = 0;
  const blob = join(dir, `layer${i}.tar.gz`);
  const src = Readable.fromWeb(tar.stdout as any).on("data", (c: Buffer) => {
    raw.update(c);
    rawSize += c.length;
  });
  await pipeline(src, createGzip({ level: 6 }), createWriteStream(blob));
  const code = await tar.exited;
  if (code !== 0) throw new Error(`tar for layer ${i} exited ${code}: ${await new Response(tar.stderr).text()}`);
  const bytes = readFileSync(blob);
  return { blob, diffID: `sha256:${raw.digest("hex")}`, digest: `sha256:${createHash("sha256").update(bytes).digest("hex")}`, size: bytes.length, rawSize };
}

export async function buildImage(dir: string): Promise<{ layout: string; layers: Layer[] }> {
  const entries = collect();
  let ratio = 0.38; // first guess of compressed/raw; corrected once after a first build
  for (let attempt = 0; attempt < 2; attempt++) {
    const perLayerRaw = (TARGET_MB * 1024 * 1024) / ratio / LAYERS;
    const groups: string[][] = [];
    let cur: string[] = [];
    let acc = 0;
    for (const e of entries) {
      if (groups.length === LAYERS) break;
      cur.push(e.path);
      acc += e.size;
      if (acc >= perLayerRaw) {
        groups.push(cur);
        cur = [];
        acc = 0;
      }
    }
    if (groups.length < LAYERS) throw new Error(`the host has too few files for a ${TARGET_MB} MB image (${groups.length} layers)`);
    const layers: Layer[] = [];
    for (let i = 0; i < LAYERS; i++) layers.push(await buildLayer(dir, i, groups[i]!));
    const total = layers.reduce((s, l) => s + l.size, 0);
    const rawTotal = layers.reduce((s, l) => s + l.rawSize, 0);
    const off = total / (TARGET_MB * 1024 * 1024);
    if (attempt === 1 || (off > 0.85 && off < 1.15)) {
      const layoutDir = join(dir, "layout");
      const L = new OciLayout(layoutDir);
      const img = L.addImage(
        layers.map((l) => ({ blob: readFileSync(l.blob), diffID: l.diffID, mediaType: MT.layerGzip })),
        { Cmd: ["/bin/sh"], Labels: { "org.pod.bench": "pull" } },
      );
      L.tag(img.manifest, "bench");
      return { layout: layoutDir, layers };
    }
    ratio = total / rawTotal;
    console.error(`  (compressed ${mb(total)} instead of ${TARGET_MB} MB: rebuilding with ratio ${ratio.toFixed(2)})`);
  }
  throw new Error("unreachable");
}

// ---- timing ------------------------------------------------------------------------

type Sample = { wall: number; cpu: number };

async function timed(argv: string[], env: Record<string, string>, what: string): Promise<Sample> {
  const t0 = performance.now();
  const p = Bun.spawn(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`${what}: ${argv.join(" ")} exited ${code}\n${out}${err}`);
  const ru = p.resourceUsage();
  const cpu = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1e6 : NaN;
  return { wall, cpu };
}

async function run(argv: string[], env: Record<string, string>): Promise<void> {
  const p = Bun.spawn(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}\n${out}${err}`);
}

/** The floor: for each blob, sha256sum of it and gunzip -c | sha256sum, one after another. */
async function floor(layers: Layer[]): Promise<Sample> {
  let wall = 0;
  let cpu = 0;
  for (const l of layers) {
    const t0 = performance.now();
    const h = Bun.spawn(["sha256sum", l.blob], { env: { PATH }, stdout: "pipe" });
    const gz = Bun.spawn(["gunzip", "-c", l.blob], { env: { PATH }, stdout: "pipe" });
    const hs = Bun.spawn(["sha256sum"], { env: { PATH }, stdin: gz.stdout, stdout: "pipe" });
    await Promise.all([new Response(h.stdout).text(), new Response(hs.stdout).text(), h.exited, gz.exited, hs.exited]);
    if (h.exitCode !== 0 || gz.exitCode !== 0 || hs.exitCode !== 0) throw new Error(`floor: sha256sum/gunzip failed on ${l.blob}`);
    wall += (performance.now() - t0) / 1000;
    for (const p of [h, gz, hs]) {
      const ru = p.resourceUsage();
      if (ru) cpu += Number(ru.cpuTime.user + ru.cpuTime.system) / 1e6;
    }
  }
  // the three processes of a blob run at once; wall is summed blob by blob
  return { wall, cpu };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function which(cmd: string): string | null {
  for (const d of PATH.split(":")) {
    const p = join(d, cmd);
    if (existsSync(p)) return p;
  }
  return null;
}

// ---- main -------------------------------------------------------------------------------

// bench/images-out.ts builds the same image: the run below is only for `bun bench/pull.ts`
if (import.meta.main) {
const work = makeTempDir("pod-bench-pull");
let reg: Registry | undefined;
try {
  console.log(`building a ${LAYERS}-layer image of about ${TARGET_MB} MB (compressed) from host files...`);
  const t0 = performance.now();
  const { layout, layers } = await buildImage(work);
  const total = layers.reduce((s, l) => s + l.size, 0);
  const rawTotal = layers.reduce((s, l) => s + l.rawSize, 0);
  console.log(`  ${layers.map((l) => mb(l.size)).join(" + ")} = ${mb(total)} compressed, ${mb(rawTotal)} uncompressed (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  reg = await startRegistry();
  await pushLayout(reg, layout, "bench", "bench/pull", "latest");
  const ref = `${reg.host}/bench/pull:latest`;
  console.log(`pushed to ${ref}`);

  const podman = which("podman");
  const home = join(work, "home");
  const runtimeDir = join(work, "xdg-run");
  mkdirSync(join(home, ".config", "containers"), { recursive: true, mode: 0o700 });
  mkdirSync(runtimeDir, { mode: 0o700 });
  // podman's best setup here (DESIGN.md): runc + native overlay
  writeFileSync(join(home, ".config", "containers", "containers.conf"), '[engine]\nruntime = "runc"\n');
  writeFileSync(join(home, ".config", "containers", "storage.conf"), '[storage]\ndriver = "overlay"\n');
  const env = { HOME: home, PATH, XDG_RUNTIME_DIR: runtimeDir, LANG: "C.UTF-8", USER: process.env.USER ?? "", LOGNAME: process.env.LOGNAME ?? "" };

  const samples: Record<string, Sample[]> = { pod: [], podman: [], floor: [] };
  for (let i = 0; i < RUNS; i++) {
    // interleaved, each into fresh storage (DESIGN.md: the disk is noisy after big deletes)
    const podRoot = join(work, `pod-root-${i}`);
    const podRun = join(work, `pod-run-${i}`);
    samples.pod!.push(await timed([POD, "--root", podRoot, "--runroot", podRun, "pull", "-q", "--tls-verify=false", ref], env, "pod pull"));
    await run([POD, "--root", podRoot, "--runroot", podRun, "system", "reset", "-f"], env);
    removeDir(podRoot);
    removeDir(podRun);

    if (podman) {
      const pmRoot = join(work, `podman-root-${i}`);
      // podman refuses a runroot longer than 50 characters
      const pmRun = mkdtempSync("/tmp/pmr-");
      const pm = [podman, "--root", pmRoot, "--runroot", pmRun, "--storage-driver", "overlay"];
      samples.podman!.push(await timed([...pm, "pull", "-q", "--tls-verify=false", ref], env, "podman pull"));
      await run([...pm, "system", "reset", "-f"], env);
      removeDir(pmRun);
    }

    samples.floor!.push(await floor(layers));
    const last = (k: string) => samples[k]!.at(-1);
    console.log(
      `  run ${i + 1}/${RUNS}: pod ${last("pod")!.wall.toFixed(2)} s` +
        (podman ? `, podman ${last("podman")!.wall.toFixed(2)} s` : "") +
        `, floor ${last("floor")!.wall.toFixed(2)} s`,
    );
  }

  const row = (name: string, xs: Sample[]) => {
    const w = xs.map((s) => s.wall);
    return `${name.padEnd(22)}${median(w).toFixed(2).padStart(8)}${Math.min(...w).toFixed(2).padStart(8)}${Math.max(...w).toFixed(2).padStart(8)}${median(xs.map((s) => s.cpu)).toFixed(2).padStart(10)}`;
  };
  console.log(`\ncold pull of ${LAYERS} layers, ${mb(total)} compressed / ${mb(rawTotal)} uncompressed, median of ${RUNS} (seconds)`);
  console.log(`${"".padEnd(22)}${"wall".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}${"CPU".padStart(10)}`);
  console.log(row("pod", samples.pod!));
  if (podman) console.log(row("podman", samples.podman!));
  else console.log("podman                (not installed: apt-get install podman runc to compare)");
  console.log(row("gunzip+sha256 floor", samples.floor!));
  const podMed = median(samples.pod!.map((s) => s.wall));
  const floorMed = median(samples.floor!.map((s) => s.wall));
  console.log("");
  if (podman) {
    const r = podMed / median(samples.podman!.map((s) => s.wall));
    console.log(`pod/podman  ${r.toFixed(2)}   (budget <= 0.50: ${r <= 0.5 ? "within" : "OVER"})`);
  }
  const f = podMed / floorMed;
  console.log(`pod/floor   ${f.toFixed(2)}   (budget <= 1.50: ${f <= 1.5 ? "within" : "OVER"})`);
} finally {
  if (reg) await reg.stop();
  await stopAllTracked();
  runEndCleanup();
  removeDir(work);
}
}
