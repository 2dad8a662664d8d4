// run/create --log-driver k8s-file|none|passthrough and --log-opt path=,max-size=, for real:
// the file the monitor writes, what `logs` and `start -a` show, and each refusal.
import { describe } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, expect, expectExit, expectPodError, lines, safeName } from "./helpers.ts";
import { useLifecycle, runD, create, track, untilStatus } from "./lifecycle-helpers.ts";
import { makeTempDir } from "../fixtures/proc.ts";

useSuite("610-log-driver");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

const exited = (name: string) => untilStatus(name, "exited", 20_000);

describe("--log-driver and --log-opt", () => {
  A("--log-opt path=FILE: the monitor writes the k8s-file log there and `logs` reads it", async () => {
    const file = join(makeTempDir("pod-log"), "ctr.log");
    const name = safeName("path");
    await runD(name, ["--network", "none", "--log-opt", `path=${file}`, "alpine", "sh", "-c", "echo one; echo two >&2"]);
    await exited(name);
    const text = readFileSync(file, "utf8");
    // stdout and stderr are two pipes: the monitor may read either first
    expect(lines(text).map((l) => l.split(" ").slice(1).join(" ")).sort()).toEqual(["stderr F two", "stdout F one"]);
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    expect(r.stdout).toBe("one\n");
    expect(r.stderr).toBe("two\n");
    expectExit(await runPod(["rm", name]), 0);
    expect(existsSync(file)).toBe(true);
  });

  A("--log-opt max-size: the log starts over past the size", async () => {
    const file = join(makeTempDir("pod-log"), "ctr.log");
    const name = safeName("max");
    await runD(name, ["--network", "none", "--log-driver", "k8s-file", "--log-opt", `path=${file},max-size=2k`, "alpine", "sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"]);
    await exited(name);
    expect(statSync(file).size).toBeLessThanOrEqual(2048);
    const r = await runPod(["logs", name]);
    expectExit(r, 0);
    expect(lines(r.stdout).at(-1)).toBe("line-199");
    expect(r.stdout).not.toContain("line-0\n");
  });

  A("--log-driver none: no log; `logs` says so; `start -a` still shows the output", async () => {
    const name = safeName("none");
    await create(name, ["--network", "none", "--log-driver", "none", "alpine", "echo", "hello"]);
    const s = await runPod(["start", "-a", name]);
    expectExit(s, 0);
    expect(s.stdout).toBe("hello\n");
    expectPodError(await runPod(["logs", name]), "this container is using the 'none' log driver, cannot read logs");
    const none = await runPod(["run", "--rm", "--network", "none", "--log-driver", "none", "alpine", "echo", "fg"]);
    expectExit(none, 0);
    expect(none.stdout).toBe("fg\n");
  });

  A("--log-driver passthrough: the output goes to pod's own, detached too", async () => {
    const fg = await runPod(["run", "--rm", "--network", "none", "--log-driver", "passthrough", "alpine", "echo", "fg"]);
    expectExit(fg, 0);
    expect(fg.stdout).toBe("fg\n");
    const name = track(safeName("pass"));
    const d = await runPod(["run", "-d", "--name", name, "--network", "none", "--log-driver", "passthrough", "alpine", "echo", "detached"]);
    expectExit(d, 0);
    expect(lines(d.stdout)).toContain("detached");
    await exited(name);
    expectPodError(await runPod(["logs", name]), "'passthrough' log driver");
  });

  A("refusals: other drivers and options, a log for a foreground run, passthrough with -t", async () => {
    expectPodError(await runPod(["run", "--rm", "--log-driver", "journald", "alpine", "true"]), 'unsupported log driver "journald"');
    expectPodError(await runPod(["run", "--rm", "-d", "--log-opt", "tag=x", "alpine", "true"]), "--log-opt tag=x is not supported by pod");
    expectPodError(await runPod(["run", "--rm", "-d", "--log-opt", "max-size=lots", "alpine", "true"]), "invalid --log-opt max-size=lots");
    expectPodError(await runPod(["run", "--rm", "-d", "--log-driver", "none", "--log-opt", "max-size=1m", "alpine", "true"]), "need the k8s-file log driver");
    expectPodError(await runPod(["run", "--rm", "--log-opt", "path=/tmp/x.log", "alpine", "true"]), "pod writes no log for a foreground run without -it");
    expectPodError(await runPod(["create", "-t", "--log-driver", "passthrough", "alpine", "true"]), "cannot be used with a terminal");
    expectPodError(await runPod(["run", "-d", "--log-opt", "path=/nonexistent/dir/x.log", "alpine", "true"]), "--log-opt path=/nonexistent/dir/x.log");
  });
});
