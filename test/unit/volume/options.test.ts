// volume create -o: what pod's local driver applies, and what it refuses.
import { describe, expect, test } from "bun:test";
import { ownerOptions, parseVolumeOptions, volumeSource } from "../../../pkg/volume/options.ts";
import { MS } from "../../../pkg/native/plan.ts";

describe("volume options", () => {
  test("no options: a plain volume", () => {
    expect(parseVolumeOptions([])).toEqual({});
    expect(volumeSource({})).toBeUndefined();
  });
  test("o=uid=,gid= alone: podman 4's owner of a plain volume, nothing mounted", () => {
    const o = parseVolumeOptions(["o=uid=1000,gid=1001"]);
    expect(volumeSource(o)).toBeUndefined();
    expect(ownerOptions(o)).toEqual({ uid: 1000, gid: 1001 });
    expect(ownerOptions({ o: "uid=7" })).toEqual({ uid: 7 });
    expect(ownerOptions({ type: "tmpfs", o: "uid=7" })).toBeUndefined();
    expect(ownerOptions({ o: "uid=7,size=1m" })).toBeUndefined();
    expect(() => parseVolumeOptions(["o=uid=1,size=1m"])).toThrow("volume options without type= are not supported");
  });
  test("tmpfs: flags and tmpfs data", () => {
    const o = parseVolumeOptions(["type=tmpfs", "device=scratch", "o=size=64m,uid=1000,gid=1000,mode=0750,nodev,noexec"]);
    expect(o).toEqual({ type: "tmpfs", device: "scratch", o: "size=64m,uid=1000,gid=1000,mode=0750,nodev,noexec" });
    expect(volumeSource(o)).toEqual({ kind: "tmpfs", device: "scratch", flags: MS.NODEV | MS.NOEXEC, data: "size=64m,uid=1000,gid=1000,mode=0750" });
    expect(volumeSource({ type: "tmpfs" })).toEqual({ kind: "tmpfs", device: "tmpfs", flags: 0, data: "" });
  });
  test("bind: type=bind or o=bind, with a host directory", () => {
    expect(volumeSource({ type: "bind", device: "/tmp" })).toEqual({ kind: "bind", device: "/tmp", recursive: true, readonly: false });
    expect(volumeSource({ type: "none", device: "/tmp", o: "bind,ro" })).toEqual({ kind: "bind", device: "/tmp", recursive: false, readonly: true });
    expect(() => parseVolumeOptions(["type=bind", "device=/no/such/dir"])).toThrow(/no such file or directory/);
    expect(() => parseVolumeOptions(["type=bind"])).toThrow(/needs device=/);
    expect(() => parseVolumeOptions(["type=bind", "device=/tmp", "o=noexec"])).toThrow(/cannot be applied to a bind volume/);
  });
  test("refused: unknown keys and mount options, other types", () => {
    expect(() => parseVolumeOptions(["size=1g"])).toThrow("invalid mount option size for driver 'local'");
    expect(() => parseVolumeOptions(["type=tmpfs", "o=sync"])).toThrow("invalid mount option sync for driver 'local'");
    expect(() => parseVolumeOptions(["type=tmpfs", "o=size=lots"])).toThrow(/bad value for size/);
    expect(() => parseVolumeOptions(["type=ext4", "device=/dev/sdb1"])).toThrow(/volume type "ext4" is not supported/);
    expect(() => parseVolumeOptions(["type="])).toThrow(/needs a value/);
  });
});
