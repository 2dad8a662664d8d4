import { describe, expect, test } from "bun:test";
import { PodError } from "../../../pkg/errors.ts";
import { type Descriptor, MediaType, formatPlatform, hostPlatform, parsePlatform, selectPlatform } from "../../../pkg/registry/index.ts";
import type { ImageIndex, Platform } from "../../../pkg/registry/index.ts";

const entry = (n: number, platform?: Platform): Descriptor => ({
  mediaType: MediaType.ociManifest,
  digest: `sha256:${String(n).repeat(64)}`,
  size: 1,
  ...(platform && { platform }),
});
const idx = (...manifests: Descriptor[]): ImageIndex => ({ kind: "index", mediaType: MediaType.ociIndex, manifests });

describe("parsePlatform", () => {
  test.each([
    ["linux/amd64", { os: "linux", architecture: "amd64" }],
    ["linux/arm64/v8", { os: "linux", architecture: "arm64", variant: "v8" }],
    ["linux/x86_64", { os: "linux", architecture: "amd64" }],
    ["linux/aarch64", { os: "linux", architecture: "arm64" }],
    ["linux/armhf", { os: "linux", architecture: "arm", variant: "v7" }],
    ["Linux/ARM/v6", { os: "linux", architecture: "arm", variant: "v6" }],
  ])("%s", (s, want) => expect(parsePlatform(s)).toEqual(want));

  test.each(["linux", "linux/", "a/b/c/d", "linux/amd 64"])("rejects %p", (s) => {
    expect(() => parsePlatform(s)).toThrow(PodError);
  });

  test("formats back", () => expect(formatPlatform(parsePlatform("linux/arm/v7"))).toBe("linux/arm/v7"));
});

test("hostPlatform maps Node's arch names to OCI ones", () => {
  const p = hostPlatform();
  expect(p.os).toBe("linux");
  const want: Record<string, Platform> = {
    x64: { os: "linux", architecture: "amd64" },
    arm64: { os: "linux", architecture: "arm64", variant: "v8" },
    arm: { os: "linux", architecture: "arm", variant: "v7" },
  };
  if (want[process.arch]) expect(p).toEqual(want[process.arch] as Platform);
});

describe("selectPlatform", () => {
  const index = idx(
    entry(1, { os: "linux", architecture: "amd64" }),
    entry(2, { os: "linux", architecture: "arm64", variant: "v8" }),
    entry(3, { os: "linux", architecture: "arm", variant: "v6" }),
    entry(4, { os: "unknown", architecture: "unknown" }),
    entry(5),
  );

  test("exact os/architecture", () => expect(selectPlatform(index, { os: "linux", architecture: "amd64" }).digest).toBe(entry(1).digest));
  test("arm64 without variant matches v8", () => expect(selectPlatform(index, { os: "linux", architecture: "arm64" }).digest).toBe(entry(2).digest));
  test("arm64 v8 matches an entry without variant", () => {
    const i = idx(entry(6, { os: "linux", architecture: "arm64" }));
    expect(selectPlatform(i, { os: "linux", architecture: "arm64", variant: "v8" }).digest).toBe(entry(6).digest);
  });
  test("arm v7 falls back to v6", () => expect(selectPlatform(index, { os: "linux", architecture: "arm", variant: "v7" }).digest).toBe(entry(3).digest));
  test("the exact variant wins over a lower one", () => {
    const i = idx(entry(6, { os: "linux", architecture: "arm", variant: "v6" }), entry(7, { os: "linux", architecture: "arm", variant: "v7" }));
    expect(selectPlatform(i, { os: "linux", architecture: "arm" }).digest).toBe(entry(7).digest);
  });
  test("amd64 does not take amd64/v3", () => {
    const i = idx(entry(6, { os: "linux", architecture: "amd64", variant: "v3" }));
    expect(() => selectPlatform(i, { os: "linux", architecture: "amd64" })).toThrow(PodError);
  });

  test("no match lists what is offered, without attestation entries", () => {
    let e: unknown;
    try {
      selectPlatform(index, { os: "linux", architecture: "s390x" });
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(PodError);
    expect((e as PodError).message).toBe("choosing an image for linux/s390x: the image is only available for linux/amd64, linux/arm64/v8, linux/arm/v6");
    expect((e as PodError).hint).toContain("--platform");
  });
});
