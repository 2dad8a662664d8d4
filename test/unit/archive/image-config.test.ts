import { describe, expect, test } from "bun:test";
import { applyChanges, childConfig, splitChange } from "../../../pkg/archive/image-config.ts";

describe("--change", () => {
  test("INSTRUCTION VALUE and INSTRUCTION=VALUE, any case", () => {
    expect(splitChange("CMD /bin/sh")).toEqual({ key: "CMD", value: "/bin/sh" });
    expect(splitChange("cmd=/bin/sh -c x")).toEqual({ key: "CMD", value: "/bin/sh -c x" });
    expect(() => splitChange("FROM alpine")).toThrow('invalid change "FROM alpine" - invalid instruction FROM');
    expect(() => splitChange("CMD")).toThrow(/instruction and a value/);
  });

  test("CMD and ENTRYPOINT: JSON arrays as they are, anything else through /bin/sh -c", () => {
    const c = applyChanges({}, ['CMD ["echo","hi"]', "ENTRYPOINT tini --"]);
    expect(c.Cmd).toEqual(["echo", "hi"]);
    expect(c.Entrypoint).toEqual(["/bin/sh", "-c", "tini --"]);
    expect(applyChanges({}, ["CMD [not json"]).Cmd).toEqual(["/bin/sh", "-c", "[not json"]);
  });

  test("ENV replaces a variable of the same name; LABEL takes KEY=VALUE or KEY VALUE", () => {
    const c = applyChanges({ Env: ["PATH=/bin", "A=1"] }, ["ENV A=2", "ENV B 3", 'LABEL x="a b"', "LABEL y z"]);
    expect(c.Env).toEqual(["PATH=/bin", "A=2", "B=3"]);
    expect(c.Labels).toEqual({ x: "a b", y: "z" });
  });

  test("EXPOSE defaults to tcp; VOLUME, WORKDIR relative to the last, STOPSIGNAL checked, USER", () => {
    const c = applyChanges({ WorkingDir: "/app" }, ["EXPOSE 80 53/udp", 'VOLUME ["/data", "/cache"]', "WORKDIR sub", "STOPSIGNAL term", "USER 1000:1000"]);
    expect(Object.keys(c.ExposedPorts!)).toEqual(["80/tcp", "53/udp"]);
    expect(Object.keys(c.Volumes!)).toEqual(["/data", "/cache"]);
    expect(c.WorkingDir).toBe("/app/sub");
    expect(c.StopSignal).toBe("SIGTERM");
    expect(c.User).toBe("1000:1000");
    expect(() => applyChanges({}, ["STOPSIGNAL NOPE"])).toThrow(/invalid signal/);
    expect(() => applyChanges({}, ["EXPOSE http"])).toThrow(/invalid port/);
    expect(() => applyChanges({}, ["VOLUME data"])).toThrow(/absolute/);
  });

  test("ONBUILD is kept in docker format only, with a warning for OCI", () => {
    const warnings: string[] = [];
    expect(applyChanges({}, ["ONBUILD RUN x"], { format: "oci", warn: (m) => warnings.push(m) }).OnBuild).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(applyChanges({}, ["ONBUILD RUN x"], { format: "docker" }).OnBuild).toEqual(["RUN x"]);
  });

  test("the input config is not changed", () => {
    const base = { Env: ["A=1"] };
    applyChanges(base, ["ENV A=2"]);
    expect(base.Env).toEqual(["A=1"]);
  });
});

describe("a child config", () => {
  const parent = { architecture: "amd64", os: "linux", author: "someone", rootfs: { type: "layers", diff_ids: ["sha256:a"] }, history: [{ created_by: "base" }] };
  test("one more layer and history entry; the author is the committer's", () => {
    const c = childConfig(parent, { diffID: "sha256:b", created: "2026-01-01T00:00:00Z", createdBy: "sh", comment: "msg", config: { Cmd: ["sh"] } });
    expect(c.rootfs!.diff_ids).toEqual(["sha256:a", "sha256:b"]);
    expect(c.history!.at(-1)).toEqual({ created: "2026-01-01T00:00:00Z", created_by: "sh", comment: "msg" });
    expect(c.author).toBeUndefined();
    expect(c.architecture).toBe("amd64");
  });
  test("--squash: only the new layer and its entry", () => {
    const c = childConfig(parent, { diffID: "sha256:s", created: "t", createdBy: "sh", author: "me", config: {}, squash: true });
    expect(c.rootfs!.diff_ids).toEqual(["sha256:s"]);
    expect(c.history).toHaveLength(1);
    expect(c.author).toBe("me");
  });
});
