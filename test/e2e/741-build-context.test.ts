// pod build with a context that is not a local directory: a tar (gzip) or a
// Containerfile on stdin, an http URL of a tar or a Containerfile (a Bun.serve
// server on 127.0.0.1), a git repository served by `git daemon` on 127.0.0.1
// with #branch:subdir, and archives that try to leave the context (refused,
// exit 125). After every build, failed or not, no temp dir of pod is left.
import { describe, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, lines, onSuiteEnd, sh } from "./helpers.ts";
import { useLifecycle } from "./lifecycle-helpers.ts";
import { freePort, sleep, startTracked, stopTracked } from "../fixtures/proc.ts";

useSuite("741-build-context");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const GIT = Bun.which("git", { PATH: "/usr/local/bin:/usr/bin:/bin" });
/** Like A, and skipped with the reason printed when git is not installed. */
const G: typeof A = GIT
  ? A
  : (name) => {
      console.log(`skip: "${name}": git is not installed (apt-get install git)`);
      test.skip(`${name} (skipped: git is not installed)`, () => {});
    };
let n = 0;

/** A fresh directory with these files (name → content). */
function tree(files: Record<string, string>): string {
  const dir = join(pod().tmp, `src-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/** The directory as a tar's bytes (made by the host's tar). */
async function tarOf(dir: string): Promise<Uint8Array> {
  const out = join(pod().tmp, `tar-${++n}.tar`);
  const r = await sh(["tar", "-cf", out, "-C", dir, "."]);
  expect(r.code).toBe(0);
  return readFileSync(out);
}

/** A ustar archive written by hand, for entries host tools will not make. */
function rawTar(entries: { name: string; type?: string; body?: string; link?: string }[]): Uint8Array {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? "");
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(body.length.toString(8).padStart(11, "0") + "\0", 124);
    h.write("14000000000\0", 136);
    h.write("        ", 148);
    h.write(e.type ?? "0", 156);
    h.write(e.link ?? "", 157, 100);
    h.write("ustar\x0000", 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** pod's temp dirs for contexts under the suite's TMPDIR: none must outlive a build. */
function leftovers(): string[] {
  return readdirSync(pod().tmp).filter((f) => f.startsWith("pod-build-context-"));
}

async function build(args: string[], input?: string | Uint8Array) {
  const r = await runPod(["build", ...args], { timeoutMs: 300_000, input });
  expect(leftovers()).toEqual([]);
  return r;
}

async function runOut(image: string): Promise<string[]> {
  const r = await runPod(["run", "--rm", image]);
  expectExit(r, 0);
  return lines(r.stdout);
}

const COPYING = "FROM alpine\nCOPY hello.txt /hello.txt\nCOPY sub/ /sub/\nCMD [\"cat\", \"/hello.txt\", \"/sub/deep.txt\"]\n";

describe("pod build: contexts on stdin", () => {
  A("a gzip tar on stdin is the context: its Containerfile is used and COPY finds its files", async () => {
    const dir = tree({ Containerfile: COPYING, "hello.txt": "hello from stdin tar\n", "sub/deep.txt": "deep\n" });
    // a read-only directory in the archive: the temp dir must still go away
    chmodSync(join(dir, "sub"), 0o555);
    const tar = await tarOf(dir);
    chmodSync(join(dir, "sub"), 0o755);
    const r = await build(["-t", "ctx-stdin-tar", "-"], gzipSync(tar));
    expectExit(r, 0);
    expect(await runOut("ctx-stdin-tar")).toEqual(["hello from stdin tar", "deep"]);
    const ls = await runPod(["run", "--rm", "ctx-stdin-tar", "stat", "-c", "%a", "/sub"]);
    expectExit(ls, 0);
    expect(ls.stdout.trim()).toBe("555");
  });

  A("-f names a Containerfile inside the stdin tar", async () => {
    const dir = tree({ "build/Other": "FROM alpine\nCOPY hello.txt /h\nCMD [\"cat\", \"/h\"]\n", "hello.txt": "other\n" });
    const r = await build(["-t", "ctx-stdin-f", "-f", "build/Other", "-"], await tarOf(dir));
    expectExit(r, 0);
    expect(await runOut("ctx-stdin-f")).toEqual(["other"]);
  });

  A("text on stdin is the Containerfile, with an empty context", async () => {
    const r = await build(["-t", "ctx-stdin-text", "-"], 'FROM alpine\nRUN echo from-stdin > /f\nCMD ["cat", "/f"]\n');
    expectExit(r, 0);
    expect(await runOut("ctx-stdin-text")).toEqual(["from-stdin"]);
    const copy = await build(["-t", "ctx-stdin-nofile", "-"], "FROM alpine\nCOPY hello.txt /\n");
    expect(copy.code).not.toBe(0);
    expect(copy.stderr).toContain("hello.txt");
  });

  A("an archive entry that leaves the context fails with 125 and leaves nothing", async () => {
    const outside = join(pod().tmp, `outside-${++n}`);
    mkdirSync(outside);
    for (const [entries, why] of [
      [[{ name: "Containerfile", body: "FROM alpine\n" }, { name: "../evil.txt", body: "x" }], "leaves the context directory"],
      [[{ name: "Containerfile", body: "FROM alpine\n" }, { name: "/evil.txt", body: "x" }], "has an absolute name"],
      [[{ name: "out", type: "2", link: outside }, { name: "out/evil.txt", body: "x" }], "goes through a symlink"],
    ] as [Parameters<typeof rawTar>[0], string][]) {
      const r = await build(["-t", "ctx-evil", "-"], rawTar(entries));
      expectPodError(r, "build context on stdin", why);
      expect(readdirSync(outside)).toEqual([]);
      expect(existsSync(join(pod().tmp, "evil.txt"))).toBe(false);
    }
    expectExit(await runPod(["image", "exists", "ctx-evil"]), 1);
  });

  A("empty stdin, and -f - with the context -, are refused", async () => {
    expectPodError(await build(["-"], ""), "build context on stdin is empty");
    expectExit(await build(["-f", "-", "-"], "FROM alpine\n"), 125);
  });
});

describe("pod build: http contexts", () => {
  A("a URL of a tar, and of a Containerfile; a 404 names the status", async () => {
    const dir = tree({ Containerfile: COPYING, "hello.txt": "hello over http\n", "sub/deep.txt": "deep http\n" });
    const tar = await tarOf(dir);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/ctx.tar") return new Response(tar);
        if (path === "/ctx.tar.gz") return new Response(gzipSync(tar));
        if (path === "/Containerfile") return new Response('FROM alpine\nRUN echo from-url > /f\nCMD ["cat", "/f"]\n');
        return new Response("not here", { status: 404 });
      },
    });
    onSuiteEnd(() => server.stop(true));
    const base = `http://127.0.0.1:${server.port}`;
    expectExit(await build(["-t", "ctx-url-tar", `${base}/ctx.tar`]), 0);
    expect(await runOut("ctx-url-tar")).toEqual(["hello over http", "deep http"]);
    expectExit(await build(["-q", "-t", "ctx-url-tgz", `${base}/ctx.tar.gz`]), 0);
    expectExit(await build(["-t", "ctx-url-text", `${base}/Containerfile`]), 0);
    expect(await runOut("ctx-url-text")).toEqual(["from-url"]);
    expectPodError(await build([`${base}/missing`]), `build context ${base}/missing: invalid response status 404`);
    server.stop(true);
  });
});

describe("pod build: git contexts", () => {
  G("git://HOST/REPO#branch:subdir is cloned and the subdir is the context", async () => {
    const base = join(pod().tmp, `git-${++n}`);
    const repo = join(base, "repo");
    mkdirSync(repo, { recursive: true });
    const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: pod().home, GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
    const git = async (...args: string[]) => {
      const r = await sh([GIT!, "-C", repo, ...args], env);
      if (r.code !== 0) throw new Error(`git ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
    };
    await git("init", "-q", "-b", "main");
    writeFileSync(join(repo, "README"), "top\n");
    await git("add", ".");
    await git("commit", "-q", "-m", "main");
    await git("checkout", "-q", "-b", "feature");
    mkdirSync(join(repo, "app", "sub"), { recursive: true });
    writeFileSync(join(repo, "app", "Containerfile"), COPYING);
    writeFileSync(join(repo, "app", "hello.txt"), "hello from git\n");
    writeFileSync(join(repo, "app", "sub", "deep.txt"), "deep git\n");
    await git("add", ".");
    await git("commit", "-q", "-m", "feature");
    await git("checkout", "-q", "main");

    const port = await freePort();
    const daemon = startTracked("git-daemon", [GIT!, "daemon", "--export-all", "--reuseaddr", `--base-path=${base}`, "--listen=127.0.0.1", `--port=${port}`, base], { env, log: join(base, "daemon.log") });
    onSuiteEnd(() => stopTracked(daemon));
    const url = `git://127.0.0.1:${port}/repo`;
    for (let i = 0; ; i++) {
      if ((await sh([GIT!, "ls-remote", url], env)).code === 0) break;
      if (i > 50) throw new Error(`git daemon did not answer on ${url}: ${readFileSync(join(base, "daemon.log"), "utf8")}`);
      await sleep(100);
    }

    expectExit(await build(["-t", "ctx-git", `${url}#feature:app`]), 0);
    expect(await runOut("ctx-git")).toEqual(["hello from git", "deep git"]);
    // the default branch has no Containerfile, and a branch that is not there fails the clone
    expectPodError(await build([url]), "no Containerfile or Dockerfile");
    expectPodError(await build([`${url}#nope:app`]), "git clone failed", "nope");
    expectPodError(await build([`${url}#feature:missing`]), "the repository has no directory missing");
    await stopTracked(daemon);
  });

  A("without git on PATH a git context says to install it", async () => {
    const empty = join(pod().tmp, `empty-path-${++n}`);
    mkdirSync(empty);
    const r = await runPod(["build", "git://127.0.0.1:9/repo#main"], { env: { PATH: empty } });
    expectPodError(r, "git is not installed", "apt-get install git");
    expect(leftovers()).toEqual([]);
  });
});
