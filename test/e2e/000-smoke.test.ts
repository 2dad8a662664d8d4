// Fail-fast basics (podman's 00x set): the binary answers, rejects what it
// does not know with exit 125, and can pull and list one small image.
import { beforeAll, describe } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, HEX64, REPO_ROOT, missing, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("000-smoke");
const version = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("the binary", () => {
  // not a skip: as root the whole suite would prove nothing about rootless pod
  it("the e2e suite runs unprivileged, with subordinate id ranges", () => {
    expect(missing("unprivileged")).toBeNull();
    expect(missing("subuid")).toBeNull();
  });

  it("pod --version prints `pod version X.Y.Z`", async () => {
    const r = await runPod(["--version"]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`pod version ${version}\n`);
    expect(r.stderr).toBe("");
  });

  it("pod --help lists the commands", async () => {
    const r = await runPod(["--help"]);
    expectExit(r, 0);
    for (const c of ["pull", "images", "rmi", "tag", "login", "logout", "unshare", "system"]) expect(r.stdout).toContain(c);
  });

  it("pod help pull documents pull's flags", async () => {
    const r = await runPod(["help", "pull"]);
    expectExit(r, 0);
    for (const f of ["--platform", "--quiet", "--tls-verify", "--creds", "--authfile"]) expect(r.stdout).toContain(f);
    const r2 = await runPod(["pull", "--help"]);
    expectExit(r2, 0);
    expect(r2.stdout).toBe(r.stdout);
  });

  it("an unknown command exits 125 naming it, with a hint line", async () => {
    const r = await runPod(["frobnicate"]);
    expectPodError(r, "frobnicate");
    expect(lines(r.stderr).length).toBeGreaterThanOrEqual(2);
    expect(r.stdout).toBe("");
  });

  it("an unknown flag exits 125 naming it, with a hint line", async () => {
    const r = await runPod(["images", "--no-such-flag"]);
    expectPodError(r, "--no-such-flag");
    expect(lines(r.stderr).length).toBeGreaterThanOrEqual(2);
    const r2 = await runPod(["--no-such-global", "images"]);
    expectPodError(r2, "--no-such-global");
  });

  it("a bad --log-level value is refused", async () => {
    const r = await runPod(["--log-level", "loud", "images"]);
    expectPodError(r, "loud");
  });
});

describe("pull and list", () => {
  let reg: Registry;
  beforeAll(async () => {
    reg = await startRegistry();
    onSuiteEnd(() => reg.stop());
    pod().mirrorDockerIo(reg.host);
  }, SETUP_TIMEOUT);

  it("pod images on empty storage prints only the header", async () => {
    const r = await runPod(["images"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toHaveLength(1);
    expect(r.stdout).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\s*$/m);
  });

  it("pulls a short name through registries.conf and lists it", async () => {
    const f = await pushFixture(reg, "busybox");
    const r = await runPod(["pull", "busybox"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toMatch(HEX64);
    expect(r.stdout.trim()).toBe(f.image.id);
    const l = await runPod(["images"]);
    expectExit(l, 0);
    const rows = lines(l.stdout).slice(1);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.split(/\s{2,}/).slice(0, 3)).toEqual(["docker.io/library/busybox", "latest", f.image.id.slice(0, 12)]);
  });
});
