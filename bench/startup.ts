// Start-up benchmark: `--version`, `images` (empty store) and the completion
// a shell asks for on <TAB> (`__complete`), pod and podman
// interleaved in one run, medians of POD_BENCH_RUNS (default 30) in ms.
//   bun bench/startup.ts   (as an unprivileged user; bench/run.sh does that)
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { makeTempDir, removeDir } from "../test/fixtures/proc.ts";

const REPO = resolve(import.meta.dir, "..");
const POD = process.env.POD_BIN || join(REPO, "dist", "pod");
const RUNS = Number(process.env.POD_BENCH_RUNS || 30);
const podman = Bun.which("podman");

const work = makeTempDir("pod-bench-startup-");
const home = join(work, "home");
mkdirSync(join(home, ".config", "containers"), { recursive: true, mode: 0o700 });
mkdirSync(join(work, "run"), { mode: 0o700 });
writeFileSync(join(home, ".config", "containers", "containers.conf"), '[engine]\nruntime = "runc"\n');
writeFileSync(join(home, ".config", "containers", "storage.conf"), '[storage]\ndriver = "overlay"\n');
const env = { HOME: home, PATH: "/usr/local/bin:/usr/bin:/bin", XDG_RUNTIME_DIR: join(work, "run"), LANG: "C.UTF-8" };

function ms(argv: string[]): number {
  const t = performance.now();
  const r = Bun.spawnSync(argv, { env, stdout: "ignore", stderr: "pipe" });
  const elapsed = performance.now() - t;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}: ${r.stderr.toString()}`);
  return elapsed;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cases: [string, string[], string[] | undefined][] = [
  ["--version", [POD, "--version"], podman ? [podman, "--version"] : undefined],
  ["images (empty)", [POD, "images"], podman ? [podman, "images"] : undefined],
  // what a shell runs on <TAB> after `pod rmi ` (budget: 30 ms)
  ["complete rmi", [POD, "__complete", "--", "rmi", ""], podman ? [podman, "__complete", "rmi", ""] : undefined],
];
try {
  console.log(`start-up, median of ${RUNS} runs (ms)${podman ? "" : "; podman not installed (apt-get install podman runc to compare)"}`);
  console.log(`${"".padEnd(18)}${"pod".padStart(8)}${podman ? "podman".padStart(9) + "pod/podman".padStart(12) : ""}`);
  for (const [name, pod, pm] of cases) {
    ms(pod);
    if (pm) ms(pm);
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(ms(pod));
      if (pm) b.push(ms(pm));
    }
    const line = `${name.padEnd(18)}${median(a).toFixed(1).padStart(8)}`;
    console.log(pm ? `${line}${median(b).toFixed(1).padStart(9)}${(median(a) / median(b)).toFixed(2).padStart(12)}` : line);
  }
} finally {
  // `podman images` started podman's pause process for this HOME: end it with the storage
  if (podman) Bun.spawnSync([podman, "system", "reset", "-f"], { env, stdout: "ignore", stderr: "ignore" });
  removeDir(work);
}
