// `pod cp` on fabricated image layers and upper dirs: docker cp's placement
// rules, copy-up of image directories, whiteouts replaced (opaque), and no
// way out of the container: not through "..", not through a symlink of the
// image, not through an upper-dir directory swapped for a symlink mid-copy.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { copyIn, copyOut, type CopyRequest } from "../../../pkg/container/fs/copy.ts";
import { FsView } from "../../../pkg/container/fs/view.ts";
import { TreeWriter, type SrcNode } from "../../../pkg/container/fs/write.ts";
import { PodError } from "../../../pkg/errors.ts";
import { lgetxattr } from "../../../pkg/native/libc.ts";
import { makeLayers, removeScratch, scratchDir, thrown, userXattrSupport, whiteoutSupport, type LayerSpec } from "../runtime/_layers.ts";

afterAll(removeScratch);

const whiteouts = whiteoutSupport();
const xattrs = userXattrSupport();
if (!whiteouts.ok || !xattrs.ok) console.log(`skipping whiteout/opaque cases: ${!whiteouts.ok ? whiteouts.reason : ""} ${!xattrs.ok ? xattrs.reason : ""}`);

/** A container: image layer + upper dir, and a host directory with a file and a directory to copy. */
function setup(image: LayerSpec, upper: LayerSpec = {}) {
  const [lower, up] = makeLayers(image, upper);
  const host = scratchDir();
  writeFileSync(join(host, "file"), "from host");
  mkdirSync(join(host, "dir/sub"), { recursive: true });
  writeFileSync(join(host, "dir/sub/a"), "a");
  symlinkSync("/etc/passwd", join(host, "dir/link"));
  const layout = { lowers: [lower!], upper: up! };
  const req = (ctrPath: string, hostInput: string): CopyRequest => ({
    layout,
    container: "web",
    ctrPath,
    hostPath: join(host, hostInput),
    hostInput,
    overwrite: false,
  });
  return { lower: lower!, upper: up!, host, layout, req, view: () => FsView.of(layout) };
}

const read = (view: FsView, path: string) => readFileSync(view.resolve(path).entry!.hostPath, "utf8");

describe("host → container (into the upper dir)", () => {
  test("a file into a directory of the image: the directory is copied up first", () => {
    const c = setup({ "etc/passwd": "root" });
    copyIn(c.req("/etc/", "file"), undefined);
    expect(readFileSync(join(c.upper, "etc/file"), "utf8")).toBe("from host");
    expect(lstatSync(join(c.upper, "etc")).mode).toBe(lstatSync(join(c.lower, "etc")).mode);
    expect(read(c.view(), "/etc/passwd")).toBe("root");
  });

  test("a directory onto a missing name creates it; onto an existing one goes into it; dir/. copies contents", () => {
    const c = setup({ "srv/old": "o" });
    copyIn(c.req("/new", "dir"), undefined);
    expect(readdirSync(join(c.upper, "new")).sort()).toEqual(["link", "sub"]);
    expect(readlinkSync(join(c.upper, "new/link"))).toBe("/etc/passwd");
    copyIn(c.req("/srv", "dir"), undefined);
    expect(read(c.view(), "/srv/dir/sub/a")).toBe("a");
    copyIn(c.req("/srv", "dir/."), undefined);
    expect(read(c.view(), "/srv/sub/a")).toBe("a");
  });

  test("a directory onto a file, and a path under a missing directory, are refused", () => {
    const c = setup({ "etc/passwd": "root" });
    expect(thrown(() => copyIn(c.req("/etc/passwd", "dir"), undefined)).message).toBe("destination must be a directory when copying a directory");
    expect(thrown(() => copyIn(c.req("/nodir/x", "file"), undefined)).message).toBe('"/nodir/x" could not be found on container web: no such file or directory');
    expect(thrown(() => copyIn(c.req("/etc/passwd", "missing"), undefined)).message).toBe('"missing" could not be found on the host: no such file or directory');
  });

  test('".." and symlinks of the image resolve inside the container, never onto the host', () => {
    const outside = scratchDir();
    // the container has the link target's parent directory, but not the target: the copy is made there, inside
    const c = setup({ "etc/passwd": "root", [dirname(outside).slice(1)]: { dir: true }, esc: { symlink: "/../../../.." + outside }, up: { symlink: "../../../../../../.." } });
    copyIn(c.req("../../../../etc/f1", "file"), undefined);
    copyIn(c.req("/esc", "file"), undefined);
    copyIn(c.req("/up/etc/f2", "file"), undefined);
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(c.upper, "etc/f1"))).toBe(true);
    expect(existsSync(join(c.upper, "etc/f2"))).toBe(true);
    expect(readFileSync(join(c.upper, outside.slice(1)), "utf8")).toBe("from host");
  });

  test("an upper-dir directory swapped for a symlink mid-copy is refused, not followed", () => {
    const outside = scratchDir();
    const c = setup({ var: { dir: true } });
    const w = new TreeWriter({ view: c.view(), overwrite: false });
    const root = w.openTrusted(c.upper, c.view().root());
    rmSync(join(c.upper, "var"), { recursive: true, force: true });
    symlinkSync(outside, join(c.upper, "var"));
    expect(thrown(() => w.descend(root, "var")).message).toContain("is not a directory");
    w.close(root);
    expect(readdirSync(outside)).toEqual([]);
  });

  test.if(whiteouts.ok && xattrs.ok)("a directory copied where the container deleted one is opaque: the image's old files stay hidden", () => {
    const c = setup({ "etc/apk/world": "old" }, { "etc/apk": { whiteout: true } });
    copyIn(c.req("/etc/apk", "dir"), undefined);
    expect(Buffer.from(lgetxattr(join(c.upper, "etc/apk"), "user.overlay.opaque")!).toString()).toBe("y");
    expect(c.view().list(c.view().lookup("etc/apk")!).map((e) => e.rel)).toEqual(["etc/apk/link", "etc/apk/sub"]);
  });
});

describe("container → host", () => {
  test("docker cp's rules: into an existing directory, as a new name, or the contents with /.", () => {
    const c = setup({ "etc/passwd": "root", "etc/group": "g", "etc/abs": { symlink: "/etc/passwd" } });
    const into = scratchDir();
    copyOut({ ...c.req("/etc", "x"), hostPath: into, hostInput: into }, undefined);
    expect(readdirSync(join(into, "etc")).sort()).toEqual(["abs", "group", "passwd"]);
    expect(readlinkSync(join(into, "etc/abs"))).toBe("/etc/passwd");
    copyOut(c.req("/etc", "copy"), undefined);
    expect(readFileSync(join(c.host, "copy/passwd"), "utf8")).toBe("root");
    copyOut(c.req("/etc/.", "dir"), undefined);
    expect(readFileSync(join(c.host, "dir/group"), "utf8")).toBe("g");
    copyOut(c.req("/etc/abs", "file"), undefined);
    expect(readFileSync(join(c.host, "file"), "utf8")).toBe("root");
  });

  test("a symlink of the image pointing outside reads the container's file, never the host's", () => {
    const c = setup({ "etc/hostname": "container", esc: { symlink: "/../../../etc" } });
    copyOut(c.req("/esc/hostname", "got"), undefined);
    expect(readFileSync(join(c.host, "got"), "utf8")).toBe("container");
    copyOut(c.req("../../../../etc/hostname", "got2"), undefined);
    expect(readFileSync(join(c.host, "got2"), "utf8")).toBe("container");
  });

  test("missing sources and destinations name the path as typed", () => {
    const c = setup({ "etc/passwd": "root" });
    expect(thrown(() => copyOut(c.req("/nonexist", "x"), undefined)).message).toBe('"/nonexist" could not be found on container web: no such file or directory');
    expect(thrown(() => copyOut(c.req("/etc/passwd", "no/such/dir"), undefined)).message).toBe('"no/such/dir" could not be found on the host: no such file or directory');
  });
});

describe("a link to the root, and failures", () => {
  test("a link to / is followed: the root without dev, proc and sys; the link inside stays a link; /proc by name is copied", () => {
    const c = setup({ "etc/passwd": "root", "proc/1/status": "p", "sys/kernel/x": "s", dev: { dir: true }, "link-up": { symlink: "/" } });
    copyOut(c.req("/link-up", "out"), undefined);
    expect(readdirSync(join(c.host, "out")).sort()).toEqual(["etc", "link-up"]);
    expect(readFileSync(join(c.host, "out/etc/passwd"), "utf8")).toBe("root");
    expect(readlinkSync(join(c.host, "out/link-up"))).toBe("/");
    copyOut(c.req("/link-up/.", "contents"), undefined);
    expect(readdirSync(join(c.host, "contents")).sort()).toEqual(["etc", "link-up"]);
    copyOut(c.req("/link-up/proc", "proc"), undefined);
    expect(readFileSync(join(c.host, "proc/1/status"), "utf8")).toBe("p");
  });

  /** A source tree: a directory holding a file "a", then a directory "b" that cannot be listed. */
  function failingTree(host: string, name: string): SrcNode {
    writeFileSync(join(host, "a-src"), "a");
    mkdirSync(join(host, "b-src"), { recursive: true });
    const dirSt = statSync(host);
    const file: SrcNode = { name: "a", st: statSync(join(host, "a-src")), hostPath: join(host, "a-src"), shown: "web:/x/a", children: () => [] };
    const bad: SrcNode = {
      name: "b",
      st: statSync(join(host, "b-src")),
      hostPath: join(host, "b-src"),
      shown: "web:/x/b",
      children: () => {
        throw Object.assign(new Error("EIO: i/o error, scandir"), { code: "EIO" });
      },
    };
    return { name, st: dirSt, hostPath: host, shown: "web:/x", children: () => [file, bad] };
  }

  test("a directory met again below itself is a loop, refused", () => {
    const src = scratchDir();
    const st = statSync(src);
    const loop: SrcNode = { name: "l", st, hostPath: src, shown: "web:/l", children: () => [loop] };
    const dest = scratchDir();
    const w = new TreeWriter({ overwrite: false });
    const d = w.openTrusted(dest);
    try {
      expect(thrown(() => w.transact(d, () => w.put(d, "l", loop))).message).toBe("copying web:/l: it contains itself (a directory mounted below itself?)");
      expect(readdirSync(dest)).toEqual([]);
    } finally {
      w.close(d);
    }
  });

  test("a failed copy removes what it made, keeps what was there, and names the path with a hint", () => {
    const src = scratchDir();
    const dest = scratchDir();
    mkdirSync(join(dest, "keep"));
    writeFileSync(join(dest, "keep/mine"), "mine");
    const w = new TreeWriter({ overwrite: false });
    const d = w.openTrusted(dest);
    try {
      const e = thrown(() => w.transact(d, () => w.put(d, "new", failingTree(src, "new"))));
      expect(e).toBeInstanceOf(PodError);
      expect(e.message).toBe(`copying web:/x/b to ${dest}/new/b: EIO: i/o error, scandir`);
      expect(e.hint).toContain("copy the files you need by name");
      expect(readdirSync(dest)).toEqual(["keep"]);
      // merged into an existing directory: only what the copy added goes
      expect(() => w.transact(d, () => w.put(d, "keep", failingTree(src, "keep")))).toThrow(PodError);
      expect(readdirSync(join(dest, "keep"))).toEqual(["mine"]);
    } finally {
      w.close(d);
    }
  });

  test.if(existsSync("/proc/self/clear_refs"))("a file that cannot be read (write-only /proc file) neither creates nor truncates its destination", () => {
    const dest = scratchDir();
    writeFileSync(join(dest, "mine"), "mine");
    const st = statSync(join(dest, "mine"));
    const unreadable: SrcNode = { name: "x", st, hostPath: "/proc/self/clear_refs", shown: "web:/proc/1/clear_refs", children: () => [] };
    const w = new TreeWriter({ overwrite: false });
    const d = w.openTrusted(dest);
    try {
      expect(thrown(() => w.transact(d, () => w.put(d, "mine", unreadable))).message).toStartWith(`copying web:/proc/1/clear_refs to ${dest}/mine: `);
      expect(readFileSync(join(dest, "mine"), "utf8")).toBe("mine");
      expect(thrown(() => w.transact(d, () => w.put(d, "new", unreadable))).message).toContain("web:/proc/1/clear_refs");
      expect(readdirSync(dest)).toEqual(["mine"]);
    } finally {
      w.close(d);
    }
  });
});
