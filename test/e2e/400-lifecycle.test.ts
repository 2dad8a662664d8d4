// The daemonless lifecycle: run -d and create/start, the monitor that holds a
// detached container, exit statuses as wait/ps/inspect report them, kill,
// stop (TERM or the image's StopSignal, then KILL), restart, rm, rename,
// prune, inspect's fields and the `pod container` aliases (pause: 450). Expected
// outputs are podman 4.3.1's (runc, overlay) on the project's machines.
import { describe } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, expect, expectExit, expectPodError, assertOutput, lines, safeName, HEX64 } from "./helpers.ts";
import {
  useLifecycle,
  runD,
  create,
  track,
  inspect,
  inspectFmt,
  statusOf,
  psStatus,
  monitorOf,
  monitorsOf,
  parentOf,
  alive,
  until,
  recordDir,
  liveDir,
  leftoversOf,
  STOPSIG_IMAGE,
} from "./lifecycle-helpers.ts";

useSuite("400-lifecycle");
useLifecycle({ stopSignalImage: true });

const A = requires("subuid", "alpine-fixture");

/** A shell loop that exits `code` on `sig` (PID 1 has no default action for TERM, so it needs a trap). */
const trapLoop = (sig: string, code: number) => `trap "echo got-${sig}; exit ${code}" ${sig}; echo ready; while :; do sleep 0.1; done`;

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** Waits until the container's log shows `text` (a trap must be set before it is signalled). */
async function untilLogged(ctr: string, text: string): Promise<void> {
  await until(`${ctr}'s log to show ${JSON.stringify(text)}`, async () => (await runPod(["logs", ctr])).stdout.includes(text));
}

describe("run -d, create, start", () => {
  A("run -d prints only the ID, returns, and leaves the container running", async () => {
    const name = safeName("c");
    track(name);
    const r = await runPod(["run", "-d", "--name", name, "alpine", "sleep", "1000"]);
    expectExit(r, 0);
    assertOutput(r.stdout, /^[0-9a-f]{64}\n$/, "stdout of run -d");
    assertOutput(r.stderr, "", "stderr of run -d (image already pulled)");
    const id = r.stdout.trim();
    const c = await inspect(name);
    expect(c.Id).toBe(id);
    expect(c.Name).toBe(name);
    expect(c.State.Status).toBe("running");
    expect(c.State.Running).toBe(true);
    expect(c.State.Pid).toBeGreaterThan(0);
    expect(alive(c.State.Pid), `the container's process ${c.State.Pid} is alive`).toBe(true);
    expect(await psStatus(name)).toMatch(/^Up /);
    // the record in storage, the live state in the runtime dir
    expect(existsSync(join(recordDir(id), "container.json")), `${recordDir(id)}/container.json`).toBe(true);
    expect(existsSync(liveDir(id)), `${liveDir(id)} while it runs`).toBe(true);
  });

  A("a monitor `pod … _monitor <id>` is the parent of the container's first process", async () => {
    const id = await runD(safeName("c"), ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(id, "{{.State.Pid}}"));
    const mon = await monitorOf(id);
    expect(parentOf(pid), `parent of the container's process ${pid}`).toBe(mon);
  });

  A("create makes a Created container with no process; start prints the name given and runs it", async () => {
    const name = safeName("c");
    const id = await create(name, ["alpine", "sleep", "1000"]);
    const c = await inspect(name);
    expect(c.Id).toBe(id);
    expect(c.State.Status).toBe("created");
    expect(c.State.Running).toBe(false);
    expect(c.State.Pid).toBe(0);
    expect(await psStatus(name)).toBe("Created");
    const ps = await runPod(["ps", "-q", "--no-trunc"]);
    expectExit(ps, 0);
    expect(lines(ps.stdout), "ps without -a lists running containers only").not.toContain(id);
    expect(monitorsOf(id), "no monitor before start").toEqual([]);

    const s = await runPod(["start", name]);
    expectExit(s, 0);
    assertOutput(s.stdout, `${name}\n`, "stdout of start");
    expect(await statusOf(name)).toBe("running");
    // by a short ID: start prints what it was given
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    const s2 = await runPod(["start", id.slice(0, 12)]);
    expectExit(s2, 0);
    assertOutput(s2.stdout, `${id.slice(0, 12)}\n`, "stdout of start SHORT-ID");
    expect(await statusOf(name)).toBe("running");
  });

  A("start on a running container changes nothing", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const pid = await inspectFmt(name, "{{.State.Pid}}");
    expectExit(await runPod(["start", name]), 0);
    expect(await inspectFmt(name, "{{.State.Pid}}"), "the same process").toBe(pid);
  });

  A("start -a prints the container's stdout and stderr and exits with its status (also when it ends at once)", async () => {
    // five times: output written right at start must not be lost to a late attach
    for (let i = 0; i < 5; i++) {
      const name = safeName("c");
      await create(name, ["alpine", "sh", "-c", `echo out-${i}; echo err-${i} >&2; exit 4`]);
      const r = await runPod(["start", "-a", name]);
      expectExit(r, 4);
      assertOutput(r.stdout, `out-${i}\n`, `stdout of start -a (round ${i})`);
      assertOutput(r.stderr, `err-${i}\n`, `stderr of start -a (round ${i})`);
    }
  });

  A("start -a with output later in the container's life", async () => {
    const name = safeName("c");
    await create(name, ["alpine", "sh", "-c", "sleep 0.3; echo late; sleep 0.2; echo later; exit 6"]);
    const r = await runPod(["start", "-a", name]);
    expectExit(r, 6);
    assertOutput(r.stdout, "late\nlater\n", "stdout of start -a");
  });

  A("run -d --rm removes the container once it exits", async () => {
    const name = safeName("c");
    const id = await runD(name, ["--rm", "alpine", "sh", "-c", "sleep 0.3"]);
    await until(`${name} to be removed`, async () => (await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout.includes(id) === false);
    await until(`${name}'s files to be removed`, () => leftoversOf(id).length === 0, 5_000).catch((e) => {
      throw new Error(`${(e as Error).message}: ${leftoversOf(id).join("; ")}`);
    });
  });

  A("run -d with a command that does not exist exits 127 and leaves a Created container", async () => {
    const name = safeName("c");
    track(name);
    const r = await runPod(["run", "-d", "--name", name, "alpine", "no-such-command-here"]);
    expectExit(r, 127);
    expect(r.stderr).toContain("no-such-command-here");
    expect(await psStatus(name)).toBe("Created");
    expectExit(await runPod(["start", name]), 127);
  });

  A("a name in use is refused (125) and the container holding it is untouched; after rm it is free", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["run", "-d", "--name", name, "alpine", "true"]);
    expectPodError(r, "already in use", name);
    assertOutput(r.stdout, "", "stdout");
    expectPodError(await runPod(["create", "--name", name, "alpine", "true"]), "already in use");
    expect(await inspectFmt(name, "{{.Id}}")).toBe(id);
    expect(await statusOf(name)).toBe("running");
    expectExit(await runPod(["rm", "-f", name]), 0);
    const id2 = await runD(name, ["alpine", "true"]);
    expect(id2).not.toBe(id);
  });

  A("every verb on a container that does not exist: 125, an Error: line naming it, nothing on stdout", async () => {
    const ghost = safeName("ghost");
    const verbs: string[][] = [
      ["start", ghost],
      ["stop", ghost],
      ["kill", ghost],
      ["restart", ghost],
      ["rm", ghost],
      ["wait", ghost],
      ["logs", ghost],
      ["attach", ghost],
      ["exec", ghost, "true"],
      ["rename", ghost, `${ghost}-2`],
      ["inspect", "--type", "container", ghost],
    ];
    for (const v of verbs) {
      const r = await runPod(v);
      expectPodError(r, ghost);
      if (v[0] !== "inspect") assertOutput(r.stdout, "", `stdout of pod ${v.join(" ")}`);
    }
    // -i: a missing container is not an error
    expectExit(await runPod(["rm", "-i", ghost]), 0);
    expectExit(await runPod(["stop", "-i", ghost]), 0);
  });

  A("rm -f of a container that does not exist is not an error (podman: exit 0)", async () => {
    const r = await runPod(["rm", "-f", safeName("ghost")]);
    expectExit(r, 0);
    assertOutput(r.stdout, "", "stdout");
  });
});

describe("exit statuses, kill, stop, restart", () => {
  A("exit 3: wait prints 3, ps -a shows Exited (3), inspect records it", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "exit 3"]);
    const w = await runPod(["wait", name]);
    expectExit(w, 0);
    assertOutput(w.stdout, "3\n", "stdout of wait");
    expect(await psStatus(name)).toMatch(/^Exited \(3\) (Less than a second|\d+ seconds?) ago$/);
    const c = await inspect(name);
    expect(c.State.Status).toBe("exited");
    expect(c.State.Running).toBe(false);
    expect(c.State.ExitCode).toBe(3);
    expect(c.State.StartedAt).toMatch(RFC3339);
    expect(c.State.FinishedAt).toMatch(RFC3339);
    expect(Date.parse(c.State.FinishedAt)).toBeGreaterThanOrEqual(Date.parse(c.State.StartedAt));
    // wait on an exited container answers at once, again
    assertOutput((await runPod(["wait", name])).stdout, "3\n", "stdout of a second wait");
  });

  A("wait blocks until the container exits, and prints one code per container in order", async () => {
    const a = safeName("a");
    const b = safeName("b");
    await runD(a, ["alpine", "sh", "-c", "sleep 1; exit 5"]);
    await runD(b, ["alpine", "sh", "-c", "exit 0"]);
    const r = await runPod(["wait", a, b]);
    expectExit(r, 0);
    assertOutput(r.stdout, "5\n0\n", "stdout of wait A B");
    expect(r.ms, "wait returned only after A's sleep 1").toBeGreaterThan(500);
  });

  A("kill sends KILL by default: 137 recorded; it prints the name; killing an exited container is an error", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const k = await runPod(["kill", name]);
    expectExit(k, 0);
    assertOutput(k.stdout, `${name}\n`, "stdout of kill");
    assertOutput((await runPod(["wait", name])).stdout, "137\n", "stdout of wait");
    expect(await psStatus(name)).toMatch(/^Exited \(137\) /);
    expect(alive(pid), "the container's process is gone").toBe(false);
    expectPodError(await runPod(["kill", name]), name);
  });

  A("kill -s USR1 reaches the container's trap; a bad signal name is refused", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", trapLoop("USR1", 10)]);
    await untilLogged(name, "ready");
    expectPodError(await runPod(["kill", "-s", "NOSUCHSIG", name]), "NOSUCHSIG");
    expect(await statusOf(name)).toBe("running");
    expectExit(await runPod(["kill", "-s", "USR1", name]), 0);
    assertOutput((await runPod(["wait", name])).stdout, "10\n", "stdout of wait");
    expect((await runPod(["logs", name])).stdout).toContain("got-USR1");
  });

  A("stop sends TERM: a shell trapping it exits promptly with 0; stop prints the name", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", trapLoop("TERM", 0)]);
    await untilLogged(name, "ready");
    const r = await runPod(["stop", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${name}\n`, "stdout of stop");
    expect(r.ms, "ms for stop with a TERM trap (the default timeout is 10 s)").toBeLessThan(5_000);
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 0");
    expect((await runPod(["logs", name])).stdout).toContain("got-TERM");
  });

  A("stop -t 1 on PID 1 ignoring TERM: KILL after about 1 s, 137 recorded", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["stop", "-t", "1", name]);
    expectExit(r, 0);
    expect(r.ms, "ms for stop -t 1").toBeGreaterThan(900);
    expect(r.ms, "ms for stop -t 1").toBeLessThan(5_000);
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 137");
    expect(await psStatus(name)).toMatch(/^Exited \(137\) /);
  });

  A("stop -t 0 kills at once", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["stop", "-t", "0", name]);
    expectExit(r, 0);
    expect(r.ms, "ms for stop -t 0").toBeLessThan(3_000);
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("137");
  });

  A("stop sends the image's StopSignal (SIGUSR1 here), not TERM", async () => {
    const name = safeName("c");
    const script = 'trap "echo got-USR1; exit 30" USR1; trap "echo got-TERM; exit 15" TERM; echo ready; while :; do sleep 0.1; done';
    await runD(name, [STOPSIG_IMAGE, "sh", "-c", script]);
    await untilLogged(name, "ready");
    const r = await runPod(["stop", "-t", "5", name]);
    expectExit(r, 0);
    expect(await inspectFmt(name, "{{.State.ExitCode}}"), "exit code: 30 from the USR1 trap (15 would be TERM, 137 KILL)").toBe("30");
    expect((await runPod(["logs", name])).stdout).toContain("got-USR1");
  });

  A("stop on an exited container is a no-op: exit 0, the name printed, the exit code kept", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "exit 2"]);
    assertOutput((await runPod(["wait", name])).stdout, "2\n", "wait");
    const r = await runPod(["stop", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${name}\n`, "stdout of stop");
    expect(await inspectFmt(name, "{{.State.Status}} {{.State.ExitCode}}")).toBe("exited 2");
  });

  A("restart runs the command again in a new process; restart of an exited container starts it", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", 'echo "run $$"; exec sleep 1000']);
    await untilLogged(name, "run 1");
    const pid1 = await inspectFmt(name, "{{.State.Pid}}");
    const r = await runPod(["restart", "-t", "0", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${name}\n`, "stdout of restart");
    expect(await statusOf(name)).toBe("running");
    const pid2 = await inspectFmt(name, "{{.State.Pid}}");
    expect(pid2, "a new process").not.toBe(pid1);
    expect(alive(Number(pid1)), "the old process is gone").toBe(false);
    await until("two runs in the log", async () => lines((await runPod(["logs", name])).stdout).filter((l) => l === "run 1").length === 2);

    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    expectExit(await runPod(["restart", name]), 0);
    expect(await statusOf(name)).toBe("running");
  });

  A("stop -a and kill -a reach every running container", async () => {
    const a = safeName("a");
    const b = safeName("b");
    await runD(a, ["alpine", "sleep", "1000"]);
    await runD(b, ["alpine", "sleep", "1000"]);
    expectExit(await runPod(["stop", "-a", "-t", "0"]), 0);
    expect(await statusOf(a)).toBe("exited");
    expect(await statusOf(b)).toBe("exited");
    expectExit(await runPod(["start", a, b]), 0);
    expectExit(await runPod(["kill", "-a"]), 0);
    assertOutput((await runPod(["wait", a, b])).stdout, "137\n137\n", "wait");
  });
});

describe("rm, rename, prune", () => {
  A("rm of a running container without -f: 125 with a hint, and it keeps running", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["rm", name]);
    expectPodError(r, "cannot remove container", "as it is running");
    expect(r.stderr, "a hint line after the error").toMatch(/\n.*(rm -f|stop)/);
    assertOutput(r.stdout, "", "stdout");
    expect(await statusOf(name)).toBe("running");
    expect(leftoversOf(id).length, "still recorded").toBeGreaterThan(0);
  });

  A("rm -f of a running container kills it and removes every trace; rm prints the full ID", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    const pid = Number(await inspectFmt(name, "{{.State.Pid}}"));
    const mon = await monitorOf(id);
    const r = await runPod(["rm", "-f", name]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${id}\n`, "stdout of rm -f");
    await until("the container's process and its monitor to end", () => !alive(pid) && !alive(mon), 5_000);
    expect(leftoversOf(id), "what rm -f left").toEqual([]);
    expect((await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout).not.toContain(id);
    expectPodError(await runPod(["inspect", "--type", "container", name]), name);
  });

  A("rm of an exited container (by name or short ID) prints its full ID and leaves nothing", async () => {
    const a = safeName("a");
    const b = safeName("b");
    const ida = await runD(a, ["alpine", "true"]);
    const idb = await runD(b, ["alpine", "true"]);
    assertOutput((await runPod(["wait", a, b])).stdout, "0\n0\n", "wait");
    const r = await runPod(["rm", a, idb.slice(0, 12)]);
    expectExit(r, 0);
    assertOutput(r.stdout, `${ida}\n${idb}\n`, "stdout of rm");
    expect([...leftoversOf(ida), ...leftoversOf(idb)]).toEqual([]);
  });

  A("rename: the new name finds the container, the old one does not; a taken or invalid name is refused", async () => {
    const old = safeName("old");
    const neu = safeName("new");
    const other = safeName("other");
    const id = await runD(old, ["alpine", "sleep", "1000"]);
    track(neu);
    await runD(other, ["alpine", "true"]);
    const r = await runPod(["rename", old, neu]);
    expectExit(r, 0);
    expect(await inspectFmt(neu, "{{.Id}} {{.Name}} {{.State.Status}}")).toBe(`${id} ${neu} running`);
    expectPodError(await runPod(["inspect", "--type", "container", old]), old);
    expectPodError(await runPod(["rename", neu, other]), "already in use");
    expectPodError(await runPod(["rename", neu, "bad/name"]), "bad/name");
    expect(await inspectFmt(id, "{{.Name}}")).toBe(neu);
    // the running container can still be reached by its new name
    expectExit(await runPod(["exec", neu, "true"]), 0);
  });

  A("container prune -f removes exited and created containers, keeps running ones, prints the IDs", async () => {
    const up = safeName("up");
    const ex = safeName("ex");
    const cr = safeName("cr");
    const idUp = await runD(up, ["alpine", "sleep", "1000"]);
    const idEx = await runD(ex, ["alpine", "true"]);
    const idCr = await create(cr, ["alpine", "true"]);
    await runPod(["wait", ex]);
    const r = await runPod(["container", "prune", "-f"]);
    expectExit(r, 0);
    expect(lines(r.stdout).sort()).toEqual([idEx, idCr].sort());
    const left = lines((await runPod(["ps", "-a", "-q", "--no-trunc"])).stdout);
    expect(left).toEqual([idUp]);
    expect([...leftoversOf(idEx), ...leftoversOf(idCr)]).toEqual([]);
    const again = await runPod(["container", "prune", "-f"]);
    expectExit(again, 0);
    assertOutput(again.stdout, "", "stdout of a second prune");
  });
});

describe("inspect and the container group", () => {
  A("inspect shows what run was given: image, command, env, workdir, user, tty, and podman's sections", async () => {
    const name = safeName("c");
    const id = await runD(name, ["-t", "-e", "FOO=bar", "-w", "/tmp", "-u", "nobody", "alpine", "sleep", "1000"]);
    const c = await inspect(name);
    expect(c.Id).toBe(id);
    expect(c.Name).toBe(name);
    expect(c.Config.Image).toBe("docker.io/library/alpine:latest");
    expect(c.Config.Cmd).toEqual(["sleep", "1000"]);
    expect(c.Config.WorkingDir).toBe("/tmp");
    expect(c.Config.User).toBe("nobody");
    expect(c.Config.Tty).toBe(true);
    expect(c.Config.Env).toContain("FOO=bar");
    expect(typeof c.State.OOMKilled).toBe("boolean");
    expect(c.State.StartedAt).toMatch(RFC3339);
    expect(typeof c.HostConfig).toBe("object");
    expect(Array.isArray(c.Mounts)).toBe(true);
    expect(c.NetworkSettings && "Ports" in c.NetworkSettings, "NetworkSettings.Ports").toBe(true);
    expect(await inspectFmt(name, "{{.State.Running}} {{.Config.Tty}}")).toBe("true true");
    const t = await runPod(["inspect", "--type", "container", "--format", "{{.Name}}", id]);
    expectExit(t, 0);
    assertOutput(t.stdout, `${name}\n`, "inspect --type container");
    expectPodError(await runPod(["inspect", "--type", "image", name]), name);
  });

  A("inspect's Config.Env holds the container's whole environment, the image's PATH included (as podman's)", async () => {
    const name = safeName("c");
    await runD(name, ["-e", "FOO=bar", "alpine", "sleep", "1000"]);
    const env = (await inspect(name)).Config.Env;
    expect(env).toContain("FOO=bar");
    expect(env.some((e) => e.startsWith("PATH=")), `a PATH= entry in ${JSON.stringify(env)}`).toBe(true);
  });

  A("pod container ls|list|ps|inspect|start|stop|kill|wait|rm act as the top-level verbs", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    for (const ls of ["ls", "list", "ps"]) {
      const r = await runPod(["container", ls, "-q", "--no-trunc"]);
      expectExit(r, 0);
      expect(lines(r.stdout), `pod container ${ls}`).toContain(id);
    }
    expect((await runPod(["container", "inspect", "--format", "{{.Id}}", name])).stdout.trim()).toBe(id);
    expectExit(await runPod(["container", "stop", "-t", "0", name]), 0);
    expect(await statusOf(name)).toBe("exited");
    expectExit(await runPod(["container", "start", name]), 0);
    expect(await statusOf(name)).toBe("running");
    expectExit(await runPod(["container", "kill", name]), 0);
    assertOutput((await runPod(["container", "wait", name])).stdout, "137\n", "container wait");
    const rm = await runPod(["container", "rm", name]);
    expectExit(rm, 0);
    assertOutput(rm.stdout, `${id}\n`, "container rm");
    expect(leftoversOf(id)).toEqual([]);
  });

  A("the container's files: a record under ~/.local/share/pod, live state under $XDG_RUNTIME_DIR/pod while it runs", async () => {
    const name = safeName("c");
    const id = await runD(name, ["alpine", "sleep", "1000"]);
    expect(id).toMatch(HEX64);
    expect(existsSync(join(recordDir(id), "container.json"))).toBe(true);
    expect(existsSync(liveDir(id))).toBe(true);
    expectExit(await runPod(["stop", "-t", "0", name]), 0);
    expect(existsSync(join(recordDir(id), "container.json")), "the record outlives the container").toBe(true);
    expectExit(await runPod(["rm", name]), 0);
    expect(leftoversOf(id)).toEqual([]);
  });
});
