// -v and --tmpfs parsing, and the ordered mount steps of a rootless container.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { MS, type MountOp } from "../../../pkg/native/plan.ts";
import {
  buildMountOps,
  MASKED_PATHS,
  parseTmpfs,
  parseVolume,
  READONLY_PATHS,
  type MountInput,
} from "../../../pkg/runtime/index.ts";
import { makeLayers, removeScratch, scratchDir, thrown } from "./_layers.ts";

afterAll(removeScratch);

const host = scratchDir();
const hostDir = join(host, "data");
const hostFile = join(host, "config.json");
mkdirSync(hostDir);
writeFileSync(hostFile, "{}");

describe("parseVolume", () => {
  test("HOST:CTR is a recursive, writable bind of a directory", () => {
    expect(parseVolume(`${hostDir}:/data`)).toEqual({ kind: "bind", source: hostDir, target: "/data", readonly: false, recursive: true, sourceIsDir: true });
  });
  test("options: ro, rw, bind, rbind, z, Z", () => {
    expect(parseVolume(`${hostDir}:/data:ro`)).toMatchObject({ readonly: true, recursive: true });
    expect(parseVolume(`${hostDir}:/data:rw,bind`)).toMatchObject({ readonly: false, recursive: false });
    expect(parseVolume(`${hostDir}:/data:ro,Z,rbind`)).toMatchObject({ readonly: true, recursive: true });
    expect(parseVolume(`${hostFile}:/etc/app.json:z`)).toMatchObject({ sourceIsDir: false, target: "/etc/app.json" });
  });
  test("the container path is cleaned", () => {
    expect(parseVolume(`${hostDir}:/a/../data/`).target).toBe("/data");
  });
  const usage: [string, string][] = [
    [`${hostDir}:data`, "must be absolute"],
    [`${hostDir}:/data:ro,rw`, "more than once"],
    [`${hostDir}:/data:shared`, 'unsupported option "shared"'],
    [`${hostDir}:/data:`, "empty option"],
    [`${hostDir}:/data:ro:x`, "too many colons"],
    [":/data", "empty host path"],
  ];
  for (const [value, text] of usage) {
    test(`usage error: ${value.replace(host, "H")}`, () => {
      const e = thrown(() => parseVolume(value));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.exit).toBe(125);
      expect(e.message).toContain(text);
      expect(e.message).toContain(JSON.stringify(value).slice(1, 20));
    });
  }
  test("a missing host path is a PodError with a hint", () => {
    const missing = join(host, "nope");
    const e = thrown(() => parseVolume(`${missing}:/x`));
    expect(e).toBeInstanceOf(PodError);
    expect(e).not.toBeInstanceOf(UsageError);
    expect(e.message).toBe(`mounting ${missing}: no such file or directory`);
    expect(e.hint).toContain(`mkdir -p ${missing}`);
  });
  test("named and anonymous volumes must have been resolved to their directories (pkg/volume) before", () => {
    expect(thrown(() => parseVolume("pgdata:/var/lib/postgresql")).message).toContain('the named volume "pgdata" was not resolved');
    expect(thrown(() => parseVolume("/var/lib/postgresql")).message).toContain("the anonymous volume was not resolved");
  });
});

describe("parseTmpfs", () => {
  const cases: [string, { target: string; flags: number; data: string }][] = [
    ["/tmp", { target: "/tmp", flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: "" }],
    ["/run:size=64m,mode=1777", { target: "/run", flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: "size=64m,mode=1777" }],
    ["/cache:exec", { target: "/cache", flags: MS.NOSUID | MS.NODEV, data: "" }],
    ["/x:ro,suid,dev,exec,uid=1000", { target: "/x", flags: MS.RDONLY, data: "uid=1000" }],
    ["/y:rw,noexec", { target: "/y", flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: "" }],
  ];
  for (const [value, want] of cases) test(value, () => expect(parseTmpfs(value)).toEqual({ kind: "tmpfs", ...want }));
  test("errors name the value", () => {
    expect(thrown(() => parseTmpfs("tmp"))).toBeInstanceOf(UsageError);
    const e = thrown(() => parseTmpfs("/tmp:bogus"));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain('"bogus"');
  });
});

const layers = makeLayers({ "etc/passwd": "root:x:0:0::/root:/bin/sh\n", "app/": { dir: true } });
const input: MountInput = {
  containerDir: "/run/pod/c1",
  layerDirs: layers,
  newNetwork: true,
  privileged: false,
  readOnly: false,
  readOnlyTmpfs: true,
  volumes: [],
  tmpfs: [],
  workdir: "/",
};
const targets = (ops: MountOp[], kind: MountOp["op"]) => ops.filter((o) => o.op === kind).map((o) => o.target);

describe("buildMountOps", () => {
  test("the standard mounts, in order", () => {
    const ops = buildMountOps(input);
    expect(targets(ops, "mount")).toEqual(["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]);
    expect(ops[0]).toEqual({ op: "mount", fstype: "proc", source: "proc", target: "/proc", flags: MS.NOSUID | MS.NOEXEC | MS.NODEV, data: "" });
    expect(ops).toContainEqual({ op: "mount", fstype: "tmpfs", source: "tmpfs", target: "/dev", flags: MS.NOSUID | MS.STRICTATIME, data: "mode=755,size=65536k" });
    expect(ops).toContainEqual({ op: "mount", fstype: "devpts", source: "devpts", target: "/dev/pts", flags: MS.NOSUID | MS.NOEXEC, data: "newinstance,ptmxmode=0666,mode=0620" });
    expect(ops).toContainEqual({ op: "mount", fstype: "tmpfs", source: "shm", target: "/dev/shm", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: "mode=1777,size=65536k" });
    expect(ops).toContainEqual({ op: "mount", fstype: "sysfs", source: "sysfs", target: "/sys", flags: MS.NOSUID | MS.NOEXEC | MS.NODEV | MS.RDONLY, data: "" });
    expect(targets(ops, "touch").slice(0, 6)).toEqual(["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"]);
    expect(ops).toContainEqual({ op: "bind", source: "/dev/null", target: "/dev/null", recursive: false, readonly: false });
    expect(ops).toContainEqual({ op: "symlink", linkTarget: "pts/ptmx", target: "/dev/ptmx" });
    expect(ops).toContainEqual({ op: "symlink", linkTarget: "/proc/self/fd/2", target: "/dev/stderr" });
    expect(ops).toContainEqual({ op: "bind", source: "/run/pod/c1/resolv.conf", target: "/etc/resolv.conf", recursive: false, readonly: false });
    const touchHosts = ops.findIndex((o) => o.op === "touch" && o.target === "/etc/hosts");
    expect(ops[touchHosts + 1]).toEqual({ op: "bind", source: "/run/pod/c1/hosts", target: "/etc/hosts", recursive: false, readonly: false });
  });

  test("masked and read-only paths come last, by default", () => {
    const ops = buildMountOps(input);
    expect(targets(ops, "mask")).toEqual([...MASKED_PATHS]);
    expect(targets(ops, "readonly")).toEqual([...READONLY_PATHS]);
    expect(targets(ops, "mask")).toContain("/proc/kcore");
    expect(targets(ops, "readonly")).toContain("/proc/sys");
    const tail = ops.slice(-(MASKED_PATHS.length + READONLY_PATHS.length));
    expect(tail.every((o) => o.op === "mask" || o.op === "readonly")).toBe(true);
  });

  test("--privileged: no masks, no read-only paths, /sys writable", () => {
    const ops = buildMountOps({ ...input, privileged: true });
    expect(targets(ops, "mask")).toEqual([]);
    expect(targets(ops, "readonly")).toEqual([]);
    expect(ops.find((o) => o.target === "/sys")).toMatchObject({ op: "mount", flags: MS.NOSUID | MS.NOEXEC | MS.NODEV });
    expect(buildMountOps({ ...input, privileged: true, newNetwork: false }).find((o) => o.target === "/sys")).toMatchObject({ op: "bind", readonly: false });
  });

  test("the host's network: /sys is the host's, bound read-only", () => {
    const sys = buildMountOps({ ...input, newNetwork: false }).find((o) => o.target === "/sys");
    expect(sys).toEqual({ op: "bind", source: "/sys", target: "/sys", recursive: true, readonly: true });
  });

  test("volumes and tmpfs after the /etc files, parents first; targets created to match the source", () => {
    const ops = buildMountOps({ ...input, volumes: [`${hostDir}:/data/sub:ro`, `${hostFile}:/etc/app.json`, `${hostDir}:/data`], tmpfs: ["/scratch:size=1m"] });
    const user = ops.slice(ops.findIndex((o) => o.target === "/data"));
    expect(user.slice(0, 8)).toEqual([
      { op: "mkdir", target: "/data", mode: 0o755 },
      { op: "bind", source: hostDir, target: "/data", recursive: true, readonly: false },
      { op: "mkdir", target: "/scratch", mode: 0o755 },
      { op: "mount", fstype: "tmpfs", source: "tmpfs", target: "/scratch", flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: "size=1m" },
      { op: "mkdir", target: "/data/sub", mode: 0o755 },
      { op: "bind", source: hostDir, target: "/data/sub", recursive: true, readonly: true },
      { op: "touch", target: "/etc/app.json", mode: 0o644 },
      { op: "bind", source: hostFile, target: "/etc/app.json", recursive: true, readonly: false },
    ]);
  });

  test("a user mount replaces pod's own mount at the same path", () => {
    const ops = buildMountOps({ ...input, tmpfs: ["/dev/shm:size=1g"], volumes: [`${hostFile}:/etc/resolv.conf:ro`] });
    expect(ops.filter((o) => o.target === "/dev/shm")).toEqual([
      { op: "mkdir", target: "/dev/shm", mode: 0o755 },
      { op: "mount", fstype: "tmpfs", source: "tmpfs", target: "/dev/shm", flags: MS.NOEXEC | MS.NOSUID | MS.NODEV, data: "size=1g" },
    ]);
    expect(ops.filter((o) => o.op === "bind" && o.target === "/etc/resolv.conf")).toEqual([
      { op: "bind", source: hostFile, target: "/etc/resolv.conf", recursive: true, readonly: true },
    ]);
  });

  test("volumes are recursive binds of their directories, ordered with the other mounts, and count for duplicates", () => {
    const vol = { name: "data", source: hostDir, target: "/srv/data", readonly: true, anonymous: false };
    const ops = buildMountOps({ ...input, volumes: [`${hostDir}:/srv`], volumeMounts: [vol] });
    const srv = ops.findIndex((o) => o.op === "bind" && o.target === "/srv");
    expect(ops.slice(srv + 1, srv + 3)).toEqual([
      { op: "mkdir", target: "/srv/data", mode: 0o755 },
      { op: "bind", source: hostDir, target: "/srv/data", recursive: true, readonly: true },
    ]);
    const e = thrown(() => buildMountOps({ ...input, tmpfs: ["/srv/data"], volumeMounts: [vol] }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe("duplicate mount destination /srv/data");
  });

  test("duplicate destinations are refused", () => {
    const e = thrown(() => buildMountOps({ ...input, volumes: [`${hostDir}:/data`], tmpfs: ["/data"] }));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain("/data");
  });

  test("--read-only adds tmpfs on /tmp, /var/tmp and /run unless --read-only-tmpfs=false", () => {
    const ro = buildMountOps({ ...input, readOnly: true });
    expect(targets(ro, "mount").slice(-3)).toEqual(["/tmp", "/var/tmp", "/run"]);
    expect(ro.find((o) => o.target === "/run")).toMatchObject({ flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: "size=65536k" });
    expect(targets(buildMountOps({ ...input, readOnly: true, readOnlyTmpfs: false }), "mount")).not.toContain("/tmp");
    expect(targets(buildMountOps(input), "mount")).not.toContain("/tmp");
    const own = buildMountOps({ ...input, readOnly: true, tmpfs: ["/tmp:size=5m"] });
    expect(own.filter((o) => o.op === "mount" && o.target === "/tmp").length).toBe(1);
  });

  test("a missing working directory is created, unless the image has it or a user mount holds it", () => {
    expect(buildMountOps({ ...input, workdir: "/srv/www" })).toContainEqual({ op: "mkdir", target: "/srv/www", mode: 0o755 });
    expect(targets(buildMountOps({ ...input, workdir: "/app" }), "mkdir")).not.toContain("/app");
    expect(targets(buildMountOps({ ...input, workdir: "/data/x", volumes: [`${hostDir}:/data`] }), "mkdir")).not.toContain("/data/x");
  });

  test("a file target that is a symlink in the image is created where the link points", () => {
    const linked = makeLayers({ "etc/resolv.conf": { symlink: "../run/systemd/resolve/stub-resolv.conf" } });
    const ops = buildMountOps({ ...input, layerDirs: linked });
    expect(ops).toContainEqual({ op: "touch", target: "/run/systemd/resolve/stub-resolv.conf", mode: 0o644 });
    expect(ops).toContainEqual({ op: "bind", source: "/run/pod/c1/resolv.conf", target: "/run/systemd/resolve/stub-resolv.conf", recursive: false, readonly: false });
  });
});
