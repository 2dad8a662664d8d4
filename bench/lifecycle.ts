// Detached containers, side by side with podman when installed:
//   - 20 `run -d alpine sleep 1000` back to back (budget: pod <= 0.3x podman)
//   - `ps -a` with 100 containers (budget: <= 30 ms)
//   - private memory (Private_Dirty + Private_Clean of smaps_rollup) per idle
//     detached container: pod's monitor next to podman's conmon
//   bun bench/lifecycle.ts   (as an unprivileged user; bench/run.sh does that)
import { readFileSync } from "node:fs";
import { POD, benchEnv, median, run } from "./_env.ts";

const N = 20;
const PS_N = 100;

function privateKb(pid: number): number {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(t)?.[1] ?? 0);
  return kb("Private_Dirty") + kb("Private_Clean");
}

function pidsOf(pattern: RegExp): number[] {
  const out: number[] = [];
  for (const p of new Bun.Glob("[0-9]*").scanSync({ cwd: "/proc", onlyFiles: false })) {
    try {
      if (pattern.test(readFileSync(`/proc/${p}/cmdline`, "utf8").replace(/\0/g, " "))) out.push(Number(p));
    } catch {
      continue;
    }
  }
  return out;
}

const b = await benchEnv();
try {
  const tools: [string, string[]][] = [["pod", [POD]], ...(b.podman ? [["podman", b.podman] as [string, string[]]] : [])];
  const results: Record<string, { runD: number; ps: number; memKb: number }> = {};
  for (const [name, cmd] of tools) {
    const extra = name === "podman" ? ["--network", "none"] : [];
    const t0 = performance.now();
    for (let i = 0; i < N; i++) run([...cmd, "run", "-d", ...extra, "alpine", "sleep", "1000"], b.env);
    const runD = performance.now() - t0;
    await Bun.sleep(1000);
    const monitors = name === "pod" ? pidsOf(/ _monitor /) : pidsOf(/^\S*conmon /);
    const memKb = monitors.length ? median(monitors.map(privateKb)) : NaN;
    for (let i = N; i < PS_N; i++) run([...cmd, "create", ...extra, "alpine", "true"], b.env);
    const psMs: number[] = [];
    run([...cmd, "ps", "-a"], b.env);
    for (let i = 0; i < 15; i++) psMs.push(run([...cmd, "ps", "-a"], b.env).ms);
    results[name] = { runD, ps: median(psMs), memKb };
    run([...cmd, "rm", "-f", "-a"], b.env);
  }
  const pod = results.pod!;
  const pm = results.podman;
  const row = (label: string, a: number, c: number | undefined, unit: string, digits = 1) =>
    `${label.padEnd(44)}${a.toFixed(digits).padStart(10)}${c === undefined ? "" : c.toFixed(digits).padStart(10) + (a / c).toFixed(2).padStart(9)} ${unit}`;
  console.log(`${"".padEnd(44)}${"pod".padStart(10)}${pm ? "podman".padStart(10) + "ratio".padStart(9) : ""}`);
  console.log(row(`${N} x run -d alpine sleep 1000 (total)`, pod.runD, pm?.runD, "ms", 0));
  console.log(row(`ps -a with ${PS_N} containers (median of 15)`, pod.ps, pm?.ps, "ms"));
  console.log(row("private memory per idle container (median)", pod.memKb, pm?.memKb, "kB", 0));
  if (!pm) console.log("podman is not installed: apt-get install podman runc to compare");
  console.log(`budgets: 20 x run -d <= 0.3 x podman; ps -a (100) <= 30 ms; monitor memory <= conmon's`);
} finally {
  await b.cleanup();
}
