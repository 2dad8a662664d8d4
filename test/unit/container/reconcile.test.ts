// A record checked against what is alive: the pids the native core wrote
// when the CLI was killed, the exit code only the monitor saw, and the
// SIGKILL a container gets when its monitor dies.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exitFile, liveFile, readLivePids, reconcile } from "../../../pkg/container/record/reconcile.ts";
import { processStartTime } from "../../../pkg/container/record/state.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";

const tmp = mkdtempSync(join(tmpdir(), "pod-reconcile-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const newDir = () => {
  const d = join(tmp, String(n++));
  mkdirSync(d);
  return d;
};

const base: ContainerRecord = {
  id: "ab".repeat(32),
  name: "web",
  image: "alpine",
  imageId: "cd".repeat(32),
  command: ["sleep", "1"],
  created: new Date(Date.now() - 60_000).toISOString(),
  state: "created",
};
const me = process.pid;
const myStart = processStartTime(me)!;
/** a pid that is surely gone: above pid_max */
const GONE = 4_194_305;

describe("monitor.pids", () => {
  test("a live container the record does not name yet makes the record running with its pids", () => {
    const d = newDir();
    writeFileSync(liveFile(d), `${me} ${myStart} ${me} ${myStart}\n`);
    const r = reconcile(d, base);
    expect(r.state).toBe("running");
    expect(r.pid).toBe(me);
    expect(r.monitorPid).toBe(me);
    expect(r.startedAt).toBeDefined();
  });

  test("a dead one, a reused pid (other start time), or a malformed file change nothing", () => {
    for (const content of [`${GONE} 1 ${GONE} 1\n`, `${me} ${myStart + 1} ${me} ${myStart + 1}\n`, "garbage\n", `${me} ${myStart}\n`]) {
      const d = newDir();
      writeFileSync(liveFile(d), content);
      expect(reconcile(d, base)).toEqual(base);
    }
    expect(readLivePids(newDir())).toBeUndefined();
  });
});

describe("the end nobody recorded", () => {
  const ran: ContainerRecord = { ...base, state: "running", pid: GONE, pidStartTime: 1, startedAt: new Date(Date.now() - 10_000).toISOString() };

  test("the exit file the monitor wrote gives the exit code", () => {
    const d = newDir();
    writeFileSync(exitFile(d), "7\n");
    expect(reconcile(d, { ...ran, monitorPid: GONE }).exitCode).toBe(7);
  });

  test("an exit file older than this run is not this run's end", () => {
    const d = newDir();
    writeFileSync(exitFile(d), "7\n");
    const later = { ...ran, monitorPid: GONE, startedAt: new Date(Date.now() + 60_000).toISOString() };
    expect(reconcile(d, later).exitCode).toBe(137);
  });

  test("no exit file and the monitor gone: the container died of its parent-death SIGKILL (137)", () => {
    expect(reconcile(newDir(), { ...ran, monitorPid: GONE }).exitCode).toBe(137);
    expect(reconcile(newDir(), ran).exitCode).toBe(137);
  });

  test("the monitor still alive: it is about to record, nothing is made up", () => {
    expect(reconcile(newDir(), { ...ran, monitorPid: me }).exitCode).toBeUndefined();
  });

  test("a recorded exit or a live process is left as it is", () => {
    expect(reconcile(newDir(), { ...ran, exitCode: 3 }).exitCode).toBe(3);
    const alive = { ...ran, pid: me, pidStartTime: myStart };
    expect(reconcile(newDir(), alive)).toEqual(alive);
  });
});
