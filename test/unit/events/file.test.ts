// The events file: one line per event, rotation past the size limit into
// events.log.1, reading both generations, following across a rotation, and
// --events-backend none writing nothing.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appendEvent, emitEvent, eventJson, eventsFile, followEvents, readEvents, type PodEvent } from "../../../pkg/events/index.ts";

const dir = mkdtempSync(join(tmpdir(), "pod-events-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const line = (n: number) => eventJson({ Name: `v${n}`, Status: "create", Type: "volume", Time: "2024-01-01T12:00:00Z" });

describe("appendEvent", () => {
  test("each event is one line; past the limit the file moves to .1 and a new one starts", async () => {
    const file = join(dir, "rot.log");
    const size = line(0).length + 1;
    for (let i = 0; i < 7; i++) await appendEvent(file, line(i), size * 3);
    expect(readFileSync(`${file}.1`, "utf8").split("\n").filter(Boolean).length).toBe(3);
    expect(statSync(file).size).toBe(size);
    // two generations are kept: the oldest are gone, the rest in order
    expect(readEvents(file).map((e) => e.Name)).toEqual(["v3", "v4", "v5", "v6"]);
  });

  test("writers in several processes never interleave a line", async () => {
    const file = join(dir, "procs.log");
    const mod = join(import.meta.dir, "../../../pkg/events/index.ts");
    const script = `const { appendEvent } = await import(${JSON.stringify(mod)});
      for (let i = 0; i < 150; i++) await appendEvent(${JSON.stringify(file)}, JSON.stringify({ Name: process.argv.at(-1) + "-" + i, Status: "create", Type: "volume", Time: "2024-01-01T12:00:00Z", pad: "x".repeat(1000) }));`;
    const procs = ["a", "b", "c", "d"].map((w) => Bun.spawn([process.execPath, "-e", script, w], { stdout: "inherit", stderr: "inherit" }));
    expect(await Promise.all(procs.map((p) => p.exited))).toEqual([0, 0, 0, 0]);
    const text = readFileSync(file, "utf8");
    const parsed = text.split("\n").filter(Boolean).map((l) => JSON.parse(l).Name as string);
    expect(existsSync(`${file}.1`)).toBe(false);
    expect(parsed.length).toBe(600);
    expect(new Set(parsed).size).toBe(600);
    expect(parsed.filter((n) => n.startsWith("d-")).length).toBe(150);
  });

  test("concurrent writers never interleave a line", async () => {
    const file = join(dir, "many.log");
    await Promise.all(Array.from({ length: 200 }, (_, i) => appendEvent(file, line(i), 1_000_000)));
    const names = readEvents(file).map((e) => e.Name);
    expect(names.length).toBe(200);
    expect(new Set(names).size).toBe(200);
  });
});

describe("emitEvent", () => {
  test("writes under the runroot, nothing with --events-backend none", async () => {
    const paths = { root: join(dir, "root"), runroot: join(dir, "run") };
    await emitEvent({ ...paths, engine: { eventsBackend: "none" } }, { Name: "x", Status: "create", Type: "volume" });
    expect(existsSync(eventsFile(paths))).toBe(false);
    await emitEvent(paths, { Name: "x", Status: "create", Type: "volume" });
    const [e] = readEvents(eventsFile(paths));
    expect(e!.Name).toBe("x");
    expect(Math.abs(Date.parse(e!.Time) - Date.now())).toBeLessThan(5000);
  });
});

describe("followEvents", () => {
  test("sees new lines, across a rotation, and stops when told", async () => {
    const file = join(dir, "follow.log");
    await appendEvent(file, line(0));
    const seen: string[] = [];
    let stop = false;
    const done = followEvents(file, { fromStart: false, intervalMs: 10 }, (e: PodEvent) => (seen.push(e.Name!), true), () => !stop);
    await Bun.sleep(30);
    const size = line(0).length + 1;
    for (let i = 1; i <= 4; i++) {
      await appendEvent(file, line(i), size * 2);
      await Bun.sleep(25);
    }
    await Bun.sleep(50);
    stop = true;
    await done;
    expect(seen).toEqual(["v1", "v2", "v3", "v4"]);
  });

  test("fromStart replays what is kept first; a false from onEvent ends it", async () => {
    const file = join(dir, "replay.log");
    for (let i = 0; i < 3; i++) await appendEvent(file, line(i));
    const seen: string[] = [];
    await followEvents(file, { fromStart: true, intervalMs: 10 }, (e) => (seen.push(e.Name!), seen.length < 2), () => true);
    expect(seen).toEqual(["v0", "v1"]);
  });
});
