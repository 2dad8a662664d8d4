// pod run -it through a real terminal: tmux (a private server on its own
// socket, one 100x30 pane running /bin/sh with the suite's environment).
// The shell in the container is typed at; its exit status, window-size
// changes, ^C and the host terminal's state afterwards are checked.
import { afterAll, beforeAll, describe } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, missing, onSuiteEnd, POD, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { makeTempDir, removeDir, sleep } from "../fixtures/proc.ts";
import { Tmux } from "./tty.ts";

useSuite("120-run-tty");

const T = requires("subuid", "alpine-fixture", "tmux");
const W = 100;
const H = 30;
/** The container shell's prompt (Alpine's /bin/sh as root in /), as tmux shows it: trailing blanks cut. */
const PROMPT = "/ #";

let reg: Registry;
let files: string;

beforeAll(async () => {
  files = makeTempDir("pod-tty-files");
  onSuiteEnd(() => removeDir(files));
  if (missing("alpine-fixture")) return;
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "alpine");
  expectExit(await runPod(["pull", "-q", "alpine"]), 0);
}, SETUP_TIMEOUT);

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** How many times the pane shows `s`. */
const count = (screen: string, s: string) => screen.split(s).length - 1;

/** Waits until a file the pane's shell writes holds a line matching `done`, and returns its content. */
async function fileContent(path: string, done = /\n$/, timeoutMs = 15_000): Promise<string> {
  const end = performance.now() + timeoutMs;
  let s = "";
  while (performance.now() < end) {
    s = existsSync(path) ? readFileSync(path, "utf8") : "";
    if (done.test(s)) return s;
    await sleep(50);
  }
  throw new Error(`${path} was not complete within ${timeoutMs} ms: ${JSON.stringify(s)}`);
}

/** The pane's environment: the suite's, in a terminal that says what it is. */
const paneEnv = () => ({ ...pod().env, TERM: "screen" });

describe("pod run -it in a terminal", () => {
  let session: Tmux | undefined;
  const tmux = (): Tmux => {
    if (!session) throw new Error("no tmux session: the first step failed");
    return session;
  };
  const rcFile = () => join(files, "rc");
  const sttyFile = () => join(files, "stty-after");

  afterAll(async () => {
    await session?.kill();
  });

  // The steps share one session, in order: each test continues where the last stopped.
  T("starts a shell in the container and shows its prompt", async () => {
    session = await Tmux.start({ env: paneEnv(), width: W, height: H });
    expect(await tmux().size()).toEqual({ width: W, height: H });
    await tmux().type(`${shq(POD)} run --rm -it alpine sh; echo "rc=$?" > ${shq(rcFile())}; stty -a > ${shq(sttyFile())}`);
    await tmux().waitFor((s) => s.trimEnd().endsWith(PROMPT), 30_000, `the container's prompt "${PROMPT}"`);
  });

  T("while it runs, the host terminal is raw: no echo, no line editing, no signals from keys", async () => {
    const flags = await tmux().termFlags();
    for (const f of ["-echo", "-icanon", "-isig"]) expect(flags, `host terminal flags: ${flags.join(" ")}`).toContain(f);
  });

  T("while it runs, the host terminal does no output processing either (-opost, as podman's raw mode)", async () => {
    const flags = await tmux().termFlags();
    expect(flags, `host terminal flags: ${flags.join(" ")}`).toContain("-opost");
  });

  T("runs what is typed and shows its output", async () => {
    await tmux().type("echo hi-$((6*7))");
    await tmux().waitFor("hi-42");
  });

  T("the terminal is a pty with TERM=xterm, and the shell is PID 1 with id 0", async () => {
    await tmux().type('echo "tty=$(tty) term=$TERM pid=$$ uid=$(id -u)"');
    await tmux().waitFor("tty=/dev/pts/0 term=xterm pid=1 uid=0");
  });

  T("stty size shows the window size", async () => {
    await tmux().type('echo "size=$(stty size)"');
    await tmux().waitFor(`size=${H} ${W}`);
  });

  T("a resized window reaches the container (SIGWINCH forwarded)", async () => {
    await tmux().resize(120, 40);
    expect(await tmux().size()).toEqual({ width: 120, height: 40 });
    await sleep(300);
    await tmux().type('echo "size=$(stty size)"');
    await tmux().waitFor("size=40 120");
    await tmux().resize(90, 25);
    await sleep(300);
    await tmux().type('echo "size=$(stty size)"');
    await tmux().waitFor("size=25 90");
  });

  T("^C interrupts the foreground command, and the shell lives on", async () => {
    const before = count(await tmux().screen(), PROMPT);
    await tmux().type("sleep 100");
    await sleep(500);
    await tmux().keys("C-c");
    // the line typed at the last prompt is "/ # sleep 100"; ^C brings a new, empty prompt
    await tmux().waitFor((s) => count(s, PROMPT) > before && s.trimEnd().endsWith(PROMPT), 5_000, "a new prompt after ^C");
    await tmux().type("echo alive-$((1+2))");
    await tmux().waitFor("alive-3", 5_000);
  });

  T("`exit 3` ends pod run with status 3", async () => {
    await tmux().type("exit 3");
    expect(await fileContent(rcFile(), /\n$/, 30_000)).toBe("rc=3\n");
  });

  T("the host terminal is restored: echo and icanon on again", async () => {
    const flags = (await fileContent(sttyFile())).split(/[\s;]+/);
    expect(flags).toContain("echo");
    expect(flags).toContain("icanon");
    expect(flags).toContain("isig");
    expect(flags).not.toContain("-echo");
    expect(flags).not.toContain("-icanon");
    expect(flags).not.toContain("-opost");
    // and the host shell answers as before
    await tmux().type("echo host-$((5*5))");
    await tmux().waitFor("host-25");
  });
});

describe("exit statuses through a terminal, run after run", () => {
  let session: Tmux | undefined;

  afterAll(async () => {
    await session?.kill();
  });

  T("eight `pod run --rm -it` in a row each return their command's status", async () => {
    session = await Tmux.start({ env: paneEnv(), width: W, height: H });
    const outFile = join(files, "many-rc");
    await session.type(`for i in 1 2 3 4 5 6 7 8; do ${shq(POD)} run --rm -it alpine sh -c "exit $i"; echo "rc=$?" >> ${shq(outFile)}; done; echo end >> ${shq(outFile)}`);
    expect(await fileContent(outFile, /end\n$/, 60_000)).toBe("rc=1\nrc=2\nrc=3\nrc=4\nrc=5\nrc=6\nrc=7\nrc=8\nend\n");
  });
});

describe("pod run from a terminal, without -t", () => {
  let session: Tmux | undefined;
  const tmux = (): Tmux => {
    if (!session) throw new Error("no tmux session: the first step failed");
    return session;
  };

  afterAll(async () => {
    await session?.kill();
  });

  T("the container gets no terminal even when pod's stdin is one", async () => {
    session = await Tmux.start({ env: paneEnv(), width: W, height: H });
    const outFile = join(files, "no-tty");
    const script = "tty; if (: </dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi";
    await tmux().type(`${shq(POD)} run --rm alpine sh -c ${shq(script)} > ${shq(outFile)} 2>&1; echo "rc=$?" >> ${shq(outFile)}`);
    // tty exits 1, but the last command's status is what sh -c returns
    expect(await fileContent(outFile, /rc=\d+\n$/, 30_000)).toBe("not a tty\nno-ctty\nrc=0\n");
  });

  T("-t without -i gives a terminal too", async () => {
    await tmux().type(`${shq(POD)} run --rm -t alpine sh -c 'echo "tty=$(tty) size=$(stty size)"'`);
    await tmux().waitFor(`tty=/dev/pts/0 size=${H} ${W}`, 30_000);
  });
});
