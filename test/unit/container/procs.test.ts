// `pod top`: descriptor parsing like podman's (psgo), the formats its columns
// use, and reading a process from /proc.
import { describe, expect, test } from "bun:test";
import { DEFAULT_DESCRIPTORS, DESCRIPTORS, goDuration, parseDescriptors, readProc, ttyName } from "../../../pkg/container/engine/procs.ts";
import { idNames, parseIdMap } from "../../../pkg/container/fs/view.ts";
import { UsageError } from "../../../pkg/errors.ts";
import { thrown } from "../runtime/_layers.ts";

describe("descriptors", () => {
  test("none gives podman's default columns", () => {
    expect(parseDescriptors([])).toEqual(["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"]);
    expect(DEFAULT_DESCRIPTORS.map((d) => DESCRIPTORS[d]!.header)).toEqual(["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]);
  });

  test("names and ps(1) codes, as separate arguments or comma lists", () => {
    expect(parseDescriptors(["pid", "user,args", "%C", " comm "])).toEqual(["pid", "user", "args", "pcpu", "comm"]);
    expect(parseDescriptors(["%p,%U,%a"])).toEqual(["pid", "user", "args"]);
  });

  test("an unknown descriptor is a usage error listing the valid ones", () => {
    const e = thrown(() => parseDescriptors(["pid", "bogus"]));
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toBe('unknown descriptor "bogus"');
    expect(e.hint).toContain("args, capamb");
    expect(e.hint).toContain("user, vsz");
  });
});

describe("column formats", () => {
  test("durations read like Go's time.Duration", () => {
    expect(goDuration(0)).toBe("0s");
    expect(goDuration(933_930_775)).toBe("933.930775ms");
    expect(goDuration(1.5e9)).toBe("1.5s");
    expect(goDuration(62e9)).toBe("1m2s");
    expect(goDuration(3600e9)).toBe("1h0m0s");
    expect(goDuration(1500)).toBe("1.5µs");
  });

  test("terminals by device number", () => {
    expect(ttyName(0)).toBe("?");
    expect(ttyName((136 << 8) | 3)).toBe("pts/3");
    expect(ttyName((4 << 8) | 1)).toBe("tty1");
  });

  test("ids map back through uid_map lines; names come from passwd", () => {
    const inside = parseIdMap("         0       1001          1\n         1     100000      65536\n");
    expect(inside(1001)).toBe(0);
    expect(inside(100000)).toBe(1);
    expect(inside(100999)).toBe(1000);
    expect(inside(5)).toBeUndefined();
    expect(idNames("root:x:0:0::/root:/bin/sh\nnobody:x:65534:65534::/:/sbin/nologin\n").get(65534)).toBe("nobody");
  });
});

describe("/proc", () => {
  test("reads a live process: command line, state, ids", async () => {
    const child = Bun.spawn(["sleep", "30"], { stdout: "ignore", stderr: "ignore" });
    try {
      await Bun.sleep(50);
      const p = readProc(child.pid)!;
      expect(p.args).toEqual(["sleep", "30"]);
      expect(p.comm).toBe("sleep");
      expect(p.hostPpid).toBe(process.pid);
      expect(p.pid).toBe(child.pid);
      expect(p.uid[1]).toBe(process.geteuid!());
      expect(p.ttyNr === 0 || ttyName(p.ttyNr) !== "").toBe(true);
    } finally {
      child.kill();
      await child.exited;
    }
    expect(readProc(2 ** 22 + 7)).toBeUndefined();
  });
});
