// What cleanup scripts written for podman start with: `container exists`,
// `image exists`, `volume exists` (exit 0 or 1, nothing printed),
// `ps --all --external` and `stop --timeout`.
import { describe } from "bun:test";
import { useSuite, requires, runPod, expect, expectExit, safeName } from "./helpers.ts";
import { useLifecycle, create, runD, inspectFmt } from "./lifecycle-helpers.ts";

useSuite("495-exists");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

describe("exists", () => {
  A("container exists and image exists: 0 when there, 1 when not, nothing printed", async () => {
    const name = safeName("e");
    const id = await create(name, ["alpine", "true"]);
    for (const [args, code] of [
      [["container", "exists", name], 0],
      [["container", "exists", id.slice(0, 12)], 0],
      [["container", "exists", "no-such-container-495"], 1],
      [["image", "exists", "alpine"], 0],
      [["image", "exists", "no-such-image-495"], 1],
      [["volume", "exists", "no-such-volume-495"], 1],
    ] as const) {
      const r = await runPod([...args]);
      expectExit(r, code);
      expect(r.stdout + r.stderr).toBe("");
    }
    expect((await runPod(["container", "exists"])).code).toBe(125);
  });

  A("ps --all --external lists the same containers as ps --all", async () => {
    const name = safeName("x");
    await create(name, ["alpine", "true"]);
    const a = await runPod(["ps", "--all", "--external", "--format", "{{.Names}}"]);
    expectExit(a, 0);
    expect(a.stdout).toBe((await runPod(["ps", "--all", "--format", "{{.Names}}"])).stdout);
    expect(a.stdout).toContain(name);
  });

  A("stop --timeout is podman's long spelling of -t", async () => {
    const name = safeName("t");
    await runD(name, ["alpine", "sh", "-c", "trap '' TERM; sleep 1000"]);
    const r = await runPod(["stop", "--timeout", "0", name]);
    expectExit(r, 0);
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
  });
});
