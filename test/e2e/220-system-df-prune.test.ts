// pod system df and pod system prune: podman's table and messages (checked
// against podman 4.3.1 on these machines), sizes that add up, dangling images
// against named ones, and containers whose files belong to subordinate ids.
import { beforeAll, describe } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, requires, runPod, pod, expect, expectExit, assertOutput, lines, safeName, onSuiteEnd, HEX64, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";

useSuite("220-system-df-prune");
const S = requires("subuid");

let reg: Registry;
let busybox: Fixture;
let derived: Fixture;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  busybox = await pushFixture(reg, "busybox");
  derived = await pushFixture(reg, "busybox-derived");
}, SETUP_TIMEOUT);

type Row = { Type: string; Total: number; Active: number; RawSize: number; RawReclaimable: number; Size: string; Reclaimable: string };

async function df(): Promise<Record<string, Row>> {
  const r = await runPod(["system", "df", "--format", "json"]);
  expectExit(r, 0);
  return Object.fromEntries((JSON.parse(r.stdout) as Row[]).map((x) => [x.Type, x]));
}

async function pull(ref: string): Promise<void> {
  expectExit(await runPod(["pull", "-q", ref]), 0);
}

describe("pod system df", () => {
  it("on an empty store prints podman's table, byte for byte", async () => {
    const r = await runPod(["system", "df"]);
    expectExit(r, 0);
    assertOutput(
      r.stdout,
      "TYPE           TOTAL       ACTIVE      SIZE        RECLAIMABLE\n" +
        "Images         0           0           0B          0B (0%)\n" +
        "Containers     0           0           0B          0B (0%)\n" +
        "Local Volumes  0           0           0B          0B (0%)\n",
    );
  });

  it("counts images once per layer, and all of an unused image is reclaimable", async () => {
    await pull("busybox");
    await pull("busybox-derived");
    const d = await df();
    expect(d.Images).toMatchObject({ Total: 2, Active: 0 });
    // busybox-derived is busybox plus a layer: the shared layer counts once
    const images = JSON.parse((await runPod(["images", "--format", "json"])).stdout) as { Size: number }[];
    const biggest = Math.max(...images.map((i) => i.Size));
    expect(d.Images!.RawSize).toBeGreaterThanOrEqual(biggest);
    expect(d.Images!.RawSize).toBeLessThan(images.reduce((n, i) => n + i.Size, 0));
    expect(d.Images!.RawReclaimable).toBe(d.Images!.RawSize);
    expect(d.Images!.Reclaimable).toMatch(/^\d+(\.\d+)?[kMG]?B \(100%\)$/);
    const t = await runPod(["system", "df", "--format", "{{.Type}}={{.Total}}"]);
    expect(lines(t.stdout)).toEqual(["Images=2", "Containers=0", "Local Volumes=0"]);
  });
});

describe("pod system prune", () => {
  it("asks first, and a no removes nothing", async () => {
    const r = await runPod(["system", "prune"], { input: "n\n" });
    expectExit(r, 0);
    expect(r.stderr).toContain("WARNING! This command removes:\n\t- all stopped containers\n\t- all dangling images\n");
    expect(r.stderr).toContain("Are you sure you want to continue? [y/N]");
    expect(r.stdout).toBe("");
    expect((await df()).Images!.Total).toBe(2);
  });

  it("removes a dangling image and keeps named ones", async () => {
    // moving busybox's only name to the derived image leaves busybox without a name
    expectExit(await runPod(["tag", "busybox-derived", "docker.io/library/busybox:latest"]), 0);
    const before = await df();
    const r = await runPod(["system", "prune", "-f"]);
    expectExit(r, 0);
    assertOutput(r.stdout, new RegExp(`^Deleted Images\\n${busybox.image.id.replace("sha256:", "")}\\nTotal reclaimed space: \\d+(\\.\\d+)?[kMG]?B\\n$`));
    const after = await df();
    expect(after.Images!.Total).toBe(1);
    // busybox's layers are all derived's too: nothing to reclaim but its blobs
    expect(after.Images!.RawSize).toBe(before.Images!.RawSize);
    expect(lines((await runPod(["images", "-q"])).stdout)).toEqual([derived.image.id.replace("sha256:", "").slice(0, 12)]);
  });

  S("removes exited containers, sizes included, even files of subordinate ids", async () => {
    const name = safeName("p");
    const r = await runPod(["run", "--name", name, "busybox-derived", "sh", "-c", "head -c 300000 /dev/zero > /big && mkdir /owned && chown 1234:1234 /owned && touch /owned/f"]);
    expectExit(r, 0);
    const d = await df();
    expect(d.Containers).toMatchObject({ Total: 1, Active: 0 });
    expect(d.Containers!.RawSize).toBeGreaterThanOrEqual(300000);
    expect(d.Images!.Active).toBe(1);
    const id = lines((await runPod(["ps", "-aq", "--no-trunc"])).stdout)[0]!;
    expect(id).toMatch(HEX64);
    const p = await runPod(["system", "prune", "-f"]);
    expectExit(p, 0);
    const out = lines(p.stdout);
    expect(out.slice(0, 2)).toEqual(["Deleted Containers", id]);
    expect(out.at(-1)).toMatch(/^Total reclaimed space: 30\d(\.\d+)?kB$/);
    expect(existsSync(join(pod().storage, "containers", id))).toBe(false);
    expect((await df()).Images!.Total).toBe(1);
  });

  it("-a removes every image no container uses, and says how much it freed", async () => {
    const before = await df();
    const r = await runPod(["system", "prune", "-a", "-f"]);
    expectExit(r, 0);
    const out = lines(r.stdout);
    expect(out[0]).toBe("Deleted Images");
    expect(out[1]).toBe(derived.image.id.replace("sha256:", ""));
    expect(out.at(-1)).toBe(`Total reclaimed space: ${before.Images!.Size}`);
    const after = await df();
    expect(after.Images).toMatchObject({ Total: 0, RawSize: 0 });
    const again = await runPod(["system", "prune", "-a", "-f"]);
    expect(again.stdout).toBe("Total reclaimed space: 0B\n");
  });
});
