// The seccomp filter: podman's default profile (pkg/security/seccomp.json)
// compiled to BPF and installed by the native core just before exec, for the
// container's command, its exec sessions and the built-in init; seccomp=
// unconfined and --privileged go without; a profile of one's own from
// --security-opt seccomp=PATH or containers.conf's seccomp_profile; a
// malformed one fails before anything is created. Also mask=, unmask=,
// proc-opts= and what inspect shows.
import { beforeAll, describe } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, requires, runPod, pod, expect, expectExit, expectPodError, missing, onSuiteEnd, safeName, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";
import { buildProbe } from "../fixtures/probe.ts";

useSuite("116-seccomp");

const A = requires("subuid", "alpine-fixture");
const P = requires("subuid", "alpine-fixture", "cc");

let reg: Registry;
let probe = "";
let denyMkdir = "";

// x86_64 numbers (pkg/security/syscalls.generated.ts); the probe prints "NR errno E" or "NR ok N"
const SYS = { kexec_load: 246, userfaultfd: 323, mkdir: 83 };
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

beforeAll(async () => {
  if (missing("alpine-fixture") || missing("subuid")) return;
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "alpine");
  expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  if (!missing("cc")) probe = await buildProbe();
  denyMkdir = join(pod().tmp, "deny-mkdir.json");
  writeFileSync(denyMkdir, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat", "memfd_create"], action: "SCMP_ACT_ERRNO", errnoRet: EACCES }] }));
}, SETUP_TIMEOUT);

const withProbe = () => ["-v", `${probe}:/probe:ro`];

async function out(args: string[]): Promise<string> {
  const r = await runPod(["run", "--rm", ...args]);
  expectExit(r, 0);
  return r.stdout;
}

const seccompLine = (status: string) => /^Seccomp:\s*(\d)$/m.exec(status)?.[1];

/** What the probe's calls answered, one line each. */
async function probeCalls(security: string[]): Promise<string[]> {
  const script = [
    `/probe syscall ${SYS.userfaultfd} 1`,
    `/probe syscall ${SYS.kexec_load} 0 0 0 0`,
    "/probe addkey k1",
  ].join("; ");
  return (await out([...security, ...withProbe(), "alpine", "sh", "-c", script])).trim().split("\n");
}

describe("the default filter", () => {
  A("the command runs in seccomp filter mode (Seccomp: 2)", async () => {
    const s = await out(["alpine", "cat", "/proc/self/status"]);
    expect(seccompLine(s)).toBe("2");
    expect(s).toMatch(/^Seccomp_filters:\s*1$/m);
  });

  P("podman's profile refuses userfaultfd and kexec_load with EPERM and add_key (no rule) with ENOSYS; unconfined allows what capabilities allow", async () => {
    expect(await probeCalls([])).toEqual([`${SYS.userfaultfd} errno ${EPERM}`, `${SYS.kexec_load} errno ${EPERM}`, `addkey errno ${ENOSYS}`]);
    const free = await probeCalls(["--security-opt", "seccomp=unconfined"]);
    // userfaultfd(UFFD_USER_MODE_ONLY) and add_key need no privilege; kexec_load is the kernel's to refuse then (EPERM, or ENOSYS without kexec)
    expect(free[0]).toMatch(new RegExp(`^${SYS.userfaultfd} ok \\d+$`));
    expect(free[2]).toMatch(/^addkey ok \d+$/);
  });

  A("seccomp=unconfined and --privileged run without a filter (Seccomp: 0)", async () => {
    expect(seccompLine(await out(["--security-opt", "seccomp=unconfined", "alpine", "cat", "/proc/self/status"]))).toBe("0");
    expect(seccompLine(await out(["--privileged", "alpine", "cat", "/proc/self/status"]))).toBe("0");
  });

  A("no-new-privileges: the filter is installed after no_new_privs", async () => {
    const s = await out(["--security-opt", "no-new-privileges", "alpine", "cat", "/proc/self/status"]);
    expect([seccompLine(s), /^NoNewPrivs:\s*(\d)$/m.exec(s)?.[1]]).toEqual(["2", "1"]);
  });

  A("a non-root user's command is filtered too", async () => {
    expect(seccompLine(await out(["--user", "1000", "alpine", "cat", "/proc/self/status"]))).toBe("2");
  });
});

describe("exec sessions and --init", () => {
  P("exec sessions are filtered like the command", async () => {
    const name = safeName("sc");
    expectExit(await runPod(["run", "-d", "--name", name, ...withProbe(), "alpine", "sleep", "1000"]), 0);
    onSuiteEnd(async () => void (await runPod(["rm", "-f", "-t", "0", name])));
    const r = await runPod(["exec", name, "cat", "/proc/self/status"]);
    expectExit(r, 0);
    expect(seccompLine(r.stdout)).toBe("2");
    const k = await runPod(["exec", name, "/probe", "addkey", "k2"]);
    expect(k.stdout.trim()).toBe(`addkey errno ${ENOSYS}`);
  });

  A("with --init both the init (PID 1) and the command are filtered", async () => {
    const o = await out(["--init", "alpine", "sh", "-c", "grep ^Seccomp: /proc/1/status; grep ^Seccomp: /proc/self/status; cat /proc/1/comm"]);
    expect(o.trim().split("\n").map((l) => l.replace(/\s+/g, " "))).toEqual(["Seccomp: 2", "Seccomp: 2", "pod-init"]);
  });
});

describe("a profile of one's own", () => {
  A("a profile that blocks mkdir makes mkdir fail with the profile's errno (it blocks memfd_create too, which pod's own exec needs before the filter only)", async () => {
    const r = await runPod(["run", "--rm", "--security-opt", `seccomp=${denyMkdir}`, "alpine", "sh", "-c", "mkdir /made; echo rc=$?; touch /file && echo touched"]);
    expectExit(r, 0);
    expect(r.stdout).toBe("rc=1\ntouched\n");
    expect(r.stderr).toMatch(/Permission denied/);
  });

  P("keyctl, unshare -U and mount: podman's profile leaves them to the capabilities; a profile that lists them refuses them with EPERM, and unconfined allows them again", async () => {
    // KEYCTL_GET_KEYRING_ID of the session keyring (250 = keyctl on x86_64)
    const script = "/probe syscall 250 0 -3 0; unshare -U true && echo unshare-ok; unshare -Urm mount -t tmpfs none /mnt && echo mount-ok";
    const path = join(pod().tmp, "no-ns.json");
    writeFileSync(path, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["keyctl", "unshare", "mount"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM }] }));
    const podmans = await runPod(["run", "--rm", ...withProbe(), "alpine", "sh", "-c", script]);
    expect(podmans.stdout).toMatch(/^250 ok \d+\nunshare-ok\nmount-ok\n$/);
    const refused = await runPod(["run", "--rm", ...withProbe(), "--security-opt", `seccomp=${path}`, "alpine", "sh", "-c", script]);
    expect(refused.stdout).toBe(`250 errno ${EPERM}\n`);
    expect(refused.stderr).toMatch(/unshare: unshare\(0x10000000\): Operation not permitted/);
    const free = await runPod(["run", "--rm", ...withProbe(), "--security-opt", "seccomp=unconfined", "alpine", "sh", "-c", script]);
    expect(free.stdout).toMatch(/^250 ok \d+\nunshare-ok\nmount-ok\n$/);
  });

  A("--privileged keeps a profile given explicitly", async () => {
    const r = await runPod(["run", "--rm", "--privileged", "--security-opt", `seccomp=${denyMkdir}`, "alpine", "sh", "-c", "mkdir /made; echo rc=$?"]);
    expect(r.stdout).toBe("rc=1\n");
  });

  A("containers.conf's seccomp_profile is the default profile", async () => {
    const conf = join(pod().tmp, "seccomp-containers.conf");
    writeFileSync(conf, `[containers]\nseccomp_profile = "${denyMkdir}"\n`);
    const r = await runPod(["run", "--rm", "alpine", "sh", "-c", "mkdir /made; echo rc=$?"], { env: { CONTAINERS_CONF: conf } });
    expect(r.stdout).toBe("rc=1\n");
    const u = await runPod(["run", "--rm", "--security-opt", "seccomp=unconfined", "alpine", "sh", "-c", "mkdir /made; echo rc=$?"], { env: { CONTAINERS_CONF: conf } });
    expect(u.stdout).toBe("rc=0\n");
  });

  A("the profile is kept at create: changing the file later does not change the container", async () => {
    const path = join(pod().tmp, "kept.json");
    writeFileSync(path, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 5 }] }));
    const name = safeName("kept");
    expectExit(await runPod(["create", "--name", name, "--security-opt", `seccomp=${path}`, "alpine", "sh", "-c", "mkdir /made 2>&1; echo rc=$?"]), 0);
    onSuiteEnd(async () => void (await runPod(["rm", "-f", name])));
    writeFileSync(path, "not json");
    const r = await runPod(["start", "-a", name]);
    expect(r.stdout).toContain("I/O error");
  });

  A("a malformed profile is one clear error, and nothing is created", async () => {
    const bad = join(pod().tmp, "bad.json");
    writeFileSync(bad, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["read"], action: "SCMP_ACT_MAYBE" }] }));
    const name = safeName("bad");
    const r = await runPod(["run", "--name", name, "--security-opt", `seccomp=${bad}`, "alpine", "true"]);
    expectPodError(r, `loading seccomp profile ${bad}`, "syscalls[0].action: unknown action");
    const missingFile = await runPod(["run", "--rm", "--security-opt", `seccomp=${join(pod().tmp, "nope.json")}`, "alpine", "true"]);
    expectPodError(missingFile, "opening seccomp profile", "no such file");
    const ps = await runPod(["ps", "-a", "--format", "{{.Names}}"]);
    expect(ps.stdout).not.toContain(name);
  });

  A("an unknown syscall name in a profile is skipped, as libseccomp does", async () => {
    const path = join(pod().tmp, "unknown.json");
    writeFileSync(path, JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["no_such_call", "mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: EACCES }] }));
    const r = await runPod(["run", "--rm", "--security-opt", `seccomp=${path}`, "alpine", "sh", "-c", "mkdir /made; echo rc=$?"]);
    expect(r.stdout).toBe("rc=1\n");
  });
});

describe("other --security-opt values and inspect", () => {
  A("mask= hides more paths; unmask=ALL opens the default ones; proc-opts= mounts /proc with them", async () => {
    expect((await out(["alpine", "sh", "-c", "ls /sys/firmware | wc -l"])).trim()).toBe("0");
    expect(Number((await out(["--security-opt", "unmask=ALL", "alpine", "sh", "-c", "ls /sys/firmware | wc -l"])).trim())).toBeGreaterThan(0);
    expect(Number((await out(["--security-opt", "unmask=/sys/firmware", "alpine", "sh", "-c", "ls /sys/firmware | wc -l"])).trim())).toBeGreaterThan(0);
    expect(await out(["--security-opt", "mask=/etc/os-release", "alpine", "sh", "-c", "wc -c < /etc/os-release"])).toBe("0\n");
    expect(await out(["--security-opt", "proc-opts=subset=pid", "alpine", "sh", "-c", "test -e /proc/cpuinfo && echo cpuinfo || echo no-cpuinfo; test -e /proc/self/status && echo self"])).toBe("no-cpuinfo\nself\n");
  });

  A("label=disable is accepted (no SELinux labels here, as podman without SELinux); unknown values are refused", async () => {
    expect(await out(["--security-opt", "label=disable", "alpine", "echo", "ok"])).toBe("ok\n");
    const r = await runPod(["run", "--rm", "--security-opt", "label=whatever", "alpine", "true"]);
    expectPodError(r, "unsupported --security-opt");
    const s = await runPod(["run", "--rm", "--security-opt", "bogus=1", "alpine", "true"]);
    expectPodError(s, "unsupported --security-opt");
  });

  A("inspect shows HostConfig.SecurityOpt, EffectiveCaps and BoundingCaps", async () => {
    const name = safeName("insp");
    expectExit(await runPod(["create", "--name", name, "--security-opt", "seccomp=unconfined", "--security-opt", "no-new-privileges=true", "--security-opt", "label=disable", "--cap-drop", "CHOWN", "alpine", "true"]), 0);
    onSuiteEnd(async () => void (await runPod(["rm", "-f", name])));
    const r = await runPod(["inspect", name]);
    expectExit(r, 0);
    const j = JSON.parse(r.stdout)[0];
    expect(j.HostConfig.SecurityOpt).toEqual(["seccomp=unconfined", "no-new-privileges", "label=disable"]);
    expect(j.EffectiveCaps).toEqual(["CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_SETFCAP"]);
    expect(j.BoundingCaps).toEqual(j.EffectiveCaps);
  });
});
