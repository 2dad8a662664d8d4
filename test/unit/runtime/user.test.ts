// --user resolution against the image's /etc/passwd and /etc/group, as runc does it.
import { afterAll, describe, expect, test } from "bun:test";
import { PodError, UsageError } from "../../../pkg/errors.ts";
import { resolveUser, type ResolvedUser } from "../../../pkg/runtime/index.ts";
import { ALPINE_ETC, makeLayers, removeScratch, thrown } from "./_layers.ts";

afterAll(removeScratch);

const alpine = makeLayers(ALPINE_ETC);
const bare = makeLayers({ "bin/app": "x" });

describe("resolveUser on an Alpine-like image", () => {
  const cases: [string, ResolvedUser][] = [
    ["", { uid: 0, gid: 0, groups: [1, 2, 3, 4, 10], home: "/root", name: "root" }],
    ["root", { uid: 0, gid: 0, groups: [1, 2, 3, 4, 10], home: "/root", name: "root" }],
    ["0", { uid: 0, gid: 0, groups: [1, 2, 3, 4, 10], home: "/root", name: "root" }],
    ["daemon", { uid: 2, gid: 2, groups: [1, 4], home: "/sbin", name: "daemon" }],
    ["guest", { uid: 405, gid: 100, groups: [], home: "/dev/null", name: "guest" }],
    ["405", { uid: 405, gid: 100, groups: [], home: "/dev/null", name: "guest" }],
    ["1000", { uid: 1000, gid: 0, groups: [], home: "/" }],
    ["1000:1000", { uid: 1000, gid: 1000, groups: [], home: "/" }],
    ["guest:wheel", { uid: 405, gid: 10, groups: [], home: "/dev/null", name: "guest" }],
    // an explicit group replaces the memberships, as podman does for -u NAME:GROUP
    ["bin:bin", { uid: 1, gid: 1, groups: [], home: "/bin", name: "bin" }],
    ["nobody:65533", { uid: 65534, gid: 65533, groups: [], home: "/", name: "nobody" }],
  ];
  for (const [spec, want] of cases) test(JSON.stringify(spec), () => expect(resolveUser(spec, alpine)).toEqual(want));
});

describe("resolveUser on an image without /etc/passwd", () => {
  test("root and numeric ids still work", () => {
    expect(resolveUser("", bare)).toEqual({ uid: 0, gid: 0, groups: [], home: "/root" });
    expect(resolveUser("123:456", bare)).toEqual({ uid: 123, gid: 456, groups: [], home: "/" });
  });
  test("a name is an error naming the user, with a hint", () => {
    const e = thrown(() => resolveUser("postgres", bare));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe("unable to find user postgres: no matching entries in passwd file");
    expect(e.hint).toContain("numeric uid");
    expect(e.exit).toBe(125);
  });
});

describe("errors", () => {
  test("an unknown user name", () => {
    expect(thrown(() => resolveUser("nginx", alpine)).message).toBe("unable to find user nginx: no matching entries in passwd file");
  });
  test("an unknown group name", () => {
    const e = thrown(() => resolveUser("guest:docker", alpine));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe("unable to find group docker: no matching entries in group file");
  });
  for (const spec of [":", "guest:", ":wheel", "1:2:3", "99999999999", "0:99999999999"]) {
    test(`malformed ${JSON.stringify(spec)} is a usage error`, () => {
      const e = thrown(() => resolveUser(spec, alpine));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toContain(JSON.stringify(spec));
    });
  }
});
