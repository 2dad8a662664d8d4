// Drives the real shells' completion of a pod command line through their own
// entry points: bash calls _pod with COMP_WORDS/COMP_CWORD set, zsh gets the
// line and a TAB typed on a pty (capture.zsh), fish answers `complete -C`.
// Each returns the candidate values, in the shell's order.
import { accessSync, constants, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type ShellName = "bash" | "zsh" | "fish";
const BIN: Record<ShellName, string> = { bash: "/bin/bash", zsh: "/usr/bin/zsh", fish: "/usr/bin/fish" };

/** Why a shell cannot be driven here, or null. */
export function shellMissing(shell: ShellName): string | null {
  try {
    accessSync(BIN[shell], constants.X_OK);
    return null;
  } catch {
    return `${BIN[shell]} is not installed (apt-get install ${shell}; test/run.sh installs it as root)`;
  }
}

async function run(argv: string[], env: Record<string, string>): Promise<string> {
  const p = Bun.spawn(argv, { env, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return stdout;
}

const values = (out: string) => out.split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]!);

/**
 * bash: words as bash itself splits the line (COMP_WORDBREAKS makes `=` and
 * `:` words of their own: ["pod", "run", "--pull", "=", "al"]); the last is
 * the word being completed.
 */
export async function bashComplete(script: string, words: string[], env: Record<string, string>): Promise<string[]> {
  const body = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; _pod; printf "%s\\n" "${COMPREPLY[@]}"';
  return values(await run([BIN.bash, "--norc", "--noprofile", "-c", body, "bash", script, ...words], env));
}

/** zsh: `line` typed, then TAB, in an interactive zsh whose $fpath has dir/_pod. */
export async function zshComplete(fpathDir: string, line: string, env: Record<string, string>): Promise<string[]> {
  return values(await run([BIN.zsh, "-f", join(import.meta.dir, "capture.zsh"), line], { ...env, POD_COMPLETION_DIR: fpathDir }));
}

/** fish: what `complete -C line` offers after sourcing the script. */
export async function fishComplete(script: string, line: string, env: Record<string, string>): Promise<string[]> {
  return values(await run([BIN.fish, "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]', script, line], env));
}

/** A temp dir holding `_pod`, for zsh's $fpath. */
export function zshFpath(zshScript: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pod-zsh-"));
  writeFileSync(join(dir, "_pod"), zshScript);
  return dir;
}
