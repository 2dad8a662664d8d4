// Volumes: `pod volume create|ls|inspect|rm|prune|exists`, named and anonymous
// volumes in run/create (-v NAME:/path, -v /path, --mount), the copy of the
// image's content into a new volume (owners, modes, whiteouts), `rm -v`, and
// several containers creating one volume at once. Output shapes and exit codes
// follow podman 4.3.
import { beforeAll, describe } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  useSuite,
  requires,
  runPod,
  pod,
  expect,
  expectExit,
  expectPodError,
  assertOutput,
  lines,
  missing,
  safeName,
  onSuiteEnd,
  HEX64,
  SETUP_TIMEOUT,
  type PodResult,
} from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";

useSuite("300-volumes");

const A = requires("subuid", "alpine-fixture");
const B = requires("subuid");

let reg: Registry;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  await pushFixture(reg, "whiteouts");
  if (!missing("alpine-fixture")) await pushFixture(reg, "alpine");
}, SETUP_TIMEOUT);

async function ok(args: string[]): Promise<string> {
  const r = await runPod(args);
  expectExit(r, 0);
  return r.stdout;
}

const mountpoint = (name: string) => join(pod().storage, "volumes", name, "_data");
const volumeNames = async () => lines(await ok(["volume", "ls", "-q"]));
/** `pod unshare` in the storage namespace: owners appear as the container sees them. */
const unshare = (...argv: string[]) => ok(["unshare", ...argv]);

describe("pod volume", () => {
  B("create prints the name; ls, inspect and exists show it; rm removes it", async () => {
    const name = safeName("vol");
    assertOutput(await ok(["volume", "create", name]), `${name}\n`, "create");
    const ls = await ok(["volume", "ls", "--filter", `name=${name}`]);
    expect(lines(ls).map((l) => l.split(/\s+/).join(" "))).toEqual(["DRIVER VOLUME NAME", `local ${name}`]);
    expect(lines(ls)[0]).toBe("DRIVER      VOLUME NAME");
    const [v] = JSON.parse(await ok(["volume", "inspect", name]));
    expect(Object.keys(v).slice(0, 7)).toEqual(["Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Scope", "Options"]);
    expect(v).toMatchObject({ Name: name, Driver: "local", Mountpoint: mountpoint(name), Labels: {}, Scope: "local", Options: {} });
    expect(Date.now() - Date.parse(v.CreatedAt)).toBeLessThan(120_000);
    expect(statSync(mountpoint(name)).isDirectory()).toBe(true);
    expect(readdirSync(mountpoint(name))).toEqual([]);
    assertOutput(await ok(["volume", "inspect", "--format", "{{.Mountpoint}} {{.Driver}}", name]), `${mountpoint(name)} local\n`);
    expectExit(await runPod(["volume", "exists", name]), 0);
    assertOutput(await ok(["volume", "rm", name]), `${name}\n`, "rm");
    const gone = await runPod(["volume", "exists", name]);
    expectExit(gone, 1);
    expect(gone.stdout + gone.stderr).toBe("");
    expect(existsSync(join(pod().storage, "volumes", name))).toBe(false);
  });

  B("create without a name makes a random 64-hex one; labels; --ignore; a taken name and a bad name fail", async () => {
    const anon = (await ok(["volume", "create"])).trim();
    expect(anon).toMatch(HEX64);
    const name = safeName("lab");
    await ok(["volume", "create", "--label", "app=web", "-l", "tier", name]);
    expect(JSON.parse(await ok(["volume", "inspect", name]))[0].Labels).toEqual({ app: "web", tier: "" });
    expect(lines(await ok(["volume", "ls", "-q", "--filter", "label=app=web"]))).toEqual([name]);
    expect(lines(await ok(["volume", "ls", "-q", "--filter", "label=tier", "--filter", `name=${anon}`]))).toEqual([]);
    expectPodError(await runPod(["volume", "create", name]), `volume with name ${name} already exists`);
    assertOutput(await ok(["volume", "create", "--ignore", name]), `${name}\n`);
    expectPodError(await runPod(["volume", "create", "bad/name"]), "invalid volume name");
    expectPodError(await runPod(["volume", "create", "--driver", "nfs", "x"]), "local");
    const json = JSON.parse(await ok(["volume", "ls", "--format", "json"]));
    expect(json.map((v: { Name: string }) => v.Name)).toEqual([anon, name].sort());
    assertOutput(await ok(["volume", "ls", "--format", "{{.Name}}={{.Driver}}", "--filter", `name=${name}`]), `${name}=local\n`);
    await ok(["volume", "rm", anon, name]);
  });

  B("inspect and rm of a missing volume fail (rm: exit 1, -f: no error); exists exits 1", async () => {
    const name = safeName("none");
    expectPodError(await runPod(["volume", "inspect", name]), `no such volume ${name}`);
    const rm = await runPod(["volume", "rm", name]);
    expectExit(rm, 1);
    expect(rm.stderr).toContain(`no volume with name "${name}" found: no such volume`);
    const rmf = await runPod(["volume", "rm", "-f", name]);
    expectExit(rmf, 0);
    expect(rmf.stdout).toBe("");
    expectExit(await runPod(["volume", "exists", name]), 1);
  });

  B("prune removes the volumes no container uses and prints their names", async () => {
    const used = safeName("used");
    const free = safeName("free");
    await ok(["volume", "create", free]);
    const ctr = safeName("c");
    await ok(["create", "--name", ctr, "-v", `${used}:/data`, "busybox", "true"]);
    expect(await volumeNames()).toEqual(expect.arrayContaining([used, free]));
    expect(lines(await ok(["volume", "ls", "-q", "--filter", "dangling=true"]))).toEqual([free]);
    assertOutput(await ok(["volume", "prune", "-f"]), `${free}\n`, "prune");
    expect(await volumeNames()).toEqual([used]);
    await ok(["rm", ctr]);
    await ok(["volume", "rm", used]);
  });

  B("rm of a volume a container uses is refused (exit 2); -f removes the container, then the volume", async () => {
    const name = safeName("busy");
    const ctr = safeName("c");
    await ok(["create", "--name", ctr, "-v", `${name}:/data`, "busybox", "true"]);
    const r = await runPod(["volume", "rm", name]);
    expectExit(r, 2);
    expect(r.stderr).toMatch(new RegExp(`^Error: volume ${name} is being used by the following container\\(s\\): [0-9a-f]{64}: volume is being used\n`));
    expect(await volumeNames()).toContain(name);
    const running = safeName("r");
    await ok(["run", "-d", "--name", running, "-v", `${name}:/data`, "busybox", "sleep", "100"]);
    assertOutput(await ok(["volume", "rm", "-f", name]), `${name}\n`);
    const names = lines(await ok(["ps", "-a", "--format", "{{.Names}}"]));
    expect(names).not.toContain(ctr);
    expect(names).not.toContain(running);
    expect(await volumeNames()).not.toContain(name);
  });
});

describe("system df and system prune", () => {
  B("df counts volumes (active: a container records them); prune --volumes removes unused ones after the stopped containers", async () => {
    const free = safeName("free");
    const used = safeName("used");
    await ok(["volume", "create", free]);
    await ok(["run", "--name", safeName("c"), "-v", `${used}:/data`, "busybox", "sh", "-c", "head -c 5000 /dev/zero > /data/f"]);
    const row = JSON.parse(await ok(["system", "df", "--format", "json"])).find((r: { Type: string }) => r.Type === "Local Volumes");
    expect(row).toMatchObject({ Total: 2, Active: 1, RawSize: 5000, RawReclaimable: 0 });
    const plain = await ok(["system", "prune", "-f"]);
    expect(plain).toContain("Deleted Containers\n");
    expect(plain).not.toContain("Deleted Volumes");
    expect(await volumeNames()).toEqual([free, used]);
    const r = await ok(["system", "prune", "-f", "--volumes"]);
    expect(r).toMatch(new RegExp(`^Deleted Volumes\n${free}\n${used}\nTotal reclaimed space: 5kB\n$`));
    expect(await volumeNames()).toEqual([]);
  });
});

describe("volumes in run and create", () => {
  A("-v NAME:/etc/apk fills the new volume with the image's files, owners and modes kept", async () => {
    const name = safeName("apk");
    const o = await ok(["run", "--rm", "-v", `${name}:/etc/apk`, "alpine", "sh", "-c", "ls /etc/apk; grep ' /etc/apk ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1"]);
    expect(lines(o)).toEqual(["arch", "keys", "protected_paths.d", "repositories", "world", "rw"]);
    expect(readFileSync(join(mountpoint(name), "arch"), "utf8")).toBe("x86_64\n");
    const listing = lines(await unshare("ls", "-ln", mountpoint(name))).slice(1);
    expect(listing.length).toBe(5);
    for (const l of listing) expect(l.split(/\s+/).slice(2, 4)).toEqual(["0", "0"]);
    assertOutput(await unshare("stat", "-c", "%u:%g %a", mountpoint(name), join(mountpoint(name), "keys")), "0:0 755\n0:0 755\n");
    const [v] = JSON.parse(await ok(["volume", "inspect", name]));
    expect(v.NeedsCopyUp).toBeUndefined();
    await ok(["volume", "rm", name]);
  });

  B("the copy keeps owners other than root, inside the container and in the storage namespace", async () => {
    const name = safeName("own");
    const o = await ok(["run", "--rm", "-v", `${name}:/home/daemon`, "busybox", "stat", "-c", "%u:%g %n", "/home/daemon", "/home/daemon/pod-owned-by-1"]);
    expect(lines(o)).toEqual(["1:1 /home/daemon", "1:1 /home/daemon/pod-owned-by-1"]);
    assertOutput(await unshare("stat", "-c", "%u:%g", mountpoint(name), join(mountpoint(name), "pod-owned-by-1")), "1:1\n1:1\n");
    await ok(["volume", "rm", name]);
  });

  B("the copy applies the image's whiteouts and opaque directories (pod create copies too)", async () => {
    const name = safeName("wh");
    const ctr = safeName("c");
    await ok(["create", "--name", ctr, "-v", `${name}:/pod-wh`, "whiteouts"]);
    const found = lines(await unshare("find", mountpoint(name), "-mindepth", "1")).map((p) => p.slice(mountpoint(name).length + 1)).sort();
    expect(found).toEqual(["file-kept", "opaque", "opaque/new", "pod-marker-upper"]);
    await ok(["rm", ctr]);
    await ok(["volume", "rm", name]);
  });

  B("data persists across containers; an existing volume is not filled again; :ro is read-only", async () => {
    const name = safeName("keep");
    await ok(["volume", "create", name]);
    await ok(["run", "--rm", "-v", `${name}:/data`, "busybox", "sh", "-c", "echo kept > /data/f"]);
    assertOutput(await ok(["run", "--rm", "-v", `${name}:/home/daemon`, "busybox", "ls", "/home/daemon"]), "f\n");
    assertOutput(await ok(["run", "--rm", "-v", `${name}:/d`, "busybox", "cat", "/d/f"]), "kept\n");
    const ro = await runPod(["run", "--rm", "-v", `${name}:/d:ro`, "busybox", "sh", "-c", "cat /d/f; touch /d/new"]);
    expect(ro.code).not.toBe(0);
    expect(ro.stdout).toBe("kept\n");
    expect(ro.stderr).toContain("Read-only file system");
    expect(readdirSync(mountpoint(name))).toEqual(["f"]);
    await ok(["volume", "rm", name]);
  });

  B("-v /path makes an anonymous volume: shown by inspect, kept by rm, removed by rm -v and run --rm", async () => {
    const before = await volumeNames();
    const kept = safeName("c");
    await ok(["create", "--name", kept, "-v", "/data", "busybox", "true"]);
    const [ins] = JSON.parse(await ok(["inspect", kept]));
    const mounts = ins.Mounts.filter((m: { Type: string }) => m.Type === "volume");
    expect(mounts).toHaveLength(1);
    expect(mounts[0]).toMatchObject({ Type: "volume", Destination: "/data", RW: true });
    expect(mounts[0].Name).toMatch(HEX64);
    expect(mounts[0].Source).toBe(mountpoint(mounts[0].Name));
    expect(JSON.parse(await ok(["volume", "inspect", mounts[0].Name]))[0].Anonymous).toBe(true);
    await ok(["rm", kept]);
    expect(await volumeNames()).toContain(mounts[0].Name);
    const removed = safeName("c");
    await ok(["create", "--name", removed, "-v", "/data", "busybox", "true"]);
    const anon = (await volumeNames()).find((n) => n !== mounts[0].Name && !before.includes(n))!;
    expect(anon).toMatch(HEX64);
    await ok(["rm", "-v", removed]);
    expect(await volumeNames()).not.toContain(anon);
    await ok(["run", "--rm", "-v", "/scratch", "busybox", "touch", "/scratch/x"]);
    expect((await volumeNames()).sort()).toEqual([...before, mounts[0].Name].sort());
    await ok(["volume", "rm", mounts[0].Name]);
  });

  B("--mount type=volume|bind|tmpfs, with podman's keys and aliases", async () => {
    const name = safeName("m");
    const host = makeTempDir(`pod-vol-${safeName("h")}`);
    onSuiteEnd(() => removeDir(host));
    writeFileSync(join(host, "hf"), "from host\n");
    await ok(["run", "--rm", "--mount", `type=volume,source=${name},target=/data`, "busybox", "sh", "-c", "echo v > /data/v"]);
    const script = "cat /v/v /b/hf; stat -c %a /t; grep ' /t ' /proc/mounts | cut -d' ' -f4; touch /v/x 2>&1; touch /b/x 2>&1; echo done";
    const o = await ok([
      "run", "--rm",
      "--mount", `type=volume,src=${name},dst=/v,ro`,
      "--mount", `type=bind,source=${host},destination=/b,readonly=true`,
      "--mount", "type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1777",
      "--mount", "type=volume,target=/anon",
      "busybox", "sh", "-c", script,
    ]);
    const out = lines(o);
    expect(out.slice(0, 3)).toEqual(["v", "from host", "1777"]);
    expect(out[3]).toMatch(/^rw,.*size=1024k/);
    expect(out.slice(4, 6).every((l) => l.includes("Read-only file system"))).toBe(true);
    expect(out[6]).toBe("done");
    expect(existsSync(join(host, "x"))).toBe(false);
    const ctr = safeName("c");
    await ok(["create", "--name", ctr, "--mount", `type=volume,source=${name},target=/data,readonly`, "busybox", "true"]);
    const [ins] = JSON.parse(await ok(["inspect", ctr]));
    expect(ins.Mounts).toContainEqual(expect.objectContaining({ Type: "volume", Name: name, Source: mountpoint(name), Destination: "/data", RW: false }));
    await ok(["rm", ctr]);
    await ok(["volume", "rm", name]);
  });

  B("bad -v and --mount values are usage errors that name the bad part, before anything is made", async () => {
    const before = await volumeNames();
    const cases: [string[], string][] = [
      [["--mount", "type=bind,target=/x"], "no source"],
      [["--mount", "type=nfs,target=/x"], 'unsupported type "nfs"'],
      [["--mount", "source=v,target=/x"], "no type"],
      [["--mount", "type=volume,target=/x,bogus=1"], 'unknown option "bogus" for type=volume'],
      [["--mount", "type=tmpfs,target=/x,tmpfs-size=big"], "invalid tmpfs-size=big"],
      [["--mount", "type=bind,source=/tmp,target=/x,bind-propagation=shared"], "bind-propagation=shared is not supported"],
      [["--mount", "type=volume,source=bad/name,target=/x"], "invalid volume name"],
      [["-v", "vol:/x:bogus"], 'unsupported option "bogus"'],
      [["-v", "vol:relative"], "must be absolute"],
    ];
    for (const [flags, text] of cases) {
      const r: PodResult = await runPod(["run", "--rm", ...flags, "busybox", "true"]);
      expectPodError(r, text);
      expect(r.stderr).toContain("Hint: ");
    }
    expect(await volumeNames()).toEqual(before);
  });

  B("5 containers started at once with the same new volume all succeed; it is made and filled once", async () => {
    const name = safeName("same");
    const containersBefore = lines(await ok(["ps", "-a", "-q"]));
    const procs = Array.from({ length: 5 }, () => pod().spawn(["run", "--rm", "-v", `${name}:/home/daemon`, "busybox", "ls", "/home/daemon"]));
    const results = await Promise.all(
      procs.map(async (p) => {
        const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
        return { code, stdout, stderr };
      }),
    );
    results.forEach((r, i) => {
      expect(r.code, `run #${i} exited ${r.code}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe("pod-owned-by-1\n");
    });
    expect((await volumeNames()).filter((n) => n === name)).toHaveLength(1);
    expect(readdirSync(join(pod().storage, "volumes")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    expect(readdirSync(mountpoint(name))).toEqual(["pod-owned-by-1"]);
    expect(lines(await ok(["ps", "-a", "-q"]))).toEqual(containersBefore);
    await ok(["volume", "rm", name]);
  });
});
