// exec's flags checked before anything runs: --preserve-fds needs every
// descriptor passed (podman's message), --detach-keys must parse, and a
// session with a terminal and stdin accepts only "" (pod cannot detach it).
import { describe, expect, test } from "bun:test";
import { checkExecOptions } from "../../../pkg/container/io/session.ts";

const base = { interactive: false, tty: false, detach: false };

describe("exec options", () => {
  test("--preserve-fds: each of 3 .. 3+N-1 must have been passed", () => {
    expect(() => checkExecOptions({ ...base, preserveFds: 2 }, (fd) => fd === 3 || fd === 4)).not.toThrow();
    expect(() => checkExecOptions({ ...base, preserveFds: 2 }, (fd) => fd === 3)).toThrow(
      "file descriptor 4 is not available - the preserve-fds option requires that file descriptors must be passed",
    );
    expect(() => checkExecOptions({ ...base, preserveFds: 0 }, () => false)).not.toThrow();
  });

  test("--detach-keys: a bad key fails; without -it any valid keys are fine (podman uses them only with a terminal)", () => {
    expect(() => checkExecOptions({ ...base, detachKeys: "ctrl-" }, () => true)).toThrow('invalid detach key "ctrl-"');
    expect(() => checkExecOptions({ ...base, detachKeys: "ctrl-a,x" }, () => true)).not.toThrow();
    expect(() => checkExecOptions({ ...base, interactive: true, detachKeys: "ctrl-a" }, () => true)).not.toThrow();
  });

  test('-it: only "" (never detach) is honoured', () => {
    const it = { ...base, interactive: true, tty: true };
    expect(() => checkExecOptions({ ...it, detachKeys: "" }, () => true)).not.toThrow();
    expect(() => checkExecOptions({ ...it }, () => true)).not.toThrow();
    expect(() => checkExecOptions({ ...it, detachKeys: "ctrl-p,ctrl-q" }, () => true)).toThrow("pod exec -it cannot detach from its process");
    expect(() => checkExecOptions({ ...it, detach: true, detachKeys: "ctrl-p,ctrl-q" }, () => true)).not.toThrow();
  });
});
