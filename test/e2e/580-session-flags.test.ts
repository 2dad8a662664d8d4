// The session flags of issue 12 with podman 4's semantics: stop --timeout,
// start --attach/--interactive, kill --cidfile, exec --env-file,
// --preserve-fds, --latest and --detach-keys; logs over several containers
// (podman's short-ID or --names prefix, --color, --follow over all), cp
// --overwrite and tar streams, completion --no-desc and __completeNoDesc,
// info -D, system df -v. Expected outputs are podman 4.3.1's where podman
// has them.
import { describe } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, sh, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, it, POD } from "./helpers.ts";
import { useLifecycle, runD, create, statusOf, untilStatus, track, podStdout, suiteDir } from "./lifecycle-helpers.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("580-session-flags");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const hostDir = () => suiteDir("pod-580");

/** A shell pipeline on the host with the suite's environment (fds, pipes into pod). */
const pipeline = (script: string) => sh(["sh", "-c", script], pod().env);

describe("stop, start, kill", () => {
  A("stop --timeout is -t: PID 1 ignores SIGTERM, so it is killed after the timeout", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const t0 = Date.now();
    assertOutput(await podStdout(["stop", "--timeout", "1", name]), `${name}\n`);
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(8000);
    expect(await statusOf(name)).toBe("exited");
    expectPodError(await runPod(["stop", "--timeout", "soon", name]), 'invalid --time "soon"');
  });

  A("start --attach prints the container's output and exits with its status; --interactive feeds it stdin", async () => {
    const a = safeName("a");
    await create(a, ["alpine", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    const r = await runPod(["start", "--attach", a]);
    expectExit(r, 3);
    assertOutput(r.stdout, "out\n");
    expect(r.stderr).toContain("err");
    const i = safeName("i");
    await create(i, ["-i", "alpine", "sh", "-c", "read x; echo got $x"]);
    const r2 = await runPod(["start", "--attach", "--interactive", i], { input: "hello\n" });
    expectExit(r2, 0);
    assertOutput(r2.stdout, "got hello\n");
    const b = safeName("b");
    await create(b, ["alpine", "true"]);
    expectPodError(await runPod(["start", "--attach", a, b]), "you cannot start and attach multiple containers at once");
  });

  A("kill --cidfile signals the container whose ID the file holds", async () => {
    const name = safeName("c");
    const cid = join(hostDir(), "cid");
    const id = await runD(name, ["--cidfile", cid, "alpine", "sleep", "1000"]);
    const out = await podStdout(["kill", "--cidfile", cid]);
    expect(out.trim()).toBe(id);
    await untilStatus(name, "exited");
    expectPodError(await runPod(["kill", "--cidfile", join(hostDir(), "none")]), "none");
  });
});

describe("pod exec", () => {
  A("--env-file: the file's entries, then -e over them", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const dir = hostDir();
    writeFileSync(join(dir, "env"), "# a comment\nA=from-file\nB=file\n\nC=c c\n");
    assertOutput(await podStdout(["exec", "--env-file", join(dir, "env"), "-e", "B=flag", name, "sh", "-c", 'echo "$A $B $C"']), "from-file flag c c\n");
    expectPodError(await runPod(["exec", "--env-file", join(dir, "missing"), name, "true"]), "reading env file", "no such file or directory");
  });

  A("--preserve-fds N passes descriptors 3 .. 3+N-1; one not passed is podman's error", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const dir = hostDir();
    writeFileSync(join(dir, "three"), "three\n");
    writeFileSync(join(dir, "four"), "four\n");
    const r = await pipeline(`"${POD}" exec --preserve-fds 2 ${name} sh -c 'cat <&3; cat <&4; ls /proc/self/fd' 3<'${dir}/three' 4<'${dir}/four'`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith("three\nfour\n")).toBe(true);
    // only 0, 1, 2, the two passed and the one ls opens
    expect(lines(r.stdout).slice(2).sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
    // without the flag, the process gets none of them
    const none = await pipeline(`"${POD}" exec ${name} sh -c 'cat <&3' 3<'${dir}/three'`);
    expect(none.code).not.toBe(0);
    const missing = await pipeline(`"${POD}" exec --preserve-fds 2 ${name} true 3<'${dir}/three'`);
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("Error: file descriptor 4 is not available - the preserve-fds option requires that file descriptors must be passed");
    expectPodError(await runPod(["exec", "--preserve-fds", "two", name, "true"]), 'invalid argument "two" for "--preserve-fds" flag');
  });

  A("--latest (-l) runs in the newest container; every argument is the command", async () => {
    const old = safeName("old");
    await runD(old, ["--hostname", "old-one", "alpine", "sleep", "1000"]);
    const young = safeName("new");
    await runD(young, ["--hostname", "new-one", "alpine", "sleep", "1000"]);
    assertOutput(await podStdout(["exec", "--latest", "hostname"]), "new-one\n");
    assertOutput(await podStdout(["exec", "-l", "cat", "/etc/hostname"]), "new-one\n");
    expectPodError(await runPod(["exec", "-l"]), "needs a command");
  });

  A('--detach-keys: parsed like attach\'s; "" with -it means no detaching, other keys with -it are refused with the reason', async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    assertOutput(await podStdout(["exec", "--detach-keys", "", name, "echo", "hi"]), "hi\n");
    assertOutput(await podStdout(["exec", "--detach-keys", "ctrl-x,y", name, "echo", "hi"]), "hi\n");
    expectPodError(await runPod(["exec", "--detach-keys", "ctrl-", name, "true"]), 'invalid detach key "ctrl-"');
    expectPodError(await runPod(["exec", "-it", "--detach-keys", "ctrl-x", name, "true"]), "pod exec -it cannot detach", '--detach-keys ""');
  });
});

describe("pod logs", () => {
  /** Two exited containers that printed one line each; returns their names and IDs. */
  async function twoLogged(): Promise<{ a: string; b: string; ida: string; idb: string }> {
    const a = safeName("a");
    const b = safeName("b");
    const ida = await runD(a, ["alpine", "sh", "-c", "echo from-a"]);
    const idb = await runD(b, ["alpine", "sh", "-c", "echo from-b >&2"]);
    await podStdout(["wait", a, b]);
    return { a, b, ida, idb };
  }

  A("several containers: each line after the short ID, or the name with --names/-n; one container has no prefix", async () => {
    const { a, b, ida, idb } = await twoLogged();
    const r = await runPod(["logs", a, b]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${ida.slice(0, 12)} from-a\n`);
    assertOutput(r.stderr, `${idb.slice(0, 12)} from-b\n`);
    const n = await runPod(["logs", "--names", a, b]);
    assertOutput(n.stdout + n.stderr, `${a} from-a\n${b} from-b\n`);
    const t = await runPod(["logs", "-n", "-t", a, b]);
    expect(t.stdout).toMatch(new RegExp(`^${a} \\d{4}-\\d\\d-\\d\\dT\\S+ from-a\\n$`));
    assertOutput(await podStdout(["logs", "-n", a]), "from-a\n");
  });

  A("--color colors each container's lines in podman's colors", async () => {
    const { a, b } = await twoLogged();
    const r = await runPod(["logs", "--color", "-n", a, b]);
    expectExit(r, 0);
    assertOutput(r.stdout, `\x1b[37m${a} from-a\x1b[0m\n`);
    assertOutput(r.stderr, `\x1b[31m${b} from-b\x1b[0m\n`);
  });

  A("--follow over several containers prints each one's new lines and ends when all have ended", async () => {
    const a = safeName("a");
    const b = safeName("b");
    await runD(a, ["alpine", "sh", "-c", "sleep 1; echo late-a"]);
    await runD(b, ["alpine", "sh", "-c", "echo early-b; sleep 2; echo late-b"]);
    const t0 = Date.now();
    const r = await runPod(["logs", "-f", "-n", a, b], { timeoutMs: 20_000 });
    expectExit(r, 0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(lines(r.stdout).sort()).toEqual([`${a} late-a`, `${b} early-b`, `${b} late-b`].sort());
    // b's lines in their order
    expect(r.stdout.indexOf(`${b} early-b`)).toBeLessThan(r.stdout.indexOf(`${b} late-b`));
  });

  A("--latest, and podman's errors: no container, --latest with names, one that does not exist", async () => {
    const { a, b } = await twoLogged();
    assertOutput((await runPod(["logs", "-l"])).stderr, "from-b\n");
    expectPodError(await runPod(["logs"]), "specify at least one container name or ID to log");
    expectPodError(await runPod(["logs", "-l", a]), "--latest and containers cannot be used together");
    expectPodError(await runPod(["logs", a, "nope-580"]), 'no container with name or ID "nope-580" found: no such container');
    expectPodError(await runPod(["logs", "--tail", "x", b]), 'invalid argument "x" for "--tail" flag');
  });
});

describe("--latest on one-container commands", () => {
  A("inspect -l and attach -l act on the newest container; with a name they are refused", async () => {
    const old = safeName("old");
    await runD(old, ["alpine", "sleep", "1000"]);
    const young = safeName("new");
    const id = await runD(young, ["alpine", "sh", "-c", "sleep 1; echo attached; exit 4"]);
    assertOutput(await podStdout(["inspect", "-l", "--format", "{{.Id}}"]), `${id}\n`);
    expectPodError(await runPod(["inspect", "-l", old]), "--latest and containers cannot be used together");
    expectPodError(await runPod(["attach", "-l", old]), "--latest and containers cannot be used together");
    const r = await runPod(["attach", "--no-stdin", "-l"]);
    expectExit(r, 4);
    expect(r.stdout).toContain("attached");
  });
});

describe("pod cp", () => {
  A("--overwrite lets a file replace a directory; without it pod refuses, as podman does", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    await podStdout(["exec", name, "mkdir", "-p", "/tmp/target/inner"]);
    const dir = hostDir();
    writeFileSync(join(dir, "target"), "a file now\n");
    const refused = await runPod(["cp", join(dir, "target"), `${name}:/tmp/`]);
    expectExit(refused, 125);
    expect(refused.stderr).toMatch(/^Error: .*/m);
    await podStdout(["cp", "--overwrite", join(dir, "target"), `${name}:/tmp/`]);
    assertOutput(await podStdout(["exec", name, "cat", "/tmp/target"]), "a file now\n");
  });

  A("tar streams both ways: CTR:DIR - | tar t, and tar c | pod cp - CTR:DIR", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const listing = await pipeline(`"${POD}" cp ${name}:/etc - | tar -tf -`);
    expect(listing.code, listing.stderr).toBe(0);
    expect(lines(listing.stdout)).toContain("etc/alpine-release");
    const dir = hostDir();
    mkdirSync(join(dir, "x"));
    writeFileSync(join(dir, "x", "y"), "in a tar\n");
    const into = await pipeline(`tar -C '${dir}' -cf - x | "${POD}" cp - ${name}:/tmp`);
    expect(into.code, into.stderr).toBe(0);
    assertOutput(await podStdout(["exec", name, "cat", "/tmp/x/y"]), "in a tar\n");
  });
});

describe("completion, info, system df", () => {
  it("completion --no-desc: no descriptions, and the script asks __completeNoDesc, which answers without them", async () => {
    for (const shell of ["bash", "zsh", "fish"]) {
      const s = await podStdout(["completion", "--no-desc", shell]);
      expect(s).toContain(" __completeNoDesc -- ");
      expect(s).not.toContain(" __complete -- ");
      expect(s).not.toContain("Stop one or more running containers");
    }
    expect(await podStdout(["completion", "zsh"])).toContain("Stop one or more running containers");
    const withDesc = await podStdout(["__complete", "--", "rm", "--fo"]);
    assertOutput(withDesc, "--force\tStop and remove running containers\n:4\n");
    assertOutput(await podStdout(["__completeNoDesc", "--", "rm", "--fo"]), "--force\n:4\n");
    expectPodError(await runPod(["completion", "--no-desc", "tcsh"]), 'unsupported shell "tcsh"');
  });

  it("info -D / --debug prints the same report as info (podman 4 adds nothing with it)", async () => {
    const f = "{{.Store.GraphRoot}} {{.Store.GraphDriverName}} {{.Host.Arch}}";
    const plain = await podStdout(["info", "--format", f]);
    assertOutput(await podStdout(["info", "-D", "--format", f]), plain);
    assertOutput(await podStdout(["info", "--debug", "--format", f]), plain);
    expect(await podStdout(["info", "--debug"])).toContain("graphRoot:");
  });

  A("system df -v: podman's three tables, a row per image, container and volume", async () => {
    const vol = track(safeName("v"));
    onSuiteEnd(() => runPod(["volume", "rm", "-f", vol]));
    await podStdout(["volume", "create", vol]);
    const name = safeName("c");
    const id = await runD(name, ["-v", `${vol}:/data`, "alpine", "sh", "-c", "head -c 5000 /dev/zero > /data/z; sleep 1000"]);
    const r = await runPod(["system", "df", "-v"]);
    expectExit(r, 0);
    const parts = r.stdout.split(/\n(?=Containers space usage:|Local Volumes space usage:)/);
    expect(parts.length).toBe(3);
    const table = (part: string, title: string) => {
      const [t, blank, header, ...rows] = part.split("\n").filter((_, i, all) => i < all.length - (all.at(-1) === "" ? 1 : 0));
      expect(t).toBe(title);
      expect(blank).toBe("");
      return { header: header!.trim().split(/\s{2,}/), rows: rows.map((l) => l.trim().split(/\s{2,}/)) };
    };
    const images = table(parts[0]!, "Images space usage:");
    expect(images.header).toEqual(["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"]);
    const alpine = images.rows.find((row) => row[0] === "docker.io/library/alpine")!;
    expect(alpine[1]).toBe("latest");
    expect(alpine[2]).toMatch(/^[0-9a-f]{12}$/);
    expect(alpine[5]).toBe("0B");
    expect(alpine[4]).toBe(alpine[6]!);
    expect(Number(alpine[7])).toBeGreaterThanOrEqual(1);
    const ctrs = table(parts[1]!, "Containers space usage:");
    expect(ctrs.header).toEqual(["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"]);
    const row = ctrs.rows.find((x) => x[0] === id.slice(0, 12))!;
    expect(row[1]).toBe(alpine[2]!);
    expect(row[3]).toBe("1");
    expect(row[6]).toBe("running");
    expect(row.at(-1)).toBe(name);
    const vols = table(parts[2]!, "Local Volumes space usage:");
    expect(vols.header).toEqual(["VOLUME NAME", "LINKS", "SIZE"]);
    await podStdout(["exec", name, "test", "-s", "/data/z"]);
    const r2 = await runPod(["system", "df", "--verbose"]);
    const v = table(r2.stdout.split(/\n(?=Local Volumes space usage:)/)[1]!, "Local Volumes space usage:").rows.find((x) => x[0] === vol)!;
    expect(v).toEqual([vol, "1", "5kB"]);
    expectPodError(await runPod(["system", "df", "-v", "--format", "json"]), "cannot combine --format and --verbose flags");
  });
});
