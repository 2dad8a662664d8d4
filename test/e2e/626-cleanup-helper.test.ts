// A cleanup helper written the way podman's own test helpers write theirs
// (test/system/helpers.bash: basic_setup and basic_teardown, podman 4.x),
// with `pod` in podman's place, against a store holding running, exited and
// created containers, named and anonymous volumes, a user network and an
// image under two names. Every step exits 0 and prints what podman prints;
// run again on the emptied store, every step exits 0 and prints nothing.
// podman's teardown also runs `pod rm -t 0 --all --force --ignore` (its
// pods): pod has no pods yet, so that line is left out here.
import { describe } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, sh, expect, assertOutput, lines, safeName, POD } from "./helpers.ts";
import { useLifecycle, runD, create, podStdout, suiteDir, untilStatus } from "./lifecycle-helpers.ts";

useSuite("626-cleanup-helper");
useLifecycle();

const A = requires("subuid", "alpine-fixture");

// podman's helpers, with the bats `run` machinery reduced to "print the command, its output and its status"
const HELPER = `
podman() { "$POD" "$@"; }
step() { echo "\\$ podman $*"; podman "$@"; echo "[rc=$?]"; }

basic_setup() {
    step rm -t 0 --all --force --ignore
    step ps --all --external --format '{{.ID}} {{.Names}}'
    podman ps --all --external --format '{{.ID}} {{.Names}}' | while read id name; do
        step rm -f "$id"
    done
    podman images --all --format '{{.Repository}}:{{.Tag}} {{.ID}}' | while read ref iid; do
        step rmi --force "$ref"
        step rmi --force "$iid"
    done
}

basic_teardown() {
    step rm -t 0 --all --force --ignore
    step network prune --force
    step volume rm -t 0 -a -f
    step volume rm -a -f
    step images --all --format '{{.Repository}}:{{.Tag}} {{.ID}}'
    step rmi -a -f
}
`;

async function runHelper(fn: string): Promise<string> {
  const file = join(suiteDir("pod-626"), "helpers.bash");
  writeFileSync(file, HELPER);
  const r = await sh(["bash", "-c", `. '${file}'; ${fn}`], { ...pod().env, POD });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe("");
  return r.stdout;
}

describe("podman's cleanup helpers", () => {
  A("teardown then setup empty a full store, every step exit 0 with podman's output; again, nothing to do", async () => {
    const img = (await podStdout(["images", "--format", "{{.ID}}", "alpine"])).trim();
    const fullImg = (await podStdout(["image", "inspect", "--format", "{{.Id}}", "alpine"])).trim();
    assertOutput(await podStdout(["tag", "alpine", "localhost/mine:1"]), "");
    const net = safeName("n");
    expect((await runPod(["network", "create", net])).code).toBe(0);
    const vol = safeName("v");
    assertOutput(await podStdout(["volume", "create", vol]), `${vol}\n`);
    const spare = safeName("spare");
    assertOutput(await podStdout(["volume", "create", spare]), `${spare}\n`);
    const web = safeName("web");
    const webId = await runD(web, ["-v", `${vol}:/data`, "-v", "/anon", "alpine", "sleep", "1000"]);
    const done = safeName("done");
    const doneId = await runD(done, ["alpine", "true"]);
    await untilStatus(done, "exited");
    const made = safeName("made");
    const madeId = await create(made, ["alpine", "true"]);
    const mounts = (await podStdout(["inspect", "--format", "{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}", web])).trim().split(" ");
    const anon = mounts.find((m) => m.startsWith("/anon="))?.slice("/anon=".length);
    expect(anon).toMatch(/^[0-9a-f]{64}$/);

    const out = await runHelper("basic_teardown");
    const ids = [webId, doneId, madeId];
    const sections = out.split(/^(?=\$ podman )/m);
    const section = (cmd: string) => {
      const s = sections.find((x) => x.startsWith(`$ podman ${cmd}\n`));
      if (!s) throw new Error(`no step "${cmd}" in:\n${out}`);
      return lines(s).slice(1);
    };
    const body = (cmd: string) => {
      const l = section(cmd);
      expect(l.at(-1), `${cmd}: ${l.join("\n")}`).toBe("[rc=0]");
      return l.slice(0, -1);
    };
    // rm prints the full ID of each container it removed (in any order: podman removes them in parallel)
    expect(body("rm -t 0 --all --force --ignore").sort()).toEqual([...ids].sort());
    expect(body("network prune --force")).toEqual([net]);
    expect(body("volume rm -t 0 -a -f").sort()).toEqual([anon!, spare, vol].sort());
    expect(body("volume rm -a -f")).toEqual([]);
    expect(body("images --all --format {{.Repository}}:{{.Tag}} {{.ID}}").sort()).toEqual([`docker.io/library/alpine:latest ${img}`, `localhost/mine:1 ${img}`]);
    expect(body("rmi -a -f")).toEqual(["Untagged: docker.io/library/alpine:latest", "Untagged: localhost/mine:1", `Deleted: ${fullImg}`]);

    // setup on the emptied store: nothing listed, nothing removed
    assertOutput(await runHelper("basic_setup"), "$ podman rm -t 0 --all --force --ignore\n[rc=0]\n$ podman ps --all --external --format {{.ID}} {{.Names}}\n[rc=0]\n");
    // and teardown once more: every step exits 0 and prints nothing
    const again = await runHelper("basic_teardown");
    assertOutput(
      again,
      [
        "rm -t 0 --all --force --ignore",
        "network prune --force",
        "volume rm -t 0 -a -f",
        "volume rm -a -f",
        "images --all --format {{.Repository}}:{{.Tag}} {{.ID}}",
        "rmi -a -f",
      ].map((c) => `$ podman ${c}\n[rc=0]\n`).join(""),
    );
    expect(await podStdout(["ps", "-a", "-q"])).toBe("");
  });

  A("setup removes stray containers and images by the names and IDs the listings print", async () => {
    // the setup helper above lists before it removes: containers left running, an image under a second name
    expect((await runPod(["pull", "-q", "alpine"])).code).toBe(0);
    const img = (await podStdout(["images", "--format", "{{.ID}}", "alpine"])).trim();
    const fullImg = (await podStdout(["image", "inspect", "--format", "{{.Id}}", "alpine"])).trim();
    assertOutput(await podStdout(["tag", "alpine", "localhost/stray:2"]), "");
    const c = safeName("stray");
    const id = await runD(c, ["alpine", "sleep", "1000"]);
    const out = await runHelper("basic_setup");
    const head = `$ podman rm -t 0 --all --force --ignore\n${id}\n[rc=0]\n$ podman ps --all --external --format {{.ID}} {{.Names}}\n[rc=0]\n`;
    expect(out.startsWith(head), out).toBe(true);
    // a listed name, then the listed ID (which untags the other name and deletes the image), then the other
    // line's name and ID, already gone: --force makes that exit 0 without a word, as podman's does
    const steps = out.slice(head.length).split(/^(?=\$ podman )/m).map((s) => lines(s));
    expect(steps.length).toBe(4);
    for (const s of steps) expect(s.at(-1), s.join("\n")).toBe("[rc=0]");
    const [firstRef] = steps[0]![0]!.split(" ").slice(-1);
    const other = firstRef === "docker.io/library/alpine:latest" ? "localhost/stray:2" : "docker.io/library/alpine:latest";
    expect(steps[0]!.slice(1)).toEqual([`Untagged: ${firstRef}`, "[rc=0]"]);
    expect(steps[1]!).toEqual([`$ podman rmi --force ${img}`, `Untagged: ${other}`, `Deleted: ${fullImg}`, "[rc=0]"]);
    expect(steps[2]!).toEqual([`$ podman rmi --force ${other}`, "[rc=0]"]);
    expect(steps[3]!).toEqual([`$ podman rmi --force ${img}`, "[rc=0]"]);
    assertOutput(await podStdout(["images", "-a", "-q"]), "");
  });
});
