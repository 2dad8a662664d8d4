// Tar streams of a container's files (`pod export`, `pod cp CTR:PATH -`), read
// back with pod's own tar reader: names, types, owners as the container sees
// them, PAX records for long names, hardlinks, the end-of-archive blocks.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, closeSync, linkSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { FsView } from "../../../pkg/container/fs/view.ts";
import { FdSink, TarWriter, writeTree, type Owners } from "../../../pkg/container/fs/tar.ts";
import { TarReader, type TarEntry } from "../../../pkg/layer/_tar-reader.ts";
import { makeLayers, removeScratch, scratchDir } from "../runtime/_layers.ts";

afterAll(removeScratch);

type Read = TarEntry & { body: string };

function readTar(bytes: Buffer): Read[] {
  const out: Read[] = [];
  let cur: Read | undefined;
  const reader = new TarReader({
    begin: (e) => (cur = { ...e, body: "" }),
    data: (c) => (cur!.body += Buffer.from(c).toString()),
    end: () => out.push(cur!),
  });
  reader.push(bytes);
  reader.finish();
  return out;
}

const owners: Owners = { uid: (id) => id, gid: (id) => id, uname: () => "root", gname: () => "wheel" };

function tarOf(layers: string[], rel = "", name = ""): { entries: Read[]; bytes: Buffer } {
  const file = join(scratchDir(), "out.tar");
  const fd = openSync(file, "w");
  const view = new FsView(layers);
  const tar = new TarWriter(new FdSink(fd));
  writeTree(view, rel ? view.lookup(rel)! : view.root(), name, tar, owners);
  tar.finish();
  closeSync(fd);
  const bytes = readFileSync(file);
  return { entries: readTar(bytes), bytes };
}

describe("writing a container's filesystem as tar", () => {
  test("the merged tree, directories first, without a root entry", () => {
    const layers = makeLayers({ "etc/passwd": "old", "etc/group": "g", "bin/sh": { symlink: "/bin/busybox" } }, { "etc/passwd": "new" });
    const { entries, bytes } = tarOf(layers);
    expect(entries.map((e) => `${e.type} ${e.path}`)).toEqual(["5 bin/", "2 bin/sh", "5 etc/", "0 etc/group", "0 etc/passwd"]);
    expect(entries.find((e) => e.path === "etc/passwd")!.body).toBe("new");
    expect(entries.find((e) => e.path === "bin/sh")!.linkpath).toBe("/bin/busybox");
    expect(bytes.length % 512).toBe(0);
    expect(bytes.subarray(-1024).every((b) => b === 0)).toBe(true);
  });

  test("names longer than ustar allows go into PAX records", () => {
    const deep = `${"d".repeat(120)}/${"f".repeat(120)}`;
    const { entries } = tarOf(makeLayers({ [deep]: "x" }));
    expect(entries.map((e) => e.path)).toEqual([`${"d".repeat(120)}/`, deep]);
  });

  test("a second name of a hardlinked file is a hardlink entry", () => {
    const [layer] = makeLayers({ "a/one": "data" });
    linkSync(join(layer!, "a/one"), join(layer!, "a/two"));
    const { entries } = tarOf([layer!]);
    const two = entries.find((e) => e.path === "a/two")!;
    expect(two.type).toBe("1");
    expect(two.linkpath).toBe("a/one");
  });

  test("one entry under a chosen name, for `cp CTR:PATH -`", () => {
    const layers = makeLayers({ "etc/alpine-release": "3.20.3\n" });
    chmodSync(join(layers[0]!, "etc/alpine-release"), 0o644);
    const { entries } = tarOf(layers, "etc/alpine-release", "alpine-release");
    expect(entries.map((e) => [e.path, e.body, e.uid, e.mode.toString(8)])).toEqual([["alpine-release", "3.20.3\n", process.getuid!(), "644"]]);
  });
});
