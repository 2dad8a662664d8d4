// --log-driver/--log-opt parsing and refusals, and the k8s-file writer's max-size.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkLogConfig, parseLogConfig } from "../../../pkg/container/io/log-driver.ts";
import { LogWriter } from "../../../pkg/container/io/logs.ts";

describe("parseLogConfig", () => {
  test("nothing given: undefined (k8s-file at ctr.log)", () => {
    expect(parseLogConfig(undefined)).toBeUndefined();
    expect(parseLogConfig({ opts: [] })).toBeUndefined();
  });
  test("drivers: k8s-file, json-file as its alias, none, passthrough", () => {
    expect(parseLogConfig({ driver: "json-file" })).toEqual({ driver: "k8s-file" });
    expect(parseLogConfig({ driver: "none" })).toEqual({ driver: "none" });
    expect(parseLogConfig({ driver: "passthrough" })).toEqual({ driver: "passthrough" });
    expect(() => parseLogConfig({ driver: "journald" })).toThrow('unsupported log driver "journald"');
  });
  test("path= (made absolute) and max-size= with units, several per flag", () => {
    expect(parseLogConfig({ opts: ["path=/tmp/a.log,max-size=10k"] })).toEqual({ driver: "k8s-file", path: "/tmp/a.log", maxSize: 10240 });
    expect(parseLogConfig({ opts: ["path=rel.log"] })!.path).toBe(join(process.cwd(), "rel.log"));
  });
  test("refusals", () => {
    expect(() => parseLogConfig({ opts: ["tag=x"] })).toThrow("--log-opt tag=x is not supported by pod");
    expect(() => parseLogConfig({ opts: ["max-size=lots"] })).toThrow("invalid --log-opt max-size=lots");
    expect(() => parseLogConfig({ driver: "none", opts: ["path=/x"] })).toThrow("need the k8s-file log driver");
    expect(() => checkLogConfig({ driver: "passthrough" }, { tty: true })).toThrow("cannot be used with a terminal");
    expect(() => checkLogConfig({ driver: "k8s-file" }, { tty: false, foreground: true })).toThrow("pod writes no log for a foreground run");
    expect(() => checkLogConfig({ driver: "none" }, { tty: false, foreground: true })).not.toThrow();
  });
});

test("LogWriter with max-size starts the file over before it would pass the size", () => {
  const dir = mkdtempSync(join(tmpdir(), "pod-logw-"));
  try {
    const file = join(dir, "ctr.log");
    const w = new LogWriter(file, 200);
    for (let i = 0; i < 50; i++) {
      w.write("stdout", new TextEncoder().encode(`line ${i}\n`));
      expect(statSync(file).size).toBeLessThanOrEqual(200);
    }
    const text = readFileSync(file, "utf8");
    expect(text).toContain(" stdout F line 49\n");
    expect(text).not.toContain("line 0\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
