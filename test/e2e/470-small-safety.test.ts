// Two data-safety fixes of issue 18. `pod cp` of a symlink to "/" out of a
// running container: podman follows the source link and leaves the root's
// dev, proc and sys out (libpod copyToArchive's Excludes); any failure names
// the container path and leaves nothing behind. `-e ''` and `-e =VALUE` are
// refused before anything is created, as podman refuses them ("invalid
// environment variable").
import { describe } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, sh, expect, expectExit, expectPodError, assertOutput, lines, safeName, onSuiteEnd, POD, type PodResult } from "./helpers.ts";
import { useLifecycle, runD, track, podStdout, suiteDir } from "./lifecycle-helpers.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("470-small-safety");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const hostDir = () => suiteDir("pod-safety");

/** The error line and the hint line: one each, the error naming what failed. */
function expectOneLineError(r: PodResult, ...mentions: (string | RegExp)[]): void {
  expectPodError(r, ...mentions);
  const l = lines(r.stderr);
  expect(l.length, r.stderr).toBe(2);
  expect(l[0]).toStartWith("Error: ");
}

describe("cp of a symlink to / out of a running container", () => {
  A("follows the link like podman: the root without dev, proc and sys, links inside stay links; into it stays inside", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    await podStdout(["exec", name, "ln", "-s", "/", "/link-up"]);
    const release = (await podStdout(["exec", name, "cat", "/etc/alpine-release"])).trim();
    const dir = hostDir();
    const r = await runPod(["cp", `${name}:/link-up`, dir]);
    expectExit(r, 0);
    const copy = join(dir, "link-up");
    expect(readFileSync(join(copy, "etc/alpine-release"), "utf8").trim()).toBe(release);
    expect(readFileSync(join(copy, "etc/hostname"), "utf8")).toBe(await podStdout(["exec", name, "cat", "/etc/hostname"]));
    for (const n of ["dev", "proc", "sys"]) expect(existsSync(join(copy, n)), `${n} is left out`).toBe(false);
    // the link inside the copied root is copied as a link: no loop
    expect(lstatSync(join(copy, "link-up")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(copy, "link-up"))).toBe("/");
    expect(readdirSync(dir)).toEqual(["link-up"]);
    // a tar stream of it: the same entries
    const tar = await sh(["sh", "-c", `"${POD}" cp ${name}:/link-up - | tar -tf -`], pod().env);
    expect(tar.code, tar.stderr).toBe(0);
    const names = lines(tar.stdout);
    expect(names).toContain("link-up/etc/alpine-release");
    expect(names.filter((n) => /^link-up\/(dev|proc|sys)\//.test(n))).toEqual([]);
    // and into the link: the files land in the container's root, never the host's
    const sub = safeName("d");
    const src = hostDir();
    mkdirSync(join(src, sub));
    writeFileSync(join(src, sub, "f"), "into the container\n");
    await podStdout(["cp", join(src, sub), `${name}:/link-up`]);
    assertOutput(await podStdout(["exec", name, "cat", `/${sub}/f`]), "into the container\n");
    writeFileSync(join(src, "g"), "g\n");
    await podStdout(["cp", join(src, "g"), `${name}:/link-up/tmp/`]);
    assertOutput(await podStdout(["exec", name, "cat", "/tmp/g"]), "g\n");
    expect(existsSync(`/${sub}`)).toBe(false);
  });

  A("a copy that fails names the container path, with a hint, and leaves nothing behind", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "60"]);
    const dir = hostDir();
    // /proc/1 holds files that cannot be read (clear_refs is write-only)
    const r = await runPod(["cp", `${name}:/proc/1`, join(dir, "p")]);
    expectOneLineError(r, /\/proc\/1\/\S+/, name);
    expect(readdirSync(dir)).toEqual([]);
    // into an existing directory: what was there stays, nothing new is left
    mkdirSync(join(dir, "keep"));
    writeFileSync(join(dir, "keep", "mine"), "mine\n");
    expectOneLineError(await runPod(["cp", `${name}:/proc/1/.`, join(dir, "keep")]), /\/proc\/1\/\S+/);
    expect(readdirSync(join(dir, "keep"))).toEqual(["mine"]);
    expect(readFileSync(join(dir, "keep", "mine"), "utf8")).toBe("mine\n");
  });
});

describe("-e with an empty name", () => {
  const ids = async () => lines(await podStdout(["ps", "-a", "-q", "--no-trunc"])).sort();

  A("run -e '', create -e '', -e =VALUE and an --env-file line =VALUE: exit 125 before anything is created", async () => {
    const before = await ids();
    const dir = hostDir();
    const envFile = join(dir, "env");
    writeFileSync(envFile, "A=1\n=oops\n");
    const cases: [string[], (string | RegExp)[]][] = [
      [["run", "-e", "", "alpine", "env"], ['invalid environment variable ""', "KEY=VALUE"]],
      [["run", "--rm", "-e", "A=1", "--env=", "alpine", "env"], ['invalid environment variable ""']],
      [["create", "-e", "", "alpine", "env"], ['invalid environment variable ""']],
      [["run", "-d", "-e", "=value", "alpine", "sleep", "60"], ['invalid environment variable "=value"']],
      [["create", "--env-file", envFile, "alpine", "env"], [`reading env file ${envFile}: line 2: empty variable name`]],
    ];
    for (const [args, mentions] of cases) {
      const n = track(safeName("e"));
      const r = await runPod([args[0]!, "--name", n, ...args.slice(1)]);
      expectOneLineError(r, ...mentions);
      expect(r.stdout, `pod ${r.args.join(" ")} prints nothing on stdout`).toBe("");
    }
    expect(await ids()).toEqual(before);
  });
});
