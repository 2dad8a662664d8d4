import { describe, expect, test } from "bun:test";
import { parseDestination, parseCompression } from "../../../pkg/push/index.ts";

describe("push destinations", () => {
  test("plain names and docker:// are registry references", () => {
    const a = parseDestination("localhost:5000/team/web:1");
    expect(a.transport).toBe("docker");
    if (a.transport === "docker") expect([a.ref.registry, a.ref.repository, a.ref.tag]).toEqual(["localhost:5000", "team/web", "1"]);
    const b = parseDestination("docker://quay.io/me/web");
    if (b.transport !== "docker") throw new Error("expected docker");
    expect([b.ref.registry, b.ref.repository]).toEqual(["quay.io", "me/web"]);
    const c = parseDestination("alpine:3.20");
    if (c.transport !== "docker") throw new Error("expected docker");
    expect([c.ref.registry, c.ref.repository, c.ref.tag]).toEqual(["docker.io", "library/alpine", "3.20"]);
  });

  test("layouts and archives, with an optional name after the path", () => {
    expect(parseDestination("oci:/tmp/l:v1")).toEqual({ transport: "oci", path: "/tmp/l", name: "v1" });
    expect(parseDestination("oci-archive:/tmp/a.tar")).toEqual({ transport: "oci-archive", path: "/tmp/a.tar" });
    expect(parseDestination("docker-archive:a.tar:localhost/x:2")).toEqual({ transport: "docker-archive", path: "a.tar", name: "localhost/x:2" });
    expect(parseDestination("dir:/tmp/d")).toEqual({ transport: "dir", path: "/tmp/d" });
  });

  test("what pod cannot write is refused", () => {
    expect(() => parseDestination("containers-storage:x")).toThrow(/unknown transport/);
    expect(() => parseDestination("docker:quay.io/x")).toThrow(/docker:\/\//);
    expect(() => parseDestination("oci:")).toThrow(/no path/);
    expect(() => parseCompression("zstd:chunked")).toThrow(/zstd:chunked/);
    expect(parseCompression("zstd")).toBe("zstd");
  });
});
