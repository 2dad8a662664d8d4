// The container's filesystem as overlay merges it, and path resolution that
// never leaves the container's root (".." stops at it, symlinks resolve inside).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FsView } from "../../../pkg/container/fs/view.ts";
import { makeLayers, removeScratch, scratchDir, thrown, userXattrSupport, whiteoutSupport } from "../runtime/_layers.ts";

afterAll(removeScratch);

const whiteouts = whiteoutSupport();
if (!whiteouts.ok) console.log(`skipping whiteout device cases: ${whiteouts.reason}`);
const xattrs = userXattrSupport();
if (!xattrs.ok) console.log(`skipping opaque-directory cases: ${xattrs.reason}`);

const names = (view: FsView, rel: string) => view.list(view.lookup(rel)!).map((e) => e.rel);
const text = (view: FsView, path: string) => readFileSync(view.resolve(path).entry!.hostPath, "utf8");

describe("merging the image's layers and the upper dir", () => {
  test("lists a directory from every layer, the topmost entry winning", () => {
    const view = new FsView(makeLayers({ "etc/passwd": "lower", "etc/group": "g" }, { "etc/passwd": "upper", "etc/new": "n" }));
    expect(names(view, "etc")).toEqual(["etc/group", "etc/new", "etc/passwd"]);
    expect(text(view, "/etc/passwd")).toBe("upper");
  });

  test("a non-directory above hides the directory below", () => {
    const view = new FsView(makeLayers({ "opt/app/bin": "x" }, { opt: "a file now" }));
    expect(view.lookup("opt")!.st.isFile()).toBe(true);
    expect(view.lookup("opt/app")).toBeUndefined();
  });

  test.if(whiteouts.ok)("a whiteout hides the name in every lower layer, and is never listed", () => {
    const view = new FsView(makeLayers({ "etc/motd": "hi", "etc/issue": "i" }, { "etc/motd": { whiteout: true } }));
    expect(names(view, "etc")).toEqual(["etc/issue"]);
    expect(view.lookup("etc/motd")).toBeUndefined();
  });

  test.if(xattrs.ok)("an opaque directory hides what lower layers have in it", () => {
    const view = new FsView(makeLayers({ "etc/apk/world": "w", "etc/apk/arch": "a" }, { "etc/apk": { dir: true, opaque: true }, "etc/apk/new": "n" }));
    expect(names(view, "etc/apk")).toEqual(["etc/apk/new"]);
  });
});

describe("resolving paths like chroot: nothing leads out of the container", () => {
  test('".." stops at the container\'s root', () => {
    const view = new FsView(makeLayers({ "etc/passwd": "container passwd" }));
    expect(view.resolve("../../etc/passwd").rel).toBe("etc/passwd");
    expect(text(view, "../../../../etc/passwd")).toBe("container passwd");
    expect(view.resolve("/etc/../../..").rel).toBe("");
  });

  test("an absolute symlink restarts at the container's root, not the host's", () => {
    const view = new FsView(makeLayers({ "etc/hostname": "inside", esc: { symlink: "/../../../etc" }, abs: { symlink: "/etc/hostname" } }));
    expect(view.resolve("/esc/hostname").rel).toBe("etc/hostname");
    expect(text(view, "/esc/hostname")).toBe("inside");
    expect(text(view, "/abs")).toBe("inside");
  });

  test("a relative symlink climbing above the root stays inside", () => {
    const view = new FsView(makeLayers({ "etc/hostname": "inside", "a/b/up": { symlink: "../../../../../etc" } }));
    expect(view.resolve("/a/b/up/hostname").rel).toBe("etc/hostname");
  });

  test("a symlink to a host path the container lacks resolves to nothing, not to the host file", () => {
    const host = scratchDir();
    writeFileSync(join(host, "secret"), "host data");
    const view = new FsView(makeLayers({ "data/link": { symlink: join(host, "secret") } }));
    expect(thrown(() => view.resolve("/data/link")).message).toContain("no such file or directory");
    const withTmp = new FsView(makeLayers({ "data/link": { symlink: join(host, "secret") }, [host.slice(1)]: { dir: true } }));
    const r = withTmp.resolve("/data/link");
    expect(r.rel).toBe(join(host, "secret").slice(1));
    expect(r.entry).toBeUndefined();
  });

  test("the last symlink is kept when asked", () => {
    const view = new FsView(makeLayers({ "etc/hostname": "x", link: { symlink: "/etc/hostname" } }));
    expect(view.resolve("/link", false).entry!.st.isSymbolicLink()).toBe(true);
  });

  test("loops and non-directory parents fail with the kernel's words", () => {
    const view = new FsView(makeLayers({ a: { symlink: "/b" }, b: { symlink: "/a" }, file: "x" }));
    expect(thrown(() => view.resolve("/a/x")).message).toContain("too many levels of symbolic links");
    expect(thrown(() => view.resolve("/file/x")).message).toContain("not a directory");
    expect(view.resolve("/missing").entry).toBeUndefined();
    expect(thrown(() => view.resolve("/missing/x")).message).toContain("no such file or directory");
  });

  test("reads small text files of the container, undefined when missing", () => {
    const view = new FsView(makeLayers({ "etc/passwd": "root:x:0:0::/root:/bin/sh\n" }));
    const errors: unknown[] = [];
    expect(view.readText("/etc/passwd", (e) => errors.push(e))).toContain("root:x:0:0");
    expect(view.readText("/etc/group", (e) => errors.push(e))).toBeUndefined();
    expect(view.readText("/nodir/group", (e) => errors.push(e))).toBeUndefined();
    expect(errors.length).toBe(1);
  });
});
