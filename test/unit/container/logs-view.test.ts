// `pod logs` over several containers: podman's prefix (short ID, or the name
// with --names, only when several containers are shown), --color's colors by
// place in the list, and the checks on names and --latest.
import { describe, expect, test } from "bun:test";
import { logSources, logTargets, renderSourceLine } from "../../../pkg/container/io/logs-view.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";
import type { LogLine } from "../../../pkg/container/io/logs.ts";
import type { Paths } from "../../../pkg/config/index.ts";

const rec = (id: string, name: string) => ({ id, name }) as ContainerRecord;
const A = rec("a".repeat(64), "web");
const B = rec("b".repeat(64), "db");
const line = (text: string, partial = false): LogLine => ({ time: "2026-11-23T10:00:00.000Z", stream: "stdout", text, partial });
const paths = { root: "/nonexistent/pod-root" } as Paths;

describe("logs prefix", () => {
  test("one container: no prefix, with or without --names", () => {
    expect(logSources([A], { names: false, color: false })[0]!.prefix).toBe("");
    expect(logSources([A], { names: true, color: false })[0]!.prefix).toBe("");
  });

  test("several: the short ID, or the name with --names", () => {
    expect(logSources([A, B], { names: false, color: false }).map((s) => s.prefix)).toEqual(["aaaaaaaaaaaa ", "bbbbbbbbbbbb "]);
    expect(logSources([A, B], { names: true, color: false }).map((s) => s.prefix)).toEqual(["web ", "db "]);
  });

  test("a line: prefix, then the timestamp, then the text", () => {
    const [s] = logSources([A, B], { names: true, color: false });
    expect(renderSourceLine(s!, line("hi"), false)).toBe("web hi\n");
    expect(renderSourceLine(s!, line("hi"), true)).toBe("web 2026-11-23T10:00:00.000Z hi\n");
    expect(renderSourceLine(s!, line("no newline", true), false)).toBe("web no newline");
  });

  test("--color: podman's seven colors by place in the list, the whole line colored, reset before the newline", () => {
    const many = Array.from({ length: 8 }, (_, i) => rec(String(i).repeat(64), `c${i}`));
    const colors = logSources(many, { names: true, color: true }).map((s) => s.color);
    expect(colors.slice(0, 7)).toEqual(["\x1b[37m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[32m"]);
    expect(colors[7]).toBe(colors[0]);
    expect(renderSourceLine(logSources([A], { names: false, color: true })[0]!, line("hi"), false)).toBe("\x1b[37mhi\x1b[0m\n");
  });
});

describe("logs targets", () => {
  test("no container and no --latest is podman's error", () => {
    expect(() => logTargets(paths, [], false)).toThrow("specify at least one container name or ID to log");
  });

  test("--latest with names is refused", () => {
    expect(() => logTargets(paths, ["web"], true)).toThrow("--latest and containers cannot be used together");
  });
});
