import { describe, expect, test } from "bun:test";
import { dockerArchiveManifest, dockerRepositories, readDockerArchive, readOciLayout, imageManifest, ociIndex, REF_NAME } from "../../../pkg/archive/layout.ts";
import { pickImages } from "../../../pkg/archive/save.ts";
import type { ImageRecord } from "../../../pkg/store/index.ts";

const d = (c: string) => `sha256:${c.repeat(64)}`;

describe("docker-archive documents", () => {
  test("manifest.json names layers <hex>.tar and the config <hex>.json, and reads back", () => {
    const text = dockerArchiveManifest([{ configDigest: d("c"), names: ["docker.io/library/a:1"], diffIDs: [d("1"), d("2")] }]);
    expect(JSON.parse(text)).toEqual([{ Config: `${"c".repeat(64)}.json`, RepoTags: ["docker.io/library/a:1"], Layers: [`${"1".repeat(64)}.tar`, `${"2".repeat(64)}.tar`] }]);
    const back = readDockerArchive(text);
    expect(back[0]!.configDigest).toBe(d("c"));
    expect(back[0]!.names).toEqual(["docker.io/library/a:1"]);
    expect(back[0]!.layers.map((l) => l.path)).toEqual([`${"1".repeat(64)}.tar`, `${"2".repeat(64)}.tar`]);
  });

  test("an unnamed image has RepoTags null; repositories maps repo → tag → top layer", () => {
    expect(JSON.parse(dockerArchiveManifest([{ configDigest: d("c"), names: [], diffIDs: [] }]))[0].RepoTags).toBeNull();
    expect(JSON.parse(dockerRepositories([{ names: ["localhost:5000/x/y:2"], diffIDs: [d("1"), d("2")] }])!)).toEqual({ "localhost:5000/x/y": { "2": "2".repeat(64) } });
    expect(dockerRepositories([{ names: [], diffIDs: [d("1")] }])).toBeUndefined();
  });

  test("paths that climb out of the archive and configs not named by digest are refused", () => {
    expect(() => readDockerArchive(JSON.stringify([{ Config: "../x.json", Layers: [] }]))).toThrow(/bad config/);
    expect(() => readDockerArchive(JSON.stringify([{ Config: `${"c".repeat(64)}.json`, Layers: ["/etc/passwd"] }]))).toThrow(/bad layers/);
    expect(() => readDockerArchive(JSON.stringify([{ Config: "config.json", Layers: [] }]))).toThrow(/digest/);
    expect(() => readDockerArchive("[]")).toThrow(/no image/);
    expect(() => readDockerArchive("{nope")).toThrow(/manifest.json/);
  });
});

describe("OCI layout", () => {
  test("index.json entries with ref.name, manifests read through their blobs", () => {
    const manifest = imageManifest("oci", { mediaType: "", digest: d("c"), size: 10 }, [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: d("a"), size: 5 }]);
    expect(JSON.parse(manifest).config.mediaType).toBe("application/vnd.oci.image.config.v1+json");
    const index = ociIndex([{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: d("e"), size: manifest.length, annotations: { [REF_NAME]: "docker.io/library/a:1" } }]);
    const imgs = readOciLayout(index, (dg) => {
      expect(dg).toBe(d("e"));
      return manifest;
    });
    expect(imgs).toEqual([
      {
        configDigest: d("c"),
        configPath: `blobs/sha256/${"c".repeat(64)}`,
        layers: [{ path: `blobs/sha256/${"a".repeat(64)}`, digest: d("a"), mediaType: "application/vnd.oci.image.layer.v1.tar+gzip" }],
        names: ["docker.io/library/a:1"],
      },
    ]);
  });

  test("a bad digest in index.json is refused", () => {
    expect(() => readOciLayout(JSON.stringify({ manifests: [{ digest: "sha256:../../etc" }] }), () => "")).toThrow(/bad digest/);
  });
});

describe("which images a save writes", () => {
  const img = (id: string, names: string[]): ImageRecord => ({
    id: id.repeat(64), names, repoDigests: [], manifestDigest: "", manifestMediaType: "", layers: [], size: 0, created: "", pulled: "", os: "linux", architecture: "amd64",
  });
  const images = [img("a", ["docker.io/library/alpine:latest"]), img("b", ["localhost/web:1"])];

  test("without -m: the first image, the other arguments more names for it", () => {
    const p = pickImages(images, ["alpine", "web:2"], false);
    expect(p).toHaveLength(1);
    expect(p[0]!.names).toEqual(["docker.io/library/alpine:latest", "localhost/web:2"]);
  });

  test("with -m: each argument an image; by ID it carries no name", () => {
    const p = pickImages(images, ["alpine", "bbbbbbbbbbbb"], true);
    expect(p.map((x) => [x.image.id[0], x.names])).toEqual([["a", ["docker.io/library/alpine:latest"]], ["b", []]]);
  });
});
