import { expect, test } from "bun:test";
import { findImage, upsertImage, type ImageRecord } from "../../../pkg/store/images.ts";
import { toQuery, localName } from "../../../pkg/catalog/index.ts";

const rec = (id: string, names: string[], repoDigests: string[] = []): ImageRecord => ({
  id: id.padEnd(64, "0"),
  names,
  repoDigests,
  manifestDigest: "sha256:" + "m".repeat(64),
  manifestMediaType: "application/vnd.oci.image.manifest.v1+json",
  layers: [],
  size: 1,
  created: "2024-01-01T00:00:00Z",
  pulled: "2024-01-01T00:00:00Z",
  os: "linux",
  architecture: "amd64",
});

const dig = "sha256:" + "d".repeat(64);
const images = [
  rec("aaa1", ["docker.io/library/alpine:latest"], [`docker.io/library/alpine@${dig}`]),
  rec("bbb2", ["localhost/web:1", "quay.io/x/web:1"]),
  rec("aaa3", []),
];
const find = (s: string) => findImage(images, s, toQuery(s))?.image.id.slice(0, 4);

test("lookup by full name, short name, tag, digest and ID prefix", () => {
  expect(find("docker.io/library/alpine:latest")).toBe("aaa1");
  expect(find("alpine")).toBe("aaa1");
  expect(find("alpine:latest")).toBe("aaa1");
  expect(find("library/alpine")).toBe("aaa1");
  expect(find(`alpine@${dig}`)).toBe("aaa1");
  expect(find("web:1")).toBe("bbb2");
  expect(find("bbb2")).toBe("bbb2");
  expect(find("alpine:3")).toBeUndefined();
  expect(find("nothere")).toBeUndefined();
});
test("an ambiguous ID prefix is an error", () => {
  expect(() => find("aaa")).toThrow(/ambiguous/);
});
test("upsert moves a name from its old image to the new one", () => {
  const next = upsertImage(images, rec("ccc4", ["docker.io/library/alpine:latest"]));
  expect(next.find((i) => i.id.startsWith("aaa1"))!.names).toEqual([]);
  expect(next.find((i) => i.id.startsWith("ccc4"))!.names).toEqual(["docker.io/library/alpine:latest"]);
});
test("local tags of short names live under localhost/ like podman's", () => {
  expect(localName("web")).toBe("localhost/web:latest");
  expect(localName("web:2")).toBe("localhost/web:2");
  expect(localName("quay.io/x/web:2")).toBe("quay.io/x/web:2");
});
