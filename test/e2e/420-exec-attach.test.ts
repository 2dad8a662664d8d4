// pod exec (joins every namespace of a running container: its processes,
// hostname and files; exit statuses; -e -w -u -i -d --privileged) and pod
// attach (output and exit status without a terminal; through tmux: typing
// into a -it container's shell, ctrl-p ctrl-q detaching, exec -it, start -ai).
// Expected outputs are podman 4.3.1's (runc, overlay) on the project's machines.
import { describe } from "bun:test";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, assertOutput, lines, safeName, POD } from "./helpers.ts";
import { useLifecycle, runD, create, inspectFmt, statusOf, psStatus, until, untilStatus } from "./lifecycle-helpers.ts";
import { findByArgv, killByArgv, uniqueSeconds } from "../fixtures/live.ts";
import { Tmux } from "./tty.ts";

useSuite("420-exec-attach");
useLifecycle();

const A = requires("subuid", "alpine-fixture");
const T = requires("subuid", "alpine-fixture", "tmux");

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** The container shell's prompt (Alpine's sh as root in /), as tmux shows it: trailing blanks cut. */
const PROMPT = "/ #";

/** A tmux pane with the suite's environment; killed (by its socket) when fn ends. */
async function inTmux(fn: (t: Tmux) => Promise<void>): Promise<void> {
  const t = await Tmux.start({ env: { ...pod().env, TERM: "screen" }, width: 100, height: 30 });
  try {
    await fn(t);
  } finally {
    await t.kill();
  }
}

/** Waits for `marker=N` typed by the pane's shell after a pod command; returns N. */
async function exitShown(t: Tmux, marker: string, timeoutMs = 15_000): Promise<number> {
  const re = new RegExp(`${marker}=(\\d+)`);
  const s = await t.waitFor(re, timeoutMs, `${marker}=<status>`);
  return Number(re.exec(s)![1]);
}

describe("pod exec", () => {
  A("sees the container's processes: PID 1 is the container's command", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["exec", name, "cat", "/proc/1/cmdline"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "sleep\u00001000\u0000", "/proc/1/cmdline seen by exec");
    const ps = await runPod(["exec", name, "ps", "-o", "pid,args"]);
    expectExit(ps, 0);
    expect(lines(ps.stdout).map((l) => l.trim().replace(/\s+/g, " "))).toContain("1 sleep 1000");
  });

  A("joins every namespace of the container's first process (pid, mnt, uts, ipc, user, net, cgroup)", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const script = 'for n in pid mnt uts ipc user net cgroup; do echo "$n $(readlink /proc/1/ns/$n) $(readlink /proc/self/ns/$n)"; done';
    const r = await runPod(["exec", name, "sh", "-c", script]);
    expectExit(r, 0);
    for (const l of lines(r.stdout)) {
      const [ns, of1, ofSelf] = l.split(" ");
      expect(of1, `${ns}: PID 1's namespace is readable`).toMatch(/^\w+:\[\d+\]$/);
      expect(ofSelf, `${ns} namespace of exec vs PID 1`).toBe(of1);
    }
    expect(lines(r.stdout).length).toBe(7);
  });

  A("sees the container's hostname and files, and the container sees what exec writes", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "hostname > /tmp/from-ctr; while [ ! -e /tmp/from-exec ]; do sleep 0.05; done; cat /tmp/from-exec; sleep 1000"]);
    const host = await inspectFmt(name, "{{.Config.Hostname}}");
    const h = await runPod(["exec", name, "hostname"]);
    expectExit(h, 0);
    assertOutput(h.stdout, `${host}\n`, "hostname in exec");
    await until("the container to write /tmp/from-ctr", async () => (await runPod(["exec", name, "cat", "/tmp/from-ctr"])).stdout === `${host}\n`);
    expectExit(await runPod(["exec", name, "sh", "-c", "echo written-by-exec > /tmp/from-exec"]), 0);
    await until("the container to read /tmp/from-exec", async () => (await runPod(["logs", name])).stdout.includes("written-by-exec"));
  });

  A("passes the command's exit status: N, 127 when not found, 126 when not executable", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    expect((await runPod(["exec", name, "sh", "-c", "exit 9"])).code).toBe(9);
    expect((await runPod(["exec", name, "false"])).code).toBe(1);
    expectExit(await runPod(["exec", name, "true"]), 0);
    const nf = await runPod(["exec", name, "no-such-command-here"]);
    expectExit(nf, 127);
    expect(nf.stderr).toContain("no-such-command-here");
    const nx = await runPod(["exec", name, "/etc/hostname"]);
    expectExit(nx, 126);
    expect(nx.stderr).toContain("/etc/hostname");
    // a failing exec does not harm the container
    expect(await statusOf(name)).toBe("running");
  });

  A("keeps stdout and stderr apart", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const r = await runPod(["exec", name, "sh", "-c", "echo to-out; echo to-err >&2"]);
    expectExit(r, 0);
    assertOutput(r.stdout, "to-out\n", "stdout");
    assertOutput(r.stderr, "to-err\n", "stderr");
  });

  A("-e, -w and -u set the environment, directory and user; by default root with the image's environment", async () => {
    const name = safeName("c");
    await runD(name, ["-e", "FROM_RUN=yes", "alpine", "sleep", "1000"]);
    const d = await runPod(["exec", name, "sh", "-c", 'echo "$(id -u) $(pwd) $FROM_RUN $PATH"']);
    expectExit(d, 0);
    assertOutput(d.stdout, "0 / yes /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n", "defaults");
    const r = await runPod(["exec", "-e", "K=V", "-e", "FROM_RUN=overridden", "-w", "/tmp", "-u", "nobody", name, "sh", "-c", 'echo "$K $FROM_RUN $(pwd) $(id -u):$(id -g)"']);
    expectExit(r, 0);
    assertOutput(r.stdout, "V overridden /tmp 65534:65534\n", "with -e -w -u");
    const num = await runPod(["exec", "-u", "1234:5678", name, "sh", "-c", 'echo "$(id -u):$(id -g)"']);
    assertOutput(num.stdout, "1234:5678\n", "-u UID:GID");
  });

  A("-i passes stdin; without -i the command gets none", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const i = await runPod(["exec", "-i", name, "sh", "-c", "tr a-z A-Z"], { input: "hello stdin\n" });
    expectExit(i, 0);
    assertOutput(i.stdout, "HELLO STDIN\n", "exec -i");
    const n = await runPod(["exec", name, "cat"], { input: "ignored\n", timeoutMs: 10_000 });
    expectExit(n, 0);
    assertOutput(n.stdout, "", "exec without -i");
  });

  A("-d returns at once with an exec session ID, inspect lists it while it runs, and the command runs on", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    // The command waits for /tmp/go, which only appears after exec -d returned: an exec -d that waited would hang here.
    const r = await runPod(["exec", "-d", name, "sh", "-c", "until [ -e /tmp/go ]; do sleep 0.1; done; echo bg-done > /tmp/bg"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
    const session = r.stdout.trim();
    expect(await inspectFmt(name, "{{json .ExecIDs}}")).toContain(session);
    expectExit(await runPod(["exec", name, "touch", "/tmp/go"]), 0);
    await until("the background exec to write /tmp/bg", async () => (await runPod(["exec", name, "cat", "/tmp/bg"])).stdout === "bg-done\n");
    await until("the ended session to leave ExecIDs", async () => !(await inspectFmt(name, "{{json .ExecIDs}}")).includes(session));
  });

  A("--privileged gives the exec'd process every capability; by default it has the container's", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const caps = async (args: string[]) => {
      const r = await runPod(["exec", ...args, name, "sh", "-c", "grep ^CapEff /proc/self/status | cut -f2"]);
      expectExit(r, 0);
      return r.stdout.trim();
    };
    const pid1 = (await runPod(["exec", name, "sh", "-c", "grep ^CapEff /proc/1/status | cut -f2"])).stdout.trim();
    expect(await caps([])).toBe(pid1);
    const priv = await caps(["--privileged"]);
    expect(priv).not.toBe(pid1);
    // every bit of the kernel's capability set: 0x1ff…f
    expect(BigInt(`0x${priv}`) & BigInt(`0x${pid1}`), "the default set is a subset").toBe(BigInt(`0x${pid1}`));
    expect(priv).toMatch(/^0*1f+$/);
  });

  A("an exec'd process ends when the container stops", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    const marker = ["sleep", uniqueSeconds()];
    try {
      expectExit(await runPod(["exec", "-d", name, ...marker]), 0);
      const pid = await findByArgv(marker);
      expect(pid).toBeGreaterThan(0);
      expectExit(await runPod(["stop", "-t", "0", name]), 0);
      await until("the exec'd process to end with the container", async () => {
        try {
          await findByArgv(marker, 0);
          return false;
        } catch {
          return true;
        }
      }, 10_000);
    } finally {
      killByArgv(marker);
    }
  });

  A("exec into a container that is not running: 125 with a hint (exited, created)", async () => {
    const ex = safeName("ex");
    const cr = safeName("cr");
    await runD(ex, ["alpine", "true"]);
    expectExit(await runPod(["wait", ex]), 0);
    await create(cr, ["alpine", "sleep", "1000"]);
    for (const n of [ex, cr]) {
      const r = await runPod(["exec", n, "true"]);
      expectPodError(r, n);
      assertOutput(r.stdout, "", "stdout");
    }
  });
});

describe("pod attach without a terminal", () => {
  A("streams the container's stdout and stderr and exits with its status", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sh", "-c", "sleep 0.7; echo one; echo two >&2; sleep 0.3; exit 4"]);
    const r = await runPod(["attach", "--no-stdin", name], { timeoutMs: 20_000 });
    expectExit(r, 4);
    assertOutput(r.stdout, "one\n", "stdout of attach");
    assertOutput(r.stderr, "two\n", "stderr of attach");
    expect(await psStatus(name)).toMatch(/^Exited \(4\) /);
  });

  A("passes stdin to a container run with -i", async () => {
    const name = safeName("c");
    await runD(name, ["-i", "alpine", "sh", "-c", 'read line; echo "got:$line"; exit 6']);
    const r = await runPod(["attach", name], { input: "hello-in\n", timeoutMs: 20_000 });
    expectExit(r, 6);
    assertOutput(r.stdout, "got:hello-in\n", "stdout of attach");
  });

  A("attach to a container that is not running: 125 with a hint", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "true"]);
    expectExit(await runPod(["wait", name]), 0);
    const r = await runPod(["attach", name]);
    expectPodError(r, name);
    assertOutput(r.stdout, "", "stdout");
  });
});

describe("through a terminal (tmux)", () => {
  T("attach to run -dit sh: typed commands run, ctrl-p ctrl-q detaches with 0 and the container runs on", async () => {
    const name = safeName("c");
    await runD(name, ["-it", "alpine", "sh"]);
    await inTmux(async (t) => {
      await t.type(`${shq(POD)} attach ${name}; echo "attach-rc=$?"`);
      await t.type("echo hi-$((6*7))");
      await t.waitFor("hi-42");
      await t.keys("C-p", "C-q");
      expect(await exitShown(t, "attach-rc")).toBe(0);
      // the host terminal is itself again
      const flags = await t.termFlags();
      for (const f of ["echo", "icanon", "isig"]) expect(flags, `host terminal flags: ${flags.join(" ")}`).toContain(f);
    });
    expect(await statusOf(name)).toBe("running");
    // what was typed before the detach happened in the container
    expect((await runPod(["logs", name])).stdout).toContain("hi-42");
  });

  T("a second attach continues the same shell; exit 7 ends it and attach exits 7", async () => {
    const name = safeName("c");
    await runD(name, ["-it", "alpine", "sh"]);
    await inTmux(async (t) => {
      await t.type(`${shq(POD)} attach ${name}; echo "first-rc=$?"`);
      // wait for the shell's answer: keys sent before attach made the terminal raw would be the host tty's (^Q is XON)
      await t.type("MARK=kept-$((2+3)); echo set-$MARK");
      await t.waitFor("set-kept-5");
      await t.keys("C-p", "C-q");
      expect(await exitShown(t, "first-rc")).toBe(0);
      await t.type(`${shq(POD)} attach ${name}; echo "second-rc=$?"`);
      await t.type('echo "mark=$MARK"');
      await t.waitFor("mark=kept-5");
      await t.type("exit 7");
      expect(await exitShown(t, "second-rc")).toBe(7);
    });
    await untilStatus(name, "exited");
    expect(await psStatus(name)).toMatch(/^Exited \(7\) /);
  });

  T("--detach-keys picks another sequence", async () => {
    const name = safeName("c");
    await runD(name, ["-it", "alpine", "sh"]);
    await inTmux(async (t) => {
      await t.type(`${shq(POD)} attach --detach-keys ctrl-x ${name}; echo "attach-rc=$?"`);
      await t.type("echo ok-$((40+2))");
      await t.waitFor("ok-42");
      await t.keys("C-x");
      expect(await exitShown(t, "attach-rc")).toBe(0);
    });
    expect(await statusOf(name)).toBe("running");
  });

  T("exec -it: a shell on a terminal of its own; exit 5 is exec's status and the container runs on", async () => {
    const name = safeName("c");
    await runD(name, ["alpine", "sleep", "1000"]);
    await inTmux(async (t) => {
      await t.type(`${shq(POD)} exec -it ${name} sh; echo "exec-rc=$?"`);
      await t.waitFor((s) => s.trimEnd().endsWith(PROMPT), 15_000, `the container's prompt "${PROMPT}"`);
      await t.type("tty; echo pid1=$(cat /proc/1/comm)");
      const s = await t.waitFor(/\/dev\/pts\/\d+\s[\s\S]*pid1=sleep/, 10_000, "tty's answer and PID 1");
      expect(s).toMatch(/^\/dev\/pts\/\d+$/m);
      await t.type("exit 5");
      expect(await exitShown(t, "exec-rc")).toBe(5);
    });
    expect(await statusOf(name)).toBe("running");
  });

  T("start -ai on a created -it container gives its shell; exit 3 is start's status", async () => {
    const name = safeName("c");
    await create(name, ["-it", "alpine", "sh"]);
    await inTmux(async (t) => {
      await t.type(`${shq(POD)} start -ai ${name}; echo "start-rc=$?"`);
      await t.type("echo hi-$((6*7))");
      await t.waitFor("hi-42");
      await t.type("exit 3");
      expect(await exitShown(t, "start-rc")).toBe(3);
    });
    await untilStatus(name, "exited");
    expect(await inspectFmt(name, "{{.State.ExitCode}}")).toBe("3");
  });
});
