// Networking benchmark, pod and podman side by side with the same helper:
// `run --rm alpine true` with --network none, pasta and slirp4netns (medians,
// interleaved), and bulk TCP throughput host → container through a published
// port (a client in this file writes 256 MiB to 127.0.0.1:PORT; busybox nc in
// the container hands each connection to `cat > /dev/null`), with the host's own loopback as the
// ceiling. Traffic stays on 127.0.0.1 and inside the containers.
//
//   bun bench/network.ts      (as an unprivileged user; bench/run.sh does that)
//
// Env: POD_BIN, POD_BENCH_RUNS (default 10), POD_BENCH_MIB (default 256).
import { benchEnv, median, push as pushMiB, run, POD } from "./_env.ts";
import { freePort } from "../test/fixtures/proc.ts";

const RUNS = Number(process.env.POD_BENCH_RUNS || 10);
const MIB = Number(process.env.POD_BENCH_MIB || 256);
const MODES = ["none", "pasta", "slirp4netns"] as const;
const push = (port: number) => pushMiB(port, MIB);

if (process.getuid?.() === 0) {
  console.error("bench/network.ts must run as an unprivileged user: use bash bench/run.sh network");
  process.exit(2);
}

const f1 = (n: number) => n.toFixed(1);
const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : "-");

/** The host's loopback, the same client against a Bun server that discards: the ceiling. */
async function loopback(): Promise<number> {
  const srv = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, end(s) { s.end(); } } });
  try {
    return await push(srv.port);
  } finally {
    srv.stop(true);
  }
}

/** Modes the installed podman runs (podman 4.3, Debian 12's, has no pasta): the others print "-". */
const podmanHas = new Set<string>();
function podmanCan(argv: string[], env: Record<string, string>, mode: string): boolean {
  const r = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (r.exitCode === 0) podmanHas.add(mode);
  else console.log(`(podman cannot run --network ${mode} here: ${r.stderr.toString().trim().split("\n")[0]})`);
  return r.exitCode === 0;
}

const b = await benchEnv();
try {
  const { env, podman } = b;
  console.log(`run --rm alpine true, median of ${RUNS} (interleaved, after a warm-up):`);
  console.log("| network | pod | podman | pod/podman |\n| --- | --- | --- | --- |");
  const startup: Record<string, [number, number | undefined]> = {};
  for (const mode of MODES) {
    const p = [POD, "run", "--rm", "--network", mode, "alpine", "true"];
    let q = podman ? [...podman, "run", "--rm", "--network", mode, "alpine", "true"] : undefined;
    run(p, env);
    if (q && !podmanCan(q, env, mode)) q = undefined;
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      xs.push(run(p, env).ms);
      if (q) ys.push(run(q, env).ms);
    }
    startup[mode] = [median(xs), q ? median(ys) : undefined];
    console.log(`| ${mode} | ${f1(median(xs))} ms | ${q ? `${f1(median(ys))} ms` : "-"} | ${ratio(median(xs), q ? median(ys) : undefined)} |`);
  }

  console.log(`\nTCP host → container through -p 127.0.0.1:PORT:80, ${MIB} MiB:`);
  const ceiling = await loopback();
  console.log(`| path | pod | podman | pod/podman |\n| --- | --- | --- | --- |`);
  console.log(`| host loopback (the ceiling) | ${f1(ceiling)} MiB/s | | |`);
  for (const mode of ["pasta", "slirp4netns"] as const) {
    const figures: number[] = [];
    for (const engine of [POD, ...(podman && podmanHas.has(mode) ? ["podman"] : [])]) {
      const port = await freePort();
      const argv = engine === POD ? [POD] : podman!;
      const name = `bench-net-${mode}-${engine === POD ? "pod" : "podman"}-${process.pid}`;
      run([...argv, "run", "-d", "--name", name, "--network", mode, "-p", `127.0.0.1:${port}:80`, "alpine", "nc", "-lk", "-p", "80", "-e", "sh", "-c", "cat > /dev/null"], env);
      try {
        figures.push(await push(port));
      } finally {
        Bun.spawnSync([...argv, "rm", "-f", name], { env, stdout: "ignore", stderr: "ignore" });
      }
    }
    console.log(`| ${mode} | ${f1(figures[0]!)} MiB/s | ${figures[1] ? `${f1(figures[1])} MiB/s` : "-"} | ${ratio(figures[0]!, figures[1])} |`);
  }
  if (!podman) console.log("\npodman is not installed: pod's figures only");
} finally {
  await b.cleanup();
}
