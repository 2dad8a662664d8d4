// pod doctor for a user without subordinate id ranges. test/run.sh (as root)
// runs *.nosubid.test.ts as a second test user without /etc/subuid lines
// (POD_TEST_NOSUBID_USER); run as anyone else this file is skipped with why.
import { describe, test } from "bun:test";
import { userInfo } from "node:os";
import { useSuite, it, runPod, expect, expectExit, lines, subidRange, type TestLike } from "./helpers.ts";

useSuite("211-doctor-single-id");

function whyNot(): string | null {
  const want = process.env.POD_TEST_NOSUBID_USER;
  const me = userInfo().username;
  if (!want) return "POD_TEST_NOSUBID_USER is not set: test/run.sh (as root) runs this file as a user without subordinate ids";
  if (me !== want) return `runs as ${want}, not ${me}`;
  if (subidRange("/etc/subuid") || subidRange("/etc/subgid")) return `${me} has a range in /etc/subuid or /etc/subgid`;
  return null;
}

const why = whyNot();
const N: TestLike = why
  ? (name) => {
      console.log(`skip: "${name}": ${why}`);
      test.skip(`${name} (skipped: ${why})`, () => {});
    }
  : it;

describe("pod doctor without subordinate ids", () => {
  N("fails on subuid and subgid, each with the usermod command for this user", async () => {
    const r = await runPod(["doctor"]);
    expectExit(r, 1);
    const me = userInfo().username;
    for (const kind of ["uid", "gid"]) {
      const i = lines(r.stdout).findIndex((l) => l.startsWith(`fail  sub${kind} `));
      expect(i).toBeGreaterThanOrEqual(0);
      expect(lines(r.stdout)[i]).toContain(`no subordinate ${kind} range for ${me} in /etc/sub${kind}: pod falls back to a single-id user namespace`);
      expect(lines(r.stdout)[i + 1]!.trim()).toMatch(new RegExp(`^fix: sudo usermod --add-sub${kind}s \\d+-\\d+ ${me}$`));
    }
    expect(lines(r.stdout).at(-1)).toMatch(/, 2 failed$/);
  });

  N("the suggested range overlaps no other user's", async () => {
    const r = await runPod(["doctor", "--format", "json"]);
    const fix = (JSON.parse(r.stdout) as { name: string; fix: string }[]).find((c) => c.name === "subuid")!.fix;
    const [start, end] = /(\d+)-(\d+)/.exec(fix)!.slice(1).map(Number) as [number, number];
    expect(end - start + 1).toBe(65536);
    for (const line of (await Bun.file("/etc/subuid").text()).split("\n").filter(Boolean)) {
      const [, s, c] = line.split(":").map(Number) as [number, number, number];
      expect(start >= s + c || end < s).toBe(true);
    }
  });

  N("pod info reports the single-id mapping", async () => {
    const info = JSON.parse((await runPod(["info", "--format", "json"])).stdout);
    expect(info.host.rootless.singleIdMapping).toBe(true);
    expect(info.host.idMappings.uidmap).toEqual([{ container_id: 0, host_id: process.getuid!(), size: 1 }]);
  });
});
