// A private HOME for a benchmark: registries.conf sending docker.io to a local
// registry holding the real Alpine, podman set up as DESIGN.md says (runc +
// native overlay, runroot under 50 characters), alpine pulled into both.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";
import { startRegistry, type Registry } from "../test/fixtures/registry.ts";
import { pushFixture } from "../test/fixtures/images.ts";
import { makeTempDir, removeDir, runEndCleanup, sleep, stopAllTracked } from "../test/fixtures/proc.ts";

export const POD = process.env.POD_BIN || join(resolve(import.meta.dir, ".."), "dist", "pod");
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export type BenchEnv = {
  env: Record<string, string>;
  podman?: string[];
  cleanup(): Promise<void>;
};

export function run(argv: string[], env: Record<string, string>): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = Bun.spawnSync(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const ms = performance.now() - t0;
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} exited ${r.exitCode}\n${r.stdout.toString()}${r.stderr.toString()}`);
  return { ms, stdout: r.stdout.toString() };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export async function benchEnv(): Promise<BenchEnv> {
  const work = makeTempDir("pod-bench-");
  const home = join(work, "home");
  const conf = join(home, ".config", "containers");
  mkdirSync(conf, { recursive: true, mode: 0o700 });
  mkdirSync(join(work, "run"), { mode: 0o700 });
  const user = userInfo().username;
  const env = { HOME: home, PATH, XDG_RUNTIME_DIR: join(work, "run"), LANG: "C.UTF-8", USER: user, LOGNAME: user };
  const reg: Registry = await startRegistry();
  await pushFixture(reg, "alpine");
  writeFileSync(join(conf, "registries.conf"), `unqualified-search-registries = ["docker.io"]\n\n[[registry]]\nprefix = "docker.io"\nlocation = "${reg.host}"\ninsecure = true\n`);
  writeFileSync(join(conf, "containers.conf"), '[engine]\nruntime = "runc"\n');
  writeFileSync(join(conf, "storage.conf"), '[storage]\ndriver = "overlay"\n');
  const podmanBin = PATH.split(":").map((d) => join(d, "podman")).find((p) => existsSync(p));
  const runroot = mkdtempSync("/tmp/pmr-");
  const podman = podmanBin ? [podmanBin, "--root", join(work, "podman-root"), "--runroot", runroot, "--storage-driver", "overlay"] : undefined;
  run([POD, "pull", "-q", "alpine"], env);
  if (podman) run([...podman, "pull", "-q", "docker.io/library/alpine:latest"], env);
  return {
    env,
    podman,
    async cleanup() {
      Bun.spawnSync([POD, "system", "reset", "-f"], { env, stdout: "ignore", stderr: "ignore" });
      if (podman) Bun.spawnSync([...podman, "system", "reset", "-f"], { env, stdout: "ignore", stderr: "ignore" });
      removeDir(runroot);
      await reg.stop();
      await stopAllTracked();
      runEndCleanup();
      removeDir(work);
    },
  };
}

/** Writes mib MiB to 127.0.0.1:port as fast as the socket takes them; resolves with MiB/s, counted until the peer closes. */
export async function push(port: number, mib: number): Promise<number> {
  const chunk = new Uint8Array(1 << 20);
  for (let tries = 0; ; tries++) {
    try {
      return await new Promise<number>((resolve, reject) => {
        let sent = 0;
        let t0 = 0;
        const pump = (s: { write(b: Uint8Array): number; end(): void }) => {
          while (sent < mib * chunk.length) {
            const off = sent % chunk.length;
            const n = s.write(off ? chunk.subarray(off) : chunk);
            sent += n;
            if (n === 0 || n < chunk.length - off) return;
          }
          s.end();
        };
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            open(s) {
              t0 = performance.now();
              pump(s);
            },
            drain(s) {
              pump(s);
            },
            data() {},
            close() {
              if (sent < mib * chunk.length) reject(new Error(`closed after ${sent} bytes`));
              else resolve(mib / ((performance.now() - t0) / 1000));
            },
            connectError(_s, e) {
              reject(e);
            },
            error(_s, e) {
              reject(e);
            },
          },
        }).catch(reject);
      });
    } catch (e) {
      if (tries > 50) throw e;
      await sleep(100);
    }
  }
}
