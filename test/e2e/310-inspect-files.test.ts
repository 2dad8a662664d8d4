// Looking into containers: port, top, diff, export, cp (both ways, running and
// stopped), and cp never leaving the container's root: not through "..", not
// through a symlink the container made. Expected outputs are podman 4.3.1's
// (runc, overlay) on the project's machines.
import { describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, sh, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, POD } from "./helpers.ts";
import { useLifecycle, runD, create, podStdout, suiteDir } from "./lifecycle-helpers.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";
import { Tmux } from "./tty.ts";

useSuite("310-inspect-files");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const hostDir = () => suiteDir("pod-cp");

/** Runs a shell pipeline on the host with the suite's environment (for `pod export | tar`). */
const pipeline = (script: string) => sh(["sh", "-c", script], pod().env);

const norm = (s: string) => lines(s).map((l) => l.trim().split(/\s+/).join(" "));

describe("port", () => {
  A("prints nothing for a container (no published ports), -a neither; an unknown container is exit 125", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    assertOutput(await podStdout(["port", name]), "", "pod port");
    assertOutput(await podStdout(["port", "-a"]), "", "pod port -a");
    assertOutput(await podStdout(["container", "port", "-l"]), "", "pod container port -l");
    expectPodError(await runPod(["port", name, "80"]), 'failed to find published port "80/tcp"');
    expectPodError(await runPod(["port", safeName("missing")]), "no such container");
  });
});

describe("top", () => {
  A("shows PID 1 with podman's default columns, and what `pod exec` started", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const out = norm(await podStdout(["top", name]));
    expect(out[0]).toBe("USER PID PPID %CPU ELAPSED TTY TIME COMMAND");
    expect(out[1]).toMatch(/^root 1 0 \d+\.\d{3} \S+ \? 0s sleep 60$/);
    expect(out.length).toBe(2);
    const bg = await runPod(["exec", "-d", name, "sleep", "30"]);
    expectExit(bg, 0);
    const withExec = norm(await podStdout(["top", name, "pid", "comm", "args"]));
    expect(withExec[0]).toBe("PID COMMAND COMMAND");
    expect(withExec).toContain("1 sleep sleep 60");
    expect(withExec.filter((l) => /^\d+ sleep sleep 30$/.test(l) && !l.startsWith("1 ")).length, withExec.join("\n")).toBe(1);
  });

  A("descriptors: names, ps codes and comma lists; unknown ones list the valid ones", async () => {
    const name = safeName("c");
    await runD(name, ["--user", "nobody", "alpine", "sleep", "60"]);
    // nobody inside is a subordinate id outside, which the host has no name for
    assertOutput(norm(await podStdout(["top", name, "%p,user", "huser"])).join("\n"), /^PID USER HUSER\n1 nobody \d+$/, "top %p,user huser");
    const bad = await runPod(["top", name, "bogus"]);
    expectPodError(bad, 'unknown descriptor "bogus"', "pcpu");
  });

  A("a container that is not running: exit 125 and how to start it", async () => {
    const name = safeName("c");
    await create(name, ["alpine", "sleep", "60"]);
    expectPodError(await runPod(["top", name]), "top can only be used on running containers", `pod start ${name}`);
  });
});

describe("diff and export", () => {
  A("diff: podman's lines and JSON after touch /new; rm /etc/motd, running and stopped", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    assertOutput(await podStdout(["diff", name]), "", "diff of a fresh container");
    expectExit(await runPod(["exec", name, "sh", "-c", "touch /new; rm /etc/motd"]), 0);
    const expected = "C /etc\nD /etc/motd\nA /new\n";
    assertOutput(await podStdout(["diff", name]), expected, "pod diff");
    expectPodError(await runPod(["diff", "-l", name]), "--latest and containers cannot be used together");
    assertOutput(await podStdout(["container", "diff", "--format", "json", name]), '{\n     "changed": [\n          "/etc"\n     ],\n     "added": [\n          "/new"\n     ],\n     "deleted": [\n          "/etc/motd"\n     ]\n}\n', "pod diff --format json");
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    assertOutput(await podStdout(["diff", name]), expected, "pod diff (stopped)");
  });

  A("export: a tar of the whole filesystem, root-owned files as root, changes applied", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    expectExit(await runPod(["exec", name, "sh", "-c", "echo hi > /new; rm /etc/motd"]), 0);
    const listing = await pipeline(`"${POD}" export ${name} | tar -tvf -`);
    expect(listing.code).toBe(0);
    const entries = lines(listing.stdout);
    expect(entries.some((l) => / root\/root .* etc\/alpine-release$/.test(l))).toBe(true);
    expect(entries.some((l) => / new$/.test(l))).toBe(true);
    expect(entries.some((l) => / etc\/motd$/.test(l))).toBe(false);
    // stopped, to a file
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    const dir = hostDir();
    const file = join(dir, "out.tar");
    assertOutput(await podStdout(["export", "-o", file, name]), "", "export -o stdout");
    expect(statSync(file).uid).toBe(process.getuid!());
    const names = await sh(["tar", "-tf", file]);
    expect(lines(names.stdout)).toContain("etc/alpine-release");
    const content = await sh(["tar", "-xOf", file, "new"]);
    expect(content.stdout).toBe("hi\n");
  });
});

describe("export to a terminal", () => {
  requires("subuid", "alpine-fixture", "tmux")("is refused, as podman refuses it (exit 125)", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const t = await Tmux.start({ env: { ...pod().env, TERM: "screen" } });
    try {
      await t.type(`'${POD}' export ${name}; echo "rc=$?"`);
      await t.waitFor("rc=125");
      expect(await t.screen()).toContain("Error: refusing to export to terminal. Use -o flag or redirect");
    } finally {
      await t.kill();
    }
  });
});

describe("cp", () => {
  A("host → running container: visible at once, owned by root inside; over an image file too", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const dir = hostDir();
    writeFileSync(join(dir, "hello.txt"), "hello from the host\n");
    assertOutput(await podStdout(["cp", join(dir, "hello.txt"), `${name}:/tmp/`]), "", "cp stdout");
    assertOutput(await podStdout(["exec", name, "cat", "/tmp/hello.txt"]), "hello from the host\n");
    assertOutput(await podStdout(["exec", name, "stat", "-c", "%u:%g", "/tmp/hello.txt"]), "0:0\n", "owner inside");
    // an image file the container has already read: overlay must show the new content
    await podStdout(["exec", name, "cat", "/etc/issue"]);
    await podStdout(["container", "cp", join(dir, "hello.txt"), `${name}:/etc/issue`]);
    assertOutput(await podStdout(["exec", name, "cat", "/etc/issue"]), "hello from the host\n", "/etc/issue after cp");
  });

  A("container → host: the test user owns the copy; directories and dir/. like docker cp", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const dir = hostDir();
    await podStdout(["cp", `${name}:/etc/alpine-release`, dir]);
    const copy = join(dir, "alpine-release");
    expect(readFileSync(copy, "utf8")).toBe(readFileSync(copy, "utf8").trim() + "\n");
    expect(statSync(copy).uid).toBe(process.getuid!());
    await podStdout(["cp", `${name}:/etc/apk`, join(dir, "apk-copy")]);
    expect(existsSync(join(dir, "apk-copy", "world"))).toBe(true);
    mkdirSync(join(dir, "into"));
    await podStdout(["cp", `${name}:/etc/apk`, join(dir, "into")]);
    expect(existsSync(join(dir, "into", "apk", "world"))).toBe(true);
    await podStdout(["cp", `${name}:/etc/apk/.`, join(dir, "into")]);
    expect(existsSync(join(dir, "into", "world"))).toBe(true);
    expectPodError(await runPod(["cp", `${name}:/nonexist`, dir]), '"/nonexist" could not be found on container');
    expectPodError(await runPod(["cp", join(dir, "nonexist"), `${name}:/tmp/`]), "could not be found on the host");
  });

  A("never leaves the container's root: .. and a symlink pointing outside read the container's files", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const dir = hostDir();
    const release = (await podStdout(["exec", name, "cat", "/etc/alpine-release"])).trim();
    await podStdout(["cp", `${name}:../../etc/passwd`, join(dir, "passwd")]);
    const passwd = readFileSync(join(dir, "passwd"), "utf8");
    expect(passwd).toStartWith("root:x:0:0:root:/root:/bin/sh\n");
    expect(passwd).not.toContain(process.env.USER ?? "podtest");
    expectExit(await runPod(["exec", name, "ln", "-s", "/../../../etc", "/esc"]), 0);
    await podStdout(["cp", `${name}:/esc/alpine-release`, join(dir, "release")]);
    expect(readFileSync(join(dir, "release"), "utf8").trim()).toBe(release);
    await podStdout(["cp", `${name}:/esc/hostname`, join(dir, "hostname")]);
    const host = existsSync("/etc/hostname") ? readFileSync("/etc/hostname", "utf8") : "";
    const inside = await podStdout(["exec", name, "cat", "/etc/hostname"]);
    assertOutput(readFileSync(join(dir, "hostname"), "utf8"), inside, "the container's /etc/hostname");
    if (host && host !== inside) expect(readFileSync(join(dir, "hostname"), "utf8")).not.toBe(host);
    // and in: through the same link, the file lands in the container's /etc
    writeFileSync(join(dir, "marker"), "m\n");
    await podStdout(["cp", join(dir, "marker"), `${name}:/esc/`]);
    assertOutput(await podStdout(["exec", name, "cat", "/etc/marker"]), "m\n");
    expect(existsSync("/etc/marker")).toBe(false);
  });

  A("a stopped container: cp both ways, seen after it starts again", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    const dir = hostDir();
    writeFileSync(join(dir, "f"), "while stopped\n");
    await podStdout(["cp", join(dir, "f"), `${name}:/root/f`]);
    await podStdout(["cp", `${name}:/root/f`, join(dir, "back")]);
    expect(readFileSync(join(dir, "back"), "utf8")).toBe("while stopped\n");
    assertOutput(await podStdout(["diff", name]), "C /root\nA /root/f\n", "diff after cp");
    expectExit(await runPod(["start", name]), 0);
    assertOutput(await podStdout(["exec", name, "sh", "-c", "cat /root/f; stat -c %u:%g /root/f"]), "while stopped\n0:0\n");
  });

  A("container to container, running to stopped, owned by the destination's user", async () => {
    const from = safeName("a");
    const to = safeName("b");
    await runD(from, ["alpine", "sleep", "60"]);
    await runD(to, ["--user", "1000:1000", "alpine", "sleep", "60"]);
    expectExit(await runPod(["stop", "-t", "0", to]), 0);
    await podStdout(["cp", `${from}:/etc/apk`, `${to}:/tmp/`]);
    expectExit(await runPod(["start", to]), 0);
    assertOutput(await podStdout(["exec", to, "stat", "-c", "%u:%g", "/tmp/apk", "/tmp/apk/world"]), "1000:1000\n1000:1000\n");
  });

  A("--archive=false keeps the source's owner; the container's user owns copies by default", async () => {
    const name = safeName("c");
    await runD(name, ["--user", "1000:1000", "alpine", "sleep", "60"]);
    const dir = hostDir();
    writeFileSync(join(dir, "f"), "x");
    await podStdout(["cp", join(dir, "f"), `${name}:/tmp/a`]);
    await podStdout(["cp", "--archive=false", join(dir, "f"), `${name}:/tmp/b`]);
    assertOutput(await podStdout(["exec", name, "stat", "-c", "%u:%g", "/tmp/a", "/tmp/b"]), "1000:1000\n0:0\n", "owners inside");
  });

  A("tar streams: CTR:PATH - writes one to stdout, - CTR:DIR unpacks one from stdin; two host paths are a usage error", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const r = await pipeline(`"${POD}" cp ${name}:/etc/alpine-release - | tar -tvf -`);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^-rw-r--r-- root\/root .* alpine-release\n$/);
    const dir = hostDir();
    mkdirSync(join(dir, "tree/sub"), { recursive: true });
    writeFileSync(join(dir, "tree/sub/a"), "from a tar\n");
    const into = await pipeline(`tar -C '${dir}/tree' -czf - sub | "${POD}" cp - ${name}:/srv/`);
    expect(into.code, into.stderr).toBe(0);
    assertOutput(await podStdout(["exec", name, "sh", "-c", "cat /srv/sub/a; stat -c %u:%g /srv/sub/a"]), "from a tar\n0:0\n");
    const notDir = await pipeline(`tar -C '${dir}/tree' -cf - sub | "${POD}" cp - ${name}:/etc/passwd`);
    expect(notDir.code).toBe(125);
    expect(notDir.stderr).toContain("is not a directory");
    expectPodError(await runPod(["cp", "a", "b"]), "one of them must be CONTAINER:PATH");
  });
});
