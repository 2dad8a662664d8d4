import { expect, test } from "bun:test";
import { runAgainArgs } from "../../../cmd/generate.ts";

test("generate systemd --new runs the create command again without the flags the unit sets", () => {
  expect(runAgainArgs(["pod", "--root", "/r", "run", "-d", "--name", "web", "-p", "8080:80", "alpine", "sleep", "1000"])).toEqual(["--name", "web", "-p", "8080:80", "alpine", "sleep", "1000"]);
  expect(runAgainArgs(["pod", "create", "--rm", "--cidfile", "/x", "--replace", "--name=web", "alpine"])).toEqual(["--name=web", "alpine"]);
  // booleans share a word; a flag with a value ends the word
  expect(runAgainArgs(["pod", "container", "run", "-dit", "-eA=1", "-e", "B=2", "alpine", "sh"])).toEqual(["-it", "-eA=1", "-e", "B=2", "alpine", "sh"]);
  // the container's own command is never touched
  expect(runAgainArgs(["pod", "run", "-d", "alpine", "rm", "--rm", "-d", "x"])).toEqual(["alpine", "rm", "--rm", "-d", "x"]);
  expect(runAgainArgs(["pod", "run", "--detach=true", "--conmon-pidfile=/p", "alpine"])).toEqual(["alpine"]);
  expect(() => runAgainArgs(["pod", "start", "web"])).toThrow("not a run or create");
});
