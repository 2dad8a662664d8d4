// pod doctor on this machine (it must pass for the test user: hybrid cgroups
// are a warning, not a failure) and on deliberately broken setups, each
// showing the right fix; pod info and pod version in podman's shapes.
import { describe } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, requires, runPod, pod, expect, expectExit, lines, REPO_ROOT } from "./helpers.ts";

useSuite("210-doctor-info");
const S = requires("subuid", "tun", "unprivileged");
const version = (await Bun.file(join(REPO_ROOT, "package.json")).json()).version as string;

type Check = { name: string; status: "ok" | "warn" | "fail"; message: string; fix: string };

async function doctorJson(env: Record<string, string> = {}): Promise<{ code: number; checks: Check[] }> {
  const r = await runPod(["doctor", "--format", "json"], { env });
  return { code: r.code, checks: JSON.parse(r.stdout) as Check[] };
}

/** The report's line for a check, with the fix line under it when there is one. */
function entry(stdout: string, name: string): string {
  const all = stdout.split("\n");
  const i = all.findIndex((l) => new RegExp(`^(ok|warn|fail)\\s+${name}\\s`).test(l));
  if (i < 0) throw new Error(`no "${name}" line in:\n${stdout}`);
  return all[i + 1]?.trimStart().startsWith("fix: ") ? `${all[i]}\n${all[i + 1]!.trim()}` : all[i]!;
}

describe("pod doctor on this machine", () => {
  S("passes for the test user: every line ok or warn, exit 0", async () => {
    const r = await runPod(["doctor"]);
    expectExit(r, 0);
    expect(r.stdout).not.toMatch(/^fail /m);
    for (const name of ["userns", "newuidmap", "newgidmap", "subuid", "subgid", "storage", "overlay", "fuse", "network", "tun", "cgroups", "runtime-dir", "disk"])
      expect(entry(r.stdout, name)).toMatch(/^(ok|warn) /);
    expect(lines(r.stdout).at(-1)).toMatch(/^13 checks: \d+ ok, \d+ warnings?, 0 failed$/);
  });

  S("reports cgroups with the fix, never as a failure", async () => {
    const { checks } = await doctorJson();
    const c = checks.find((x) => x.name === "cgroups")!;
    expect(c.status).not.toBe("fail");
    if (c.status === "warn") expect(c.fix).toMatch(/systemd\.unified_cgroup_hierarchy=1|Delegate=/);
  });

  S("--format json and templates", async () => {
    const { code, checks } = await doctorJson();
    expect(code).toBe(0);
    expect(checks.map((c) => c.name)).toContain("overlay");
    const r = await runPod(["doctor", "--format", "{{.Name}}={{.Status}}"]);
    expect(lines(r.stdout)).toContain("tun=ok");
  });
});

describe("pod doctor on broken setups", () => {
  S("/dev/net/tun missing: fail, modprobe tun, exit 1", async () => {
    const r = await runPod(["doctor"], { env: { POD_TUN_PATH: "/nonexistent" } });
    expectExit(r, 1);
    expect(entry(r.stdout, "tun")).toBe("fail  tun          /nonexistent does not exist: pasta and slirp4netns need it\nfix: sudo modprobe tun");
  });

  S("/dev/net/tun unreadable: fail, chmod 0666 on that path", async () => {
    const fake = join(pod().tmp, "tun");
    writeFileSync(fake, "");
    chmodSync(fake, 0o000);
    const r = await runPod(["doctor"], { env: { POD_TUN_PATH: fake } });
    expectExit(r, 1);
    expect(entry(r.stdout, "tun")).toBe(`fail  tun          ${fake} is not readable and writable by you (mode 0000): pasta and slirp4netns need it\nfix: sudo chmod 0666 ${fake}`);
  });

  S("newuidmap not in PATH: doctor still runs, and says which PATH entry is missing", async () => {
    const r = await runPod(["doctor"], { env: { PATH: "/nonexistent" } });
    expectExit(r, 1);
    expect(entry(r.stdout, "newuidmap")).toBe(`fail  newuidmap    newuidmap is at /usr/bin/newuidmap but not in PATH, where pod looks for it\nfix: export PATH="$PATH:/usr/bin"`);
    expect(entry(r.stdout, "newgidmap")).toStartWith("fail  newgidmap");
    // the probe still entered the user namespace (single-id, as pod falls back) and mounted overlay
    expect(entry(r.stdout, "overlay")).toMatch(/^ok /);
    expect(r.stderr).toContain("single-id user namespace");
  });
});

describe("pod info", () => {
  it("prints podman's sections as YAML", async () => {
    const r = await runPod(["info"]);
    expectExit(r, 0);
    for (const k of ["host:", "store:", "registries:", "version:"]) expect(lines(r.stdout)).toContain(k);
    expect(r.stdout).toContain(`  graphRoot: ${pod().storage}\n`);
    expect(r.stdout).toMatch(/^ {2}graphDriverName: (overlay|fuse-overlayfs|vfs)$/m);
    expect(r.stdout).toContain(`  Version: ${version}\n`);
  });

  it("--format json and Go templates with podman's field names", async () => {
    const j = await runPod(["info", "--format", "json"]);
    expectExit(j, 0);
    const info = JSON.parse(j.stdout);
    expect(info.store.graphRoot).toBe(pod().storage);
    expect(info.store.imageStore.number).toBe(0);
    expect(info.host.security.rootless).toBe(true);
    expect(info.host.networkModes).toEqual(["pasta", "slirp4netns", "private", "host", "none", "container", "ns"]);
    expect(info.registries.configFiles).toContain(join(pod().configDir, "registries.conf"));
    expect(info.version.BunVersion).toMatch(/^\d+\.\d+\.\d+/);
    const t = await runPod(["info", "--format", "{{.Store.GraphRoot}} {{.Host.Security.Rootless}} {{.Version.Version}}"]);
    expect(t.stdout).toBe(`${pod().storage} true ${version}\n`);
    expect((await runPod(["system", "info", "--format", "{{.Store.RunRoot}}"])).stdout).toBe(`${join(pod().runtimeDir, "pod")}\n`);
  });

  S("reports the same id mappings doctor checks", async () => {
    const info = JSON.parse((await runPod(["info", "--format", "json"])).stdout);
    expect(info.host.idMappings.uidmap[0]).toEqual({ container_id: 0, host_id: process.getuid!(), size: 1 });
    expect(info.host.idMappings.uidmap[1].size).toBeGreaterThanOrEqual(65536);
    expect(info.host.rootless.subuidCount).toBe(info.host.idMappings.uidmap[1].size);
  });
});

describe("pod version", () => {
  it("podman's layout, with the Bun version where podman has Go's", async () => {
    const r = await runPod(["version"]);
    expectExit(r, 0);
    const l = lines(r.stdout);
    expect(l.map((x) => x.slice(0, 14).trim())).toEqual(["Client:", "Version:", "API Version:", "Bun Version:", "Built:", "OS/Arch:"]);
    expect(l[1]).toBe(`Version:      ${version}`);
    expect(l[4]).toMatch(/^Built: {8}(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    expect(l[5]).toMatch(/^OS\/Arch: {6}linux\/(amd64|arm64)$/);
  });

  it("--format json and templates", async () => {
    const j = JSON.parse((await runPod(["version", "--format", "json"])).stdout);
    expect(Object.keys(j)).toEqual(["Client"]);
    expect(j.Client).toMatchObject({ Version: version, APIVersion: version, Os: "linux" });
    expect((await runPod(["version", "--format", "{{.Client.Version}}"])).stdout).toBe(`${version}\n`);
  });
});
