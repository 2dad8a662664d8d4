// Which containers start/stop/kill/restart/rm act on, and which flag
// combinations podman refuses (validate.CheckAllLatestAndIDFile, validateStart).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkTargetFlags, readCidFiles, selectTargets, startRules, type TargetFlags } from "../../../pkg/container/record/targets.ts";
import { compileFilters } from "../../../pkg/container/record/filters.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";
import type { Status } from "../../../pkg/container/record/state.ts";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { thrown } from "../runtime/_layers.ts";

const rec = (name: string, hex: string, created: string, state: ContainerRecord["state"]): ContainerRecord => ({
  id: hex.repeat(64 / hex.length),
  name,
  image: "docker.io/library/alpine:latest",
  imageId: "9".repeat(64),
  command: ["true"],
  created,
  state,
});
const a = rec("a", "a1", "2026-01-01T00:00:01Z", "running");
const b = rec("b", "b2", "2026-01-01T00:00:02Z", "exited");
const c = rec("c", "c3", "2026-01-01T00:00:03Z", "created");
const all = [a, c, b];
const status = (r: ContainerRecord) => r.state as Status;
const inputs = (ts: ReturnType<typeof selectTargets>) => ts.map((t) => t.input);

describe("flag rules of stop, kill, restart, rm", () => {
  const f = (o: Partial<TargetFlags>): TargetFlags => ({ names: [], ...o });
  const refused: [Partial<TargetFlags>, string][] = [
    [{}, "you must provide at least one name or ID"],
    [{ names: ["x"], filters: ["name=x"] }, "--filter takes no arguments"],
    [{ cidfiles: ["f"], all: true }, "--all, --latest, and --cidfile cannot be used together"],
    [{ cidfiles: ["f"], latest: true }, "--all, --latest, and --cidfile cannot be used together"],
    [{ all: true, latest: true }, "--all and --latest cannot be used together"],
    [{ names: ["x"], all: true }, "no arguments are needed with --all"],
    [{ names: ["x"], latest: true }, "--latest and containers cannot be used together"],
    [{ names: ["x"], cidfiles: ["f"] }, "no arguments are needed with --latest or --cidfile"],
  ];
  for (const [flags, msg] of refused)
    test(`refused: ${JSON.stringify(flags)}`, () => {
      const e = thrown(() => checkTargetFlags(f(flags)));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(msg);
      expect(e.hint).toBeTruthy();
    });

  test("accepted: names, --all, --latest, --cidfile, and --filter alone or with --all", () => {
    for (const ok of [{ names: ["x", "y"] }, { all: true }, { latest: true }, { cidfiles: ["f", "g"] }, { filters: ["name=x"] }, { filters: ["name=x"], all: true }])
      expect(() => checkTargetFlags(f(ok))).not.toThrow();
  });
});

describe("flag rules of start", () => {
  test("a filter alone or narrowing names is fine; --all excludes names and --latest", () => {
    expect(() => startRules({ names: [], filters: ["status=exited"] })).not.toThrow();
    expect(() => startRules({ names: ["a"], filters: ["status=exited"] })).not.toThrow();
    expect(() => startRules({ names: [], all: true, filters: ["status=exited"] })).not.toThrow();
    expect(thrown(() => startRules({ names: [] })).message).toBe("start requires at least one argument");
    expect(thrown(() => startRules({ names: ["a"], all: true })).message).toBe("either start all containers or the container(s) provided in the arguments");
    expect(thrown(() => startRules({ names: ["a"], latest: true })).message).toBe("--latest and containers cannot be used together");
    expect(thrown(() => startRules({ names: ["a", "b"], attach: true })).message).toBe("you cannot start and attach multiple containers at once");
    expect(thrown(() => startRules({ names: [], all: true, attach: true })).message).toBe("you cannot start and attach all containers at once");
  });
});

describe("selection", () => {
  test("names: each looked up; the input is echoed; a missing one is an error of its own", () => {
    const ts = selectTargets(all, { names: ["b", a.id.slice(0, 5), "ghost"], status });
    expect(inputs(ts)).toEqual(["b", a.id.slice(0, 5), "ghost"]);
    expect(ts[0]!.rec).toBe(b);
    expect(ts[1]!.rec).toBe(a);
    expect(ts[2]!.error).toBeInstanceOf(PodError);
    expect(ts[2]!.error!.message).toContain('"ghost"');
  });

  test("--all: every container, newest first, by full ID; allFilter narrows it (kill -a: running ones)", () => {
    expect(inputs(selectTargets(all, { names: [], all: true, status }))).toEqual([c.id, b.id, a.id]);
    expect(inputs(selectTargets(all, { names: [], all: true, status, allFilter: (r) => status(r) === "running" }))).toEqual([a.id]);
  });

  test("--latest: the newest, by full ID; none is an error", () => {
    expect(inputs(selectTargets(all, { names: [], latest: true, status }))).toEqual([c.id]);
    expect(thrown(() => selectTargets([], { names: [], latest: true, status })).message).toBe("no containers to act on");
  });

  test("--filter: what matches, by full ID; names (full ID or exact name) narrow it; it wins over --all", () => {
    const filter = compileFilters(["status=running", "status=exited"], { all, now: Date.now() });
    expect(inputs(selectTargets(all, { names: [], filter, status }))).toEqual([b.id, a.id]);
    expect(inputs(selectTargets(all, { names: ["a", c.id], filter, status }))).toEqual([a.id]);
    expect(inputs(selectTargets(all, { names: [a.id.slice(0, 5)], filter, status }))).toEqual([]);
    expect(inputs(selectTargets(all, { names: [], all: true, filter, status }))).toEqual([b.id, a.id]);
  });
});

describe("--cidfile", () => {
  const dir = mkdtempSync(join(tmpdir(), "pod-cidfile-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the first line of each file, in order", () => {
    writeFileSync(join(dir, "one"), a.id);
    writeFileSync(join(dir, "two"), `${b.id}\nanything else\n`);
    expect(readCidFiles([join(dir, "one"), join(dir, "two")])).toEqual([a.id, b.id]);
  });

  test("a missing file is an error, or skipped when missing ones are forgiven (-i)", () => {
    const gone = join(dir, "gone");
    const e = thrown(() => readCidFiles([gone]));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`reading CIDFile: ${gone}: no such file or directory`);
    expect(readCidFiles([gone, join(dir, "one")], true)).toEqual([a.id]);
  });
});
