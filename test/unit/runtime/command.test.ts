// Entrypoint/Cmd combinations and the working directory.
import { describe, expect, test } from "bun:test";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { resolveArgv, resolveWorkdir, type CommandInput } from "../../../pkg/runtime/index.ts";
import { thrown } from "./_layers.ts";

describe("resolveArgv", () => {
  const img = { imageEntrypoint: ["/entry.sh"], imageCmd: ["serve", "--port=80"] };
  const cases: [string, CommandInput, string[]][] = [
    ["image entrypoint + cmd", { ...img, command: [] }, ["/entry.sh", "serve", "--port=80"]],
    ["args replace cmd", { ...img, command: ["sh", "-c", "echo hi"] }, ["/entry.sh", "sh", "-c", "echo hi"]],
    ["--entrypoint drops the image cmd", { ...img, entrypoint: "/bin/sh", command: [] }, ["/bin/sh"]],
    ["--entrypoint with args", { ...img, entrypoint: "/bin/sh", command: ["-c", "id"] }, ["/bin/sh", "-c", "id"]],
    ["--entrypoint '' clears it", { ...img, entrypoint: "", command: ["ls", "/"] }, ["ls", "/"]],
    ["--entrypoint as a JSON array", { ...img, entrypoint: '["sh", "-c"]', command: ["echo x"] }, ["sh", "-c", "echo x"]],
    ["--entrypoint that only looks like JSON", { ...img, entrypoint: "[not json", command: [] }, ["[not json"]],
    ["cmd only", { imageCmd: ["/bin/sh"], command: [] }, ["/bin/sh"]],
    ["null entrypoint", { imageEntrypoint: null, imageCmd: ["/bin/sh"], command: [] }, ["/bin/sh"]],
    ["nothing from the image", { command: ["true"] }, ["true"]],
  ];
  for (const [name, input, want] of cases) test(name, () => expect(resolveArgv(input)).toEqual(want));

  test("nothing to run", () => {
    for (const input of [{ command: [] }, { ...img, entrypoint: "", command: [] }, { imageCmd: [], command: [] }]) {
      const e = thrown(() => resolveArgv(input));
      expect(e).toBeInstanceOf(PodError);
      expect(e.message).toBe("no command specified");
      expect(e.hint).toContain("pod run IMAGE");
    }
  });
});

describe("resolveWorkdir", () => {
  test("-w, else the image's, else /", () => {
    expect(resolveWorkdir("/src", "/app")).toBe("/src");
    expect(resolveWorkdir(undefined, "/app/")).toBe("/app");
    expect(resolveWorkdir("", "app")).toBe("/app");
    expect(resolveWorkdir(undefined, undefined)).toBe("/");
    expect(resolveWorkdir("/a/../b/./c/", undefined)).toBe("/b/c");
  });
  test("-w must be absolute", () => {
    const e = thrown(() => resolveWorkdir("src", undefined));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain('"src"');
    expect(e.hint).toContain("-w /src");
  });
});
