// User networks, pod and podman side by side: `run --rm --network NAME
// alpine true` on a network of each tool's own (median, interleaved, after a
// warm-up that also starts each tool's shared namespace), and container-to-
// container TCP throughput on it (busybox nc: one container discards, the
// other sends MIB MiB by name and times it). Traffic stays inside the networks.
//
//   bun bench/usernet.ts      (as an unprivileged user; bench/run.sh does that)
//
// Env: POD_BIN, POD_BENCH_RUNS (default 10), POD_BENCH_MIB (default 1024).
import { benchEnv, median, push, run, POD } from "./_env.ts";
import { freePort } from "../test/fixtures/proc.ts";

const RUNS = Number(process.env.POD_BENCH_RUNS || 10);
const MIB = Number(process.env.POD_BENCH_MIB || 1024);

if (process.getuid?.() === 0) {
  console.error("bench/usernet.ts must run as an unprivileged user: use bash bench/run.sh usernet");
  process.exit(2);
}

const f1 = (n: number) => n.toFixed(1);
const POD_ARGV = [POD];
const ratio = (a: number, b: number | undefined) => (b ? (a / b).toFixed(2) : "-");

/** MiB/s from a client container sending MIB MiB to the discarding server `server` by name. */
function throughput(engine: string[], env: Record<string, string>, net: string, server: string): number | undefined {
  // busybox date has no %N: /proc/uptime's centiseconds, over enough data for them to be fine-grained
  const script = `sleep 0.5; t0=$(cut -d' ' -f1 /proc/uptime); dd if=/dev/zero bs=1048576 count=${MIB} 2>/dev/null | nc ${server} 80 || exit 3; t1=$(cut -d' ' -f1 /proc/uptime); echo "$t0 $t1"`;
  const x = Bun.spawnSync([...engine, "run", "--rm", "--network", net, "alpine", "sh", "-c", script], { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  if (x.exitCode !== 0) {
    console.log(`(${engine === POD_ARGV ? "pod" : "podman"}: the client could not reach ${server} by name: exit ${x.exitCode} ${x.stderr.toString().trim().split("\n").at(-1) ?? ""})`);
    return undefined;
  }
  const r = { stdout: x.stdout.toString() };
  const [t0, t1] = r.stdout.trim().split("\n").at(-1)!.split(" ").map(Number);
  return MIB / (t1! - t0!);
}

const b = await benchEnv();
const net = `bench-net-${process.pid}`;
try {
  const { env, podman } = b;
  let q: string[] | undefined;
  run([POD, "network", "create", net], env);
  if (podman) {
    const r = Bun.spawnSync([...podman, "network", "create", net], { env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode === 0) q = podman;
    else console.log(`(podman cannot create a network here: ${r.stderr.toString().trim().split("\n")[0]})`);
  }
  // the servers keep each tool's shared namespace up through the start-up runs too
  run([POD, "run", "-d", "--name", "sink", "--network", net, "alpine", "nc", "-lk", "-p", "80", "-e", "sh", "-c", "cat > /dev/null"], env);
  if (q) {
    const r = Bun.spawnSync([...q, "run", "-d", "--name", "sink", "--network", net, "alpine", "nc", "-lk", "-p", "80", "-e", "sh", "-c", "cat > /dev/null"], { env, stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) {
      console.log(`(podman cannot run a container on its network here: ${r.stderr.toString().trim().split("\n").at(-1)})`);
      q = undefined;
    }
  }
  const p = [POD, "run", "--rm", "--network", net, "alpine", "true"];
  run(p, env);
  if (q) run([...q, "run", "--rm", "--network", net, "alpine", "true"], env);
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    xs.push(run(p, env).ms);
    if (q) ys.push(run([...q, "run", "--rm", "--network", net, "alpine", "true"], env).ms);
  }
  console.log("| what | pod | podman | pod/podman |\n| --- | --- | --- | --- |");
  console.log(`| \`run --rm --network NAME alpine true\` (median of ${RUNS}) | ${f1(median(xs))} ms | ${q ? `${f1(median(ys))} ms` : "-"} | ${ratio(median(xs), q ? median(ys) : undefined)} |`);
  const tp = throughput(POD_ARGV, env, net, "sink");
  // a podman network without DNS (CNI without dnsname) would send the name to the host's resolvers, off the machine: never asked
  const podmanDns = q ? JSON.parse(run([...q, "network", "inspect", net], env).stdout)[0]?.dns_enabled === true : false;
  if (q && !podmanDns) console.log("(podman's network has no DNS here (dns_enabled false): no container-to-container figure by name for podman)");
  const tq = q && podmanDns ? throughput(q, env, net, "sink") : undefined;
  console.log(`| container → container by name, ${MIB} MiB TCP | ${tp ? `${f1(tp)} MiB/s` : "-"} | ${tq ? `${f1(tq)} MiB/s` : "-"} | ${tp ? ratio(tp, tq) : "-"} |`);
  // host → container through -p on the network: pod's monitor and keeper copy the bytes; podman's rootlessport
  const figures: (number | undefined)[] = [];
  for (const engine of [[POD], q]) {
    if (!engine) {
      figures.push(undefined);
      continue;
    }
    const port = await freePort();
    const name = `bench-pub-${figures.length}-${process.pid}`;
    run([...engine, "run", "-d", "--name", name, "--network", net, "-p", `127.0.0.1:${port}:80`, "alpine", "nc", "-lk", "-p", "80", "-e", "sh", "-c", "cat > /dev/null"], env);
    try {
      figures.push(await push(port, Math.min(MIB, 256)));
    } finally {
      Bun.spawnSync([...engine, "rm", "-f", name], { env, stdout: "ignore", stderr: "ignore" });
    }
  }
  console.log(`| host → container through -p on the network, ${Math.min(MIB, 256)} MiB TCP | ${f1(figures[0]!)} MiB/s | ${figures[1] ? `${f1(figures[1])} MiB/s` : "-"} | ${ratio(figures[0]!, figures[1])} |`);
  if (!podman) console.log("\npodman is not installed: pod's figures only");
} finally {
  Bun.spawnSync([POD, "rm", "-f", "sink"], { env: b.env, stdout: "ignore", stderr: "ignore" });
  if (b.podman) Bun.spawnSync([...b.podman, "rm", "-f", "sink"], { env: b.env, stdout: "ignore", stderr: "ignore" });
  await b.cleanup();
}
