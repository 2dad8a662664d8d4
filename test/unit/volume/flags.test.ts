// The volume grammar of run/create: -v values that name volumes, --mount with
// podman's keys, and how planVolumes sorts them for pkg/runtime.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { UsageError } from "../../../pkg/errors.ts";
import { parseMountFlag, parseVolumeFlag, planVolumes, withImageVolumes } from "../../../pkg/volume/index.ts";
import { thrown } from "../runtime/_layers.ts";

describe("parseVolumeFlag", () => {
  const cases: [string, ReturnType<typeof parseVolumeFlag>][] = [
    ["/data", { kind: "volume", target: "/data", readonly: false, copyUp: true }],
    ["/data/../srv/", { kind: "volume", target: "/srv", readonly: false, copyUp: true }],
    ["pgdata:/var/lib/pg", { kind: "volume", name: "pgdata", target: "/var/lib/pg", readonly: false, copyUp: true }],
    ["pgdata:/var/lib/pg:ro", { kind: "volume", name: "pgdata", target: "/var/lib/pg", readonly: true, copyUp: true }],
    ["v1:/x:rw,Z,nocopy", { kind: "volume", name: "v1", target: "/x", readonly: false, copyUp: false }],
    ["/host:/ctr:ro", { kind: "bind", volume: "/host:/ctr:ro" }],
    ["./rel:/ctr", { kind: "bind", volume: "./rel:/ctr" }],
    ["../up:/ctr", { kind: "bind", volume: "../up:/ctr" }],
    [":/ctr", { kind: "bind", volume: ":/ctr" }],
  ];
  for (const [value, want] of cases) test(value, () => expect(parseVolumeFlag(value)).toEqual(want));

  const bad: [string, string][] = [
    ["data", "must be absolute"],
    ["vol:relative", "must be absolute"],
    ["vol:/x:ro,rw", "more than once"],
    ["vol:/x:U", 'unsupported option "U"'],
    ["vol:/x:ro:y", "too many colons"],
    ["bad/name:/x", "invalid volume name"],
  ];
  for (const [value, text] of bad) {
    test(`usage error: ${value}`, () => {
      const e = thrown(() => parseVolumeFlag(value));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain(text);
      expect(e.hint).toBeTruthy();
    });
  }
});

describe("parseMountFlag", () => {
  const cases: [string, ReturnType<typeof parseMountFlag>][] = [
    ["type=bind,source=/srv,target=/data", { kind: "bind", volume: "/srv:/data:rw,rbind" }],
    ["type=bind,src=/srv,dst=/data,readonly", { kind: "bind", volume: "/srv:/data:ro,rbind" }],
    ["type=bind,source=/srv,destination=/data/,ro=true,bind-propagation=rprivate", { kind: "bind", volume: "/srv:/data:ro,rbind" }],
    ["type=bind,source=/srv,target=/data,readonly=false,bind-nonrecursive,relabel=private,z", { kind: "bind", volume: "/srv:/data:rw,bind" }],
    ["type=bind,source=rel/dir,target=/data,rw", { kind: "bind", volume: `${resolve("rel/dir")}:/data:rw,rbind` }],
    ["type=volume,source=v1,target=/data", { kind: "volume", name: "v1", target: "/data", readonly: false, copyUp: true }],
    ["target=/data,type=volume,src=v1,ro,volume-nocopy", { kind: "volume", name: "v1", target: "/data", readonly: true, copyUp: false }],
    ["type=volume,dst=/anon", { kind: "volume", name: undefined, target: "/anon", readonly: false, copyUp: true }],
    ["type=volume,target=/x,volume-driver=local,rw=false", { kind: "volume", name: undefined, target: "/x", readonly: true, copyUp: true }],
    ["type=tmpfs,target=/t", { kind: "tmpfs", tmpfs: "/t:rw" }],
    ["type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1777,exec,notmpcopyup", { kind: "tmpfs", tmpfs: "/t:rw,exec,size=64m,mode=1777" }],
    ["type=tmpfs,dst=/t,readonly,tmpfs-size=1048576", { kind: "tmpfs", tmpfs: "/t:ro,size=1048576" }],
  ];
  for (const [value, want] of cases) test(value, () => expect(parseMountFlag(value)).toEqual(want));

  /** value, what the message names, what the hint says */
  const bad: [string, string, string][] = [
    ["source=/a,target=/b", "no type", "type=bind"],
    ["type=nfs,target=/b", 'unsupported type "nfs"', "type=tmpfs"],
    ["type=bind,type=volume,target=/b", "type and type given together", "type="],
    ["type=bind,target=/b", "no source", "source="],
    ["type=bind,source=/a", "no target", "target="],
    ["type=bind,source=/a,target=b", 'the target "b" must be absolute', "start with /"],
    ["type=bind,source=/a,target=/b,bogus", 'unknown option "bogus" for type=bind', "bind-propagation"],
    ["type=bind,source=/a,target=/b,bind-propagation=rshared", "bind-propagation=rshared is not supported", "rprivate"],
    ["type=bind,source=/a,src=/c,target=/b", "source and src given together", "source="],
    ["type=bind,source=/a,target=/b,readonly=yes", 'invalid value "yes" for readonly', "true or false"],
    ["type=bind,source=/a,target=/b,ro,rw", "ro and rw given together", "readonly"],
    ["type=bind,source=/a:b,target=/b", 'contains ":"', "colon"],
    ["type=bind,source=,target=/b", "source needs a value", "source=VALUE"],
    ["type=volume,source=a/b,target=/b", 'invalid volume name "a/b"', "letters"],
    ["type=volume,target=/b,volume-driver=nfs", "volume-driver=nfs is not supported", "local"],
    ["type=volume,target=/b,volume-opt=o=x", "volume-opt is not supported", "pod volume create"],
    ["type=volume,target=/b,tmpfs-size=1m", 'unknown option "tmpfs-size" for type=volume', "volume-nocopy"],
    ["type=tmpfs,source=x,target=/t", "type=tmpfs takes no source", "empty"],
    ["type=tmpfs,target=/t,tmpfs-size=lots", "invalid tmpfs-size=lots", "64m"],
    ["type=tmpfs,target=/t,tmpfs-mode=999", "invalid tmpfs-mode=999", "octal"],
    ["type=tmpfs,target=/t,tmpcopyup", "tmpcopyup is not supported", "notmpcopyup"],
    ["type=tmpfs,,target=/t", "empty option", "commas"],
  ];
  for (const [value, text, hint] of bad) {
    test(`usage error: ${value}`, () => {
      const e = thrown(() => parseMountFlag(value));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toStartWith(`invalid --mount ${JSON.stringify(value)}: `);
      expect(e.message).toContain(text);
      expect(e.hint).toContain(hint);
    });
  }
});

describe("planVolumes", () => {
  test("binds stay -v values, tmpfs mounts join --tmpfs, volumes become requests, in flag order", () => {
    const plan = planVolumes({
      volumes: ["/h:/a", "named:/b:ro", "/c"],
      tmpfs: ["/t1"],
      mounts: ["type=tmpfs,target=/t2,tmpfs-size=1m", "type=bind,source=/h2,target=/d", "type=volume,target=/e"],
    });
    expect(plan).toEqual({
      volumes: ["/h:/a", "/h2:/d:rw,rbind"],
      tmpfs: ["/t1", "/t2:rw,size=1m"],
      requests: [
        { kind: "volume", name: "named", target: "/b", readonly: true, copyUp: true },
        { kind: "volume", target: "/c", readonly: false, copyUp: true },
        { kind: "volume", name: undefined, target: "/e", readonly: false, copyUp: true },
      ],
    });
  });
  test("no --mount values (records made before --mount existed)", () => {
    expect(planVolumes({ volumes: [], tmpfs: [] })).toEqual({ volumes: [], tmpfs: [], requests: [] });
  });
});

describe("--image-volume", () => {
  const plan = planVolumes({ volumes: ["/host:/a/", "b:/b"], tmpfs: ["/c:size=1m"], mounts: [] });
  test("bind: an anonymous volume per image VOLUME the user does not mount at", () => {
    const p = withImageVolumes(plan, ["/d", "/a", "/b", "/c", "/e/"], "bind");
    expect(p.requests.filter((r) => r.name === undefined).map((r) => r.target)).toEqual(["/d", "/e"]);
    expect(p.volumes).toEqual(plan.volumes);
  });
  test("tmpfs: a tmpfs there instead; ignore: nothing", () => {
    expect(withImageVolumes(plan, ["/d"], "tmpfs").tmpfs).toEqual(["/c:size=1m", "/d:rw,exec,nosuid,nodev"]);
    expect(withImageVolumes(plan, ["/d"], "ignore")).toEqual(plan);
  });
});
