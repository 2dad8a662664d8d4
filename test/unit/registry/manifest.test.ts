import { describe, expect, test } from "bun:test";
import { PodError } from "../../../pkg/errors.ts";
import { parseChallenges } from "../../../pkg/registry/challenge.ts";
import { describeErrorBody } from "../../../pkg/registry/errors.ts";
import { MediaType, parseManifest } from "../../../pkg/registry/index.ts";
import { manifestMediaType } from "../../../pkg/registry/manifest.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const desc = { mediaType: MediaType.ociConfig, digest: `sha256:${"a".repeat(64)}`, size: 3 };

describe("parseManifest", () => {
  test("manifest", () => {
    const m = parseManifest(enc({ schemaVersion: 2, config: desc, layers: [desc], annotations: { a: "b" } }), MediaType.dockerManifest);
    expect(m).toEqual({ kind: "manifest", mediaType: MediaType.dockerManifest, schemaVersion: 2, config: desc, layers: [desc], annotations: { a: "b" } });
  });

  test("index keeps platforms", () => {
    const p = { os: "linux", architecture: "arm", variant: "v7" };
    const m = parseManifest(enc({ schemaVersion: 2, manifests: [{ ...desc, platform: p }] }), MediaType.ociIndex);
    expect(m.kind === "index" && m.manifests[0]?.platform).toEqual(p);
  });

  test.each([
    ["missing layers", { schemaVersion: 2, config: desc }, MediaType.ociManifest, /layers is not a list/],
    ["bad digest", { schemaVersion: 2, config: { ...desc, digest: "nope" }, layers: [] }, MediaType.ociManifest, /config: digest "nope"/],
    ["negative size", { schemaVersion: 2, config: { ...desc, size: -1 }, layers: [] }, MediaType.ociManifest, /size -1/],
    ["schema 1", { schemaVersion: 1 }, MediaType.dockerSchema1, /unsupported/],
    ["unknown type", { schemaVersion: 2 }, "application/x-foo", /unsupported media type/],
  ])("rejects %s", (_n, doc, type, re) => {
    expect(() => parseManifest(enc(doc), type)).toThrow(re);
  });

  test("rejects non-JSON", () => expect(() => parseManifest(new TextEncoder().encode("{"), MediaType.ociIndex)).toThrow(PodError));
});

describe("manifestMediaType", () => {
  test("the document's mediaType wins over the header", () => {
    expect(manifestMediaType("application/json", enc({ mediaType: MediaType.dockerManifestList, manifests: [] }))).toBe(MediaType.dockerManifestList);
  });
  test("header with parameters", () => {
    expect(manifestMediaType(`${MediaType.ociManifest}; charset=utf-8`, enc({ config: desc }))).toBe(MediaType.ociManifest);
  });
  test("generic type: inferred from shape", () => {
    expect(manifestMediaType("application/json", enc({ manifests: [] }))).toBe(MediaType.ociIndex);
    expect(manifestMediaType(null, enc({ config: desc, layers: [] }))).toBe(MediaType.ociManifest);
  });
});

describe("parseChallenges", () => {
  test("bearer with quoted params", () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')).toEqual([
      { scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" } },
    ]);
  });
  test("several challenges joined, escapes, tokens", () => {
    expect(parseChallenges('Basic realm="a \\"b\\", c", Bearer realm=https://x/t , error=insufficient_scope')).toEqual([
      { scheme: "basic", params: { realm: 'a "b", c' } },
      { scheme: "bearer", params: { realm: "https://x/t", error: "insufficient_scope" } },
    ]);
  });
  test("empty", () => expect(parseChallenges("")).toEqual([]));
});

describe("describeErrorBody", () => {
  test("registry errors", () => {
    expect(describeErrorBody(JSON.stringify({ errors: [{ code: "DENIED", message: "requested access to the resource is denied" }, { code: "TOO_MANY" }] }))).toBe(
      "requested access to the resource is denied; too many",
    );
  });
  test("text and HTML", () => {
    expect(describeErrorBody("bad gateway\nmore")).toBe("bad gateway");
    expect(describeErrorBody("<html>oops</html>")).toBeUndefined();
  });
});
