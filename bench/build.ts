// `pod build` side by side with `podman build` (when installed) in one run:
// a small multi-step Containerfile (two RUNs, a COPY of a 50 MB context, ENV,
// CMD) built cold (--no-cache) and rebuilt fully cached, medians of
// POD_BENCH_RUNS (default 3), as ratios. Budgets: cold <= 0.7x podman's
// time, cached <= 0.3x.
//   bun bench/build.ts   (as an unprivileged user; bench/run.sh does that)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { POD, benchEnv, median, run } from "./_env.ts";

const RUNS = Number(process.env.POD_BENCH_RUNS || 3);
const MB = Number(process.env.POD_BENCH_MB || 50);

const b = await benchEnv();
try {
  const ctx = join(b.env.HOME!, "build-ctx");
  mkdirSync(join(ctx, "data"), { recursive: true });
  // 1 MiB files of incompressible bytes, and some small ones
  for (let i = 0; i < MB; i++) writeFileSync(join(ctx, "data", `blob-${i}.bin`), randomBytes(1 << 20));
  for (let i = 0; i < 200; i++) writeFileSync(join(ctx, "data", `small-${i}.txt`), `file ${i}\n`);
  writeFileSync(join(ctx, "Containerfile"), ["FROM alpine", "RUN echo one > /one", "COPY data/ /data/", "RUN du -s /data > /du", "ENV BENCH=1", 'CMD ["cat", "/du"]', ""].join("\n"));
  const tools: [string, string[]][] = [["pod", [POD]], ...(b.podman ? [["podman", b.podman] as [string, string[]]] : [])];
  const results: Record<string, { cold: number; cached: number }> = {};
  for (const [name, cmd] of tools) {
    const cold: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < RUNS; i++) cold.push(run([...cmd, "build", "-q", "--no-cache", "-t", "bench-build", ctx], b.env).ms);
    run([...cmd, "build", "-q", "-t", "bench-build", ctx], b.env);
    for (let i = 0; i < RUNS; i++) cached.push(run([...cmd, "build", "-q", "-t", "bench-build", ctx], b.env).ms);
    results[name] = { cold: median(cold), cached: median(cached) };
  }
  const pod = results.pod!;
  const pm = results.podman;
  const row = (label: string, a: number, c: number | undefined) =>
    `${label.padEnd(44)}${a.toFixed(0).padStart(10)}${c === undefined ? "" : c.toFixed(0).padStart(10) + (a / c).toFixed(2).padStart(9)} ms`;
  console.log(`${"".padEnd(44)}${"pod".padStart(10)}${pm ? "podman".padStart(10) + "ratio".padStart(9) : ""}`);
  console.log(row(`cold build, ${MB} MB context (median of ${RUNS})`, pod.cold, pm?.cold));
  console.log(row(`cached rebuild (median of ${RUNS})`, pod.cached, pm?.cached));
  if (!pm) console.log("podman is not installed: apt-get install podman runc to compare");
  console.log("budgets: cold <= 0.7 x podman; cached <= 0.3 x podman");
} finally {
  await b.cleanup();
}
