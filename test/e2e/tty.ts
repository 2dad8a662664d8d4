// A tmux driver for terminal tests: a private tmux server (its own socket,
// no user config, no status line) holding one pane of a fixed size that runs
// /bin/sh with exactly the environment given. Tests type into the pane, read
// the screen, resize it, and kill the server by its socket at the end.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, removeDir, sleep } from "../fixtures/proc.ts";
import { descendants } from "../fixtures/live.ts";

const TMUX = "/usr/bin/tmux";
const SESSION = "pod";

export type TmuxOptions = {
  width?: number;
  height?: number;
  /** the pane shell's whole environment (TERM defaults to xterm) */
  env: Record<string, string>;
  /** the host shell's prompt; must not appear in what the test types */
  prompt?: string;
};

export class Tmux {
  readonly dir: string;
  readonly socket: string;
  readonly prompt: string;
  private alive = false;

  private constructor(dir: string, prompt: string) {
    this.dir = dir;
    this.socket = join(dir, "sock");
    this.prompt = prompt;
  }

  /** Starts the server and a pane running /bin/sh, and waits for its first prompt. */
  static async start(o: TmuxOptions): Promise<Tmux> {
    const t = new Tmux(makeTempDir("pod-tmux"), o.prompt ?? "host-prompt$ ");
    const conf = join(t.dir, "tmux.conf");
    writeFileSync(conf, "set -g status off\nset -g history-limit 5000\nset -g remain-on-exit on\n");
    const env = { TERM: "xterm", ...o.env, PS1: t.prompt };
    // with more than one argument tmux runs the command itself, without a shell to quote for
    const shell = ["/usr/bin/env", "-i", ...Object.entries(env).map(([k, v]) => `${k}=${v}`), "/bin/sh"];
    await t.tmux(["-f", conf, "new-session", "-d", "-s", SESSION, "-x", String(o.width ?? 100), "-y", String(o.height ?? 30), ...shell]);
    t.alive = true;
    await t.waitFor((s) => s.includes(t.prompt.trimEnd()), 10_000, "the host shell's prompt");
    return t;
  }

  private async tmux(args: string[]): Promise<string> {
    const p = Bun.spawn([TMUX, "-S", this.socket, ...args], {
      env: { PATH: "/usr/bin:/bin", TERM: "xterm", LANG: "C.UTF-8" },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`tmux ${args.join(" ")} exited ${code}: ${err.trim()}`);
    return out;
  }

  /** Types text literally (no key names), then Enter unless enter is false. */
  async type(text: string, enter = true): Promise<void> {
    await this.tmux(["send-keys", "-t", SESSION, "-l", text]);
    if (enter) await this.tmux(["send-keys", "-t", SESSION, "Enter"]);
  }

  /** Sends tmux key names: "C-c", "C-d", "Enter". */
  async keys(...names: string[]): Promise<void> {
    await this.tmux(["send-keys", "-t", SESSION, ...names]);
  }

  /** The pane's text, history included, wrapped lines joined. */
  async screen(): Promise<string> {
    return await this.tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", SESSION]);
  }

  /** Waits until the screen satisfies `want` (a substring, a RegExp or a predicate); throws with the screen otherwise. */
  async waitFor(want: string | RegExp | ((screen: string) => boolean), timeoutMs = 15_000, what?: string): Promise<string> {
    const test = typeof want === "function" ? want : typeof want === "string" ? (s: string) => s.includes(want) : (s: string) => want.test(s);
    const end = performance.now() + timeoutMs;
    let s = "";
    for (;;) {
      s = await this.screen();
      if (test(s)) return s;
      if (performance.now() > end) {
        throw new Error(`the terminal did not show ${what ?? String(want)} within ${timeoutMs} ms; the pane:\n${s.replace(/\n+$/, "").split("\n").map((l) => `  | ${l}`).join("\n")}`);
      }
      await sleep(50);
    }
  }

  /** Resizes the window (and so the pane; the pane's foreground process gets SIGWINCH). */
  async resize(width: number, height: number): Promise<void> {
    await this.tmux(["resize-window", "-t", SESSION, "-x", String(width), "-y", String(height)]);
  }

  /** The pane's terminal device (/dev/pts/N), as the processes in it see it. */
  async paneTty(): Promise<string> {
    return (await this.tmux(["display-message", "-p", "-t", SESSION, "#{pane_tty}"])).trim();
  }

  /** The pane terminal's settings right now, as `stty -a` words ("echo", "-icanon", …). */
  async termFlags(): Promise<string[]> {
    const p = Bun.spawn(["/bin/stty", "-a", "-F", await this.paneTty()], { env: { PATH: "/usr/bin:/bin" }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`stty -a -F ${await this.paneTty()} exited ${code}: ${err.trim()}`);
    return out.split(/[\s;]+/).filter(Boolean);
  }

  async size(): Promise<{ width: number; height: number }> {
    const [w, h] = (await this.tmux(["display-message", "-p", "-t", SESSION, "#{pane_width} #{pane_height}"])).trim().split(" ").map(Number);
    return { width: w!, height: h! };
  }

  /**
   * Kills what still runs in the pane (a test that failed half-way leaves pod
   * there), then the server by its socket (never by name), and removes the temp dir.
   */
  async kill(): Promise<void> {
    if (this.alive) {
      this.alive = false;
      const panePid = Number((await this.tmux(["display-message", "-p", "-t", SESSION, "#{pane_pid}"]).catch(() => "")).trim());
      if (panePid > 0) {
        for (const pid of descendants(panePid).reverse()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            // gone already, or a container process under a subordinate id: it dies with its PID 1
          }
        }
      }
      try {
        await this.tmux(["kill-server"]);
      } catch (e) {
        // "no server running" when the pane's shell already ended it
        if (!/no server running|error connecting/i.test((e as Error).message)) throw e;
      }
    }
    removeDir(this.dir);
  }
}
