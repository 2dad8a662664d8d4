import { describe, expect, test } from "bun:test";
import { healthConfig, healthcheckView, nextHealth, type HealthResult } from "../../../pkg/container/engine/health.ts";

const result = (code: number): HealthResult => ({ Start: "", End: "", ExitCode: code, Output: "" });

describe("healthcheck configuration", () => {
  test("a shell command, a JSON array, none; podman's defaults", () => {
    expect(healthConfig({ cmd: "curl -f localhost" }, undefined)).toEqual({ test: ["CMD-SHELL", "curl -f localhost"], intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, retries: 3, onFailure: "none" });
    expect(healthConfig({ cmd: '["CMD","true"]' }, undefined)?.test).toEqual(["CMD", "true"]);
    expect(healthConfig({ cmd: '["true","x"]' }, undefined)?.test).toEqual(["CMD", "true", "x"]);
    expect(healthConfig({ cmd: "none" }, { Test: ["CMD", "true"] })).toBeUndefined();
    expect(healthConfig({}, undefined)).toBeUndefined();
  });
  test("the image's HEALTHCHECK (nanoseconds), flags over it; --no-healthcheck drops it", () => {
    const image = { Test: ["CMD-SHELL", "check"], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e10, Retries: 4 };
    expect(healthConfig({}, image)).toEqual({ test: ["CMD-SHELL", "check"], intervalMs: 5000, timeoutMs: 2000, startPeriodMs: 10_000, retries: 4, onFailure: "none" });
    expect(healthConfig({ interval: "1m", onFailure: "kill" }, image)).toMatchObject({ intervalMs: 60_000, onFailure: "kill", retries: 4 });
    expect(healthConfig({ none: true }, image)).toBeUndefined();
    expect(healthConfig({ interval: "disable" }, image)?.intervalMs).toBe(0);
    expect(healthcheckView(healthConfig({}, image))).toEqual({ Test: ["CMD-SHELL", "check"], Interval: 5e9, Timeout: 2e9, StartPeriod: 1e10, Retries: 4 });
  });
  test("bad values", () => {
    expect(() => healthConfig({ cmd: "x", retries: "0" }, undefined)).toThrow("greater than 0");
    expect(() => healthConfig({ cmd: "x", interval: "500ms" }, undefined)).toThrow("at least 1 second");
    expect(() => healthConfig({ cmd: "x", onFailure: "boom" }, undefined)).toThrow("--health-on-failure");
    expect(() => healthConfig({ cmd: "[nope" }, undefined)).toThrow("JSON array");
    expect(() => healthConfig({ cmd: "x", none: true }, undefined)).toThrow("conflict");
    expect(() => healthConfig({ retries: "2" }, undefined)).toThrow("need a healthcheck");
  });
});

describe("health states", () => {
  const cfg = { retries: 2, startPeriodMs: 1000 };
  test("healthy on a pass; unhealthy after retries failures in a row; the log keeps five", () => {
    let h = nextHealth(undefined, result(0), cfg, 5000);
    expect(h.status).toBe("healthy");
    h = nextHealth(h, result(1), cfg, 5000);
    expect(h).toMatchObject({ status: "healthy", failingStreak: 1 });
    h = nextHealth(h, result(1), cfg, 5000);
    expect(h).toMatchObject({ status: "unhealthy", failingStreak: 2 });
    for (let i = 0; i < 5; i++) h = nextHealth(h, result(1), cfg, 5000);
    expect(h.log.length).toBe(5);
    expect(nextHealth(h, result(0), cfg, 5000)).toMatchObject({ status: "healthy", failingStreak: 0 });
  });
  test("failures in the start period do not count", () => {
    const h = nextHealth(undefined, result(1), cfg, 500);
    expect(h).toMatchObject({ status: "starting", failingStreak: 0 });
    expect(h.log.length).toBe(1);
  });
});
