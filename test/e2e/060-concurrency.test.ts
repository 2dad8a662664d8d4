// Several pods at once, and a pod killed with SIGKILL in the middle of a
// pull: the store must stay consistent, and each layer stored once.
import { beforeAll, describe } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, lines, findInStorage, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("060-concurrency");

let reg: Registry;
const pushed: Record<string, Fixture> = {};

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  for (const n of ["busybox", "busybox-derived", "zstd", "docker-v2s2", "big"] as const) pushed[n] = await pushFixture(reg, n);
}, SETUP_TIMEOUT);

function tmpEntries(): string[] {
  const tmp = join(pod().storage, "tmp");
  return existsSync(tmp) ? readdirSync(tmp) : [];
}

async function collect(p: ReturnType<ReturnType<typeof pod>["spawn"]>) {
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr, signal: p.signalCode };
}

describe("concurrent pulls", () => {
  it("8 pulls of the same image at once all succeed; one image, each layer stored once", async () => {
    const f = pushed["busybox-derived"]!;
    const procs = Array.from({ length: 8 }, () => pod().spawn(["pull", "-q", "busybox-derived"]));
    const results = await Promise.all(procs.map(collect));
    results.forEach((r, i) => {
      expect(r.code, `pull #${i} exited ${r.code}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`${f.image.id}\n`);
    });
    const l = await runPod(["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    expectExit(l, 0);
    expect(lines(l.stdout)).toEqual([`docker.io/library/busybox-derived:latest ${f.image.id.slice(0, 12)}`]);
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(1);
    expect(findInStorage("etc/pod-marker-derived")).toHaveLength(1);
    expect(tmpEntries()).toEqual([]);
    const i = await runPod(["image", "inspect", "busybox-derived"]);
    expectExit(i, 0);
    expect(JSON.parse(i.stdout)[0].RootFS.Layers).toEqual(f.image.diffIDs);
  });

  it("different images sharing a base layer, pulled at once, share one copy of it", async () => {
    const names = ["busybox", "zstd", "dockerv2", "busybox-derived"];
    const results = await Promise.all(names.flatMap((n) => [n, n]).map((n) => collect(pod().spawn(["pull", "-q", n]))));
    results.forEach((r, i) => expect(r.code, `pull #${i} exited ${r.code}: ${r.stderr}`).toBe(0));
    const l = await runPod(["images", "--format", "{{.Repository}}"]);
    expectExit(l, 0);
    expect(lines(l.stdout).sort()).toEqual(names.map((n) => `docker.io/library/${n}`).sort());
    expect(findInStorage("etc/pod-marker-busybox")).toHaveLength(1);
    expect(findInStorage("pod-zstd/pod-marker-zstd")).toHaveLength(1);
    expect(findInStorage("etc/pod-marker-docker")).toHaveLength(1);
    expect(tmpEntries()).toEqual([]);
  });
});

describe("kill -9 during a pull", () => {
  it("leaves a store that the next pull completes and lists consistently", async () => {
    const f = pushed.big!;
    let killed = false;
    for (const delay of [100, 30, 0]) {
      const p = pod().spawn(["pull", "big"]);
      // once the pull has started ("Trying to pull"), wait `delay` ms and kill it
      let err = "";
      void (async () => {
        for await (const c of p.stderr) err += new TextDecoder().decode(c);
      })();
      const deadline = Date.now() + 15_000;
      while (!err.includes("Trying to pull") && Date.now() < deadline && p.exitCode === null) await sleep(2);
      await sleep(delay);
      if (p.exitCode === null) {
        p.kill("SIGKILL");
        await p.exited;
        killed = p.signalCode === "SIGKILL";
      } else {
        await p.exited;
      }
      if (killed) break;
      console.log(`note: the pull of "big" ended before the kill (delay ${delay} ms, exit ${p.exitCode}, stderr: ${err.trim()}); retrying with a shorter delay`);
      expectExit(await runPod(["rmi", "-a"]), 0);
    }
    expect(killed, "the pull of the big image always ended before it could be killed: make the fixture bigger").toBe(true);

    // right after the kill, pod images works and shows big either not at all or complete
    const l1 = await runPod(["images", "--format", "{{.Repository}}"]);
    expectExit(l1, 0);
    if (l1.stdout.includes("docker.io/library/big")) {
      const i = await runPod(["image", "inspect", "big"]);
      expectExit(i, 0);
      expect(JSON.parse(i.stdout)[0].RootFS.Layers).toEqual(f.image.diffIDs);
    }

    const r = await runPod(["pull", "-q", "big"]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(f.image.id);
    const l2 = await runPod(["images", "--format", "{{.Repository}} {{.ID}}"]);
    expectExit(l2, 0);
    expect(lines(l2.stdout).filter((x) => x.startsWith("docker.io/library/big "))).toEqual([`docker.io/library/big ${f.image.id.slice(0, 12)}`]);
    for (let i = 0; i < 4; i++) {
      expect(findInStorage(`pod-big${i}/small0`), `layer ${i} stored once`).toHaveLength(1);
      expect(findInStorage(`pod-big${i}/small299`), `layer ${i} complete`).toHaveLength(1);
    }
    // the killed pull's leftovers were swept by the next writer
    expect(tmpEntries()).toEqual([]);
  });
});
