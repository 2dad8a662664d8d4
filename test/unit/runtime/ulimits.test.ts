// --ulimit parsing (docker's go-units grammar) and the check against the caller's own hard limits.
import { describe, expect, test } from "bun:test";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { checkUlimits, ownHardLimits, parseUlimits, RLIM_INFINITY, rlimitsOf } from "../../../pkg/runtime/index.ts";
import { thrown } from "./_layers.ts";

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             127447               127447               processes 
Max open files            1024                 524288               files     
`;

describe("parseUlimits", () => {
  test("NAME=SOFT[:HARD], -1 unlimited, later wins, host alone is no change", () => {
    expect(rlimitsOf(parseUlimits(["nofile=1024:2048", "core=-1", "nproc=10", "nproc=20:30"]))).toEqual([
      { resource: 7, soft: "1024", hard: "2048" },
      { resource: 4, soft: RLIM_INFINITY.toString(), hard: RLIM_INFINITY.toString() },
      { resource: 6, soft: "20", hard: "30" },
    ]);
    expect(parseUlimits(["host"])).toEqual([]);
  });
  test("podman's errors", () => {
    expect(thrown(() => parseUlimits(["bogus=1"])).message).toBe("invalid ulimit type: bogus");
    expect(thrown(() => parseUlimits(["nofile"])).message).toBe("invalid ulimit argument: nofile");
    expect(thrown(() => parseUlimits(["nofile=x"])).message).toBe("invalid ulimit argument: nofile=x");
    expect(thrown(() => parseUlimits(["nofile=5:4"])).message).toBe("ulimit soft limit must be less than or equal to hard limit: 5 > 4");
    expect(thrown(() => parseUlimits(["host", "nofile=1"]))).toBeInstanceOf(UsageError);
  });
});

describe("checkUlimits", () => {
  const own = ownHardLimits(LIMITS);
  test("reads the hard column in RLIMIT order", () => {
    expect(own.get(7)).toBe(524288n);
    expect(own.get(3)).toBe(RLIM_INFINITY);
    expect(own.get(6)).toBe(127447n);
  });
  test("a raise above the caller's hard limit is refused unless privileged", () => {
    expect(() => checkUlimits(parseUlimits(["nofile=1024:524288", "stack=-1"]), own, false)).not.toThrow();
    const e = thrown(() => checkUlimits(parseUlimits(["nofile=600000"]), own, false));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toContain("--ulimit nofile: the hard limit 600000 is above your own (524288)");
    expect(() => checkUlimits(parseUlimits(["nofile=600000"]), own, true)).not.toThrow();
  });
});
