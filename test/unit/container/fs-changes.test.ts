// `pod diff` classification on fabricated image layers and upper dirs, checked
// against what podman 4.3.1 prints for the same changes (overlay, rootless).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { changesJson, changesText, containerChanges } from "../../../pkg/container/fs/changes.ts";
import { makeLayers, removeScratch, userXattrSupport, whiteoutSupport, type LayerSpec } from "../runtime/_layers.ts";

afterAll(removeScratch);

const whiteouts = whiteoutSupport();
if (!whiteouts.ok) console.log(`skipping whiteout device cases: ${whiteouts.reason}`);
const xattrs = userXattrSupport();
if (!xattrs.ok) console.log(`skipping opaque-directory cases: ${xattrs.reason}`);

const IMAGE: LayerSpec = { "etc/motd": "welcome", "etc/passwd": "root", "etc/apk/world": "w", "usr/bin/tool": "t", "root/.profile": "p" };

const T = 1_700_000_000;

/** Gives every path of `dirs` under each root the same time, and `touched` ones in the last root a later one. */
function pinTimes(roots: string[], paths: string[], touched: string[] = []): void {
  for (const root of roots)
    for (const p of paths) {
      const full = join(root, p);
      if (!existsSync(full)) continue;
      const t = root === roots[roots.length - 1] && touched.includes(p) ? T + 100 : T;
      utimesSync(full, t, t);
    }
}

const DIRS = ["etc", "etc/apk", "usr", "usr/bin", "root"];

/** Image layers and an upper dir; directories get the same times in both unless `touched` in the upper. */
function container(upper: LayerSpec, touched: string[] = []) {
  const [lower, up] = makeLayers(IMAGE, upper);
  pinTimes([lower!, up!], DIRS, touched);
  return { lowers: [lower!], upper: up! };
}

const diff = (upper: LayerSpec, touched: string[] = []) => changesText(containerChanges(container(upper, touched)));

describe("classifying the upper dir", () => {
  test("a new file is A; a directory that only holds changes is not reported itself", () => {
    expect(diff({ new: "n", "usr/bin/tool": "changed" })).toBe("A /new\nC /usr/bin/tool\n");
  });

  test("an addition or deletion reports its parent changed, once", () => {
    expect(diff({ "etc/a": "1", "etc/b": "2" })).toBe("C /etc\nA /etc/a\nA /etc/b\n");
  });

  test("a directory whose time or mode changed is C", () => {
    expect(diff({ "root/.profile": "p2" }, ["root"])).toBe("C /root\nC /root/.profile\n");
  });

  test.if(whiteouts.ok)("podman's example: touch /new; rm /etc/motd", () => {
    expect(diff({ new: "", "etc/motd": { whiteout: true } }, ["etc"])).toBe("C /etc\nD /etc/motd\nA /new\n");
  });

  test.if(whiteouts.ok && xattrs.ok)("an opaque directory over the image's is D, its new contents A", () => {
    const upper: LayerSpec = { "etc/apk": { dir: true, opaque: true }, "etc/apk/new": "n", "etc/passwd": "root\nx" };
    expect(diff(upper, ["etc"])).toBe("C /etc\nD /etc/apk\nA /etc/apk/new\nC /etc/passwd\n");
  });

  test("what the runtime creates is left out, and does not make /etc changed", () => {
    expect(diff({ "etc/resolv.conf": "", "etc/hosts": "", dev: { dir: true }, "run/.containerenv": "" }, ["etc"])).toBe("");
  });

  test("paths sort as a walk does: a directory, then what is in it, then its next sibling", () => {
    expect(diff({ "etc/apk/x": "1", "etc/apk-old": "2" }, ["etc/apk"])).toBe("C /etc\nC /etc/apk\nA /etc/apk/x\nA /etc/apk-old\n");
  });

  test("a fresh container has no changes", () => {
    expect(diff({})).toBe("");
  });
});

describe("a vfs root: the whole copy against the image", () => {
  test("added, changed and deleted files both ways", () => {
    const [lower, copy] = makeLayers(IMAGE, { "etc/passwd": "root", "etc/apk/world": "w", "usr/bin/tool": "t2", "root/.profile": "p", new: "n" });
    pinTimes([lower!, copy!], [...DIRS, "etc/passwd", "etc/apk/world", "root/.profile", "usr/bin/tool"]);
    const changes = containerChanges({ lowers: [lower!], upper: copy!, flat: true });
    expect(changesText(changes)).toBe("C /etc\nD /etc/motd\nA /new\nC /usr/bin/tool\n");
  });
});

describe("output", () => {
  test("--format json is podman's: three lists, empty ones left out, five-space indent", () => {
    const json = changesJson([
      { kind: "C", path: "/etc" },
      { kind: "D", path: "/etc/motd" },
      { kind: "A", path: "/new" },
    ]);
    expect(json).toBe('{\n     "changed": [\n          "/etc"\n     ],\n     "added": [\n          "/new"\n     ],\n     "deleted": [\n          "/etc/motd"\n     ]\n}\n');
    expect(changesJson([{ kind: "A", path: "/x" }])).toBe('{\n     "added": [\n          "/x"\n     ]\n}\n');
    expect(changesJson([])).toBe("{}\n");
  });
});
