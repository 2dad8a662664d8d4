// Helpers shared by the daemonless-lifecycle suites (400-430): a registry
// serving the real Alpine, containers a test creates and removes (rm -f after
// every test), pod's state as inspect shows it, and the host processes behind
// a container (its monitor `pod … _monitor <id>` and its first process).
import { afterEach, beforeAll } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import { pod, runPod, expectExit, expect, missing, onSuiteEnd, safeName, HEX64, SETUP_TIMEOUT, type RunOpts } from "./helpers.ts";
import { startRegistry, pushLayout, type Registry } from "../fixtures/registry.ts";
import { alpineTarball, pushFixture } from "../fixtures/images.ts";
import { MT, OciLayout, sha256 } from "../fixtures/oci.ts";
import { makeTempDir, removeDir, sleep } from "../fixtures/proc.ts";
import { stopAllLive } from "../fixtures/live.ts";

/** The image a stop test uses: Alpine with `StopSignal: SIGUSR1` in its config. */
export const STOPSIG_IMAGE = "alpine-stopsignal";

/**
 * Sets the suite up: a local registry standing in for docker.io with the real
 * Alpine pushed and pulled (skipped when the minirootfs is missing: the
 * tests then skip through requires()), and, after every test, `pod rm -f` of
 * every container it made with run()/create()/track().
 */
export function useLifecycle(o: { stopSignalImage?: boolean } = {}): void {
  let reg: Registry | undefined;
  beforeAll(async () => {
    onSuiteEnd(() => stopAllLive());
    onSuiteEnd(async () => {
      const left = await killUnlistedMonitors();
      if (left.length) console.error(`warning: killed monitors of containers pod no longer lists: ${left.join("; ")}`);
    });
    if (missing("alpine-fixture")) return;
    reg = await startRegistry();
    onSuiteEnd(() => reg!.stop());
    pod().mirrorDockerIo(reg.host);
    await pushFixture(reg, "alpine");
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
    if (o.stopSignalImage) {
      await pushStopSignalImage(reg);
      expectExit(await runPod(["pull", "-q", STOPSIG_IMAGE]), 0);
    }
  }, SETUP_TIMEOUT);
  afterEach(async () => {
    const names = [...tracked];
    tracked.clear();
    if (!names.length) return;
    const r = await runPod(["rm", "-f", "-i", ...names], { timeoutMs: 60_000 });
    if (r.code !== 0) console.error(`warning: cleanup pod rm -f -i ${names.join(" ")} exited ${r.code}: ${r.stderr.trim()}`);
  }, SETUP_TIMEOUT);
}

/** Alpine's minirootfs with StopSignal SIGUSR1, pushed as library/alpine-stopsignal. */
async function pushStopSignalImage(reg: Registry): Promise<void> {
  const tarball = alpineTarball();
  if (!tarball) throw new Error("the Alpine minirootfs is missing");
  const dir = makeTempDir("pod-stopsig-layout");
  onSuiteEnd(() => removeDir(dir));
  const L = new OciLayout(dir);
  const blob = readFileSync(tarball);
  const layer = L.addBlob(blob, MT.layerGzip);
  const diffID = `sha256:${sha256(gunzipSync(blob))}`;
  const created = "2024-09-06T12:00:00Z";
  const config = L.addBlob(
    JSON.stringify({
      created,
      architecture: "amd64",
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"], StopSignal: "SIGUSR1" },
      rootfs: { type: "layers", diff_ids: [diffID] },
      history: [{ created, created_by: "pod test: alpine with StopSignal SIGUSR1" }],
    }),
    MT.ociConfig,
  );
  const manifest = L.addBlob(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config, layers: [layer] }), MT.ociManifest);
  L.tag(manifest, "stopsig");
  await pushLayout(reg, dir, "stopsig", `library/${STOPSIG_IMAGE}`, "latest");
}

// ---- containers a test makes ---------------------------------------------------------

const tracked = new Set<string>();

/** Removes `name` (pod rm -f) when the running test ends. */
export function track(name: string): string {
  tracked.add(name);
  return name;
}

/** `pod run -d --name NAME ARGS...`: expects exit 0 and a 64-hex ID on stdout; returns the ID. */
export async function runD(name: string, args: string[], opts: RunOpts = {}): Promise<string> {
  track(name);
  const r = await runPod(["run", "-d", "--name", name, ...args], opts);
  expectExit(r, 0);
  const id = r.stdout.trim();
  expect(id, `pod run -d prints the container's ID: ${JSON.stringify(r.stdout)}`).toMatch(HEX64);
  return id;
}

/** `pod create --name NAME ARGS...`: expects exit 0 and an ID; returns it. */
export async function create(name: string, args: string[]): Promise<string> {
  track(name);
  const r = await runPod(["create", "--name", name, ...args]);
  expectExit(r, 0);
  const id = r.stdout.trim();
  expect(id, `pod create prints the container's ID: ${JSON.stringify(r.stdout)}`).toMatch(HEX64);
  return id;
}

/** `pod inspect --format FORMAT CTR`, expecting exit 0; stdout trimmed. */
export async function inspectFmt(ctr: string, format: string): Promise<string> {
  const r = await runPod(["inspect", "--format", format, ctr]);
  expectExit(r, 0);
  return r.stdout.trim();
}

export type ContainerJson = {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number; StartedAt: string; FinishedAt: string; OOMKilled: boolean };
  Config: { Image: string; Cmd: string[] | null; Entrypoint: string[] | null; Env: string[]; WorkingDir: string; User: string; Tty: boolean; Hostname?: string };
  HostConfig: Record<string, unknown>;
  Mounts: unknown[];
  NetworkSettings: { Ports: unknown };
};

/** `pod inspect CTR` as JSON: the one container object. */
export async function inspect(ctr: string): Promise<ContainerJson> {
  const r = await runPod(["inspect", ctr]);
  expectExit(r, 0);
  const all = JSON.parse(r.stdout) as ContainerJson[];
  expect(all.length, "inspect of one name returns one object").toBe(1);
  return all[0]!;
}

/** The container's status word as inspect shows it: running, exited, created. */
export const statusOf = (ctr: string): Promise<string> => inspectFmt(ctr, "{{.State.Status}}");

/** `{{.Names}} {{.Status}}` of `pod ps -a`, one line per container. */
export async function psStatus(ctr: string): Promise<string> {
  const r = await runPod(["ps", "-a", "--filter", `name=^${ctr}$`, "--format", "{{.Names}} {{.Status}}"]);
  expectExit(r, 0);
  const rows = r.stdout.split("\n").filter((l) => l.startsWith(`${ctr} `));
  if (rows.length !== 1) throw new Error(`expected one ps -a row for ${ctr}, got:\n${r.stdout}`);
  return rows[0]!.slice(ctr.length + 1);
}

/** Polls `check` until it returns true; throws with `what` after timeoutMs. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (performance.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until the container's status is `status`. */
export async function untilStatus(ctr: string, status: string, timeoutMs = 10_000): Promise<void> {
  let last = "";
  try {
    await until(`${ctr} to be ${status}`, async () => (last = await statusOf(ctr)) === status, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message} (last status: ${last})`);
  }
}

// ---- host processes -------------------------------------------------------------------

type Proc = { pid: number; ppid: number; state: string; argv: string[] };

function readProc(pid: number): Proc | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").slice(0, -1);
    return { pid, ppid: Number(rest[1]), state: rest[0]!, argv };
  } catch {
    return null; // gone meanwhile, or not ours to read
  }
}

function allProcs(): Proc[] {
  return readdirSync("/proc")
    .filter((n) => /^\d+$/.test(n))
    .map((n) => readProc(Number(n)))
    .filter((p): p is Proc => p !== null);
}

/** Host pids of the monitors (`pod … _monitor <id>`) of the container with this full ID. */
export function monitorsOf(id: string): number[] {
  return allProcs()
    .filter((p) => p.state !== "Z" && p.argv.includes("_monitor") && p.argv[p.argv.length - 1] === id)
    .map((p) => p.pid);
}

/** Every live pod monitor process of this suite (its argv names the suite's runroot). */
export function suiteMonitors(): Proc[] {
  const rr = pod().runtimeDir;
  return allProcs().filter((p) => p.state !== "Z" && p.argv.includes("_monitor") && p.argv.some((a) => a.startsWith(rr)));
}

/**
 * Monitors of this suite whose container pod no longer lists: SIGKILLed (by
 * pid; their container dies with them) and returned, so a test can fail on them
 * without leaving processes behind.
 */
export async function killUnlistedMonitors(): Promise<string[]> {
  const r = await runPod(["ps", "-a", "-q", "--no-trunc"]);
  if (r.code !== 0) return [`pod ps -a exited ${r.code}: not killing anything`];
  const known = new Set(r.stdout.split("\n").filter(Boolean));
  const orphans: string[] = [];
  for (const m of suiteMonitors()) {
    const id = m.argv[m.argv.length - 1]!;
    if (known.has(id)) continue;
    orphans.push(`monitor pid ${m.pid} of ${id.slice(0, 12)} (not listed by ps -a)`);
    try {
      process.kill(m.pid, "SIGKILL");
    } catch {
      // ended meanwhile
    }
  }
  return orphans;
}

/** The single monitor of a running container (waits briefly for it to show up). */
export async function monitorOf(id: string): Promise<number> {
  let pids: number[] = [];
  await until(`one monitor process for ${id.slice(0, 12)}`, () => (pids = monitorsOf(id)).length === 1, 5_000).catch((e) => {
    throw new Error(`${(e as Error).message}: found ${JSON.stringify(pids)}`);
  });
  return pids[0]!;
}

/** The parent pid of a host process, or null when it is gone. */
export function parentOf(pid: number): number | null {
  return readProc(pid)?.ppid ?? null;
}

/** True while the host process exists and is not a zombie. */
export function alive(pid: number): boolean {
  const p = readProc(pid);
  return p !== null && p.state !== "Z";
}

// ---- pod's files ----------------------------------------------------------------------

/** ~/.local/share/pod/containers/<id> */
export const recordDir = (id: string) => join(pod().storage, "containers", id);
/** $XDG_RUNTIME_DIR/pod/containers/<id> */
export const liveDir = (id: string) => join(pod().runtimeDir, "pod", "containers", id);

/** What pod left of a removed container: its record dir, runtime dir, monitors. */
export function leftoversOf(id: string): string[] {
  const out: string[] = [];
  if (existsSync(recordDir(id))) out.push(`record dir ${recordDir(id)}: ${readdirSync(recordDir(id)).join(" ")}`);
  if (existsSync(liveDir(id))) out.push(`runtime dir ${liveDir(id)}`);
  for (const m of monitorsOf(id)) out.push(`monitor pid ${m}`);
  return out;
}

/** Container IDs with a dir under ~/.local/share/pod/containers. */
export function recordedIds(): string[] {
  const d = join(pod().storage, "containers");
  return existsSync(d) ? readdirSync(d).filter((n) => HEX64.test(n)) : [];
}

/** `pod ARGS...`, expecting exit 0; returns stdout. */
export async function podStdout(args: string[], opts?: RunOpts): Promise<string> {
  const r = await runPod(args, opts);
  expectExit(r, 0);
  return r.stdout;
}

/** A host directory of the test user's (named after the running test), removed when the suite ends. */
export function suiteDir(prefix: string): string {
  const d = makeTempDir(`${prefix}-${safeName("h")}`);
  onSuiteEnd(() => removeDir(d));
  return d;
}
