// Container start-up benchmark: `pod run --rm --network none alpine true` against
// `podman run --rm --network none alpine true` (runc + native overlay, its best
// setup here: DESIGN.md), interleaved, medians after warm-ups, as a ratio
// against the budget (pod ≤ 1/10 of podman). Both pull the real Alpine
// minirootfs from a local registry on 127.0.0.1 first. Then where pod's time
// goes: its `--log-level debug` timings if it prints any, else what pieces of
// the run cost on their own: start-up (`pod --version`), opening the store
// (`pod images -q`) and a user namespace with newuidmap/newgidmap (`pod unshare true`);
// `exec CTR true`, and 16 `run --rm` started at once, beside podman's.
//
//   bun bench/run-container.ts      (as an unprivileged user; bench/run.sh does that)
//
// Env: POD_BIN (default dist/pod), POD_BENCH_RUNS (default 20),
//      POD_TEST_FIXTURES (where alpine-minirootfs-3.20.3-x86_64.tar.gz is).
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";
import { startRegistry, type Registry } from "../test/fixtures/registry.ts";
import { pushFixture, alpineTarball, fixturesDir, ALPINE_TARBALL } from "../test/fixtures/images.ts";
import { makeTempDir, removeDir, runEndCleanup, stopAllTracked } from "../test/fixtures/proc.ts";

const REPO = resolve(import.meta.dir, "..");
const POD = process.env.POD_BIN || join(REPO, "dist", "pod");
const RUNS = Number(process.env.POD_BENCH_RUNS || 20);
const WARMUP = 2;
const BUDGET = 0.1;
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

if (process.getuid?.() === 0) {
  console.error("bench/run-container.ts must run as an unprivileged user: use bash bench/run.sh, which runs it as podtest");
  process.exit(2);
}
if (!existsSync(POD)) {
  console.error(`${POD} does not exist: build it with node_modules/.bin/bun run build`);
  process.exit(2);
}
if (!alpineTarball()) {
  console.error(`the Alpine minirootfs is not at ${join(fixturesDir(), ALPINE_TARBALL)} (set POD_TEST_FIXTURES)`);
  process.exit(2);
}

type Sample = { ms: number; cpuMs: number; stderr: string };

function timed(argv: string[], env: Record<string, string>): Sample {
  const t0 = performance.now();
  const r = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  const stderr = r.stderr.toString();
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}\n${r.stdout.toString()}${stderr}`);
  const ru = r.resourceUsage;
  const cpuMs = ru ? Number(ru.cpuTime.user + ru.cpuTime.system) / 1000 : NaN;
  return { ms, cpuMs, stderr };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const f1 = (n: number) => n.toFixed(1);

function which(cmd: string): string | null {
  for (const d of PATH.split(":")) if (existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

/**
 * pod's debug lines stamped with the time since it started ("DEBU [22.7 ms] image … ready"):
 * each step's message and the ms it took since the previous stamp (the first: since start).
 */
function phases(stderr: string): [string, number][] {
  const out: [string, number][] = [];
  let last = 0;
  for (const line of stderr.split("\n")) {
    const m = line.match(/DEBU\S*\s+\[(\d+(?:\.\d+)?)\s*ms\]\s*(.*)$/);
    if (!m) continue;
    const at = Number(m[1]);
    out.push([m[2]!.trim(), at - last]);
    last = at;
  }
  return out;
}

const work = makeTempDir("pod-bench-run");
let reg: Registry | undefined;
let podmanRunRoot: string | undefined;
const podman = which("podman");
const home = join(work, "home");
const runtimeDir = join(work, "xdg-run");
const user = userInfo().username;
const env = { HOME: home, PATH, XDG_RUNTIME_DIR: runtimeDir, LANG: "C.UTF-8", USER: user, LOGNAME: user };
const podmanArgs = () => [podman!, "--root", join(work, "podman-root"), "--runroot", podmanRunRoot!, "--storage-driver", "overlay"];

try {
  mkdirSync(join(home, ".config", "containers"), { recursive: true, mode: 0o700 });
  mkdirSync(runtimeDir, { mode: 0o700 });
  reg = await startRegistry();
  await pushFixture(reg, "alpine");
  // docker.io → the local registry, for pod and podman alike; podman's best setup here: runc + native overlay
  const conf = join(home, ".config", "containers");
  writeFileSync(
    join(conf, "registries.conf"),
    `unqualified-search-registries = ["docker.io"]\n\n[[registry]]\nprefix = "docker.io"\nlocation = "${reg.host}"\ninsecure = true\n`,
  );
  writeFileSync(join(conf, "containers.conf"), '[engine]\nruntime = "runc"\n');
  writeFileSync(join(conf, "storage.conf"), '[storage]\ndriver = "overlay"\n');
  // podman refuses a runroot longer than 50 characters
  podmanRunRoot = mkdtempSync("/tmp/pmr-");

  const ref = "docker.io/library/alpine:latest";
  timed([POD, "pull", "-q", ref], env);
  if (podman) timed([...podmanArgs(), "pull", "-q", ref], env);
  console.log(`pulled ${ref} (the Alpine 3.20.3 minirootfs) from ${reg.host} into pod${podman ? " and podman" : ""}`);

  // both without a network: the helpers are bench/network.ts's business
  const podRun = [POD, "run", "--rm", "--network", "none", "alpine", "true"];
  const pmRun = podman ? [...podmanArgs(), "run", "--rm", "--network", "none", "alpine", "true"] : undefined;
  for (let i = 0; i < WARMUP; i++) {
    timed(podRun, env);
    if (pmRun) timed(pmRun, env);
  }
  const pod: Sample[] = [];
  const pm: Sample[] = [];
  const pieces: [string, string[], Sample[]][] = [
    ["pod --version", [POD, "--version"], []],
    ["pod images -q", [POD, "images", "-q"], []],
    ["pod unshare true", [POD, "unshare", "true"], []],
  ];
  for (let i = 0; i < RUNS; i++) {
    pod.push(timed(podRun, env));
    if (pmRun) pm.push(timed(pmRun, env));
    for (const [, argv, xs] of pieces) xs.push(timed(argv, env));
  }
  const version = pieces[0]![2];

  const row = (name: string, xs: Sample[]) => {
    const ms = xs.map((s) => s.ms);
    return `${name.padEnd(36)}${f1(median(ms)).padStart(8)}${f1(Math.min(...ms)).padStart(8)}${f1(Math.max(...ms)).padStart(8)}${f1(median(xs.map((s) => s.cpuMs))).padStart(9)}`;
  };
  console.log(`\nrun --rm alpine true: ${WARMUP} warm-ups, then median of ${RUNS} interleaved runs (ms)`);
  console.log(`${"".padEnd(36)}${"wall".padStart(8)}${"min".padStart(8)}${"max".padStart(8)}${"CPU".padStart(9)}`);
  console.log(row("pod run --rm --network none …", pod));
  if (podman) console.log(row("podman run --rm --network none …", pm));
  else console.log("podman                              (not installed: apt-get install podman runc to compare)");
  for (const [name, , xs] of pieces) console.log(row(name, xs));

  const podMed = median(pod.map((s) => s.ms));
  if (podman) {
    const ratio = podMed / median(pm.map((s) => s.ms));
    console.log(`\npod/podman  ${ratio.toFixed(3)}   (budget <= ${BUDGET.toFixed(2)}: ${ratio <= BUDGET ? "within" : "OVER"})`);
  }

  // exec into a running container, interleaved (issue 17: exec gets the same gains)
  const podCtr = Bun.spawnSync([POD, "run", "-d", "--network", "none", "alpine", "sleep", "1000"], { env, stdout: "pipe" }).stdout.toString().trim();
  const pmCtr = podman ? Bun.spawnSync([...podmanArgs(), "run", "-d", "--network", "none", "alpine", "sleep", "1000"], { env, stdout: "pipe" }).stdout.toString().trim() : "";
  const podExec: Sample[] = [];
  const pmExec: Sample[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const a = timed([POD, "exec", podCtr, "true"], env);
    const b = podman ? timed([...podmanArgs(), "exec", pmCtr, "true"], env) : undefined;
    if (i < WARMUP) continue;
    podExec.push(a);
    if (b) pmExec.push(b);
  }
  timed([POD, "rm", "-f", "-t", "0", podCtr], env);
  if (podman) timed([...podmanArgs(), "rm", "-f", "-t", "0", pmCtr], env);

  // 16 at once: no global lock may make them wait for each other (issue 17)
  const batch = async (argv: string[]) => {
    const t0 = performance.now();
    const ps = Array.from({ length: 16 }, () => Bun.spawn(argv, { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" }));
    const codes = await Promise.all(ps.map((p) => p.exited));
    const ms = performance.now() - t0;
    const bad = codes.findIndex((c) => c !== 0);
    if (bad >= 0) throw new Error(`${argv.join(" ")} (one of 16 at once) exited ${codes[bad]}: ${await new Response(ps[bad]!.stderr).text()}`);
    return ms;
  };
  const podBatch: number[] = [];
  const pmBatch: number[] = [];
  for (let i = 0; i < 3; i++) {
    podBatch.push(await batch(podRun));
    if (pmRun) pmBatch.push(await batch(pmRun));
  }
  console.log(`
exec CTR true (median of ${RUNS}, ms) and 16 × run --rm alpine true started at once (median of 3 batches, ms)`);
  const pair = (name: string, a: number, b: number | undefined) =>
    console.log(`${name.padEnd(36)}${f1(a).padStart(8)}${b === undefined ? "        -" : f1(b).padStart(9)}${b === undefined ? "" : (a / b).toFixed(2).padStart(8)}`);
  console.log(`${"".padEnd(36)}${"pod".padStart(8)}${"podman".padStart(9)}${"ratio".padStart(8)}`);
  pair("exec CTR true", median(podExec.map((s) => s.ms)), podman ? median(pmExec.map((s) => s.ms)) : undefined);
  pair("16 x run --rm at once (whole batch)", median(podBatch), podman ? median(pmBatch) : undefined);

  // where pod's time goes
  const debug: Sample[] = [];
  for (let i = 0; i < 5; i++) debug.push(timed([POD, "--log-level", "debug", "run", "--rm", "--network", "none", "alpine", "true"], env));
  const timings = debug.map((d) => phases(d.stderr));
  console.log("\nwhere pod's time goes:");
  if (timings[0]!.length > 0) {
    console.log(`  pod --log-level debug run --rm alpine true, median of ${debug.length}; ms each step took until the line shown (from the first run):`);
    const labels = timings[0]!.map(([l]) => l);
    let sum = 0;
    for (const [i, label] of labels.entries()) {
      const xs = timings.map((t) => t[i]?.[1]).filter((x): x is number => x !== undefined);
      sum += median(xs);
      console.log(`  ${f1(median(xs)).padStart(8)}  ${label}`);
    }
    const whole = median(debug.map((d) => d.ms));
    console.log(`  ${f1(Math.max(0, whole - sum)).padStart(8)}  exit (and the parent's spawn/wait)`);
    console.log(`  ${f1(whole).padStart(8)}  whole process (with debug logging)`);
    console.log("  pieces measured on their own (medians of the interleaved runs above):");
  } else {
    console.log("  (pod --log-level debug run prints no timings: pieces measured on their own instead, medians in ms)");
  }
  const [v, images, unshare] = pieces.map(([, , xs]) => median(xs.map((s) => s.ms))) as [number, number, number];
  const share = (ms: number) => `${f1(ms).padStart(7)} ms ${`${((100 * ms) / podMed).toFixed(0)}%`.padStart(5)}`;
  const store = Math.max(0, images - v);
  const userns = Math.max(0, unshare - v);
  console.log(`  ${share(v)}  start-up: the binary loads and parses flags (pod --version)`);
  console.log(`  ${share(store)}  opening the store and reading the image list (pod images -q, less start-up)`);
  console.log(`  ${share(userns)}  a user namespace mapped by newuidmap/newgidmap, exec, wait (pod unshare true, less start-up)`);
  console.log(`  ${share(podMed - v - store - userns)}  the rest: image config, rootfs overlay and mounts, PID/mount/UTS/IPC/net namespaces, --rm`);
  console.log(`  ${share(podMed)}  pod run --rm alpine true`);
} finally {
  if (existsSync(join(home, ".local", "share", "pod"))) {
    const r = Bun.spawnSync([POD, "system", "reset", "-f"], { env, stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) console.error(`warning: pod system reset -f exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
  }
  if (podman && podmanRunRoot) {
    const r = Bun.spawnSync([...podmanArgs(), "system", "reset", "-f"], { env, stdout: "ignore", stderr: "pipe" });
    if (r.exitCode !== 0) console.error(`warning: podman system reset -f exited ${r.exitCode}: ${r.stderr.toString().trim()}`);
    removeDir(podmanRunRoot);
  }
  if (reg) await reg.stop();
  await stopAllTracked();
  runEndCleanup();
  removeDir(work);
}
