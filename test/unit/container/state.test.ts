// A container's status from its record and the live system: "paused" is a
// live container whose cgroup is frozen (a fake cgroup dir here), and what
// ps and inspect show for it, like podman.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canPause, canRemove, canSignal, canStart, canUnpause, processStartTime, statusOf, statusText, type Status } from "../../../pkg/container/record/state.ts";
import { containerInspect, psRow } from "../../../pkg/container/record/views.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-state-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A "running" record whose process is this test runner (alive), with a fake cgroup dir. */
function live(freeze: string | undefined): ContainerRecord {
  const cgroup = join(tmp, `scope-${Math.random().toString(36).slice(2)}`);
  mkdirSync(cgroup);
  if (freeze !== undefined) writeFileSync(join(cgroup, "cgroup.freeze"), freeze);
  return {
    id: "ab".repeat(32),
    name: "web",
    image: "docker.io/library/alpine:latest",
    imageId: "cd".repeat(32),
    command: ["sleep", "1000"],
    created: new Date(Date.now() - 60_000).toISOString(),
    startedAt: new Date(Date.now() - 30_000).toISOString(),
    state: "running",
    pid: process.pid,
    pidStartTime: processStartTime(process.pid),
    cgroup,
  };
}

describe("paused", () => {
  test("a live container whose cgroup.freeze says 1 is paused; 0, no file or no cgroup is running", () => {
    expect(statusOf(live("1\n"))).toBe("paused");
    expect(statusOf(live("0\n"))).toBe("running");
    expect(statusOf(live(undefined))).toBe("running");
    expect(statusOf({ ...live("1\n"), cgroup: undefined })).toBe("running");
  });

  test("a frozen cgroup does not make a dead container paused", () => {
    expect(statusOf({ ...live("1\n"), pidStartTime: -1 })).toBe("exited");
  });

  test("ps shows Paused with the pid, podman's words; inspect says Paused and not Running", () => {
    const rec = live("1\n");
    expect(statusText(rec)).toBe("Paused");
    const row = psRow(rec);
    expect([row.State, row.Status, row.Pid]).toEqual(["paused", "Paused", process.pid]);
    const st = containerInspect(rec).State;
    expect([st.Status, st.Running, st.Paused, st.Pid]).toEqual(["paused", false, true, process.pid]);
    expect(containerInspect(live("0")).State).toMatchObject({ Status: "running", Running: true, Paused: false });
  });

  test("the guards: a paused container is not startable or removable without force, can be signalled and unpaused", () => {
    const table: [Status, boolean, boolean, boolean, boolean, boolean][] = [
      // status     start  signal remove pause  unpause
      ["created", true, false, true, false, false],
      ["running", false, true, false, true, false],
      ["paused", false, true, false, false, true],
      ["exited", true, false, true, false, false],
    ];
    for (const [s, ...want] of table) expect([s, canStart(s), canSignal(s), canRemove(s), canPause(s), canUnpause(s)]).toEqual([s, ...want]);
  });
});
