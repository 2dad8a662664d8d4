// What run/create settle at create time from their raw flags and the image's config.
import { describe, expect, test } from "bun:test";
import { createOptions, hostPasswdLines, wholeSeconds } from "../../../pkg/container/record/create-options.ts";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { thrown } from "../runtime/_layers.ts";

describe("createOptions", () => {
  test("labels over the image's, stop signal from the flag or the image, seconds, host env", () => {
    const o = createOptions(
      { labels: ["a=1"], stopTimeout: "3", timeout: "0", envHost: true, annotations: ["k=v"] },
      { Labels: { a: "image", b: "image" }, StopSignal: "SIGUSR1" },
      { H: "1", GONE: undefined },
    );
    expect(o).toEqual({ labels: { a: "1", b: "image" }, annotations: { k: "v" }, stopSignal: 10, stopTimeout: 3, envHost: ["H=1"] });
    expect(createOptions({ stopSignal: "HUP" }, { StopSignal: "SIGUSR1" }, {}).stopSignal).toBe(1);
    expect(createOptions({}, undefined, {})).toEqual({});
  });
  test("whole seconds only", () => {
    expect(wholeSeconds("--timeout", "12")).toBe(12);
    for (const bad of ["", "-1", "1.5", "1s", "x"]) expect(thrown(() => wholeSeconds("--timeout", bad))).toBeInstanceOf(UsageError);
  });
});

describe("hostPasswdLines", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nme:x:1000:1000:Me:/home/me:/bin/sh\n";
  test("by name or uid", () => {
    expect(hostPasswdLines(["me", "0"], passwd)).toEqual(["me:x:1000:1000:Me:/home/me:/bin/sh", "root:x:0:0:root:/root:/bin/bash"]);
  });
  test("unknown users are Go's user.Lookup errors", () => {
    const e = thrown(() => hostPasswdLines(["ghost"], passwd));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe("user: unknown user ghost");
    expect(thrown(() => hostPasswdLines(["4242"], passwd)).message).toBe("user: unknown userid 4242");
  });
});
