import { describe, expect, test } from "bun:test";
import { InvalidReference } from "../../../pkg/errors.ts";
import { formatReference, isShortName, parseReference } from "../../../pkg/image/index.ts";

const H64 = "0123456789abcdef".repeat(4);
const H96 = "0123456789abcdef".repeat(6);
const H128 = "0123456789abcdef".repeat(8);

// [input, expected full form]
const valid: [string, string][] = [
  ["alpine", "docker.io/library/alpine:latest"],
  ["alpine:3.19", "docker.io/library/alpine:3.19"],
  ["library/alpine", "docker.io/library/alpine:latest"],
  ["user/app", "docker.io/user/app:latest"],
  ["user/app:1", "docker.io/user/app:1"],
  ["docker.io/alpine", "docker.io/library/alpine:latest"],
  ["docker.io/user/app", "docker.io/user/app:latest"],
  ["index.docker.io/alpine", "docker.io/library/alpine:latest"],
  ["index.docker.io/user/app:v2", "docker.io/user/app:v2"],
  ["registry-1.docker.io/alpine", "registry-1.docker.io/alpine:latest"],
  ["localhost/app", "localhost/app:latest"],
  ["localhost:5000/x", "localhost:5000/x:latest"],
  ["localhost:5000", "docker.io/library/localhost:5000"],
  ["127.0.0.1:5000/a/b:tag", "127.0.0.1:5000/a/b:tag"],
  ["[::1]:5000/x", "[::1]:5000/x:latest"],
  ["[2001:db8::1]/ns/img:1", "[2001:db8::1]/ns/img:1"],
  ["quay.io/podman/hello", "quay.io/podman/hello:latest"],
  ["Quay.IO/podman/hello", "Quay.IO/podman/hello:latest"],
  ["my-registry.local:443/team/app:latest", "my-registry.local:443/team/app:latest"],
  ["example.com/a-b/c__d/e.f:_tag", "example.com/a-b/c__d/e.f:_tag"],
  ["a--b/c_d/e.f", "docker.io/a--b/c_d/e.f:latest"],
  ["a/b/c/d/e", "docker.io/a/b/c/d/e:latest"],
  ["foo:1.0-rc.1_x", "docker.io/library/foo:1.0-rc.1_x"],
  [`alpine@sha256:${H64}`, `docker.io/library/alpine@sha256:${H64}`],
  [`alpine:3@sha256:${H64}`, `docker.io/library/alpine:3@sha256:${H64}`],
  [`ghcr.io/o/r@sha512:${H128}`, `ghcr.io/o/r@sha512:${H128}`],
  [`x@sha384:${H96}`, `docker.io/library/x@sha384:${H96}`],
  [`localhost:5000/x:t@sha256:${H64}`, `localhost:5000/x:t@sha256:${H64}`],
  [`a:${"t".repeat(128)}`, `docker.io/library/a:${"t".repeat(128)}`],
];

describe("parseReference accepts and normalises", () => {
  for (const [input, want] of valid) {
    test(input.length > 60 ? `${input.slice(0, 60)}…` : input, () => {
      expect(formatReference(parseReference(input))).toBe(want);
    });
  }

  test("splits registry, repository, tag and digest", () => {
    expect(parseReference("127.0.0.1:5000/a/b:tag")).toEqual({ registry: "127.0.0.1:5000", repository: "a/b", tag: "tag" });
    expect(parseReference(`alpine@sha256:${H64}`)).toEqual({ registry: "docker.io", repository: "library/alpine", digest: `sha256:${H64}` });
    expect(parseReference(`x:1@sha256:${H64}`)).toEqual({ registry: "docker.io", repository: "library/x", tag: "1", digest: `sha256:${H64}` });
  });
});

// [input, expected cause after `invalid reference "<input>": `]
const invalid: [string, string | RegExp][] = [
  ["", "reference is empty"],
  ["Foo:bar", "repository name must be lowercase"],
  ["docker.io/Library/alpine", "repository name must be lowercase"],
  ["User/app", "repository name must be lowercase"],
  [H64, /image ID/],
  ["alpine:", 'invalid tag ""'],
  ["alpine:-x", 'invalid tag "-x"'],
  ["alpine:.x", 'invalid tag ".x"'],
  [`alpine:${"t".repeat(129)}`, /invalid tag/],
  ["alpine:a/b", 'invalid registry "alpine:a"'],
  [":tag", "repository name is empty"],
  ["alpine@", 'invalid digest ""'],
  ["alpine@sha256:abc", "sha256 digest must be 64 lowercase hexadecimal characters"],
  [`alpine@sha256:${H64.toUpperCase()}`, "sha256 digest must be 64 lowercase hexadecimal characters"],
  [`alpine@sha512:${H64}`, "sha512 digest must be 128 lowercase hexadecimal characters"],
  [`alpine@md5:${H64}`, 'unsupported digest algorithm "md5"'],
  [`a@b@sha256:${H64}`, /invalid digest/],
  ["a//b", /invalid repository name/],
  ["/alpine", /invalid repository name/],
  ["alpine/", /invalid repository name/],
  ["-alpine", /invalid repository name/],
  ["a___b", /invalid repository name/],
  ["a..b", /invalid repository name/],
  ["a_.b", /invalid repository name/],
  ["exa mple", /invalid repository name/],
  ["host_name.com/x", 'invalid registry "host_name.com"'],
  ["localhost:abc/x", 'invalid registry "localhost:abc"'],
  ["-bad.com/x", 'invalid registry "-bad.com"'],
  ["[::1/x", 'invalid registry "[::1"'],
  [`quay.io/${"a".repeat(250)}`, "repository name must not be more than 255 characters"],
];

describe("parseReference rejects", () => {
  for (const [input, cause] of invalid) {
    test(JSON.stringify(input.length > 60 ? `${input.slice(0, 60)}…` : input), () => {
      let err: unknown;
      try {
        parseReference(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidReference);
      const e = err as InvalidReference;
      const prefix = `invalid reference ${JSON.stringify(input)}: `;
      expect(e.message.startsWith(prefix)).toBe(true);
      const rest = e.message.slice(prefix.length);
      if (typeof cause === "string") expect(rest).toBe(cause);
      else expect(rest).toMatch(cause);
      expect(e.hint).toBeTruthy();
      expect(e.exit).toBe(125);
    });
  }

  test("uppercase error suggests the lowercase name and keeps the tag", () => {
    expect(() => parseReference("Foo:Bar")).toThrow('invalid reference "Foo:Bar": repository name must be lowercase');
    try {
      parseReference("Foo:Bar");
    } catch (e) {
      expect((e as InvalidReference).hint).toBe('try "foo:Bar"');
    }
  });
});

describe("isShortName", () => {
  test.each(["alpine", "library/alpine", "user/app:1", `alpine@sha256:${H64}`, "a/b/c", "localhostx/y"])("%s is short", (s) => {
    expect(isShortName(s)).toBe(true);
  });
  test.each(["quay.io/x", "localhost/x", "localhost:5000/x", "docker.io/alpine", "[::1]:5000/x", "host:5000/a:b", "a.b/c"])(
    "%s is qualified",
    (s) => {
      expect(isShortName(s)).toBe(false);
    },
  );
});

describe("formatReference", () => {
  test("prints tag and digest in grammar order", () => {
    expect(formatReference({ registry: "docker.io", repository: "library/alpine", tag: "latest" })).toBe("docker.io/library/alpine:latest");
    expect(formatReference({ registry: "host:5000", repository: "x", digest: `sha256:${H64}` })).toBe(`host:5000/x@sha256:${H64}`);
    expect(formatReference({ registry: "r.io", repository: "x", tag: "t", digest: `sha256:${H64}` })).toBe(`r.io/x:t@sha256:${H64}`);
    expect(formatReference({ registry: "r.io", repository: "x" })).toBe("r.io/x");
  });
  test("round-trips", () => {
    for (const [, full] of valid) expect(formatReference(parseReference(full))).toBe(full);
  });
});
