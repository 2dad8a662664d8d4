// Reading image files through the layer stack as overlay would merge it.
import { afterAll, describe, expect, test } from "bun:test";
import { imagePathIsDir, readImageFile, resolveImagePath } from "../../../pkg/runtime/index.ts";
import { makeLayers, removeScratch, userXattrSupport, whiteoutSupport } from "./_layers.ts";

afterAll(removeScratch);

const whiteouts = whiteoutSupport();
if (!whiteouts.ok) console.log(`skipping whiteout device cases: ${whiteouts.reason}`);
const xattrs = userXattrSupport();
if (!xattrs.ok) console.log(`skipping opaque-directory cases: ${xattrs.reason}`);

describe("layer stacking", () => {
  test("the topmost layer holding a file wins; lower-only files show through", () => {
    const layers = makeLayers({ "etc/passwd": "lower", "etc/group": "g" }, { "etc/passwd": "upper" });
    expect(readImageFile(layers, "/etc/passwd")).toBe("upper");
    expect(readImageFile(layers, "etc/group")).toBe("g");
    expect(readImageFile(layers, "/etc/missing")).toBeUndefined();
    expect(readImageFile([], "/etc/passwd")).toBeUndefined();
  });

  test("a non-directory in an upper layer hides a lower directory of that name", () => {
    const layers = makeLayers({ "etc/passwd": "lower" }, { etc: "now a file" });
    expect(readImageFile(layers, "/etc/passwd")).toBeUndefined();
    expect(readImageFile(layers, "/etc")).toBe("now a file");
  });

  test("directories are not files", () => {
    const layers = makeLayers({ "etc/passwd": "x" });
    expect(readImageFile(layers, "/etc")).toBeUndefined();
    expect(readImageFile(layers, "/")).toBeUndefined();
  });
});

describe.if(whiteouts.ok)("whiteouts (0:0 character devices)", () => {
  test("a whiteout hides the file in every lower layer", () => {
    const layers = makeLayers({ "etc/passwd": "bottom" }, { "etc/passwd": "middle" }, { "etc/passwd": { whiteout: true } });
    expect(readImageFile(layers, "/etc/passwd")).toBeUndefined();
  });

  test("a whiteout on a parent directory hides everything under it", () => {
    const layers = makeLayers({ "etc/passwd": "bottom" }, { etc: { whiteout: true } });
    expect(readImageFile(layers, "/etc/passwd")).toBeUndefined();
    expect(imagePathIsDir(layers, "/etc")).toBe(false);
  });

  test("a file re-created above its whiteout is seen", () => {
    const layers = makeLayers({ "etc/passwd": "old" }, { "etc/passwd": { whiteout: true } }, { "etc/passwd": "new" });
    expect(readImageFile(layers, "/etc/passwd")).toBe("new");
  });
});

describe.if(xattrs.ok)("opaque directories (user.overlay.opaque=y)", () => {
  test("hide lower layers' contents but not their own", () => {
    const layers = makeLayers(
      { "etc/passwd": "lower", "etc/group": "lower group" },
      { etc: { dir: true, opaque: true }, "etc/group": "opaque layer group" },
    );
    expect(readImageFile(layers, "/etc/passwd")).toBeUndefined();
    expect(readImageFile(layers, "/etc/group")).toBe("opaque layer group");
  });

  test("an opaque parent further up hides deeper paths too", () => {
    const layers = makeLayers({ "usr/share/x/f": "lower" }, { usr: { dir: true, opaque: true } });
    expect(readImageFile(layers, "/usr/share/x/f")).toBeUndefined();
  });

  test("a layer above the opaque one still adds files", () => {
    const layers = makeLayers({ "etc/a": "1" }, { etc: { dir: true, opaque: true } }, { "etc/a": "3" });
    expect(readImageFile(layers, "/etc/a")).toBe("3");
  });
});

describe("symlinks resolve inside the image", () => {
  test("absolute and relative links, also across layers", () => {
    const layers = makeLayers(
      { "usr/lib/passwd": "from usr", "data/group": "grp" },
      { "etc/passwd": { symlink: "/usr/lib/passwd" }, "etc/group": { symlink: "../data/group" } },
    );
    expect(readImageFile(layers, "/etc/passwd")).toBe("from usr");
    expect(readImageFile(layers, "/etc/group")).toBe("grp");
  });

  test("a symlinked parent directory is followed", () => {
    const layers = makeLayers({ "private/etc/passwd": "p", etc: { symlink: "private/etc" } });
    expect(readImageFile(layers, "/etc/passwd")).toBe("p");
    expect(imagePathIsDir(layers, "/etc")).toBe(true);
  });

  test("links never reach the host: absolute targets and .. stop at the image root", () => {
    const layers = makeLayers({
      "etc/passwd": { symlink: "/etc/hostname" },
      "etc/group": { symlink: "../../../../../../etc/hostname" },
      "etc/shadow": { symlink: "/proc/self/environ" },
    });
    expect(readImageFile(layers, "/etc/passwd")).toBeUndefined();
    expect(readImageFile(layers, "/etc/group")).toBeUndefined();
    expect(readImageFile(layers, "/etc/shadow")).toBeUndefined();
  });

  test("a loop gives up after 16 hops", () => {
    const layers = makeLayers({ "a": { symlink: "b" }, "b": { symlink: "a" } });
    expect(readImageFile(layers, "/a")).toBeUndefined();
    expect(resolveImagePath(layers, "/a")).toBeUndefined();
  });

  test("a chain of 16 links resolves, 17 does not", () => {
    const chain = (n: number) => {
      const spec: Record<string, string | { symlink: string }> = { target: "end" };
      for (let i = 0; i < n; i++) spec[`l${i}`] = { symlink: i === n - 1 ? "target" : `l${i + 1}` };
      return makeLayers(spec);
    };
    expect(readImageFile(chain(16), "/l0")).toBe("end");
    expect(readImageFile(chain(17), "/l0")).toBeUndefined();
  });

  test("resolveImagePath keeps a missing tail and follows a final link", () => {
    const layers = makeLayers({ "etc/resolv.conf": { symlink: "../run/resolv/stub.conf" }, "run/": { dir: true } });
    expect(resolveImagePath(layers, "/etc/resolv.conf")?.path).toBe("/run/resolv/stub.conf");
    expect(resolveImagePath(layers, "/etc/new/../file")?.path).toBe("/etc/file");
    expect(resolveImagePath(layers, "/")?.path).toBe("/");
  });
});

describe("imagePathIsDir", () => {
  const layers = makeLayers({ "srv/app/": { dir: true }, "bin/sh": "x", "work": { symlink: "/srv/app" } });
  const cases: [string, boolean][] = [
    ["/", true],
    ["/srv/app", true],
    ["/work", true],
    ["/bin/sh", false],
    ["/nope", false],
    ["/bin/sh/x", false],
  ];
  for (const [path, want] of cases) test(`${path} -> ${want}`, () => expect(imagePathIsDir(layers, path)).toBe(want));
});
