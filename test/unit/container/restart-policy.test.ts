import { describe, expect, test } from "bun:test";
import { nextDelay, parseRestartPolicy, restartPolicyView, shouldRestart } from "../../../pkg/container/engine/restart-policy.ts";

describe("--restart", () => {
  test("podman's spellings: no/never, on-failure[:N], always, unless-stopped", () => {
    expect(parseRestartPolicy("no")).toEqual({ name: "no", maxRetries: 0 });
    expect(parseRestartPolicy("never")).toEqual({ name: "no", maxRetries: 0 });
    expect(parseRestartPolicy("on-failure")).toEqual({ name: "on-failure", maxRetries: 0 });
    expect(parseRestartPolicy("on-failure:3")).toEqual({ name: "on-failure", maxRetries: 3 });
    expect(parseRestartPolicy("Always")).toEqual({ name: "always", maxRetries: 0 });
    expect(parseRestartPolicy("unless-stopped")).toEqual({ name: "unless-stopped", maxRetries: 0 });
  });
  test("podman's errors for the rest", () => {
    expect(() => parseRestartPolicy("bogus")).toThrow("invalid restart policy: bogus");
    expect(() => parseRestartPolicy("always:3")).toThrow("can only be specified with on-failure");
    expect(() => parseRestartPolicy("on-failure:x")).toThrow("parsing restart policy retry count");
    expect(() => parseRestartPolicy("on-failure:-1")).toThrow("greater than 0");
    expect(() => parseRestartPolicy("on-failure:1:2")).toThrow("at most once");
  });
  test("who restarts: on-failure on a non-zero code within its retries (0: no limit), always every time, nobody after the user's stop", () => {
    const of = (v: string) => parseRestartPolicy(v);
    expect(shouldRestart(of("on-failure:2"), 1, 0, false)).toBe(true);
    expect(shouldRestart(of("on-failure:2"), 1, 2, false)).toBe(false);
    expect(shouldRestart(of("on-failure:2"), 0, 0, false)).toBe(false);
    expect(shouldRestart(of("on-failure"), 3, 100, false)).toBe(true);
    expect(shouldRestart(of("always"), 0, 5, false)).toBe(true);
    expect(shouldRestart(of("unless-stopped"), 137, 0, false)).toBe(true);
    expect(shouldRestart(of("always"), 0, 0, true)).toBe(false);
    expect(shouldRestart(of("no"), 1, 0, false)).toBe(false);
    expect(shouldRestart(undefined, 1, 0, false)).toBe(false);
  });
  test("docker's back-off: 100 ms, doubling while runs end within 10 s, reset after a longer one", () => {
    expect(nextDelay(undefined, 50)).toBe(100);
    expect(nextDelay(100, 50)).toBe(200);
    expect(nextDelay(400, 9_999)).toBe(800);
    expect(nextDelay(800, 10_000)).toBe(100);
    expect(nextDelay(800, NaN)).toBe(100);
    expect(nextDelay(40_000, 1)).toBe(60_000);
  });
  test("inspect's HostConfig.RestartPolicy", () => {
    expect(restartPolicyView(undefined)).toEqual({ Name: "", MaximumRetryCount: 0 });
    expect(restartPolicyView(parseRestartPolicy("on-failure:2"))).toEqual({ Name: "on-failure", MaximumRetryCount: 2 });
  });
});
