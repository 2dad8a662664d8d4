// pod run for a user with no subordinate id ranges: pod warns (naming
// /etc/subuid) and falls back to a user namespace that maps only 0 → the
// user. test/run.sh runs the *.nosubid.test.ts files, as root, as a second
// test user without /etc/subuid lines (POD_TEST_NOSUBID_USER, default
// podtest2); run as anyone else they are skipped with the reason.
import { beforeAll, describe, test } from "bun:test";
import { userInfo } from "node:os";
import { readlinkSync } from "node:fs";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, subidRange, onSuiteEnd, SETUP_TIMEOUT, type TestLike } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("140-run-single-id");

function whyNot(): string | null {
  const want = process.env.POD_TEST_NOSUBID_USER;
  const me = userInfo().username;
  if (!want) return "POD_TEST_NOSUBID_USER is not set: test/run.sh (as root) runs this file as a user without subordinate ids";
  if (me !== want) return `runs as ${want}, not ${me}`;
  if (subidRange("/etc/subuid") || subidRange("/etc/subgid")) return `${me} has a range in /etc/subuid or /etc/subgid: remove it for this test`;
  return null;
}

const why = whyNot();
/** Not a CI failure when skipped: run.sh runs this file only as the user it needs. */
const N: TestLike = why
  ? (name) => {
      console.log(`skip: "${name}": ${why}`);
      test.skip(`${name} (skipped: ${why})`, () => {});
    }
  : it;

let reg: Registry;

beforeAll(async () => {
  if (why) return;
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox-root-only");
  await pushFixture(reg, "busybox");
}, SETUP_TIMEOUT);

describe("a user without subordinate ids", () => {
  N("pod run warns naming /etc/subuid and runs as root mapped to the user alone", async () => {
    const r = await runPod(["run", "--rm", "busybox-root-only", "sh", "-c", "id; cat /proc/self/uid_map /proc/self/gid_map"]);
    expectExit(r, 0);
    expect(r.stderr).toContain("/etc/subuid");
    const [id, ...maps] = lines(r.stdout);
    expect(id).toStartWith("uid=0(root) gid=0(root)");
    expect(maps.map((l) => l.trim().split(/\s+/).join(" "))).toEqual([`0 ${process.getuid!()} 1`, `0 ${process.getgid!()} 1`]);
  });

  N("the command's exit status and output pass through as usual", async () => {
    const r = await runPod(["run", "--rm", "busybox-root-only", "sh", "-c", "echo out; exit 3"]);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe("out\n");
  });

  // pod's warning says so: "files owned by other users in images become yours"
  N("files an image gives to other ids become the user's, i.e. root's inside", async () => {
    const r = await runPod(["run", "--rm", "busybox", "sh", "-c", "cat /home/daemon/pod-owned-by-1; stat -c %u:%g /home/daemon/pod-owned-by-1"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["owned by uid 1 in the image", "0:0"]);
  });

  N("the namespace modes work with the single-id map: host, a joined container's, --userns host, --uidmap 0:0:1", async () => {
    const host = (k: string) => readlinkSync(`/proc/self/ns/${k}`);
    const r = await runPod(["run", "--rm", "--network", "none", "--pid", "host", "--ipc", "host", "--uts", "host", "--userns", "host", "--uidmap", "0:0:1", "busybox-root-only", "sh", "-c", "for n in pid ipc uts; do readlink /proc/self/ns/$n; done"]);
    expectPodError(r, "cannot be used together");
    const h = await runPod(["run", "--rm", "--network", "none", "--pid", "host", "--ipc", "host", "--uts", "host", "--userns", "host", "busybox-root-only", "sh", "-c", "for n in pid ipc uts; do readlink /proc/self/ns/$n; done"]);
    expectExit(h, 0);
    expect(lines(h.stdout)).toEqual([host("pid"), host("ipc"), host("uts")]);
    const m = await runPod(["run", "--rm", "--network", "none", "--uidmap", "0:0:1", "busybox-root-only", "cat", "/proc/self/uid_map"]);
    expectExit(m, 0);
    expect(m.stdout.trim().split(/\s+/).join(" ")).toBe(`0 ${process.getuid!()} 1`);
    expectPodError(await runPod(["run", "--rm", "--uidmap", "0:0:2", "busybox-root-only", "true"]), "you have no subordinate uids");
    const name = `donor-${process.pid}`;
    expectExit(await runPod(["run", "-d", "--name", name, "--network", "none", "busybox-root-only", "sleep", "1000"]), 0);
    try {
      const theirs = await runPod(["exec", name, "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc"]);
      expectExit(theirs, 0);
      const j = await runPod(["run", "--rm", "--network", "none", "--pid", `container:${name}`, "--ipc", `container:${name}`, "busybox-root-only", "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc"]);
      expectExit(j, 0);
      expect(j.stdout).toBe(theirs.stdout);
    } finally {
      await runPod(["rm", "-f", "-t", "0", name]);
    }
  });
});
