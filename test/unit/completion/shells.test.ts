// The committed scripts in real bash, zsh and fish: commands, flags and fixed
// values, which never start pod. (Live image and container names need a
// built pod and a store: test/e2e/200-completion.test.ts.)
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bashComplete, fishComplete, shellMissing, zshComplete, zshFpath, type ShellName } from "./_shells.ts";

const COMPLETIONS = join(import.meta.dir, "..", "..", "..", "completions");
const home = mkdtempSync(join(tmpdir(), "pod-shells-"));
const files = join(home, "files");
mkdirSync(files);
writeFileSync(join(files, "first.env"), "A=1\n");
const zdir = zshFpath(await Bun.file(join(COMPLETIONS, "_pod")).text());
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(zdir, { recursive: true, force: true });
});

const env = { PATH: "/usr/bin:/bin", HOME: home, TERM: "xterm", LANG: "C.UTF-8" };

/** The typed line, and bash's view of it (split at = and :, as COMP_WORDBREAKS does). */
type Case = { line: string; want: string[]; exact?: boolean; bashWords?: string[]; bashWant?: string[]; fishWant?: string[] };

const cases: Case[] = [
  { line: "pod ima", want: ["images", "image"] },
  { line: "pod image ", want: ["ls", "inspect", "pull", "rm", "tag"] },
  { line: "pod help sys", want: ["system"], exact: true },
  { line: "pod images --fo", want: ["--format"], exact: true },
  { line: "pod images --format ", want: ["json", "table"], exact: true },
  { line: "pod run --pull ", want: ["always", "missing", "never", "newer"], exact: true },
  { line: "pod run --pull=ne", want: ["--pull=never", "--pull=newer"], exact: true, bashWords: ["pod", "run", "--pull", "=", "ne"], bashWant: ["never", "newer"] },
  { line: "pod --log-level ", want: ["debug", "info", "warn", "error"], exact: true },
  { line: "pod run --network ", want: ["pasta", "slirp4netns", "private", "host", "none"], exact: true },
  { line: "pod kill --signal SIGTE", want: ["SIGTERM"], exact: true },
  { line: "pod run --cap-add CAP_NET_B", want: ["CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST"], exact: true },
  { line: "pod completion ", want: ["bash", "zsh", "fish"], exact: true },
  { line: "pod system ", want: ["check", "df", "events", "info", "prune", "reset"], exact: true },
  { line: "pod rmi --", want: ["--all", "--force", "--ignore", "--help"] },
  { line: `pod run --env-file ${files}/fi`, want: [`${files}/first.env`], exact: true, fishWant: [`${files}/first.env`] },
];

const sorted = (a: string[]) => [...a].sort();

function check(shell: ShellName, got: string[], c: Case): void {
  let want = shell === "bash" ? (c.bashWant ?? c.want) : shell === "fish" ? (c.fishWant ?? c.want) : c.want;
  // zsh's file completion offers the part after the last slash (the directory is its prefix)
  if (shell === "zsh" && c.line.includes(files)) want = want.map((w) => w.slice(w.lastIndexOf("/") + 1));
  if (c.exact) expect(sorted([...new Set(got)]), `${shell}: ${c.line}`).toEqual(sorted(want));
  else for (const w of want) expect(got, `${shell}: ${c.line}`).toContain(w);
}

for (const shell of ["bash", "zsh", "fish"] as ShellName[]) {
  const why = shellMissing(shell);
  describe(`${shell} completes pod`, () => {
    for (const c of cases) {
      if (why) {
        test.skip(`${c.line}<TAB> (skipped: ${why})`, () => {});
        continue;
      }
      test(`${c.line}<TAB>`, async () => {
        let got: string[];
        if (shell === "bash") got = await bashComplete(join(COMPLETIONS, "pod.bash"), c.bashWords ?? (c.line.endsWith(" ") ? [...c.line.trim().split(/\s+/), ""] : c.line.split(/\s+/)), env);
        else if (shell === "zsh") got = await zshComplete(zdir, c.line, env);
        else got = await fishComplete(join(COMPLETIONS, "pod.fish"), c.line, env);
        check(shell, got, c);
      }, 30_000);
    }
  });
}
