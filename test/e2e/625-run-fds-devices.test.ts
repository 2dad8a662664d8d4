// The run/create leftovers of issue 12 with podman 4's semantics:
// run --preserve-fds (fds 3 .. 3+N-1 into the container), --conmon-pidfile
// (the pid of the container's monitor, pod's conmon), --device (the host's
// node bound in rootless, as podman does), and --sig-proxy on run, start and
// attach (signals pod receives go to the container's process, or not);
// then secret create --replace, secret inspect --showsecret and volume
// create --uid/--gid.
import { describe } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, sh, expect, expectPodError, assertOutput, lines, safeName, POD } from "./helpers.ts";
import { useLifecycle, runD, create, track, podStdout, suiteDir, inspectFmt, monitorOf, untilStatus, statusOf, until } from "./lifecycle-helpers.ts";
import { LiveProcess, type LiveResult } from "../fixtures/live.ts";

useSuite("625-run-fds-devices");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const hostDir = () => suiteDir("pod-625");

/** A shell pipeline on the host with the suite's environment (fds, pipes into pod). */
const pipeline = (script: string) => sh(["sh", "-c", script], pod().env);

describe("run --preserve-fds", () => {
  A("passes descriptors 3 .. 3+N-1 to the command, in the foreground and with -d; no others", async () => {
    const dir = hostDir();
    writeFileSync(join(dir, "three"), "three\n");
    writeFileSync(join(dir, "four"), "four\n");
    const r = await pipeline(`"${POD}" run --rm --preserve-fds 2 alpine sh -c 'cat <&3; cat <&4; ls /proc/self/fd' 3<'${dir}/three' 4<'${dir}/four'`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.startsWith("three\nfour\n")).toBe(true);
    // 0, 1, 2, the two passed and the one ls opens: nothing of pod's
    expect(lines(r.stdout).slice(2).sort()).toEqual(["0", "1", "2", "3", "4", "5"]);
    // without the flag the container gets none of them
    const none = await pipeline(`"${POD}" run --rm alpine sh -c 'ls /proc/self/fd' 3<'${dir}/three'`);
    expect(none.code, none.stderr).toBe(0);
    expect(lines(none.stdout).sort()).toEqual(["0", "1", "2", "3"]);
    // with -d the container keeps it after run returned: a pipe it writes to
    const name = track(safeName("d"));
    const d = await pipeline(`"${POD}" run -d --name ${name} --preserve-fds 1 alpine sh -c 'echo via-fd3 >&3' 3>'${dir}/out'`);
    expect(d.code, d.stderr).toBe(0);
    await untilStatus(name, "exited");
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("via-fd3\n");
  });

  A("a descriptor not passed is podman's error before anything is made; create has no such flag", async () => {
    const dir = hostDir();
    writeFileSync(join(dir, "three"), "three\n");
    const name = safeName("missing");
    const r = await pipeline(`"${POD}" run --name ${name} --preserve-fds 2 alpine true 3<'${dir}/three'`);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("Error: file descriptor 4 is not available - the preserve-fds option requires that file descriptors must be passed");
    expect((await runPod(["container", "exists", name])).code).toBe(1);
    expectPodError(await runPod(["run", "--preserve-fds", "two", "alpine", "true"]), 'invalid argument "two" for "--preserve-fds" flag');
    expectPodError(await runPod(["create", "--preserve-fds", "1", "alpine", "true"]), "unknown flag: --preserve-fds");
  });
});

describe("run/create --conmon-pidfile", () => {
  A("-d and start write the monitor's pid as conmon does (the number alone), again at each start", async () => {
    const dir = hostDir();
    const file = join(dir, "conmon.pid");
    const name = safeName("d");
    const id = await runD(name, ["--conmon-pidfile", file, "alpine", "sleep", "1000"]);
    const first = readFileSync(file, "utf8");
    expect(first).toMatch(/^\d+$/);
    expect(Number(first)).toBe(await monitorOf(id));
    expect(await inspectFmt(name, "{{.ConmonPidFile}}")).toBe(file);
    assertOutput(await podStdout(["stop", "-t", "0", name]), `${name}\n`);
    assertOutput(await podStdout(["start", name]), `${name}\n`);
    const second = readFileSync(file, "utf8");
    expect(Number(second)).toBe(await monitorOf(id));
    expect(second).not.toBe(first);
    // create records it for the first start, which replaces what the file held
    const c = safeName("c");
    const cid = await create(c, ["--conmon-pidfile", file, "alpine", "sleep", "1000"]);
    writeFileSync(file, "stale");
    assertOutput(await podStdout(["start", c]), `${c}\n`);
    expect(Number(readFileSync(file, "utf8"))).toBe(await monitorOf(cid));
  });

  A("a foreground run writes its own pid (it holds the container as conmon would); a missing directory creates nothing", async () => {
    const dir = hostDir();
    const file = join(dir, "fg.pid");
    const r = await pipeline(`echo $$; exec "${POD}" run --rm --conmon-pidfile '${file}' alpine true`);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(r.stdout.trim());
    const name = safeName("nodir");
    expectPodError(await runPod(["run", "--name", name, "--conmon-pidfile", join(dir, "no", "such", "f.pid"), "alpine", "true"]), "opening conmon pidfile", "no such directory");
    expect((await runPod(["container", "exists", name])).code).toBe(1);
    expect(existsSync(join(dir, "no"))).toBe(false);
  });
});

describe("run/create --device", () => {
  A("binds the host's node at the container's path; without w in PERMS read-only; a directory gives its nodes", async () => {
    const out = await podStdout([
      "run", "--rm", "--device", "/dev/zero:/dev/myzero:r", "--device", "/dev/null:/dev/sub/mynull",
      "alpine", "sh", "-c",
      "stat -c '%F %t,%T' /dev/myzero /dev/sub/mynull; head -c 3 /dev/myzero | od -An -tx1; echo x > /dev/sub/mynull && echo wrote; grep -E ' /dev/(myzero|sub/mynull) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1",
    ]);
    assertOutput(out, "character special file 1,5\ncharacter special file 1,3\n 00 00 00\nwrote\n/dev/myzero ro\n/dev/sub/mynull rw\n");
    const name = safeName("c");
    await create(name, ["--device", "/dev/net", "alpine", "ls", "/dev/net"]);
    assertOutput(await inspectFmt(name, "{{range .HostConfig.Devices}}{{.PathOnHost}} {{.PathInContainer}} {{.CgroupPermissions}}{{end}}"), "/dev/net/tun /dev/net/tun rwm");
    assertOutput(await podStdout(["start", "-a", name]), "tun\n");
  });

  A("podman's errors at create, before anything is made: a missing path, a file that is no device, a bad mode", async () => {
    const name = safeName("bad");
    expectPodError(await runPod(["create", "--name", name, "--device", "/dev/no-such-node", "alpine"]), "Error: stat /dev/no-such-node: no such file or directory");
    const file = join(hostDir(), "plain");
    writeFileSync(file, "");
    expectPodError(await runPod(["run", "--name", name, "--device", file, "alpine", "true"]), `Error: ${file} is not a valid device: not a device node`);
    expectPodError(await runPod(["run", "--name", name, "--device", "/dev/null:/dev/n:rwx", "alpine", "true"]), "Error: invalid device mode: rwx");
    expect((await runPod(["container", "exists", name])).code).toBe(1);
  });
});

describe("--sig-proxy", () => {
  /** pod ARGS in the background, as the suite's user */
  const live = (args: string[]) => new LiveProcess([POD, ...args], { env: pod().env, cwd: pod().home });
  const TRAP = (sig: string, code: number) => `trap "echo got-${sig}; exit ${code}" ${sig}; echo ready; while :; do sleep 0.1; done`;
  const exited = (r: LiveResult, code: number) => expect(`${r.code}/${r.signal}`, r.stderr).toBe(`${code}/null`);
  const killed = (r: LiveResult, sig: string) => expect(r.signal, `pod should have died of ${sig}: exit ${r.code}, ${r.stderr}`).toBe(sig);

  A("run: by default a signal to pod reaches the command; --sig-proxy=false ends pod and the container runs on", async () => {
    const on = live(["run", "--rm", "alpine", "sh", "-c", TRAP("TERM", 3)]);
    await on.waitForStdout("ready\n");
    on.signal("SIGTERM");
    const r = await on.finish(20_000);
    exited(r, 3);
    expect(r.stdout).toContain("got-TERM");
    const name = track(safeName("off"));
    const off = live(["run", "--name", name, "--sig-proxy=false", "alpine", "sh", "-c", TRAP("TERM", 3)]);
    await off.waitForStdout("ready\n");
    off.signal("SIGTERM");
    killed(await off.finish(20_000), "SIGTERM");
    expect(await statusOf(name)).toBe("running");
    expect(await podStdout(["logs", name])).not.toContain("got-TERM");
    expectPodError(await runPod(["create", "--sig-proxy=false", "alpine"]), "unknown flag: --sig-proxy");
  });

  A("run --sig-proxy=false is otherwise a plain run: output on its streams, stdin with -i, the exit status, --rm", async () => {
    const name = safeName("plain");
    const r = await sh(["sh", "-c", `printf 'in\\n' | "${POD}" run -i --rm --name ${name} --sig-proxy=false alpine sh -c 'cat; echo err >&2; exit 3'`], pod().env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe("in\n");
    expect(r.stderr).toBe("err\n");
    await until("the monitor to remove the --rm container", async () => (await runPod(["container", "exists", name])).code === 1);
  });

  A("attach: by default proxies to the container (its exit is attach's); --sig-proxy=false leaves it running", async () => {
    const name = safeName("a");
    await runD(name, ["alpine", "sh", "-c", `trap "echo got-HUP; exit 4" HUP; while :; do echo tick; sleep 0.2; done`]);
    const off = live(["attach", "--no-stdin", "--sig-proxy=false", name]);
    await off.waitForStdout("tick\n");
    off.signal("SIGHUP");
    killed(await off.finish(20_000), "SIGHUP");
    expect(await statusOf(name)).toBe("running");
    const on = live(["attach", "--no-stdin", name]);
    await on.waitForStdout("tick\n");
    on.signal("SIGHUP");
    const r = await on.finish(20_000);
    exited(r, 4);
    expect(r.stdout).toContain("got-HUP");
    await untilStatus(name, "exited");
  });

  A("start --attach proxies by default, --sig-proxy=false does not; --sig-proxy needs --attach", async () => {
    const name = safeName("s");
    await create(name, ["alpine", "sh", "-c", TRAP("TERM", 6)]);
    const on = live(["start", "--attach", name]);
    await on.waitForStdout("ready\n");
    on.signal("SIGTERM");
    const r = await on.finish(20_000);
    exited(r, 6);
    expect(r.stdout).toContain("got-TERM");
    const off = live(["start", "-a", "--sig-proxy=false", name]);
    await off.waitForStdout("ready\n");
    off.signal("SIGTERM");
    killed(await off.finish(20_000), "SIGTERM");
    expect(await statusOf(name)).toBe("running");
    expectPodError(await runPod(["start", "--sig-proxy", name]), "you cannot use sig-proxy without --attach: invalid argument");
  });
});

describe("secret create --replace, secret inspect --showsecret", () => {
  A("--replace gives the name new data and a new ID (created time kept); a container reads the new data at its next start", async () => {
    const name = safeName("sec");
    const dir = hostDir();
    writeFileSync(join(dir, "one"), "one");
    writeFileSync(join(dir, "two"), "two");
    const first = (await podStdout(["secret", "create", name, join(dir, "one")])).trim();
    const created = await podStdout(["secret", "inspect", "--format", "{{.CreatedAt}}", name]);
    const c = safeName("c");
    await create(c, ["--secret", name, "alpine", "cat", `/run/secrets/${name}`]);
    assertOutput(await podStdout(["start", "-a", c]), "one");
    expectPodError(await runPod(["secret", "create", name, join(dir, "two")]), `${name}: secret name in use`);
    const second = (await podStdout(["secret", "create", "--replace", "--label", "v=2", name, join(dir, "two")])).trim();
    expect(second).toMatch(/^[0-9a-f]{25}$/);
    expect(second).not.toBe(first);
    assertOutput(await podStdout(["secret", "ls", "--format", "{{.ID}} {{.Name}}", "--filter", `name=^${name}$`]), `${second} ${name}\n`);
    assertOutput(await podStdout(["secret", "inspect", "--format", "{{.CreatedAt}}", name]), created);
    expect(await podStdout(["secret", "inspect", "--format", "{{.UpdatedAt}}", name])).not.toBe(created);
    assertOutput(await podStdout(["secret", "inspect", "--format", "{{.Spec.Labels.v}}", name]), "2\n");
    assertOutput(await podStdout(["start", "-a", c]), "two");
    // a name not in use: --replace just creates it
    const fresh = safeName("fresh");
    expect((await podStdout(["secret", "create", "--replace", fresh, join(dir, "one")])).trim()).toMatch(/^[0-9a-f]{25}$/);
    expect((await runPod(["secret", "rm", name, fresh])).code).toBe(0);
  });

  A("--showsecret puts the data in SecretData; without it JSON has no SecretData and a template reads it empty", async () => {
    const name = safeName("show");
    const r = await sh(["sh", "-c", `printf 's3cret' | "${POD}" secret create ${name} -`], pod().env);
    expect(r.code, r.stderr).toBe(0);
    const shown = JSON.parse(await podStdout(["secret", "inspect", "--showsecret", name]));
    expect(shown[0].SecretData).toBe("s3cret");
    assertOutput(await podStdout(["secret", "inspect", "--showsecret", "--format", "{{.SecretData}}", name]), "s3cret\n");
    const hidden = JSON.parse(await podStdout(["secret", "inspect", name]));
    expect("SecretData" in hidden[0]).toBe(false);
    assertOutput(await podStdout(["secret", "inspect", "--format", "[{{.SecretData}}]", name]), "[]\n");
    expect((await runPod(["secret", "rm", name])).code).toBe(0);
  });
});

describe("volume create --uid/--gid", () => {
  A("_data gets that owner as containers see it, and keeps it when a container fills the volume from the image", async () => {
    const v = safeName("owned");
    assertOutput(await podStdout(["volume", "create", "--uid", "1000", "--gid", "1001", v]), `${v}\n`);
    assertOutput(await podStdout(["volume", "inspect", "--format", "{{.UID}} {{.GID}}", v]), "1000 1001\n");
    assertOutput(await podStdout(["run", "--rm", "-v", `${v}:/data`, "alpine", "stat", "-c", "%u %g", "/data"]), "1000 1001\n");
    // filled from the image's /etc/apk (root's there): the files come, the owner given stays
    const f = safeName("filled");
    assertOutput(await podStdout(["volume", "create", "--uid", "7", f]), `${f}\n`);
    assertOutput(await podStdout(["run", "--rm", "-v", `${f}:/etc/apk`, "alpine", "sh", "-c", "stat -c '%u %g' /etc/apk; test -s /etc/apk/repositories && echo copied"]), "7 0\ncopied\n");
    // podman 4's spelling: -o o=uid=N,gid=N on a plain volume
    const o = safeName("opt");
    assertOutput(await podStdout(["volume", "create", "-o", "o=uid=5,gid=6", o]), `${o}\n`);
    assertOutput(await podStdout(["run", "--rm", "-v", `${o}:/data`, "alpine", "stat", "-c", "%u %g", "/data"]), "5 6\n");
    expect((await runPod(["volume", "rm", v, f, o])).code).toBe(0);
  });

  A("a bad id, an id the user namespace lacks, or -o beside them: an error, and no volume", async () => {
    const v = safeName("bad");
    expectPodError(await runPod(["volume", "create", "--uid", "me", v]), 'invalid argument "me" for "--uid" flag');
    expectPodError(await runPod(["volume", "create", "--gid", "1", "-o", "type=tmpfs", v]), "--uid and --gid own a volume's _data: not beside -o");
    expectPodError(await runPod(["volume", "create", "--uid", "4000000000", v]), "--uid 4000000000: the id is not mapped in pod's user namespace");
    expect((await runPod(["volume", "exists", v])).code).toBe(1);
  });
});
