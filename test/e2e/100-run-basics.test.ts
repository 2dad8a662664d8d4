// pod run: pulling on first use, exit statuses, what the process sees (ids,
// PID 1, hostname, env, workdir, user, entrypoint), the root filesystem
// (overlay, whiteouts, --read-only, --tmpfs, volumes, keep-id) and --rm.
// Expected outputs were checked against podman 4.3.1 (runc, overlay) on the
// project's machines where the contract is podman's.
import { beforeAll, describe } from "bun:test";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  useSuite,
  it,
  requires,
  runPod,
  pod,
  expect,
  expectExit,
  expectPodError,
  assertOutput,
  lines,
  missing,
  walk,
  subidRange,
  hostArch,
  safeName,
  onSuiteEnd,
  SETUP_TIMEOUT,
  type PodResult,
} from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("100-run-basics");

/** Most cases use the real Alpine (CI has it); the rest the busybox fixture. */
const A = requires("subuid", "alpine-fixture");
const B = requires("subuid");

let reg: Registry;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  await pushFixture(reg, "whiteouts");
  await pushFixture(reg, "run-config");
  if (!missing("alpine-fixture")) await pushFixture(reg, "alpine");
}, SETUP_TIMEOUT);

/** `pod run --rm ARGS...` */
const run = (args: string[], opts: Parameters<typeof runPod>[1] = {}): Promise<PodResult> => runPod(["run", "--rm", ...args], opts);

/** `pod run --rm ARGS...`, expecting exit 0; returns stdout. */
async function out(args: string[], opts: Parameters<typeof runPod>[1] = {}): Promise<string> {
  const r = await run(args, opts);
  expectExit(r, 0);
  return r.stdout;
}

const norm = (s: string) => lines(s).map((l) => l.trim().split(/\s+/).join(" "));

/** Requests for a manifest of repo the registry has served so far (its access log). */
function manifestGets(repo: string): number {
  const log = existsSync(reg.log) ? readFileSync(reg.log, "utf8") : "";
  return log.split("\n").filter((l) => l.includes(`/v2/${repo}/manifests/`) && /"(GET|HEAD) /.test(l)).length;
}

/** A host directory for volumes, removed when the test ends. */
function hostDir(): string {
  const d = makeTempDir(`pod-vol-${safeName("v")}`);
  onSuiteEnd(() => removeDir(d));
  return d;
}

describe("pulling and exit statuses", () => {
  A("pulls the image on first use: progress on stderr, only the command's output on stdout", async () => {
    const r = await run(["alpine", "echo", "hello"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "hello\n", "stdout");
    expect(r.stderr.trim(), "pull progress is reported on stderr").not.toBe("");
    const l = await runPod(["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    expectExit(l, 0);
    expect(lines(l.stdout)).toContain("docker.io/library/alpine:latest");
  });

  A("a second run uses the stored image and prints nothing of its own", async () => {
    const before = manifestGets("library/alpine");
    const r = await run(["alpine", "echo", "hello"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "hello\n", "stdout");
    assertOutput(r.stderr, "", "stderr");
    expect(manifestGets("library/alpine"), "no request to the registry").toBe(before);
  });

  A("passes the command's exit status through", async () => {
    expect((await run(["alpine", "sh", "-c", "exit 7"])).code).toBe(7);
    expect((await run(["alpine", "false"])).code).toBe(1);
    expect((await run(["alpine", "sh", "-c", "exit 255"])).code).toBe(255);
    expectExit(await run(["alpine", "true"]), 0);
  });

  A("the native core the build made is loaded, and TinyCC compiles core.c where it cannot be (both run containers)", async () => {
    const built = await runPod(["--log-level", "debug", "run", "--rm", "--network", "none", "alpine", "sh", "-c", "exit 3"]);
    expect(built.code).toBe(3);
    expect(built.stderr).toContain("loading the native core, built with pod");
    const tinycc = await runPod(["--log-level", "debug", "run", "--rm", "--network", "none", "alpine", "sh", "-c", "exit 4"], { env: { POD_NATIVE_TINYCC: "1" } });
    expect(tinycc.code).toBe(4);
    expect(tinycc.stderr).toContain("loading the native core, compiled by TinyCC");
  });

  A("exits 127 when the command is not found", async () => {
    const r = await run(["alpine", "no-such-command-here"]);
    expectExit(r, 127);
    expect(r.stderr).toContain("no-such-command-here");
    const r2 = await run(["alpine", "/no/such/path"]);
    expectExit(r2, 127);
    expect(r2.stderr).toContain("/no/such/path");
  });

  A("exits 126 when the command cannot be invoked", async () => {
    const r = await run(["alpine", "/etc/alpine-release"]);
    expectExit(r, 126);
    expect(r.stderr).toContain("/etc/alpine-release");
    expectExit(await run(["alpine", "/etc"]), 126);
  });

  B("exits 125 on pod's own errors, with an Error: line and nothing on stdout", async () => {
    const cases: [string[], string | RegExp][] = [
      [["run", "--no-such-flag", "busybox", "true"], "--no-such-flag"],
      [["run"], /./],
      [["run", "--pull", "sometimes", "busybox", "true"], "sometimes"],
      [["run", "--rm", "--pull", "never", "no-such-image-here", "true"], "no-such-image-here"],
      [["run", "--rm", "--pull=never", "busybox-not-pulled", "true"], "busybox-not-pulled"],
      [["run", "--rm", "no-such-repo-on-the-registry", "true"], "no-such-repo-on-the-registry"],
      [["run", "--rm", "--network", "bogus-net", "busybox", "true"], "bogus-net"],
    ];
    for (const [args, mention] of cases) {
      const r = await runPod(args);
      expectPodError(r, mention);
      assertOutput(r.stdout, "", `stdout of pod ${args.join(" ")}`);
    }
  });

  A("--pull never uses the stored image, --pull always asks the registry again, --pull missing does not", async () => {
    const n0 = manifestGets("library/alpine");
    expect(await out(["--pull", "never", "alpine", "echo", "never"])).toBe("never\n");
    expect(await out(["--pull=missing", "alpine", "echo", "missing"])).toBe("missing\n");
    expect(manifestGets("library/alpine"), "never/missing with the image stored: no registry request").toBe(n0);
    const r = await run(["--pull", "always", "alpine", "echo", "always"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "always\n", "stdout");
    expect(manifestGets("library/alpine"), "--pull always fetches the manifest").toBeGreaterThan(n0);
  });

  B("--platform with the host's platform runs the image", async () => {
    expect(await out(["--platform", `linux/${hostArch()}`, "busybox", "echo", "ok"])).toBe("ok\n");
  });

  B("everything after the image belongs to the command, flags included", async () => {
    const o = await out(["busybox", "sh", "-c", 'for a; do echo "[$a]"; done', "x", "--name", "y", "-e", "Z=1", "--rm", "-it"]);
    expect(lines(o)).toEqual(["[--name]", "[y]", "[-e]", "[Z=1]", "[--rm]", "[-it]"]);
  });

  B("-i connects stdin; without it the command reads nothing", async () => {
    expect(await out(["-i", "busybox", "cat"], { input: "line one\nline two\n" })).toBe("line one\nline two\n");
    expect(await out(["--interactive", "busybox", "wc", "-l"], { input: "a\nb\nc\n" })).toMatch(/^\s*3\n$/);
    expect(await out(["busybox", "cat"], { input: "not for the container\n" })).toBe("");
  });
});

describe("many runs", () => {
  A("16 runs, 4 at a time, each finish promptly with their own status", async () => {
    const results: PodResult[] = [];
    for (let round = 0; round < 4; round++) {
      const batch = [0, 1, 2, 3].map((i) => run(["alpine", "sh", "-c", `exit ${round * 4 + i}`], { timeoutMs: 20_000 }));
      results.push(...(await Promise.all(batch)));
    }
    const wrong = results.map((r, i) => ({ want: i, got: r.code, ms: Math.round(r.ms) })).filter((x) => x.got !== x.want);
    expect(wrong, "runs that ended with another status (-1: killed after hanging 20 s)").toEqual([]);
  });
});

describe("the process inside", () => {
  A("runs as root, with uid 0 mapped to the user and 1.. to the subordinate range", async () => {
    expect(await out(["alpine", "id"])).toStartWith("uid=0(root) gid=0(root) groups=0(root)");
    const sub = subidRange("/etc/subuid")!;
    const subg = subidRange("/etc/subgid")!;
    expect(norm(await out(["alpine", "cat", "/proc/self/uid_map"]))).toEqual([`0 ${process.getuid!()} 1`, `1 ${sub.start} ${sub.count}`]);
    expect(norm(await out(["alpine", "cat", "/proc/self/gid_map"]))).toEqual([`0 ${process.getgid!()} 1`, `1 ${subg.start} ${subg.count}`]);
  });

  A("the command is PID 1", async () => {
    expect(await out(["alpine", "sh", "-c", "echo $$"])).toBe("1\n");
    expect(norm(await out(["alpine", "ps", "-o", "pid,comm"]))).toEqual(["PID COMMAND", "1 ps"]);
  });

  A("the hostname is the container id's first 12 hex digits, also in /etc/hostname and /etc/hosts", async () => {
    const script = 'echo "h=$(hostname)"; echo "f=$(cat /etc/hostname)"; echo "e=$HOSTNAME"; grep -qw "$(hostname)" /etc/hosts && echo in-hosts';
    const o1 = lines(await out(["alpine", "sh", "-c", script]));
    const h = o1[0]!.slice(2);
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    expect(o1).toEqual([`h=${h}`, `f=${h}`, `e=${h}`, "in-hosts"]);
    const h2 = (await out(["alpine", "hostname"])).trim();
    expect(h2).toMatch(/^[0-9a-f]{12}$/);
    expect(h2, "each container has its own id").not.toBe(h);
  });

  A("--hostname sets the hostname, /etc/hostname and /etc/hosts", async () => {
    const o = await out(["--hostname", "pod-test-host", "alpine", "sh", "-c", 'hostname; echo "f=$(cat /etc/hostname)"; grep -cw pod-test-host /etc/hosts']);
    expect(lines(o)).toEqual(["pod-test-host", "f=pod-test-host", "1"]);
  });

  A("/etc/hosts, /etc/hostname and /etc/resolv.conf exist and localhost resolves", async () => {
    const o = await out(["alpine", "sh", "-c", "for f in /etc/hosts /etc/hostname /etc/resolv.conf; do test -f $f && echo $f; done; grep -w localhost /etc/hosts | head -1"]);
    const l = lines(o);
    expect(l.slice(0, 3)).toEqual(["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]);
    expect(l[3]).toMatch(/^(127\.0\.0\.1|::1)\s.*\blocalhost\b/);
  });

  A("environment: the image's PATH, HOME, HOSTNAME; -e KEY=VAL, -e KEY from pod's environment, --env-file", async () => {
    const dir = hostDir();
    const envFile = join(dir, "env");
    writeFileSync(envFile, "FROM_FILE=1\n# a comment\n\nSPACED=two words\nFROM_FILE_HOST\n");
    const o = await out(
      ["-e", "A=1", "--env", "B=x=y", "-e", "HOST_ONLY", "-e", "NOT_SET_ANYWHERE", "--env-file", envFile, "alpine", "sh", "-c",
        'echo "[$A][$B][$HOST_ONLY][${NOT_SET_ANYWHERE-unset}][$FROM_FILE][$SPACED][$FROM_FILE_HOST]"; echo "PATH=$PATH"; echo "HOME=$HOME"'],
      { env: { HOST_ONLY: "from-host", FROM_FILE_HOST: "file-from-host" } },
    );
    expect(lines(o)).toEqual([
      "[1][x=y][from-host][unset][1][two words][file-from-host]",
      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
    ]);
    // pod's own environment does not leak in
    const env = await out(["alpine", "env"], { env: { POD_TEST_SECRET: "leak" } });
    expect(env).not.toContain("POD_TEST_SECRET");
    expect(env).not.toContain(pod().home);
  });

  A("-w sets the working directory (default /)", async () => {
    expect(await out(["alpine", "pwd"])).toBe("/\n");
    expect(await out(["-w", "/tmp", "alpine", "pwd"])).toBe("/tmp\n");
    expect(await out(["--workdir", "/usr/share", "alpine", "pwd"])).toBe("/usr/share\n");
  });

  A("-u takes names and numbers; groups come from /etc/group", async () => {
    const cases: [string, string][] = [
      ["nobody", "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)"],
      ["1000:1000", "uid=1000(1000) gid=1000(1000) groups=1000(1000)"],
      ["1000", "uid=1000(1000) gid=0(root) groups=0(root)"],
      ["daemon", "uid=2(daemon) gid=2(daemon) groups=1(bin),2(daemon),4(adm)"],
      ["0:1000", "uid=0(root) gid=1000(1000) groups=1000(1000)"],
    ];
    for (const [u, want] of cases) assertOutput(await out(["-u", u, "alpine", "id"]), `${want}\n`, `id with -u ${u}`);
    assertOutput(await out(["--user", "nobody", "alpine", "id", "-un"]), "nobody\n", "id -un with --user nobody");
  });

  B("the image's Entrypoint, Cmd, Env, WorkingDir and User are used", async () => {
    expect(await out(["run-config"])).toBe("ep:yes:/home/daemon:1\n");
    // arguments replace Cmd, not Entrypoint
    expect(await out(["run-config", 'echo "args:$FROM_IMAGE:$(id -un)"'])).toBe("args:yes:daemon\n");
    // flags override the config
    expect(await out(["-u", "0", "-w", "/", "-e", "FROM_IMAGE=flag", "run-config"])).toBe("ep:flag:/:0\n");
  });

  B("--entrypoint replaces the image's: a string, a JSON array, and \"\" clears it", async () => {
    expect(await out(["--entrypoint", "/bin/echo", "run-config", "hi"])).toBe("hi\n");
    // an explicit entrypoint drops the image's Cmd
    expect(await out(["--entrypoint", "/bin/echo", "run-config"])).toBe("\n");
    expect(await out(["--entrypoint", '["/bin/echo","a"]', "run-config", "b"])).toBe("a b\n");
    expect(await out(["--entrypoint=", "run-config", "id", "-u"])).toBe("1\n");
    expect(await out(["--entrypoint", "", "run-config", "echo", "cleared"])).toBe("cleared\n");
  });

  A("--name: a second container with the same name is refused with 125; --rm frees the name", async () => {
    const name = safeName("c");
    try {
      expectExit(await runPod(["run", "--name", name, "alpine", "true"]), 0);
      const r = await runPod(["run", "--name", name, "alpine", "true"]);
      expectPodError(r, name);
    } finally {
      // `pod rm` may not exist yet: the suite's `pod system reset -f` removes it then
      await runPod(["rm", "-f", name]);
    }
    const other = safeName("c");
    expectExit(await run(["--name", other, "alpine", "true"]), 0);
    expectExit(await run(["--name", other, "alpine", "true"]), 0);
  });
});

describe("the root filesystem", () => {
  A("is a kernel overlay; a container's changes do not reach the image", async () => {
    const root = norm(await out(["alpine", "sh", "-c", "grep -E '^[^ ]+ / ' /proc/mounts"]));
    expect(root).toHaveLength(1);
    expect(root[0]!.split(" ")[2], `the filesystem type of / (${root[0]})`).toBe("overlay");
    expectExit(await run(["alpine", "sh", "-c", "echo changed > /etc/pod-new && rm /etc/alpine-release"]), 0);
    expect(await out(["alpine", "sh", "-c", "test -e /etc/pod-new && echo leaked; cat /etc/alpine-release"])).toBe("3.20.3\n");
  });

  B("files keep the image's owners", async () => {
    const o = await out(["busybox", "stat", "-c", "%u:%g %n", "/etc/passwd", "/home/daemon", "/home/daemon/pod-owned-by-1"]);
    expect(lines(o)).toEqual(["0:0 /etc/passwd", "1:1 /home/daemon", "1:1 /home/daemon/pod-owned-by-1"]);
  });

  B("whiteouts: deleted files and dirs are absent, an opaque dir shows only the upper layer", async () => {
    // the whiteouts image has no shell: a static busybox from the host runs the checks
    // (named busybox, so that it takes its first argument as the applet)
    const bb = ["-v", "/bin/busybox:/busybox:ro", "--entrypoint", "/busybox", "whiteouts"];
    expect(lines(await out([...bb, "ls", "-a", "/pod-wh"]))).toEqual([".", "..", "file-kept", "opaque", "pod-marker-upper"]);
    expect(lines(await out([...bb, "ls", "-a", "/pod-wh/opaque"]))).toEqual([".", "..", "new"]);
    expect(await out([...bb, "cat", "/pod-wh/file-kept", "/pod-wh/opaque/new"])).toBe("kept\nnew after the opaque marker\n");
    // nothing of the markers shows either
    expect(await out([...bb, "find", "/pod-wh", "-name", ".wh.*"])).toBe("");
  });

  A("--read-only: / cannot be written, /tmp can", async () => {
    const r = await run(["--read-only", "alpine", "sh", "-c", "touch /pod-x; echo root=$?; touch /etc/pod-x 2>/dev/null; echo etc=$?; touch /tmp/x && echo tmp=ok"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["root=1", "etc=1", "tmp=ok"]);
    expect(r.stderr).toContain("Read-only file system");
  });

  A("--tmpfs mounts a writable tmpfs, with options, also on a read-only root", async () => {
    const o = await out(["--tmpfs", "/scratch:size=1m", "alpine", "sh", "-c", "grep ' /scratch ' /proc/mounts; echo x > /scratch/f && cat /scratch/f"]);
    const [mount, content] = lines(o);
    expect(mount).toMatch(/^tmpfs \/scratch tmpfs rw,/);
    expect(mount).toContain("size=1024k");
    expect(content).toBe("x");
    expect(await out(["--read-only", "--tmpfs", "/scratch", "alpine", "sh", "-c", "touch /scratch/x && echo ok"])).toBe("ok\n");
  });

  A("-v DIR:/data is read-write; a file written by the container's root belongs to the user on the host", async () => {
    const dir = hostDir();
    writeFileSync(join(dir, "from-host"), "host content\n");
    const o = await out(["-v", `${dir}:/data`, "alpine", "sh", "-c", "cat /data/from-host; stat -c %u:%g /data/from-host; echo container > /data/from-container; mkdir /data/sub"]);
    expect(lines(o)).toEqual(["host content", "0:0"]);
    expect(readFileSync(join(dir, "from-container"), "utf8")).toBe("container\n");
    const st = statSync(join(dir, "from-container"));
    expect(`${st.uid}:${st.gid}`).toBe(`${process.getuid!()}:${process.getgid!()}`);
    expect(statSync(join(dir, "sub")).uid).toBe(process.getuid!());
  });

  A("-v DIR:/data:ro is read-only", async () => {
    const dir = hostDir();
    writeFileSync(join(dir, "f"), "ro\n");
    const r = await run(["--volume", `${dir}:/data:ro`, "alpine", "sh", "-c", "cat /data/f; touch /data/new"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("ro\n");
    expect(r.stderr).toContain("Read-only file system");
    expect(existsSync(join(dir, "new"))).toBe(false);
  });

  A("-v can be given more than once, and binds a single file", async () => {
    const d1 = hostDir();
    const d2 = hostDir();
    writeFileSync(join(d1, "one"), "1\n");
    writeFileSync(join(d2, "two"), "2\n");
    const file = join(d2, "single");
    writeFileSync(file, "single file\n");
    const o = await out(["-v", `${d1}:/a`, "-v", `${d2}:/b:ro`, "-v", `${file}:/etc/pod-single`, "alpine", "cat", "/a/one", "/b/two", "/etc/pod-single"]);
    expect(o).toBe("1\n2\nsingle file\n");
  });

  A("--userns=keep-id: id -u is the user's uid and host files keep their owner", async () => {
    const dir = hostDir();
    writeFileSync(join(dir, "mine"), "x\n");
    const uid = process.getuid!();
    const o = await out(["--userns=keep-id", "-v", `${dir}:/data`, "alpine", "sh", "-c", "id -u; stat -c %u /data/mine; touch /data/made-inside"]);
    expect(lines(o)).toEqual([String(uid), String(uid)]);
    expect(statSync(join(dir, "made-inside")).uid).toBe(uid);
  });

  A("--rm leaves nothing behind in pod's storage or runtime dir", async () => {
    expectExit(await run(["alpine", "true"]), 0);
    const snapshot = () => new Set([...walk(pod().storage).entries, ...walk(pod().runtimeDir).entries].map((e) => e.path));
    const before = snapshot();
    const id = (await out(["alpine", "hostname"])).trim();
    expect(id).toMatch(/^[0-9a-f]{12}$/);
    const after = snapshot();
    expect([...after].filter((p) => !before.has(p)), "paths that appeared").toEqual([]);
    expect([...after].filter((p) => p.includes(id)), `paths naming container ${id}`).toEqual([]);
    // and a container without --rm does leave its record (so the comparison above can see one)
    const name = safeName("c");
    try {
      expectExit(await runPod(["run", "--name", name, "alpine", "true"]), 0);
      expect([...snapshot()].filter((p) => !before.has(p)).length, "a kept container is stored somewhere").toBeGreaterThan(0);
    } finally {
      await runPod(["rm", "-f", name]);
    }
  });
});
