// pod unshare (the storage user namespace, as uid 0) and pod system reset
// (which must remove files owned by subordinate ids too).
import { beforeAll, describe } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { useSuite, it, runPod, pod, expect, expectExit, lines, findInStorage, subidRange, walk, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("070-unshare-reset");

let reg: Registry;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  await pushFixture(reg, "whiteouts");
}, SETUP_TIMEOUT);

const norm = (s: string) => lines(s).map((l) => l.trim().split(/\s+/).join(" "));

describe("pod unshare", () => {
  it("runs a command as uid 0 in the storage user namespace", async () => {
    const r = await runPod(["unshare", "id", "-u"]);
    expectExit(r, 0);
    expect(r.stdout).toBe("0\n");
    const g = await runPod(["unshare", "id", "-g"]);
    expectExit(g, 0);
    expect(g.stdout).toBe("0\n");
  });

  it("maps 0 to the user and 1.. to the subordinate ranges", async () => {
    const sub = subidRange("/etc/subuid")!;
    const subg = subidRange("/etc/subgid")!;
    const u = await runPod(["unshare", "cat", "/proc/self/uid_map"]);
    expectExit(u, 0);
    expect(norm(u.stdout)).toEqual([`0 ${process.getuid!()} 1`, `1 ${sub.start} ${sub.count}`]);
    const g = await runPod(["unshare", "cat", "/proc/self/gid_map"]);
    expectExit(g, 0);
    expect(norm(g.stdout)).toEqual([`0 ${process.getgid!()} 1`, `1 ${subg.start} ${subg.count}`]);
  });

  it("finds the user's subordinate ranges without $USER and $LOGNAME (from the passwd entry)", async () => {
    const sub = subidRange("/etc/subuid")!;
    const r = await runPod(["unshare", "cat", "/proc/self/uid_map"], { unset: ["USER", "LOGNAME"] });
    expectExit(r, 0);
    expect(norm(r.stdout)).toEqual([`0 ${process.getuid!()} 1`, `1 ${sub.start} ${sub.count}`]);
    expect(r.stderr).toBe("");
  });

  it("passes the command's exit status through", async () => {
    const r = await runPod(["unshare", "sh", "-c", "exit 7"]);
    expect(r.code).toBe(7);
    const n = await runPod(["unshare", "no-such-command-here"]);
    expect([125, 127], `exit of a missing command (stderr: ${n.stderr.trim()})`).toContain(n.code);
    expect(n.stderr).toContain("no-such-command-here");
  });

  it("with no command starts $SHELL", async () => {
    const r = await runPod(["unshare"], { env: { SHELL: "/bin/sh" }, input: "id -u\necho \"shell=$0\"\nexit 3\n" });
    expect(r.code).toBe(3);
    expect(lines(r.stdout)).toEqual(["0", "shell=/bin/sh"]);
  });

  it("sees stored files with their image owners", async () => {
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
    const marker = findInStorage("etc/pod-marker-busybox")[0]!.path;
    const owned1 = findInStorage("home/daemon/pod-owned-by-1")[0]!.path;
    const r = await runPod(["unshare", "stat", "-c", "%u:%g", marker, owned1]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["0:0", "1:1"]);
  });
});

describe("pod system reset", () => {
  it("asks first, and does nothing when the answer is no", async () => {
    expectExit(await runPod(["pull", "-q", "whiteouts"]), 0);
    const r = await runPod(["system", "reset"], { input: "n\n" });
    expectExit(r, 0);
    const l = await runPod(["images", "-q"]);
    expect(lines(l.stdout)).toHaveLength(2);
  });

  it("-f removes all storage, including files owned by subordinate ids", async () => {
    const me = process.getuid!();
    const foreignBefore = walk(pod().storage).entries.filter((e) => e.stat.uid !== me);
    expect(foreignBefore.length, "the store holds files owned by subordinate ids before the reset").toBeGreaterThan(0);
    const r = await runPod(["system", "reset", "-f"]);
    expectExit(r, 0);
    const left = walk(pod().storage);
    expect(left.entries.map((e) => e.path)).toEqual([]);
    expect(left.denied).toEqual([]);
    // nothing owned by a subordinate id anywhere under HOME
    const foreign = walk(pod().home).entries.filter((e) => e.stat.uid !== me || e.stat.gid !== process.getgid!());
    expect(foreign.map((e) => `${e.path} ${e.stat.uid}:${e.stat.gid}`)).toEqual([]);
    const l = await runPod(["images", "-q"]);
    expectExit(l, 0);
    expect(l.stdout).toBe("");
  });

  it("pod works again after a reset", async () => {
    const r = await runPod(["pull", "-q", "busybox"]);
    expectExit(r, 0);
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(1);
  });

  it("-f on empty storage is fine", async () => {
    expectExit(await runPod(["system", "reset", "-f"]), 0);
    expectExit(await runPod(["system", "reset", "-f"]), 0);
    expect(existsSync(pod().storage) ? readdirSync(pod().storage) : []).toEqual([]);
  });

  it("pod left nothing in TMPDIR", () => {
    expect(walk(pod().tmp).entries.map((e) => e.path)).toEqual([]);
  });
});
