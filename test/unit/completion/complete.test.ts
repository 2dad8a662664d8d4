// `pod __complete`'s logic on a small hand-made tree and a temp store:
// what the walk decides each word is, and the protocol text it answers.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  commandSpec,
  completeLine,
  flagSpecs,
  renderAnswer,
  shortImageName,
  type CommandLike,
  type CommandSpec,
  type CompleteContext,
} from "../../../pkg/completion/index.ts";

const global = flagSpecs({
  root: { type: "string", valueHint: "dir", description: "Storage root" },
  "log-level": { type: "string", valueHint: "level", description: "Log level" },
  help: { type: "boolean", alias: "h", description: "Show help" },
});

const rmi: CommandLike = { meta: { description: "Remove images" }, args: { force: { type: "boolean", alias: "f" }, image: { type: "positional" } } };
const run: CommandLike = {
  meta: { description: "Run" },
  interspersed: false,
  args: {
    pull: { type: "enum", options: ["always", "never"], description: "Pull policy" },
    hostname: { type: "string", alias: "h", valueHint: "name" },
    image: { type: "positional" },
    command: { type: "positional" },
  },
};
const kill: CommandLike = { meta: { description: "Kill" }, args: { signal: { type: "string", alias: "s", valueHint: "signal" }, container: { type: "positional" } } };
const group: CommandLike = { meta: { description: "Manage images" }, subCommands: { rm: rmi } };

const specs: Record<string, CommandSpec> = {
  "": commandSpec([], {}, [["rmi", rmi], ["run", run], ["kill", kill], ["image", group]], global),
  rmi: commandSpec(["rmi"], rmi, [], global),
  run: commandSpec(["run"], run, [], global),
  kill: commandSpec(["kill"], kill, [], global),
  image: commandSpec(["image"], group, [["rm", rmi]], global),
  "image rm": commandSpec(["image", "rm"], rmi, [], global),
};

const tmp = mkdtempSync(join(tmpdir(), "pod-complete-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function storeWith(images: { id: string; names: string[] }[]): string {
  const root = mkdtempSync(join(tmp, "root-"));
  writeFileSync(join(root, "images.json"), JSON.stringify({ version: 1, images: images.map((i) => ({ ...i, repoDigests: [], layers: [] })) }));
  return root;
}

function containersIn(root: string, recs: { id: string; name: string; state: string; pid?: number }[]): void {
  for (const r of recs) {
    mkdirSync(join(root, "containers", r.id), { recursive: true });
    writeFileSync(join(root, "containers", r.id, "container.json"), JSON.stringify({ ...r, image: "docker.io/library/alpine:latest", imageId: "a".repeat(64), command: [], created: new Date().toISOString() }));
  }
}

const ID_A = "3f53bb00af94" + "0".repeat(52);
const ID_B = "9c6f07244728" + "1".repeat(52);
const root = storeWith([
  { id: ID_A, names: ["docker.io/library/alpine:3.20", "localhost/mine:1"] },
  { id: ID_B, names: [] },
]);
containersIn(root, [
  { id: "c".repeat(64), name: "web", state: "running", pid: process.pid },
  { id: "d".repeat(64), name: "done", state: "exited" },
]);

const ctx: CompleteContext = {
  lookup: async (path) => specs[path.join(" ")],
  paths: (seen) => ({ root: seen["--root"] ?? "/nonexistent/pod-root", runroot: join(tmp, "run") }),
  env: { HOME: tmp, PATH: "/usr/bin:/bin" },
};

async function names(words: string[]): Promise<string[]> {
  return (await completeLine(words, ctx)).items.map((i) => i.name);
}

describe("the walk", () => {
  test("subcommands at the root and in groups", async () => {
    expect(await names(["r"])).toEqual(["rmi", "run"]);
    expect(await names(["image", ""])).toEqual(["rm"]);
  });

  test("flags: the command's own, then the global ones it does not redefine", async () => {
    expect(await names(["rmi", "-"])).toEqual(["--force", "-f", "--root", "--log-level", "--help", "-h"]);
    // run's -h is --hostname, so the global -h (help) is not offered for run
    expect(await names(["run", "-"])).toEqual(["--pull", "--hostname", "-h", "--root", "--log-level", "--help"]);
  });

  test("fixed values after a flag, after --flag=, and for log levels", async () => {
    expect(await names(["run", "--pull", ""])).toEqual(["always", "never"]);
    expect(await names(["run", "--pull=n"])).toEqual(["--pull=never"]);
    expect(await names(["--log-level", "d"])).toEqual(["debug"]);
    expect(await names(["kill", "-s", "SIGK"])).toEqual(["SIGKILL"]);
  });

  test("a flag's value is skipped when counting positionals", async () => {
    const a = await completeLine(["run", "--hostname", "box", "--pull", "never", "alpine", ""], ctx);
    expect(a.directive).toBe(0); // run's COMMAND: the shell's own file completion
  });

  test("after the image of a non-interspersed command, dashes are the command's", async () => {
    expect((await completeLine(["run", "alpine", "-"], ctx)).directive).toBe(0);
  });

  test("--root typed earlier decides which store is read", async () => {
    expect(await names(["rmi", "alp"])).toEqual([]);
    expect(await names(["--root", root, "rmi", "alp"])).toEqual(["alpine:3.20"]);
  });
});

describe("dynamic sources", () => {
  const at = (...w: string[]) => ["--root", root, ...w];

  test("images: full and short names; IDs once the word looks like one", async () => {
    expect(await names(at("rmi", ""))).toEqual(["docker.io/library/alpine:3.20", "alpine:3.20", "localhost/mine:1", "mine:1"]);
    expect(await names(at("image", "rm", "3f"))).toEqual(["3f53bb00af94"]);
    expect(await names(at("rmi", "9c"))).toEqual(["9c6f07244728"]);
  });

  test("containers: all of them, or the running ones for kill", async () => {
    expect(specs.kill!.positionals).toEqual([{ kind: "dynamic", source: "running-containers" }]);
    expect(await names(at("kill", ""))).toEqual(["web"]);
    expect(await names(at("kill", "ccc"))).toEqual(["cccccccccccc"]);
  });

  test("the protocol: value<TAB>description lines, then :directive", async () => {
    const text = renderAnswer(await completeLine(at("rmi", "mine"), ctx));
    expect(text).toBe("mine:1\timage 3f53bb00af94\n:4\n");
    expect(renderAnswer({ items: [{ name: "a\tb", description: "x\ny" }], directive: 1 })).toBe("a b\tx y\n:1\n");
  });

  test("short names as pod resolves them", () => {
    expect(shortImageName("docker.io/library/alpine:3")).toBe("alpine:3");
    expect(shortImageName("docker.io/me/tool:1")).toBe("me/tool:1");
    expect(shortImageName("localhost/mine:1")).toBe("mine:1");
    expect(shortImageName("quay.io/podman/hello:latest")).toBe("quay.io/podman/hello:latest");
  });
});
