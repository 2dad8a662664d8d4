// Rules over the whole command tree (podman's shell_completion_test.go and its
// help checks): every visible command explains itself with an example, every
// positional has a completion source, every flag that takes a value has a
// value hint; and the committed completions/ files match what the tree
// generates today.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { PodArgDef, PodCommand } from "../../../cmd/_args.ts";
import { commands } from "../../../cmd/_tree.ts";
import { treeSpecs } from "../../../cmd/completion.ts";
import { HEADER, isVisible, positionalValues, renderScript, SHELLS } from "../../../pkg/completion/index.ts";

const REPO = join(import.meta.dir, "..", "..", "..");
const FILES = { bash: "pod.bash", zsh: "_pod", fish: "pod.fish" } as const;

type Node = { path: string[]; cmd: PodCommand };

async function visibleCommands(): Promise<Node[]> {
  const out: Node[] = [];
  const visit = async (path: string[], subs: Record<string, unknown>) => {
    for (const [name, entry] of Object.entries(subs)) {
      const cmd = (typeof entry === "function" ? await (entry as () => Promise<PodCommand>)() : entry) as PodCommand;
      if (!isVisible(name, cmd)) continue;
      out.push({ path: [...path, name], cmd });
      if (cmd.subCommands) await visit([...path, name], cmd.subCommands as Record<string, unknown>);
    }
  };
  await visit([], commands);
  return out;
}

const nodes = await visibleCommands();
const specs = await treeSpecs();
const argsOf = (cmd: PodCommand) => Object.entries((cmd.args ?? {}) as Record<string, PodArgDef>);

describe("every visible command", () => {
  test("the tree has the commands this issue adds", () => {
    const names = nodes.map((n) => n.path.join(" "));
    for (const c of ["completion", "doctor", "info", "version", "system df", "system prune", "system info"]) expect(names).toContain(c);
  });

  test("has a one-line description and at least one example", () => {
    const bad = nodes.filter(({ cmd }) => {
      const d = (cmd.meta as { description?: string } | undefined)?.description ?? "";
      return !d || d.includes("\n") || !cmd.examples?.length;
    });
    expect(bad.map((n) => n.path.join(" "))).toEqual([]);
  });

  test("every positional has a completion source", () => {
    const bad = nodes.flatMap(({ path, cmd }) => {
      const args = Object.fromEntries(argsOf(cmd));
      const names = argsOf(cmd).filter(([, d]) => d.type === "positional").map(([n]) => n);
      return positionalValues(path, args).flatMap((v, i) => (v ? [] : [`${path.join(" ")} ${names[i]!.toUpperCase()}`]));
    });
    expect(bad).toEqual([]);
  });

  test("every flag that takes a value has a value hint or a fixed set of values", () => {
    const bad = nodes.flatMap(({ path, cmd }) =>
      argsOf(cmd)
        .filter(([, d]) => d.type !== "positional" && d.type !== "boolean" && !d.hidden)
        .filter(([, d]) => !(d as { valueHint?: string }).valueHint && !(d as { options?: string[] }).options?.length)
        .map(([n]) => `${path.join(" ")} --${n}`),
    );
    expect(bad).toEqual([]);
  });
});

describe("completions/", () => {
  for (const shell of SHELLS) {
    test(`${FILES[shell]} is what \`pod completion ${shell}\` prints (else: bun run completions)`, () => {
      const committed = readFileSync(join(REPO, "completions", FILES[shell]), "utf8");
      const fresh = renderScript(shell, specs);
      if (committed !== fresh) throw new Error(`completions/${FILES[shell]} is out of date with the command tree: run \`bun run completions\` and commit the result`);
    });
    test(`${FILES[shell]} says it is generated`, () => {
      const top = readFileSync(join(REPO, "completions", FILES[shell]), "utf8").split("\n").slice(0, 2);
      expect(top.some((l) => l === `# ${HEADER}`)).toBe(true);
    });
  }

  test("the scripts call the pod that was typed, never a fixed path", () => {
    const bash = renderScript("bash", specs);
    expect(bash).toContain('local pod=${words[0]}');
    expect(renderScript("zsh", specs)).toContain("local pod=${words[1]}");
    expect(renderScript("fish", specs)).toContain(`__pod_dynamic $words[1] "$cur"`);
    for (const s of SHELLS) {
      const calls = renderScript(s, specs).split("\n").filter((l) => l.includes(" __complete "));
      expect(calls.length).toBeGreaterThan(0);
      for (const l of calls) expect(l).toMatch(/\$pod __complete|"\$pod" __complete/);
    }
  });

  test("--no-desc: no descriptions in the tables, and the engine asks __completeNoDesc", () => {
    for (const s of SHELLS) {
      const script = renderScript(s, specs, { descriptions: false });
      expect(script).not.toContain("Stop and remove running containers");
      expect(script).not.toMatch(/ __complete --/);
      expect(script).toMatch(/ __completeNoDesc --/);
    }
    expect(renderScript("zsh", specs, { descriptions: false })).toContain("'--force'");
    expect(renderScript("fish", specs, { descriptions: false })).toContain("'--force'");
  });
});
