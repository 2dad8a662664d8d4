// Image and volume verbs scripts written for podman use (issue 12):
// `untag` and `image untag`.
import { beforeAll, describe } from "bun:test";
import { useSuite, it, pod, runPod, expect, expectExit, safeName, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("520-image-volume-verbs");

beforeAll(async () => {
  const reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  expectExit(await runPod(["pull", "-q", "busybox"]), 0);
}, SETUP_TIMEOUT);

describe("untag", () => {
  it("untag NAME removes that name; untag with no name removes them all and keeps the image", async () => {
    const a = `localhost/${safeName("u")}:1`;
    const b = `localhost/${safeName("u")}:2`;
    expectExit(await runPod(["tag", "busybox", a, b]), 0);
    const id = (await runPod(["image", "inspect", "--format", "{{.Id}}", a])).stdout.trim();

    const one = await runPod(["untag", a, a]);
    expectExit(one, 0);
    expect(one.stdout + one.stderr).toBe("");
    expectExit(await runPod(["image", "exists", a]), 1);
    expectExit(await runPod(["image", "exists", b]), 0);

    const unknown = await runPod(["untag", b, `${a}`]);
    expectExit(unknown, 125);
    expect(unknown.stderr).toContain(`Error: ${a}: tag not known`);
    expectExit(await runPod(["image", "exists", b]), 0);

    expectExit(await runPod(["tag", id, a]), 0);
    expectExit(await runPod(["image", "untag", id]), 0);
    expectExit(await runPod(["image", "exists", id]), 0);
    expect(JSON.parse((await runPod(["image", "inspect", id])).stdout)[0].RepoTags).toEqual([]);
    const missing = await runPod(["untag", "no-such-image-520"]);
    expectExit(missing, 125);
    expect(missing.stderr).toContain("image not known");
  });
});
