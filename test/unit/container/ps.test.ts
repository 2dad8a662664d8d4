// `ps --sort` (podman's SortPsOutput keys, ascending), `ps --size` as podman
// prints it, and `--cidfile` files that appear whole and only once.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PS_SORT_KEYS, checkPsQuery, containerNamespaces, namespaceInode, sortEntries } from "../../../pkg/container/record/ps.ts";
import { goSize, psJsonRow, psRow, psTemplateRow, sizeText } from "../../../pkg/container/record/views.ts";
import { checkCidFile, removeCidFileOf, writeCidFile } from "../../../pkg/container/engine/cidfile.ts";
import type { ContainerRecord } from "../../../pkg/container/record/records.ts";
import type { Status } from "../../../pkg/container/record/state.ts";
import { thrown } from "../runtime/_layers.ts";

const rec = (name: string, id: string, o: Partial<ContainerRecord>): ContainerRecord => ({
  id: id.repeat(64),
  name,
  image: "docker.io/library/alpine:latest",
  imageId: "9".repeat(64),
  command: ["true"],
  created: "2026-01-01T00:00:00Z",
  state: "created",
  ...o,
});

// newest first, as ps lists before sorting
const entries = [
  { rec: rec("zeta", "1", { created: "2026-01-01T00:00:03Z", command: ["sleep", "9"], image: "quay.io/b:1", state: "running", startedAt: "2026-01-01T00:00:05Z" }), status: "running" as Status, size: { rwSize: 5, rootFsSize: 300 } },
  { rec: rec("alpha", "3", { created: "2026-01-01T00:00:02Z", command: ["ash"], image: "docker.io/a:1", state: "exited", startedAt: "2026-01-01T00:00:04Z" }), status: "exited" as Status, size: { rwSize: 9, rootFsSize: 100 } },
  { rec: rec("mid", "2", { created: "2026-01-01T00:00:01Z", command: ["true"], image: "quay.io/b:1" }), status: "created" as Status, size: { rwSize: 1, rootFsSize: 200 } },
];
const sorted = (key: (typeof PS_SORT_KEYS)[number]) => sortEntries(entries, key).map((e) => e.rec.name);

describe("ps --sort", () => {
  test("podman's keys", () => {
    expect([...PS_SORT_KEYS]).toEqual(["command", "created", "id", "image", "names", "runningfor", "size", "status"]);
  });

  test("each key sorts ascending", () => {
    expect(sorted("names")).toEqual(["alpha", "mid", "zeta"]);
    expect(sorted("created")).toEqual(["mid", "alpha", "zeta"]);
    expect(sorted("id")).toEqual(["zeta", "mid", "alpha"]);
    expect(sorted("command")).toEqual(["alpha", "zeta", "mid"]);
    expect(sorted("status")).toEqual(["mid", "alpha", "zeta"]);
    // never started (0) first, then by start time
    expect(sorted("runningfor")).toEqual(["mid", "alpha", "zeta"]);
    // podman compares the virtual size
    expect(sorted("size")).toEqual(["alpha", "mid", "zeta"]);
  });

  test("ties keep the newest-first order", () => {
    expect(sorted("image")).toEqual(["alpha", "zeta", "mid"]);
  });
});

describe("ps --size", () => {
  test("go-units HumanSizeWithPrecision(n, 3): decimal units, no space, Go's %.3g", () => {
    expect(goSize(0)).toBe("0B");
    expect(goSize(999)).toBe("999B");
    expect(goSize(1000)).toBe("1kB");
    expect(goSize(12_345)).toBe("12.3kB");
    expect(goSize(7_800_000)).toBe("7.8MB");
    expect(goSize(999_900)).toBe("1e+03kB");
    expect(goSize(3_000_000_000)).toBe("3GB");
  });

  test("{{.Size}} reads RW (virtual ROOTFS); JSON has Size only when measured", () => {
    expect(sizeText({ rwSize: 12_345, rootFsSize: 7_800_000 })).toBe("12.3kB (virtual 7.8MB)");
    const measured = psRow(entries[0]!.rec, Date.now(), false, { rwSize: 1, rootFsSize: 2 });
    expect(psJsonRow(measured).Size).toEqual({ rwSize: 1, rootFsSize: 2 });
    expect(psTemplateRow(measured).Size).toBe("1B (virtual 2B)");
    const plain = psRow(entries[0]!.rec);
    expect("Size" in psJsonRow(plain)).toBe(false);
    expect(psTemplateRow(plain).Size).toBe("");
  });
});

describe("--cidfile", () => {
  const dir = mkdtempSync(join(tmpdir(), "pod-cidfile-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const id = "c".repeat(64);

  test("written whole, without a newline, and nothing else left in the directory", () => {
    const f = checkCidFile(join(dir, "web.cid"));
    writeCidFile(f, id);
    expect(readFileSync(f, "utf8")).toBe(id);
    expect(readdirSync(dir)).toEqual(["web.cid"]);
  });

  test("a file that exists is refused before and at the write, and kept as it was", () => {
    const f = join(dir, "taken.cid");
    writeFileSync(f, "someone else's\n");
    const e = thrown(() => checkCidFile(f));
    expect(e.message).toBe(`container id file exists: ${f}`);
    expect(e.hint).toContain(`delete ${f}`);
    expect(thrown(() => writeCidFile(f, id)).message).toBe(`container id file exists: ${f}`);
    expect(readFileSync(f, "utf8")).toBe("someone else's\n");
    expect(readdirSync(dir).filter((n) => n.includes("tmp"))).toEqual([]);
  });

  test("a directory that does not exist is refused before anything is made", () => {
    expect(thrown(() => checkCidFile(join(dir, "no", "such.cid"))).message).toContain("no such directory");
  });

  test("removed with its container, but only while it still holds that container's ID", () => {
    const mine = join(dir, "mine.cid");
    writeCidFile(mine, id);
    removeCidFileOf(rec("x", "c", { config: { rm: false, interactive: false, opts: {} as never, cidfile: mine } as never }));
    expect(existsSync(mine)).toBe(false);
    const reused = join(dir, "reused.cid");
    writeFileSync(reused, "d".repeat(64));
    removeCidFileOf(rec("x", "c", { config: { rm: false, interactive: false, opts: {} as never, cidfile: reused } as never }));
    expect(existsSync(reused)).toBe(true);
  });
});

describe("ps --ns and --pod", () => {
  test("namespace links give their inode numbers; anything else gives nothing", () => {
    expect(namespaceInode("net:[4026531992]")).toBe("4026531992");
    expect(namespaceInode("user:[4026531837]")).toBe("4026531837");
    expect(namespaceInode("garbage")).toBe("");
  });

  test("the first process's /proc/PID/ns links, in podman's columns; empty without a pid or a link", () => {
    const proc = mkdtempSync(join(tmpdir(), "pod-proc-"));
    mkdirSync(join(proc, "42", "ns"), { recursive: true });
    const files = { cgroup: 1, ipc: 2, mnt: 3, net: 4, pid: 5, user: 6, uts: 7 };
    for (const [f, n] of Object.entries(files)) if (f !== "uts") symlinkSync(`${f}:[${n}]`, join(proc, "42", "ns", f));
    expect(containerNamespaces(42, proc)).toEqual({ Cgroup: "1", IPC: "2", MNT: "3", NET: "4", PIDNS: "5", User: "6", UTS: "" });
    expect(containerNamespaces(undefined, proc)).toEqual({ Cgroup: "", IPC: "", MNT: "", NET: "", PIDNS: "", User: "", UTS: "" });
    rmSync(proc, { recursive: true, force: true });
  });

  test("rows carry podman's empty Pod and PodName, and the --ns columns when asked", () => {
    const r = rec("a", "a", { state: "exited" });
    const plain = psRow(r);
    expect([plain.Pod, plain.PodName]).toEqual(["", ""]);
    expect("Namespaces" in plain).toBe(false);
    const ns = { Cgroup: "1", IPC: "2", MNT: "3", NET: "4", PIDNS: "5", User: "6", UTS: "7" };
    const t = psTemplateRow(psRow(r, Date.now(), false, undefined, ns));
    expect([t.CGROUPNS, t.IPC, t.MNT, t.NET, t.PIDNS, t.USERNS, t.UTS]).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
    expect(psJsonRow(psRow(r, Date.now(), false, undefined, ns)).Namespaces).toEqual(ns);
  });

  test("--ns conflicts with -q and with --size, as in podman", () => {
    const q = { all: false, filters: [], latest: false, size: false, noTrunc: false };
    expect(() => checkPsQuery({ ...q, ns: true, quiet: true })).toThrow("quiet conflicts with size and namespace");
    expect(() => checkPsQuery({ ...q, ns: true, size: true, quiet: false })).toThrow("size and namespace options conflict");
    expect(() => checkPsQuery({ ...q, ns: true, quiet: false })).not.toThrow();
  });
});
