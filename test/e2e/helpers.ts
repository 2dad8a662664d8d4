// The e2e harness: runs the real dist/pod as the (unprivileged) user running
// the tests, each suite with its own HOME, XDG_RUNTIME_DIR and TMPDIR, and
// logs every pod call so a failing test shows what pod was asked and answered.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { accessSync, constants, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync, type Stats } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";
import type { Subprocess } from "bun";
import { makeTempDir, removeDir, runEndCleanup, runHooksInstalled, stopAllTracked, tmpRoot } from "../fixtures/proc.ts";
import { alpineTarball, fixturesDir, ALPINE_TARBALL } from "../fixtures/images.ts";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
export const POD = process.env.POD_BIN || join(REPO_ROOT, "dist", "pod");
/** In CI a missing prerequisite is a failure, not a skip. */
export const CI = ["true", "1", "yes"].includes((process.env.CI ?? "").toLowerCase());
export const HEX64 = /^[0-9a-f]{64}$/;
/** Timeouts: bun's default is 5 s per test and per hook (bunfig.toml's [test] timeout is not honored). */
const TEST_TIMEOUT = 120_000;
export const SETUP_TIMEOUT = 180_000;

export type PodResult = { code: number; stdout: string; stderr: string; ms: number; args: string[] };
/** input: pod's stdin (text, or bytes such as a tar); without it stdin is /dev/null. */
export type RunOpts = { env?: Record<string, string>; unset?: string[]; input?: string | Uint8Array; timeoutMs?: number; pod?: PodEnv };

// ---- the log of pod calls made by the running test ---------------------------

let currentTest = "";
let callLog: string[] = [];

function indent(s: string): string {
  const t = s.length > 4000 ? s.slice(0, 2000) + "\n[... cut ...]\n" + s.slice(-2000) : s;
  return t.replace(/\n$/, "").split("\n").map((l) => `    ${l}`).join("\n");
}

function logCall(r: PodResult): void {
  let entry = `$ pod ${r.args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}\n  → exit ${r.code} (${Math.round(r.ms)} ms)`;
  if (r.stdout) entry += `\n  stdout:\n${indent(r.stdout)}`;
  if (r.stderr) entry += `\n  stderr:\n${indent(r.stderr)}`;
  callLog.push(entry);
}

/** Adds a pod call the test ran itself (a started process, see fixtures/live.ts) to the log shown on failure. */
export function recordCall(r: PodResult): void {
  logCall(r);
}

// ---- per-suite environment ------------------------------------------------------

export type RegistryConfEntry = { prefix?: string; location: string; insecure?: boolean };

/** One user's view: HOME, XDG_RUNTIME_DIR (0700) and TMPDIR of its own; default storage. */
export class PodEnv {
  readonly base: string;
  readonly home: string;
  readonly runtimeDir: string;
  readonly tmp: string;
  readonly env: Record<string, string>;

  constructor(readonly id: string) {
    this.base = makeTempDir(`pod-e2e-${id}`);
    this.home = join(this.base, "home");
    this.runtimeDir = join(this.base, "run");
    this.tmp = join(this.base, "tmp");
    mkdirSync(join(this.home, ".config", "containers"), { recursive: true, mode: 0o700 });
    mkdirSync(this.runtimeDir, { mode: 0o700 });
    mkdirSync(this.tmp, { mode: 0o700 });
    const user = userInfo().username;
    // no XDG_CONFIG_HOME / XDG_DATA_HOME: pod must fall back to ~/.config and ~/.local/share
    this.env = {
      HOME: this.home,
      USER: user,
      LOGNAME: user,
      PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      XDG_RUNTIME_DIR: this.runtimeDir,
      TMPDIR: this.tmp,
      LANG: "C.UTF-8",
      SHELL: "/bin/sh",
      TERM: "dumb",
    };
    this.writeRegistriesConf([]);
  }

  /** pod's default storage: $XDG_DATA_HOME/pod = ~/.local/share/pod */
  get storage(): string {
    return join(this.home, ".local", "share", "pod");
  }

  get configDir(): string {
    return join(this.home, ".config", "containers");
  }

  /** ~/.config/containers/registries.conf, podman's v2 format. */
  writeRegistriesConf(entries: RegistryConfEntry[], search: string[] = ["docker.io"]): void {
    let s = `unqualified-search-registries = ${JSON.stringify(search)}\n`;
    for (const e of entries) {
      s += "\n[[registry]]\n";
      if (e.prefix) s += `prefix = ${JSON.stringify(e.prefix)}\n`;
      s += `location = ${JSON.stringify(e.location)}\n`;
      if (e.insecure) s += "insecure = true\n";
    }
    writeFileSync(join(this.configDir, "registries.conf"), s);
  }

  /** `docker.io` → the given local registry, over plain HTTP. */
  mirrorDockerIo(host: string, insecure = true): void {
    this.writeRegistriesConf([{ prefix: "docker.io", location: host, insecure }]);
  }

  async run(args: string[], opts: RunOpts = {}): Promise<PodResult> {
    const t0 = performance.now();
    const env: Record<string, string> = { ...this.env, ...opts.env };
    for (const k of opts.unset ?? []) delete env[k];
    const proc = Bun.spawn([POD, ...args], {
      env,
      cwd: this.home,
      stdin: opts.input === undefined ? "ignore" : typeof opts.input === "string" ? new TextEncoder().encode(opts.input) : opts.input,
      stdout: "pipe",
      stderr: "pipe",
    });
    const timeoutMs = opts.timeoutMs ?? 90_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      proc.kill("SIGKILL");
    }, timeoutMs);
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    clearTimeout(timer);
    const r: PodResult = {
      code: timedOut ? -1 : code,
      stdout,
      stderr: timedOut ? `${stderr}\n[test harness: killed after ${timeoutMs} ms]` : stderr,
      ms: performance.now() - t0,
      args,
    };
    logCall(r);
    return r;
  }

  /** Starts pod without waiting (for concurrency and kill tests); the caller owns the process. */
  spawn(args: string[]): Subprocess<"ignore", "pipe", "pipe"> {
    callLog.push(`$ pod ${args.join(" ")} &`);
    return Bun.spawn([POD, ...args], { env: this.env, cwd: this.home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  }

  /** `pod system reset -f`, then removes every dir of this env. */
  async cleanup(): Promise<void> {
    if (existsSync(this.storage) && existsSync(POD)) {
      const r = await this.run(["system", "reset", "-f"], { timeoutMs: 60_000 });
      if (r.code !== 0) {
        console.error(`warning: [${this.id}] pod system reset -f exited ${r.code}: ${r.stderr.trim()}; trying pod unshare rm -rf`);
        await this.run(["unshare", "rm", "-rf", this.storage], { timeoutMs: 60_000 });
      }
    }
    removeDir(this.base);
  }
}

let current: PodEnv | undefined;

/** The environment of the running suite (set by useSuite's beforeAll). */
export function pod(): PodEnv {
  if (!current) throw new Error("no suite environment: call useSuite() at the top of the test file");
  return current;
}

/** Runs dist/pod in the current suite's environment. */
export function runPod(args: string[], opts: RunOpts = {}): Promise<PodResult> {
  return (opts.pod ?? pod()).run(args, opts);
}

type Cleanup = () => unknown | Promise<unknown>;
let cleanups: Cleanup[] = [];

/** Registers something to stop or remove when the suite ends (servers, registries). */
export function onSuiteEnd(fn: Cleanup): void {
  cleanups.push(fn);
}

/**
 * Call once at the top of a test file: a fresh PodEnv before the tests, and
 * afterwards every registered cleanup, every tracked process stopped by pid,
 * and pod's storage reset and removed.
 */
export function useSuite(id: string): { env: () => PodEnv } {
  let env: PodEnv | undefined;
  beforeAll(() => {
    if (!existsSync(POD)) throw new Error(`${POD} does not exist: build it first (node_modules/.bin/bun run build)`);
    env = new PodEnv(id);
    current = env;
    cleanups = [];
  }, SETUP_TIMEOUT);
  afterAll(async () => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        console.error(`warning: [${id}] cleanup failed: ${(e as Error).message}`);
      }
    }
    cleanups = [];
    await stopAllTracked();
    if (env) await env.cleanup();
    if (current === env) current = undefined;
    if (!runHooksInstalled()) runEndCleanup();
  }, SETUP_TIMEOUT);
  return { env: () => env ?? pod() };
}

// ---- tests, skips and names -----------------------------------------------------

type TestFn = () => unknown | Promise<unknown>;
export type TestLike = (name: string, fn: TestFn, timeoutMs?: number) => void;

/** Like bun's test(), but records the test name and prints the pod call log when it fails. */
export const it: TestLike = (name, fn, timeoutMs) => {
  test(
    name,
    async () => {
      currentTest = name;
      callLog = [];
      try {
        await fn();
      } catch (e) {
        if (callLog.length) console.error(`\n--- pod calls of "${name}" ---\n${callLog.join("\n")}\n--- end of pod calls ---`);
        throw e;
      }
    },
    timeoutMs ?? TEST_TIMEOUT,
  );
};

export type Feature = "alpine-fixture" | "getfattr" | "tun" | "subuid" | "tmux" | "unprivileged" | "root" | "podman" | "small-disk" | "cc" | "keyctl";

/** Features CI must provide: there, missing means failed, not skipped. */
const CI_MUST: Record<Feature, boolean> = {
  "alpine-fixture": true,
  getfattr: true,
  tun: true,
  subuid: true,
  tmux: true,
  unprivileged: true,
  root: true,
  podman: false,
  "small-disk": true,
  cc: true,
  keyctl: true,
};

function which(cmd: string): string | null {
  for (const d of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    const p = join(d, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this dir: try the next
    }
  }
  return null;
}

/** Why a feature is missing, or null when it is there. */
export function missing(f: Feature): string | null {
  switch (f) {
    case "alpine-fixture":
      return alpineTarball() ? null : `the Alpine minirootfs is not at ${join(fixturesDir(), ALPINE_TARBALL)} (set POD_TEST_FIXTURES)`;
    case "getfattr":
      return which("getfattr") ? null : "getfattr is not installed (apt-get install attr)";
    case "tmux":
      return which("tmux") ? null : "tmux is not installed (apt-get install tmux)";
    case "podman":
      return which("podman") ? null : "podman is not installed";
    case "cc":
      return which("gcc") && existsSync("/usr/lib/x86_64-linux-gnu/libc.a") ? null : "gcc and a static libc are not installed (apt-get install gcc libc6-dev): the test program is built at test time";
    case "keyctl":
      return which("keyctl") ? null : "keyctl is not installed (apt-get install keyutils)";
    case "tun":
      try {
        accessSync("/dev/net/tun", constants.R_OK | constants.W_OK);
        return null;
      } catch {
        return "/dev/net/tun is not read-writable by this user (chmod 666 /dev/net/tun as root)";
      }
    case "subuid":
      if (!which("newuidmap") || !which("newgidmap")) return "newuidmap/newgidmap are missing (apt-get install uidmap)";
      if (!subidRange("/etc/subuid")) return `${userInfo().username} has no range in /etc/subuid`;
      if (!subidRange("/etc/subgid")) return `${userInfo().username} has no range in /etc/subgid`;
      return null;
    case "small-disk": {
      // test/run.sh (as root) mounts a 64 MiB tmpfs the test user owns, for what a full disk does
      const dir = process.env.POD_TEST_SMALL_DISK;
      if (!dir) return "POD_TEST_SMALL_DISK is not set (test/run.sh as root mounts a small tmpfs for it)";
      try {
        accessSync(dir, constants.W_OK);
        return null;
      } catch {
        return `POD_TEST_SMALL_DISK=${dir} is not writable by this user`;
      }
    }
    case "root":
      return process.getuid?.() === 0 ? null : "this file is about pod as root (test/run.sh runs *.root.test.ts as root)";
    case "unprivileged":
      return process.getuid?.() !== 0 ? null : "the e2e suite must run as an unprivileged user, not root (test/run.sh runs it as podtest)";
  }
}

/**
 * Returns `it` when every feature is present; otherwise a test that is
 * skipped with the reason printed (or, in CI, fails with it when CI can
 * provide the feature).
 */
export function requires(...features: Feature[]): TestLike {
  const reasons = features.map((f) => [f, missing(f)] as const).filter(([, r]) => r !== null);
  if (reasons.length === 0) return it;
  const why = reasons.map(([, r]) => r).join("; ");
  const mustInCI = CI && reasons.some(([f]) => CI_MUST[f]);
  return (name, _fn, timeoutMs) => {
    if (mustInCI) {
      it(name, () => {
        throw new Error(`prerequisite missing in CI: ${why}`);
      }, timeoutMs);
    } else {
      console.log(`skip: "${name}": ${why}`);
      test.skip(`${name} (skipped: ${why})`, () => {});
    }
  };
}

let nameCounter = 0;
/** A name for pod objects that carries the test's name, unique in the run. */
export function safeName(prefix = "t"): string {
  const slug = currentTest.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 32);
  nameCounter++;
  return `${prefix}-${slug || "test"}-${process.pid.toString(36)}${nameCounter.toString(36)}`.replace(/-+/g, "-");
}

// ---- assertions -----------------------------------------------------------------

/** Expects an exit code, showing the whole call when it differs. */
export function expectExit(r: PodResult, code: number): void {
  if (r.code !== code) {
    throw new Error(
      `pod ${r.args.join(" ")}: expected exit ${code}, got ${r.code}\n  stdout:\n${indent(r.stdout || "(empty)")}\n  stderr:\n${indent(r.stderr || "(empty)")}`,
    );
  }
}

/** Expects a podman-style failure: exit 125, first stderr line "Error: ...", a hint line after it. */
export function expectPodError(r: PodResult, ...mentions: (string | RegExp)[]): void {
  expectExit(r, 125);
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  const errLine = lines.find((l) => l.startsWith("Error: "));
  if (!errLine) throw new Error(`expected a line starting with "Error: " on stderr, got:\n${indent(r.stderr || "(empty)")}`);
  for (const m of mentions) {
    if (typeof m === "string" ? !r.stderr.includes(m) : !m.test(r.stderr)) {
      throw new Error(`expected stderr to mention ${m}, got:\n${indent(r.stderr)}`);
    }
  }
}

/** Compares output, printing expected vs actual in full when it differs. */
export function assertOutput(actual: string, expected: string | RegExp, what = "output"): void {
  const ok = typeof expected === "string" ? actual === expected : expected.test(actual);
  if (!ok) throw new Error(`${what} differs\n  expected:\n${indent(String(expected))}\n  actual:\n${indent(actual || "(empty)")}`);
}

export function lines(s: string): string[] {
  return s.split("\n").filter((l) => l.trim() !== "");
}

// ---- looking into pod's storage ----------------------------------------------------

export type WalkEntry = { path: string; stat: Stats };

/** Every entry under root (lstat, symlinks not followed); unreadable dirs are listed in `denied`. */
export function walk(root: string): { entries: WalkEntry[]; denied: string[] } {
  const entries: WalkEntry[] = [];
  const denied: string[] = [];
  const stack = [root];
  while (stack.length) {
    const dir = stack.pop()!;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM") {
        denied.push(dir);
        continue;
      }
      if (code === "ENOENT" && dir === root) return { entries, denied };
      throw e;
    }
    for (const n of names) {
      const p = join(dir, n);
      let st: Stats;
      try {
        st = lstatSync(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue; // removed meanwhile
        throw e;
      }
      entries.push({ path: p, stat: st });
      if (st.isDirectory()) stack.push(p);
    }
  }
  return { entries, denied };
}

/** Paths under pod's storage that end with /rel (find files by marker, not by layout). */
export function findInStorage(rel: string, env: PodEnv = pod()): WalkEntry[] {
  const suffix = "/" + rel.replace(/^\/+/, "");
  return walk(env.storage).entries.filter((e) => e.path.endsWith(suffix));
}

/** The extracted layer dir holding `rel`, if pod stored exactly one copy of it. */
export function layerDirOf(rel: string, env: PodEnv = pod()): string {
  const hits = findInStorage(rel, env);
  if (hits.length !== 1) {
    throw new Error(`expected exactly one copy of ${rel} in ${env.storage}, found ${hits.length}:\n${hits.map((h) => "  " + h.path).join("\n")}`);
  }
  return hits[0]!.path.slice(0, -(rel.length + 1));
}

/** The first subordinate id of the current user in /etc/subuid or /etc/subgid. */
export function subidRange(file: string): { start: number; count: number } | null {
  if (!existsSync(file)) return null;
  const u = userInfo();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if ((who === u.username || who === String(u.uid)) && start && count) return { start: Number(start), count: Number(count) };
  }
  return null;
}

/** Host platform in OCI terms. */
export function hostArch(): string {
  return ({ x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x" } as Record<string, string>)[process.arch] ?? process.arch;
}

/** Runs a host command (argv, no shell) and returns its result. */
export async function sh(argv: string[], env?: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn(argv, { env: env ?? { PATH: "/usr/bin:/bin" }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export { expect, tmpRoot };
