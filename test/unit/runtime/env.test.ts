// Environment precedence and the --env-file format.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { buildEnv, DEFAULT_PATH, frozenEnv, parseEnvFile, type EnvInput } from "../../../pkg/runtime/index.ts";
import { removeScratch, scratchDir, thrown } from "./_layers.ts";

afterAll(removeScratch);

const base: EnvInput = { imageEnv: [], envFiles: [], env: [], hostEnv: {}, home: "/root", hostname: "abc123" };

describe("parseEnvFile", () => {
  test("KEY=VALUE verbatim, comments, blanks, host lookups", () => {
    const text = "\uFEFF# a comment\n\nA=1\n  B=spaced value \nC=\nD=x=y\nFROM_HOST\nUNSET_ON_HOST\n#E=no\nF=\"quoted\"\r\n";
    expect(parseEnvFile(text, { FROM_HOST: "h" })).toEqual(["A=1", "B=spaced value ", "C=", "D=x=y", "FROM_HOST=h", 'F="quoted"']);
  });
  test("a bad name is a usage error naming the line", () => {
    const e = thrown(() => parseEnvFile("A=1\nBAD NAME=2\n"));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('line 2: variable "BAD NAME" contains whitespace');
    expect(thrown(() => parseEnvFile("=x")).message).toBe("line 1: empty variable name");
  });
});

describe("buildEnv", () => {
  test("defaults when nothing is set", () => {
    expect(buildEnv(base)).toEqual([`PATH=${DEFAULT_PATH}`, "TERM=xterm", "container=podman", "HOSTNAME=abc123", "HOME=/root"]);
  });

  test("image, then env files in order, then -e in order; later wins", () => {
    const dir = scratchDir();
    const f1 = join(dir, "one.env");
    const f2 = join(dir, "two.env");
    writeFileSync(f1, "A=file1\nB=file1\nC=file1\n");
    writeFileSync(f2, "B=file2\n");
    const env = buildEnv({
      ...base,
      imageEnv: ["PATH=/image/bin", "A=image", "Z=image"],
      envFiles: [f1, f2],
      env: ["C=flag", "HOST_ONLY", "GONE", "HOME=/custom", "container=other"],
      hostEnv: { HOST_ONLY: "from host" },
    });
    expect(env).toEqual([
      "PATH=/image/bin",
      "A=file1",
      "Z=image",
      "B=file2",
      "C=flag",
      "HOST_ONLY=from host",
      "HOME=/custom",
      "container=other",
      "TERM=xterm",
      "HOSTNAME=abc123",
    ]);
  });

  test("a missing env file is a PodError naming it", () => {
    const path = join(scratchDir(), "nope.env");
    const e = thrown(() => buildEnv({ ...base, envFiles: [path] }));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`reading env file ${path}: no such file or directory`);
    expect(e.hint).toBeDefined();
  });

  test("a bad line in an env file names the file and the line", () => {
    const path = join(scratchDir(), "bad.env");
    writeFileSync(path, "OK=1\nNOT OK=2\n");
    const e = thrown(() => buildEnv({ ...base, envFiles: [path] }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`reading env file ${path}: line 2: variable "NOT OK" contains whitespace`);
  });

  test("-e with an empty name is a usage error naming the value", () => {
    const e = thrown(() => buildEnv({ ...base, env: ["=x"] }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain('"=x"');
  });
});

describe("frozenEnv (what create records)", () => {
  test("env files first, then -e; lone KEYs resolved now, unset ones dropped", () => {
    const path = join(scratchDir(), "frozen.env");
    writeFileSync(path, "A=file\nFROM_HOST\n");
    expect(frozenEnv([path], ["B=flag", "FROM_HOST", "GONE"], { FROM_HOST: "h" })).toEqual(["A=file", "FROM_HOST=h", "B=flag", "FROM_HOST=h"]);
  });

  test("-e '' and -e =VALUE are usage errors, as in podman, not silently dropped", () => {
    for (const v of ["", "=", "=value"]) {
      const e = thrown(() => frozenEnv([], ["A=1", v], {}));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toBe(`invalid environment variable ${JSON.stringify(v)}: empty variable name`);
      expect(e.hint).toContain("KEY=VALUE");
    }
  });

  test("an env-file line with an empty name names the file and the line", () => {
    const path = join(scratchDir(), "empty-name.env");
    writeFileSync(path, "A=1\n=x\n");
    const e = thrown(() => frozenEnv([path], [], {}));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe(`reading env file ${path}: line 2: empty variable name`);
  });

  test("a missing env file is a PodError naming it", () => {
    const path = join(scratchDir(), "missing.env");
    expect(thrown(() => frozenEnv([path], [], {})).message).toBe(`reading env file ${path}: no such file or directory`);
  });
});

describe("--env-host, --unsetenv, --unsetenv-all", () => {
  test("--unsetenv drops a default or an image variable; -e still sets it", () => {
    const env = buildEnv({ ...base, imageEnv: ["A=image", "B=image"], unsetenv: ["A", "TERM", "HOME"], env: ["HOME=/mine"] });
    expect(env).toEqual(["B=image", "HOME=/mine", `PATH=${DEFAULT_PATH}`, "container=podman", "HOSTNAME=abc123"]);
  });
  test("--unsetenv-all leaves only what the user gave", () => {
    expect(buildEnv({ ...base, imageEnv: ["A=image"], unsetenvAll: true, env: ["X=1"] })).toEqual(["X=1"]);
  });
  test("--env-host: over the image, under --env-file and -e; kept by --unsetenv-all", () => {
    const env = buildEnv({ ...base, imageEnv: ["PATH=/image", "A=image"], envHost: ["PATH=/host", "H=1", "X=host"], env: ["X=flag"] });
    expect(env).toEqual(["PATH=/host", "A=image", "H=1", "X=flag", "TERM=xterm", "container=podman", "HOSTNAME=abc123", "HOME=/root"]);
    expect(buildEnv({ ...base, unsetenvAll: true, envHost: ["H=1"] })).toEqual(["H=1"]);
  });
});
