// --secret's grammar, the environment and mounts it plans, and the id a secret file gets in the storage namespace.
import { describe, expect, test } from "bun:test";
import { parseSecretFlag } from "../../../pkg/secret/spec.ts";
import { secretMountOps, storageIdOf, withSecretEnv } from "../../../pkg/runtime/secrets.ts";

describe("--secret", () => {
  test("a name alone is a read-only file at /run/secrets/NAME, mode 0444, owned by root", () => {
    expect(parseSecretFlag("db")).toEqual({ name: "db", type: "mount", target: "/run/secrets/db", uid: 0, gid: 0, mode: 0o444 });
  });
  test("relative targets land under /run/secrets, absolute ones stay", () => {
    expect(parseSecretFlag("db,target=x/y").target).toBe("/run/secrets/x/y");
    expect(parseSecretFlag("db,type=mount,target=/etc/db.key,uid=100,gid=101,mode=0400")).toEqual({ name: "db", type: "mount", target: "/etc/db.key", uid: 100, gid: 101, mode: 0o400 });
  });
  test("type=env sets the variable target (default: the name)", () => {
    expect(parseSecretFlag("db,type=env")).toMatchObject({ type: "env", target: "db" });
    expect(parseSecretFlag("db,type=env,target=DB_PASS")).toMatchObject({ type: "env", target: "DB_PASS" });
  });
  test("errors name the value", () => {
    for (const [v, why] of [
      ["", /start with the secret's name/],
      ["type=env", /start with the secret's name/],
      ["db,type=file", /type must be mount or env/],
      ["db,type=env,uid=1", /apply to type=mount only/],
      ["db,type=env,target=1X", /not an environment variable name/],
      ["db,mode=999", /octal mode/],
      ["db,uid=-1", /uid must be a number/],
      ["db,foo=bar", /unknown option "foo"/],
      ["db,target", /is not KEY=VALUE/],
    ] as const)
      expect(() => parseSecretFlag(v)).toThrow(why);
  });
});

describe("secret plan", () => {
  test("variables win over the environment's", () => {
    expect(withSecretEnv(["A=1", "DB=old", "B"], { mounts: [], env: { DB: "new" } })).toEqual(["A=1", "B", "DB=new"]);
    expect(withSecretEnv(["A=1"], undefined)).toEqual(["A=1"]);
  });
  test("each file is bound read-only over a file made at its target", () => {
    expect(secretMountOps([], { mounts: [{ source: "/rt/secrets/0-db", target: "/run/secrets/db" }], env: {} })).toEqual([
      { op: "touch", target: "/run/secrets/db", mode: 0o644 },
      { op: "bind", source: "/rt/secrets/0-db", target: "/run/secrets/db", recursive: false, readonly: true },
    ]);
  });
  test("container ids become storage ids through both maps", () => {
    const storage = [0, 1000, 1, 1, 100000, 65536];
    expect(storageIdOf(storage, storage, 0)).toBe(0);
    expect(storageIdOf(storage, storage, 100)).toBe(100);
    // keep-id: container 1000 is the user (storage 0), container 0 is storage 1000
    const keepId = [0, 100999, 1, 1, 100000, 999, 1000, 1000, 1, 1001, 101000, 64536];
    expect(storageIdOf(keepId, storage, 1000)).toBe(0);
    expect(storageIdOf(keepId, storage, 0)).toBe(1000);
    expect(storageIdOf(storage, storage, 70000)).toBeUndefined();
  });
});
