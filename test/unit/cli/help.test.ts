import { expect, test } from "bun:test";
import { invokedName, renderHelp } from "../../../cmd/_help.ts";
import type { PodCommand } from "../../../cmd/_args.ts";

test("help is named after argv[0]'s base name, pod when run from source", () => {
  expect(invokedName("/usr/local/bin/pod")).toBe("pod");
  expect(invokedName("podman")).toBe("podman");
  expect(invokedName("./bin/podman")).toBe("podman");
  expect(invokedName("/home/u/.bun/bin/bun")).toBe("pod");
  expect(invokedName("")).toBe("pod");
});

test("usage names the command path as invoked", () => {
  const ps: PodCommand = { meta: { name: "ps", description: "List containers" }, args: { all: { type: "boolean" } }, run: () => {} };
  const text = renderHelp("podman ps", { name: "ps", cmd: ps, subs: [] });
  expect(text.split("\n").slice(0, 4)).toEqual(["List containers", "", "Usage:", "  podman ps [options]"]);
  const root: PodCommand = { meta: { name: "pod", description: "Manage pods" }, subCommands: {} };
  expect(renderHelp("podman", { name: "podman", cmd: root, subs: [["ps", ps]] })).toContain("Usage:\n  podman [options] [command]\n");
  expect(renderHelp("podman", { name: "podman", cmd: root, subs: [["ps", ps]] })).toContain("Run 'podman COMMAND --help'");
});
