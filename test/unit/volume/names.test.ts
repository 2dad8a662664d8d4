// Volume names: podman's grammar, and the random names of unnamed volumes.
import { describe, expect, test } from "bun:test";
import { UsageError } from "../../../pkg/errors.ts";
import { checkVolumeName, isVolumeName, newVolumeName } from "../../../pkg/volume/index.ts";
import { thrown } from "../runtime/_layers.ts";

describe("volume names", () => {
  for (const ok of ["data", "a", "0", "my-vol_1.2", "A.b-C_d", "x".repeat(200)]) {
    test(`${JSON.stringify(ok.slice(0, 20))} is valid`, () => {
      expect(isVolumeName(ok)).toBe(true);
      expect(checkVolumeName(ok)).toBe(ok);
    });
  }
  for (const bad of ["", "-data", ".data", "_data", "a/b", "a:b", "a b", "../x", "é", "a\n"]) {
    test(`${JSON.stringify(bad)} is refused with a UsageError naming it`, () => {
      expect(isVolumeName(bad)).toBe(false);
      const e = thrown(() => checkVolumeName(bad));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(`invalid volume name ${JSON.stringify(bad)}: names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
      expect(e.hint).toBeTruthy();
    });
  }
  test("random names are 64 hex digits, valid, and differ", () => {
    const a = newVolumeName();
    const b = newVolumeName();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(isVolumeName(a)).toBe(true);
    expect(a).not.toBe(b);
  });
});
