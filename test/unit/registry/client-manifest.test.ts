import { afterEach, describe, expect, test } from "bun:test";
import { DigestMismatch, NotFoundInRegistry, PodError } from "../../../pkg/errors.ts";
import { MediaType, RegistryClient, parseManifest, selectPlatform } from "../../../pkg/registry/index.ts";
import { FakeRegistry } from "./_fake-registry.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;
const image = (mediaType?: string) => ({
  schemaVersion: 2,
  ...(mediaType && { mediaType }),
  config: { mediaType: MediaType.ociConfig, digest: d("c"), size: 10 },
  layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: d("a"), size: 20 }],
});
const index = (mediaType: string) => ({
  schemaVersion: 2,
  mediaType,
  manifests: [
    { mediaType: MediaType.ociManifest, digest: d("1"), size: 1, platform: { os: "linux", architecture: "amd64" } },
    { mediaType: MediaType.ociManifest, digest: d("2"), size: 1, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
    { mediaType: MediaType.ociManifest, digest: d("3"), size: 1, platform: { os: "unknown", architecture: "unknown" } },
  ],
});

let reg: FakeRegistry;
afterEach(() => reg?.stop());
const client = () => new RegistryClient({ host: reg.host, insecure: false, loopback: true });

describe("getManifest", () => {
  test.each([
    ["OCI manifest", MediaType.ociManifest, image(MediaType.ociManifest), "manifest"],
    ["Docker schema2 manifest", MediaType.dockerManifest, image(MediaType.dockerManifest), "manifest"],
    ["OCI index", MediaType.ociIndex, index(MediaType.ociIndex), "index"],
    ["Docker manifest list", MediaType.dockerManifestList, index(MediaType.dockerManifestList), "index"],
  ])("%s", async (_name, mediaType, doc, kind) => {
    reg = new FakeRegistry();
    const digest = reg.addManifest("library/alpine", "latest", doc, mediaType);
    const m = await client().getManifest("library/alpine", "latest");
    expect(m.mediaType).toBe(mediaType);
    expect(m.digest).toBe(digest);
    expect(parseManifest(m.bytes, m.mediaType).kind).toBe(kind as "index" | "manifest");
    const accept = reg.requests.at(-1)?.headers.get("accept") ?? "";
    for (const t of [MediaType.ociManifest, MediaType.ociIndex, MediaType.dockerManifest, MediaType.dockerManifestList]) expect(accept).toContain(t);
    expect(reg.requests.at(-1)?.headers.get("user-agent")).toMatch(/^pod\//);
  });

  test("by digest, and an OCI manifest without a mediaType field served as OCI", async () => {
    reg = new FakeRegistry();
    const digest = reg.addManifest("app", undefined, image(), MediaType.ociManifest);
    const m = await client().getManifest("app", digest);
    expect(m).toMatchObject({ digest, mediaType: MediaType.ociManifest });
  });

  test("index then platform selection picks the host's entry", async () => {
    reg = new FakeRegistry();
    reg.addManifest("multi", "1", index(MediaType.ociIndex), MediaType.ociIndex);
    const m = await client().getManifest("multi", "1");
    const parsed = parseManifest(m.bytes, m.mediaType);
    if (parsed.kind !== "index") throw new Error("want index");
    expect(selectPlatform(parsed, { os: "linux", architecture: "arm64" }).digest).toBe(d("2"));
  });

  test("schema 1 is refused with a hint", async () => {
    reg = new FakeRegistry();
    reg.addManifest("old", "v1", { schemaVersion: 1, name: "old", tag: "v1", fsLayers: [] }, MediaType.dockerSchema1Signed);
    const e = await client().getManifest("old", "v1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PodError);
    expect((e as PodError).message).toContain("unsupported");
    expect((e as PodError).hint).toBeTruthy();
  });

  test("content not matching the requested digest is a DigestMismatch naming both", async () => {
    reg = new FakeRegistry();
    const digest = reg.addManifest("app", "1", image(), MediaType.ociManifest);
    const other = new TextEncoder().encode(JSON.stringify(image(MediaType.ociManifest)));
    reg.corrupt.set(digest, other);
    const actual = `sha256:${new Bun.CryptoHasher("sha256").update(other).digest("hex")}`;
    const e = await client().getManifest("app", digest).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DigestMismatch);
    expect((e as Error).message).toContain(digest);
    expect((e as Error).message).toContain(actual);
  });

  test("404 is NotFoundInRegistry with the registry's message", async () => {
    reg = new FakeRegistry();
    const e = await client().getManifest("library/nope", "latest").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotFoundInRegistry);
    expect((e as Error).message).toBe(`fetching manifest ${reg.host}/library/nope:latest: manifest unknown`);
  });

  test("a 503 is retried with backoff, then succeeds", async () => {
    reg = new FakeRegistry();
    reg.addManifest("app", "1", image(MediaType.ociManifest), MediaType.ociManifest);
    reg.fail503 = 1;
    const started = performance.now();
    const m = await client().getManifest("app", "1");
    expect(m.mediaType).toBe(MediaType.ociManifest);
    expect(reg.requests.filter((r) => r.path === "/v2/app/manifests/1")).toHaveLength(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  test("503 on every try gives up with the registry's message", async () => {
    reg = new FakeRegistry();
    reg.fail503 = 10;
    const e = await client().getManifest("app", "1").catch((x: unknown) => x);
    expect((e as Error).message).toBe(`fetching manifest ${reg.host}/app:1: registry answered 503: try later`);
    expect(reg.requests).toHaveLength(3);
  });

  test("manifests over 4 MiB are refused", async () => {
    reg = new FakeRegistry();
    reg.addManifest("big", "1", { ...image(MediaType.ociManifest), annotations: { pad: "x".repeat(5 << 20) } }, MediaType.ociManifest);
    await expect(client().getManifest("big", "1")).rejects.toThrow(/limit/);
  });

  test("bad names are refused before any request", async () => {
    reg = new FakeRegistry();
    await expect(client().getManifest("../etc", "latest")).rejects.toThrow(/not a valid repository name/);
    await expect(client().getManifest("app", "a/b")).rejects.toThrow(/neither a tag nor a digest/);
    expect(reg.requests).toHaveLength(0);
  });
});
