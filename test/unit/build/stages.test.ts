import { describe, expect, test } from "bun:test";
import { parseContainerfile } from "../../../pkg/build/containerfile.ts";
import { findStage, globalArgs, mountOptions, parsePlatform, planStages, platformArgs, stageWaves, unusedBuildArgs } from "../../../pkg/build/stages.ts";

const file = `ARG GO=1.22
ARG BASE
FROM golang:\${GO} AS build
RUN go build
FROM alpine AS tools
RUN apk add x
FROM build AS test
RUN go test
FROM \${BASE:-debian} AS final
ARG STAGE=tools
COPY --from=build /out /bin/
RUN --mount=type=bind,from=\${STAGE},target=/t true
FROM scratch AS unrelated
COPY --from=0 /a /a
`;

describe("stages", () => {
  const cf = parseContainerfile(file, "Containerfile");

  test("the last stage by default, and only what it needs", () => {
    const plan = planStages(cf);
    expect(plan.target.name).toBe("unrelated");
    expect(plan.needed).toEqual([0, 4]);
    const final = planStages(cf, { target: "final" });
    expect(final.needed).toEqual([0, 1, 3]);
    expect(final.bases.get(3)).toEqual({ kind: "image", ref: "debian" });
    expect(final.bases.get(2)).toEqual({ kind: "stage", index: 0 });
    expect(final.bases.get(4)).toEqual({ kind: "scratch" });
    expect(final.bases.get(0)).toEqual({ kind: "image", ref: "golang:1.22" });
    expect(final.edges.get(3)!.map((e) => [e.from, e.stage])).toEqual([["build", 0], ["tools", 1]]);
    expect(stageWaves(final)).toEqual([[0, 1], [3]]);
  });

  test("build args reach FROM lines and --from values", () => {
    const plan = planStages(cf, { target: "final", buildArgs: new Map([["BASE", "fedora"], ["GO", "1.21"], ["STAGE", "test"]]) });
    expect(plan.bases.get(3)).toEqual({ kind: "image", ref: "fedora" });
    expect(plan.bases.get(0)).toEqual({ kind: "image", ref: "golang:1.21" });
    expect(plan.needed).toEqual([0, 2, 3]);
    expect(unusedBuildArgs(cf, plan, new Map([["GO", "x"], ["NOPE", "y"], ["HTTP_PROXY", "z"]]))).toEqual(["NOPE"]);
  });

  test("unknown target, --from of the current stage", () => {
    expect(() => planStages(cf, { target: "nope" })).toThrow('target stage "nope" could not be found');
    const self = parseContainerfile("FROM a\nCOPY --from=0 /x /y\n", "Containerfile");
    expect(() => planStages(self)).toThrow("Containerfile:2: COPY: invalid from flag value 0: refers to the current build stage");
    expect(findStage(cf, "BUILD", 3)!.index).toBe(0);
    expect(findStage(cf, "alpine:3", 3)).toBeUndefined();
  });

  test("global ARGs and the predefined platform ARGs", () => {
    const pa = platformArgs(parsePlatform("linux/arm64/v8"), { os: "linux", arch: "amd64" });
    expect(pa.get("TARGETPLATFORM")).toBe("linux/arm64/v8");
    expect(pa.get("TARGETARCH")).toBe("arm64");
    expect(pa.get("BUILDPLATFORM")).toBe("linux/amd64");
    const g = parseContainerfile("ARG A=x-$TARGETARCH\nARG B\nFROM img:$A\n", "Containerfile");
    const ga = globalArgs(g, new Map(), pa);
    expect(ga.scope.get("A")).toBe("x-arm64");
    expect(ga.scope.has("B")).toBe(false);
    expect([...ga.declared]).toEqual(["A", "B"]);
    expect(planStages(g, { predefined: pa }).bases.get(0)).toEqual({ kind: "image", ref: "img:x-arm64" });
    expect(() => planStages(parseContainerfile("FROM ${X:?needed}\n", "Containerfile"))).toThrow("Containerfile:1: FROM: X: needed");
    expect(() => planStages(parseContainerfile("FROM $NOPE\n", "Containerfile"))).toThrow("Containerfile:1: FROM: base name ($NOPE) should not be blank");
  });

  test("mount options", () => {
    expect([...mountOptions('type=cache,target=/c,"id=a,b",ro')]).toEqual([["type", "cache"], ["target", "/c"], ["id", "a,b"], ["ro", ""]]);
    expect(parsePlatform("amd64")).toEqual({ os: "linux", arch: "amd64" });
    expect(() => parsePlatform("linux//x")).toThrow("invalid platform");
  });
});
