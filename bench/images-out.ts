// Images leaving the machine: push of the 6-layer, ~100 MB bench image (the
// one bench/pull.ts builds) to an empty local registry, and save plus load of
// it, by pod and, side by side in the same run, by podman when it is
// installed. Goal: at most 0.5x podman's time for each.
//
//   bun bench/images-out.ts       (as an unprivileged user; bench/run.sh does that)
//
// Env: POD_BIN (default dist/pod), POD_BENCH_RUNS (default 3), POD_BENCH_MB.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { buildImage, mb } from "./pull.ts";
import { startRegistry, pushLayout, type Registry } from "../test/fixtures/registry.ts";
import { makeTempDir, removeDir, runEndCleanup, stopAllTracked } from "../test/fixtures/proc.ts";

const POD = process.env.POD_BIN || join(resolve(import.meta.dir, ".."), "dist", "pod");
const RUNS = Number(process.env.POD_BENCH_RUNS || 3);
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function timed(argv: string[], env: Record<string, string>): number {
  const t0 = performance.now();
  const r = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const work = makeTempDir("pod-bench-out");
const registries: Registry[] = [];
let podman: string[] | undefined;
let podmanRunroot: string | undefined;
try {
  console.log("building the bench image...");
  const { layout, layers } = await buildImage(work);
  console.log(`  ${layers.length} layers, ${mb(layers.reduce((s, l) => s + l.size, 0))} compressed`);
  const source = await startRegistry();
  registries.push(source);
  await pushLayout(source, layout, "bench", "bench/out", "latest");
  const ref = `${source.host}/bench/out:latest`;

  const home = join(work, "home");
  mkdirSync(join(home, ".config", "containers"), { recursive: true, mode: 0o700 });
  mkdirSync(join(work, "run"), { mode: 0o700 });
  writeFileSync(join(home, ".config", "containers", "containers.conf"), '[engine]\nruntime = "runc"\n');
  writeFileSync(join(home, ".config", "containers", "storage.conf"), '[storage]\ndriver = "overlay"\n');
  const env = { HOME: home, PATH, XDG_RUNTIME_DIR: join(work, "run"), LANG: "C.UTF-8", USER: process.env.USER ?? "", LOGNAME: process.env.LOGNAME ?? "" };
  const pod = [POD, "--root", join(work, "pod-root"), "--runroot", join(work, "pod-run")];
  timed([...pod, "pull", "-q", "--tls-verify=false", ref], env);
  const podmanBin = PATH.split(":").map((d) => join(d, "podman")).find((p) => existsSync(p));
  // podman refuses a runroot longer than 50 characters
  podmanRunroot = podmanBin ? mkdtempSync("/tmp/pmr-") : undefined;
  podman = podmanBin ? [podmanBin, "--root", join(work, "podman-root"), "--runroot", podmanRunroot!, "--storage-driver", "overlay"] : undefined;
  if (podman) timed([...podman, "pull", "-q", "--tls-verify=false", ref], env);

  const t: Record<string, number[]> = { "pod push": [], "podman push": [], "pod save+load": [], "podman save+load": [] };
  for (let i = 0; i < RUNS; i++) {
    // an empty registry each time: nothing to skip, nothing to mount
    for (const [name, tool] of [["pod", pod], ["podman", podman]] as const) {
      if (!tool) continue;
      const empty = await startRegistry();
      registries.push(empty);
      t[`${name} push`]!.push(timed([...tool, "push", "-q", "--tls-verify=false", ref, `${empty.host}/bench/pushed:${i}`], env));
      await empty.stop();
      const file = join(work, `${name}-${i}.tar`);
      const save = timed([...tool, "save", "-q", "-o", file, ref], env);
      timed([...tool, "rmi", ref], env);
      const load = timed([...tool, "load", "-q", "-i", file], env);
      removeDir(file);
      t[`${name} save+load`]!.push(save + load);
    }
    console.log(`  run ${i + 1}/${RUNS}: ${Object.entries(t).filter(([, v]) => v.length).map(([k, v]) => `${k} ${v.at(-1)!.toFixed(2)} s`).join(", ")}`);
  }
  console.log(`\nmedian of ${RUNS} (seconds)`);
  for (const [k, v] of Object.entries(t)) if (v.length) console.log(`${k.padEnd(20)}${median(v).toFixed(2).padStart(8)}`);
  if (podman)
    for (const what of ["push", "save+load"]) {
      const r = median(t[`pod ${what}`]!) / median(t[`podman ${what}`]!);
      console.log(`pod/podman ${what.padEnd(10)} ${r.toFixed(2)}   (goal <= 0.50: ${r <= 0.5 ? "within" : "OVER"})`);
    }
  else console.log("podman              (not installed: apt-get install podman runc to compare)");
} finally {
  if (podman) Bun.spawnSync([...podman, "system", "reset", "-f"], { stdout: "ignore", stderr: "ignore", env: { PATH, HOME: join(work, "home"), XDG_RUNTIME_DIR: join(work, "run") } });
  if (podmanRunroot) removeDir(podmanRunroot);
  for (const r of registries) await r.stop();
  await stopAllTracked();
  runEndCleanup();
  removeDir(work);
}
