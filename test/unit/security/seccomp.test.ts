// The seccomp compiler, run through a BPF interpreter: podman's default
// profile as pod ships it, its capability-dependent rules, argument
// comparisons, architectures and the x32 bit; and the profile checks.
import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileProfile, DEFAULT_PROFILE, parseProfile, seccompFilter, X32_SYSCALL_BIT, type Target } from "../../../pkg/security/index.ts";
import { SYSCALL_TABLES } from "../../../pkg/security/syscalls.generated.ts";
import { RET } from "../../../pkg/security/bpf.ts";
import { run } from "./interp.ts";

const X86_64 = 0xc000003e;
const I386 = 0x40000003;
const AARCH64 = 0xc00000b7;
const ARM = 0x40000028;
const DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_CHROOT"];
const target = (caps = DEFAULT_CAPS, arch = "SCMP_ARCH_X86_64", kernel = "6.1.0"): Target => ({ arch, caps: new Set(caps), kernel });
const errno = (e: number) => RET.ERRNO | e;
const EPERM = 1;
const ENOSYS = 38;

const nr = (name: string, table: keyof typeof SYSCALL_TABLES = "x86_64") => {
  const n = SYSCALL_TABLES[table][name];
  if (n === undefined) throw new Error(`${name} not in ${table}`);
  return n;
};

const def = parseProfile(DEFAULT_PROFILE, "the default profile");
const prog = compileProfile(def, target()).program;
const call = (name: string, args: bigint[] = [], p = prog, arch = X86_64, table: keyof typeof SYSCALL_TABLES = "x86_64") => run(p, { nr: nr(name, table), arch, args });

describe("podman's default profile on x86_64, default capabilities", () => {
  test("fits the kernel's limit", () => expect(prog.length).toBeLessThan(4096));
  test("ordinary syscalls are allowed", () => {
    for (const n of ["read", "write", "openat", "execve", "mkdir", "clone", "keyctl", "mount", "unshare"]) expect([n, call(n)]).toEqual([n, RET.ALLOW]);
  });
  test("the listed dangerous ones fail with EPERM", () => {
    for (const n of ["kexec_load", "userfaultfd", "vmsplice", "swapon"]) expect([n, call(n)]).toEqual([n, errno(EPERM)]);
  });
  test("capability-gated: without CAP_SYS_ADMIN, bpf and perf_event_open are EPERM; with it, allowed", () => {
    expect(call("bpf")).toBe(errno(EPERM));
    expect(call("perf_event_open")).toBe(errno(EPERM));
    const admin = compileProfile(def, target([...DEFAULT_CAPS, "CAP_SYS_ADMIN"])).program;
    expect(call("bpf", [], admin)).toBe(RET.ALLOW);
    expect(call("setns", [], admin)).toBe(RET.ALLOW);
    expect(call("chroot")).toBe(RET.ALLOW); // CAP_SYS_CHROOT is a default capability
    expect(call("chroot", [], compileProfile(def, target(DEFAULT_CAPS.filter((c) => c !== "CAP_SYS_CHROOT"))).program)).toBe(errno(EPERM));
  });
  test("what no rule names gets the default action: ENOSYS (add_key, request_key)", () => {
    expect(call("add_key")).toBe(errno(ENOSYS));
    expect(call("request_key")).toBe(errno(ENOSYS));
    expect(run(prog, { nr: 1000, arch: X86_64 })).toBe(errno(ENOSYS));
  });
  test("personality: only the values the profile lists, compared on all 64 bits", () => {
    for (const v of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect([v, call("personality", [v])]).toEqual([v, RET.ALLOW]);
    for (const v of [1n, 0x100000000n, 0x1_0000_0008n]) expect([v, call("personality", [v])]).toEqual([v, errno(ENOSYS)]);
  });
  test("socket: NETLINK_AUDIT on AF_NETLINK is EINVAL without CAP_AUDIT_WRITE, everything else allowed", () => {
    expect(call("socket", [16n, 3n, 9n])).toBe(errno(22));
    expect(call("socket", [16n, 3n, 0n])).toBe(RET.ALLOW);
    expect(call("socket", [2n, 1n, 9n])).toBe(RET.ALLOW);
    expect(call("socket", [16n, 3n, 9n], compileProfile(def, target([...DEFAULT_CAPS, "CAP_AUDIT_WRITE"])).program)).toBe(RET.ALLOW);
  });
  test("arch-gated rules: arch_prctl for amd64, not the arm-only ones", () => {
    expect(call("arch_prctl")).toBe(RET.ALLOW);
    expect(call("modify_ldt")).toBe(RET.ALLOW);
  });
  test("i386 code is filtered with i386's numbers", () => {
    expect(call("mkdir", [], prog, I386, "x86")).toBe(RET.ALLOW);
    expect(call("kexec_load", [], prog, I386, "x86")).toBe(errno(EPERM));
    expect(call("add_key", [], prog, I386, "x86")).toBe(errno(ENOSYS));
  });
  test("x32 numbers (the x32 bit under x86_64's arch) are filtered with x32's table, not x86_64's", () => {
    expect(call("mkdir", [], prog, X86_64, "x32")).toBe(RET.ALLOW);
    expect(call("kexec_load", [], prog, X86_64, "x32")).toBe(errno(EPERM));
    expect(run(prog, { nr: X32_SYSCALL_BIT + 999, arch: X86_64 })).toBe(errno(ENOSYS));
  });
  test("an architecture outside the filter is killed (libseccomp's bad-arch action)", () => {
    expect(run(prog, { nr: 0, arch: AARCH64 })).toBe(RET.KILL_PROCESS);
  });
});

describe("aarch64", () => {
  const arm = compileProfile(def, target(DEFAULT_CAPS, "SCMP_ARCH_AARCH64")).program;
  test("aarch64's numbers; arm (no table in pod) is outside the filter", () => {
    expect(call("openat", [], arm, AARCH64, "aarch64")).toBe(RET.ALLOW);
    expect(call("bpf", [], arm, AARCH64, "aarch64")).toBe(errno(EPERM));
    expect(run(arm, { nr: nr("openat", "x86_64"), arch: X86_64 })).toBe(RET.KILL_PROCESS);
    expect(run(arm, { nr: 5, arch: ARM })).toBe(RET.KILL_PROCESS);
  });
});

describe("custom profiles", () => {
  const custom = (j: object, t = target()) => compileProfile(parseProfile(JSON.stringify(j), "test.json"), t);
  test("a deny list: mkdir and mkdirat with the profile's errno, the rest allowed; unknown names skipped", () => {
    const c = custom({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdir", "mkdirat", "no_such_syscall"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }] });
    expect(call("mkdir", [], c.program)).toBe(errno(13));
    expect(call("mkdirat", [], c.program)).toBe(errno(13));
    expect(call("openat", [], c.program)).toBe(RET.ALLOW);
    expect(c.skipped).toEqual(["no_such_syscall"]);
    // no archMap: the native architecture alone
    expect(c.arches).toEqual(["SCMP_ARCH_X86_64"]);
    expect(call("mkdir", [], c.program, X86_64, "x32")).toBe(RET.KILL_PROCESS);
  });
  test("ERRNO without errnoRet is EPERM; KILL, TRAP, LOG", () => {
    const c = custom({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["getpid"], action: "SCMP_ACT_KILL" }, { names: ["getppid"], action: "SCMP_ACT_TRAP" }, { names: ["gettid"], action: "SCMP_ACT_LOG" }, { names: ["read"], action: "SCMP_ACT_ERRNO" }] });
    expect(call("getpid", [], c.program)).toBe(RET.KILL_THREAD);
    expect(call("getppid", [], c.program)).toBe(RET.TRAP);
    expect(call("gettid", [], c.program)).toBe(RET.LOG);
    expect(call("read", [], c.program)).toBe(errno(EPERM));
    expect(call("write", [], c.program)).toBe(errno(EPERM));
  });
  test("argument operators on 64 bits, and big values kept exactly", () => {
    const rule = (op: string, value: string | number, valueTwo = 0) => ({ names: ["ioctl"], action: "SCMP_ACT_ERRNO", errnoRet: 7, args: [{ index: 1, value, valueTwo, op }] });
    const test1 = (op: string, v: string | number, arg: bigint, two = 0) =>
      call("ioctl", [0n, arg], compileProfile(parseProfile(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[${JSON.stringify(rule(op, 0, two)).replace('"value":0', `"value":${v}`)}]}`, "t"), target()).program) === errno(7);
    const big = "18446744073709551615";
    expect([test1("SCMP_CMP_EQ", big, (1n << 64n) - 1n), test1("SCMP_CMP_EQ", big, (1n << 64n) - 2n)]).toEqual([true, false]);
    expect([test1("SCMP_CMP_NE", 5, 5n), test1("SCMP_CMP_NE", 5, 5n | (1n << 32n)), test1("SCMP_CMP_NE", 5, 6n)]).toEqual([false, true, true]);
    expect([test1("SCMP_CMP_GT", 0x100000000, 0x100000000n), test1("SCMP_CMP_GT", 0x100000000, 0x100000001n), test1("SCMP_CMP_GT", 0x100000000, 0xffffffffn), test1("SCMP_CMP_GT", 0x100000000, 0x200000000n)]).toEqual([false, true, false, true]);
    expect([test1("SCMP_CMP_GE", 10, 10n), test1("SCMP_CMP_GE", 10, 9n), test1("SCMP_CMP_GE", 10, 1n << 40n)]).toEqual([true, false, true]);
    expect([test1("SCMP_CMP_LT", 10, 9n), test1("SCMP_CMP_LT", 10, 10n), test1("SCMP_CMP_LT", 10, 1n << 40n)]).toEqual([true, false, false]);
    expect([test1("SCMP_CMP_LE", 10, 10n), test1("SCMP_CMP_LE", 10, 11n), test1("SCMP_CMP_LE", 0x100000005, 0x100000004n)]).toEqual([true, false, true]);
    // MASKED_EQ: value is the mask, valueTwo the datum (clone's namespace flags in docker's profile)
    expect([test1("SCMP_CMP_MASKED_EQ", 0x7e020000, 0x10000000n, 0), test1("SCMP_CMP_MASKED_EQ", 0x7e020000, 0x11n, 0)]).toEqual([false, true]);
  });
  test("several checks in one rule must all hold; several rules for one syscall: the most restrictive match wins", () => {
    const c = custom({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        { names: ["kill"], action: "SCMP_ACT_ALLOW", args: [{ index: 1, value: 0, op: "SCMP_CMP_EQ" }] },
        { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 3, args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }, { index: 1, value: 9, op: "SCMP_CMP_EQ" }] },
        { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 4, args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] },
      ],
    });
    expect(call("kill", [1n, 9n], c.program)).toBe(errno(3));
    expect(call("kill", [1n, 15n], c.program)).toBe(errno(4));
    expect(call("kill", [1n, 0n], c.program)).toBe(errno(4));
    expect(call("kill", [2n, 9n], c.program)).toBe(RET.ALLOW);
  });
  test("includes.minKernel and excludes.minKernel against the running kernel", () => {
    const j = { defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["getpid"], action: "SCMP_ACT_ERRNO", includes: { minKernel: "5.8" } }, { names: ["getppid"], action: "SCMP_ACT_ERRNO", excludes: { minKernel: "5.8" } }] };
    const newer = custom(j, target(DEFAULT_CAPS, "SCMP_ARCH_X86_64", "6.1.0-18-amd64")).program;
    const older = custom(j, target(DEFAULT_CAPS, "SCMP_ARCH_X86_64", "4.19.0")).program;
    expect([call("getpid", [], newer), call("getppid", [], newer)]).toEqual([errno(EPERM), RET.ALLOW]);
    expect([call("getpid", [], older), call("getppid", [], older)]).toEqual([RET.ALLOW, errno(EPERM)]);
  });
});

describe("malformed profiles are one clear error", () => {
  const bad = (text: string) => {
    try {
      parseProfile(text, "/x/p.json");
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  test.each([
    ["{", /not valid JSON/],
    ["[]", /not a JSON object/],
    ['{"syscalls":[]}', /defaultAction: unknown action undefined/],
    ['{"defaultAction":"SCMP_ACT_NOPE"}', /unknown action "SCMP_ACT_NOPE"/],
    ['{"defaultAction":"SCMP_ACT_NOTIFY"}', /needs a seccomp listener/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":{}}', /syscalls is not a list/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[],"action":"SCMP_ACT_ALLOW"}]}', /syscalls\[0\] names no syscall/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}', /index 6 is not 0 to 5/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"EQ"}]}]}', /op "EQ"/],
    ['{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":-1}', /errnoRet -1/],
    ['{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"new"}}]}', /minKernel "new"/],
  ])("%s", (text, re) => {
    const m = bad(text);
    expect(m).toMatch(/^loading seccomp profile \/x\/p\.json: /);
    expect(m).toMatch(re);
  });
});

describe("the shipped profile", () => {
  const installed = "/usr/share/containers/seccomp.json";
  const shipped = readFileSync(join(import.meta.dir, "../../../pkg/security/seccomp.json"), "utf8");
  test.skipIf(!existsSync(installed))(`is containers-common's ${installed} (skipped where containers-common is not installed)`, () => {
    const same = readFileSync(installed, "utf8") === shipped;
    if (!same) console.warn(`pkg/security/seccomp.json differs from ${installed}: copy the newer one into the repository if containers-common was upgraded`);
    expect(same).toBe(true);
  });
  test("is what the binary embeds", () => expect(DEFAULT_PROFILE).toBe(shipped));
});

describe("the syscall tables", () => {
  test("x86_64, x86, x32 and aarch64 agree with well-known numbers", () => {
    expect([nr("read"), nr("mkdir"), nr("keyctl"), nr("seccomp")]).toEqual([0, 83, 250, 317]);
    expect([nr("read", "x86"), nr("mkdir", "x86")]).toEqual([3, 39]);
    expect(nr("read", "x32")).toBe(X32_SYSCALL_BIT);
    expect([nr("openat", "aarch64"), nr("keyctl", "aarch64")]).toEqual([56, 219]);
    expect(SYSCALL_TABLES.aarch64.mkdir).toBeUndefined();
  });
});

describe("seccompFilter", () => {
  const caps = ["CAP_CHOWN", "CAP_SYS_CHROOT"];
  test("none for unconfined, or --privileged without a profile of its own", () => {
    expect(seccompFilter({ securityOpt: ["seccomp=unconfined"], privileged: false, caps })).toBeUndefined();
    expect(seccompFilter({ securityOpt: [], privileged: true, caps })).toBeUndefined();
    expect(seccompFilter({ securityOpt: ["seccomp=/p.json"], privileged: true, profile: '{"defaultAction":"SCMP_ACT_ALLOW"}', caps })).toMatch(/^([0-9a-f]{16})+$/);
  });
  test("the compiled filter is kept in the cache directory and read back; a damaged entry is compiled again", () => {
    const dir = mkdtempSync(join(tmpdir(), "pod-seccomp-"));
    try {
      const first = seccompFilter({ securityOpt: [], privileged: false, caps, cacheDir: dir })!;
      const files = readdirSync(join(dir, "seccomp"));
      expect(files).toHaveLength(1);
      expect(readFileSync(join(dir, "seccomp", files[0]!), "utf8")).toBe(first);
      writeFileSync(join(dir, "seccomp", files[0]!), "0123456789abcdef");
      expect(seccompFilter({ securityOpt: [], privileged: false, caps, cacheDir: dir })).toBe("0123456789abcdef");
      writeFileSync(join(dir, "seccomp", files[0]!), "garbage");
      expect(seccompFilter({ securityOpt: [], privileged: false, caps, cacheDir: dir })).toBe(first);
      // other capabilities, another filter
      seccompFilter({ securityOpt: [], privileged: false, caps: [...caps, "CAP_SYS_ADMIN"], cacheDir: dir });
      expect(readdirSync(join(dir, "seccomp"))).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the generated syscall tables", () => {
  const headers = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
  const gcc = Bun.which("gcc");
  test.skipIf(!gcc || !existsSync(headers))("match this machine's kernel headers (skipped without gcc and the headers: scripts/gen-syscalls.ts needs both)", () => {
    const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../../scripts/gen-syscalls.ts"), "--check"]);
    expect({ code: p.exitCode, err: p.stderr.toString() }).toEqual({ code: 0, err: "" });
  });
});
