// pod run: what confines the process. Capabilities (podman's default set,
// --cap-add/--cap-drop, --privileged, non-root users), no_new_privs, masked
// and read-only kernel paths, /dev, leaked file descriptors, inherited signal
// dispositions, the controlling terminal and the network namespace.
import { beforeAll, describe } from "bun:test";
import { readFileSync } from "node:fs";
import { useSuite, it, requires, runPod, pod, expect, expectExit, assertOutput, lines, missing, onSuiteEnd, SETUP_TIMEOUT, type PodResult } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture } from "../fixtures/images.ts";

useSuite("110-run-security");

const A = requires("subuid", "alpine-fixture");
const B = requires("subuid");

let reg: Registry;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  pod().mirrorDockerIo(reg.host);
  await pushFixture(reg, "busybox");
  if (!missing("alpine-fixture")) {
    await pushFixture(reg, "alpine");
    expectExit(await runPod(["pull", "-q", "alpine"]), 0);
  }
  expectExit(await runPod(["pull", "-q", "busybox"]), 0);
}, SETUP_TIMEOUT);

const run = (args: string[], opts: Parameters<typeof runPod>[1] = {}): Promise<PodResult> => runPod(["run", "--rm", ...args], opts);

async function out(args: string[]): Promise<string> {
  const r = await run(args);
  expectExit(r, 0);
  return r.stdout;
}

// ---- capabilities ----------------------------------------------------------------

/** linux/capability.h bit numbers of the capabilities named here. */
const CAP_BIT: Record<string, number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  FSETID: 4,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  SETPCAP: 8,
  NET_BIND_SERVICE: 10,
  NET_ADMIN: 12,
  SYS_CHROOT: 18,
  SETFCAP: 31,
};
const PODMAN_DEFAULT = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"];
const mask = (names: string[]) => names.reduce((m, n) => m | (1n << BigInt(CAP_BIT[n]!)), 0n);
const hex = (m: bigint) => m.toString(16).padStart(16, "0");
/** Every capability the running kernel knows: bits 0..cap_last_cap. */
const ALL_CAPS = (1n << BigInt(Number(readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim()) + 1)) - 1n;

/** The Cap* and NoNewPrivs lines of the container command's /proc/self/status. */
async function status(args: string[], image = "alpine"): Promise<Record<string, string>> {
  const o = await out([...args, image, "cat", "/proc/self/status"]);
  return Object.fromEntries(lines(o).map((l) => l.split(/:\s*/, 2) as [string, string]));
}

describe("capabilities", () => {
  it("podman's default set is 0x00000000800405fb (checked from the bit numbers)", () => {
    expect(hex(mask(PODMAN_DEFAULT))).toBe("00000000800405fb");
  });

  A("root gets podman's default set: effective, permitted and bounding; nothing inheritable or ambient", async () => {
    const s = await status([]);
    const d = hex(mask(PODMAN_DEFAULT));
    expect({ CapEff: s.CapEff, CapPrm: s.CapPrm, CapBnd: s.CapBnd, CapInh: s.CapInh, CapAmb: s.CapAmb }).toEqual({
      CapEff: d,
      CapPrm: d,
      CapBnd: d,
      CapInh: "0000000000000000",
      CapAmb: "0000000000000000",
    });
  });

  A("--cap-drop ALL leaves none, bounding set included", async () => {
    const s = await status(["--cap-drop", "ALL"]);
    expect([s.CapEff, s.CapPrm, s.CapBnd]).toEqual(["0000000000000000", "0000000000000000", "0000000000000000"]);
  });

  A("--cap-add NET_ADMIN adds bit 12 (CAP_ and lower-case spellings too)", async () => {
    const want = hex(mask([...PODMAN_DEFAULT, "NET_ADMIN"]));
    expect(want).toBe("00000000800415fb");
    for (const spelling of ["NET_ADMIN", "CAP_NET_ADMIN", "cap_net_admin"]) {
      const s = await status(["--cap-add", spelling]);
      expect([s.CapEff, s.CapBnd], `--cap-add ${spelling}`).toEqual([want, want]);
    }
  });

  A("--cap-drop CHOWN removes bit 0, and chown then fails", async () => {
    const s = await status(["--cap-drop", "CHOWN"]);
    expect(s.CapEff).toBe(hex(mask(PODMAN_DEFAULT.filter((c) => c !== "CHOWN"))));
    const r = await run(["--cap-drop", "CHOWN", "alpine", "sh", "-c", "touch /tmp/f && chown 1 /tmp/f"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Operation not permitted");
    expectExit(await run(["alpine", "sh", "-c", "touch /tmp/f && chown 1 /tmp/f"]), 0);
  });

  A("--cap-drop ALL --cap-add CHOWN leaves only CHOWN", async () => {
    const s = await status(["--cap-drop", "ALL", "--cap-add", "CHOWN"]);
    expect(s.CapEff).toBe(hex(mask(["CHOWN"])));
  });

  A("--cap-add ALL and --privileged give every capability the kernel has", async () => {
    const all = hex(ALL_CAPS);
    const a = await status(["--cap-add", "ALL"]);
    expect([a.CapEff, a.CapBnd]).toEqual([all, all]);
    const p = await status(["--privileged"]);
    expect([p.CapEff, p.CapPrm, p.CapBnd]).toEqual([all, all, all]);
  });

  A("a non-root user (-u 1000) has no effective or permitted capabilities", async () => {
    const s = await status(["-u", "1000"]);
    expect([s.CapEff, s.CapPrm, s.CapAmb]).toEqual(["0000000000000000", "0000000000000000", "0000000000000000"]);
    expect(s.CapBnd).toBe(hex(mask(PODMAN_DEFAULT)));
  });

  A("--security-opt no-new-privileges sets NoNewPrivs; it is off by default", async () => {
    expect((await status([])).NoNewPrivs).toBe("0");
    expect((await status(["--security-opt", "no-new-privileges"])).NoNewPrivs).toBe("1");
  });

  A("an unknown capability is refused with 125", async () => {
    const r = await run(["--cap-add", "NOT_A_CAPABILITY", "alpine", "true"]);
    expectExit(r, 125);
    expect(r.stderr).toContain("NOT_A_CAPABILITY");
  });
});

// ---- kernel interfaces -------------------------------------------------------------

describe("/proc, /sys and /dev", () => {
  A("/proc/kcore, /proc/keys and /proc/timer_list are masked: absent or /dev/null, reading them gives nothing", async () => {
    const script = 'for f in /proc/kcore /proc/keys /proc/timer_list; do if [ -e $f ]; then echo "$f $(stat -c %F $f) $(cat $f | wc -c)"; else echo "$f absent"; fi; done';
    for (const l of lines(await out(["alpine", "sh", "-c", script]))) {
      expect(l).toMatch(/^\/proc\/\S+ (absent|character special file 0)$/);
    }
    // on the host /proc/keys exists, so inside it must be the mask, not absent
    expect(await out(["alpine", "stat", "-c", "%F", "/proc/keys"])).toBe("character special file\n");
  });

  A("/proc/sys is read-only", async () => {
    const r = await run(["alpine", "sh", "-c", "echo pod > /proc/sys/kernel/domainname"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Read-only file system");
    const m = await out(["alpine", "sh", "-c", "grep ' /proc/sys ' /proc/mounts"]);
    expect(lines(m)).toHaveLength(1);
    expect(m.split(" ")[3]!.split(",")).toContain("ro");
  });

  A("/sys is read-only", async () => {
    const r = await run(["alpine", "sh", "-c", "touch /sys/pod-x"]);
    expect(r.code).not.toBe(0);
    const m = lines(await out(["alpine", "sh", "-c", "grep ' /sys ' /proc/mounts"]));
    expect(m).toHaveLength(1);
    expect(m[0]!.split(" ")[3]!.split(",")).toContain("ro");
  });

  A("/dev holds null zero full random urandom tty, and /dev/pts, /dev/shm, /dev/mqueue", async () => {
    const script =
      "for d in null zero full random urandom tty; do test -c /dev/$d && echo $d; done; for d in pts shm mqueue; do test -d /dev/$d && echo $d/; done; " +
      "echo x > /dev/null && head -c 4 /dev/zero | od -An -tx1 | tr -d ' '; echo shm > /dev/shm/f && cat /dev/shm/f; test -e /dev/sda || echo no-disks";
    expect(lines(await out(["alpine", "sh", "-c", script]))).toEqual([
      "null", "zero", "full", "random", "urandom", "tty", "pts/", "shm/", "mqueue/", "00000000", "shm", "no-disks",
    ]);
  });

  A("the process has only fds 0, 1 and 2 (plus the one the listing opens)", async () => {
    const l = lines(await out(["alpine", "ls", "-l", "/proc/self/fd"])).filter((x) => !x.startsWith("total"));
    const fds = l.map((x) => x.match(/ (\d+)( -> (.*))?$/)).map((m) => ({ fd: m?.[1], target: m?.[3] }));
    const extra = fds.filter((f) => !["0", "1", "2"].includes(f.fd ?? ""));
    expect(fds.map((f) => f.fd).slice(0, 3)).toEqual(["0", "1", "2"]);
    expect(extra.length, `fds beyond 0 1 2: ${JSON.stringify(extra)}`).toBeLessThanOrEqual(1);
    for (const e of extra) if (e.target) expect(e.target).toMatch(/^\/proc\/\d+\/fd$/);
    // the same seen from the shell (two commands, so sh does not exec ls in its place)
    const sh = lines(await out(["alpine", "sh", "-c", "ls /proc/$$/fd; true"]));
    expect(sh).toEqual(["0", "1", "2"]);
  });

  A("no signal is ignored or blocked: SigIgn and SigBlk are 0, `yes | head -1` ends", async () => {
    const s = await status([]);
    expect({ SigBlk: s.SigBlk, SigIgn: s.SigIgn }).toEqual({ SigBlk: "0000000000000000", SigIgn: "0000000000000000" });
    const r = await run(["alpine", "sh", "-c", "yes | head -1"], { timeoutMs: 20_000 });
    expectExit(r, 0);
    expect(r.stdout).toBe("y\n");
  });

  A("without -t there is no terminal: `tty` says so and /dev/tty cannot be opened", async () => {
    const r = await run(["alpine", "tty"]);
    expectExit(r, 1);
    assertOutput(r.stdout, "not a tty\n", "tty's output");
    expect(await out(["alpine", "sh", "-c", "if (: </dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi"])).toBe("no-ctty\n");
  });
});

// ---- network ---------------------------------------------------------------------

/** Interface names in a /proc/net/dev listing. */
function ifaces(netDev: string): string[] {
  return lines(netDev)
    .slice(2)
    .map((l) => l.trim().split(":")[0]!)
    .sort();
}

describe("network", () => {
  B("--network none has only lo; the default has lo and the helper's interface (500-network covers it)", async () => {
    expect(ifaces(await out(["--network", "none", "busybox", "cat", "/proc/net/dev"]))).toEqual(["lo"]);
    expect(ifaces(await out(["busybox", "cat", "/proc/net/dev"])).length).toBe(2);
  });

  B("--network host shares the host's interfaces", async () => {
    const host = ifaces(readFileSync("/proc/net/dev", "utf8"));
    expect(ifaces(await out(["--network", "host", "busybox", "cat", "/proc/net/dev"]))).toEqual(host);
  });
});
