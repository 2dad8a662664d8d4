import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { PodError } from "../../../pkg/errors.ts";
import {
  authFileForWrite,
  authFilePaths,
  lookupCredentials,
  removeAllCredentials,
  removeCredentials,
  saveCredentials,
} from "../../../pkg/image/index.ts";
import { removeSandboxes, sandbox, thrown } from "./_tmp.ts";

afterEach(removeSandboxes);
afterAll(removeSandboxes);

const b64 = (s: string) => Buffer.from(s).toString("base64");
const auths = (map: Record<string, unknown>) => JSON.stringify({ auths: map });

function setup() {
  const s = sandbox();
  const env = { ...s.env, XDG_RUNTIME_DIR: join(s.dir, "run"), XDG_CONFIG_HOME: join(s.dir, "cfg") };
  return { s, env, run: "run/containers/auth.json", cfg: "cfg/containers/auth.json", docker: "home/.docker/config.json", legacy: "home/.dockercfg" };
}

describe("authFilePaths", () => {
  test("podman's order", () => {
    const { s, env } = setup();
    expect(authFilePaths(env)).toEqual([
      join(s.dir, "run/containers/auth.json"),
      join(s.dir, "cfg/containers/auth.json"),
      join(s.dir, "home/.docker/config.json"),
      join(s.dir, "home/.dockercfg"),
    ]);
  });
  test("REGISTRY_AUTH_FILE alone; DOCKER_CONFIG moves config.json; XDG_CONFIG_HOME defaults to ~/.config", () => {
    const { s } = setup();
    expect(authFilePaths({ ...s.env, REGISTRY_AUTH_FILE: "/x/auth.json", XDG_RUNTIME_DIR: "/run/user/1" })).toEqual(["/x/auth.json"]);
    expect(authFilePaths({ ...s.env, DOCKER_CONFIG: "/d" })).toEqual([
      join(s.dir, "home/.config/containers/auth.json"),
      "/d/config.json",
      join(s.dir, "home/.dockercfg"),
    ]);
  });
});

describe("lookupCredentials", () => {
  test("most specific key first: host/ns/repo, host/ns, host", () => {
    const { s, env, run } = setup();
    s.write(run, auths({ "quay.io": { auth: b64("host:1") }, "quay.io/team": { auth: b64("ns:2") }, "quay.io/team/app": { auth: b64("repo:3") } }));
    expect(lookupCredentials("quay.io", "team/app", env)).toEqual({ username: "repo", password: "3" });
    expect(lookupCredentials("quay.io", "team/other", env)).toEqual({ username: "ns", password: "2" });
    expect(lookupCredentials("quay.io", "solo/x", env)).toEqual({ username: "host", password: "1" });
    expect(lookupCredentials("quay.io:5000", "team/app", env)).toBeUndefined();
  });

  test("the first file with a match wins; empty entries fall through", () => {
    const { s, env, run, cfg, docker } = setup();
    s.write(run, auths({ "a.io": {} }));
    s.write(cfg, auths({ "a.io": { auth: b64("cfg:pw") }, "b.io": { auth: b64("cfg:b") } }));
    s.write(docker, auths({ "a.io": { auth: b64("docker:pw") }, "c.io": { auth: b64("docker:c") } }));
    expect(lookupCredentials("a.io", "x", env)).toEqual({ username: "cfg", password: "pw" });
    expect(lookupCredentials("c.io", "x", env)).toEqual({ username: "docker", password: "c" });
  });

  test("passwords may contain ':'; trailing NULs are dropped", () => {
    const { s, env, run } = setup();
    s.write(run, auths({ "a.io": { auth: b64("u:p:w\0\0") } }));
    expect(lookupCredentials("a.io", "x", env)).toEqual({ username: "u", password: "p:w" });
  });

  test("an identity token is returned when present", () => {
    const { s, env, run } = setup();
    s.write(run, auths({ "a.io": { auth: b64("u:"), identitytoken: "tok" } }));
    expect(lookupCredentials("a.io", "x", env)).toEqual({ identityToken: "tok" });
  });

  test("docker's legacy key forms match the host; docker.io also matches index.docker.io/v1/", () => {
    const { s, env, docker } = setup();
    s.write(docker, auths({ "https://index.docker.io/v1/": { auth: b64("hub:1") }, "http://old.io/v1/": { auth: b64("old:2") }, "https://new.io": { auth: b64("new:3") } }));
    expect(lookupCredentials("docker.io", "library/alpine", env)).toEqual({ username: "hub", password: "1" });
    expect(lookupCredentials("old.io", "x", env)).toEqual({ username: "old", password: "2" });
    expect(lookupCredentials("new.io", "x", env)).toEqual({ username: "new", password: "3" });
  });

  test("a plain docker.io key matches docker.io; registry-1.docker.io keys too", () => {
    const { s, env, run, cfg } = setup();
    s.write(run, auths({ "docker.io": { auth: b64("a:1") } }));
    expect(lookupCredentials("docker.io", "user/app", env)).toEqual({ username: "a", password: "1" });
    s.write(run, auths({}));
    s.write(cfg, auths({ "registry-1.docker.io": { auth: b64("b:2") } }));
    expect(lookupCredentials("docker.io", "user/app", env)).toEqual({ username: "b", password: "2" });
  });

  test("~/.dockercfg: the top level is the auths map, keyed by URL", () => {
    const { s, env, legacy } = setup();
    s.write(legacy, JSON.stringify({ "https://index.docker.io/v1/": { auth: b64("old:hub"), email: "x@y" } }));
    expect(lookupCredentials("docker.io", "library/alpine", env)).toEqual({ username: "old", password: "hub" });
  });

  test("REGISTRY_AUTH_FILE is the only file consulted", () => {
    const { s, env, run } = setup();
    s.write(run, auths({ "a.io": { auth: b64("run:1") } }));
    const only = s.write("only.json", auths({ "b.io": { auth: b64("only:2") } }));
    expect(lookupCredentials("a.io", "x", { ...env, REGISTRY_AUTH_FILE: only })).toBeUndefined();
    expect(lookupCredentials("b.io", "x", { ...env, REGISTRY_AUTH_FILE: only })).toEqual({ username: "only", password: "2" });
  });

  test("malformed JSON names the file and never quotes its content", () => {
    const { s, env, run } = setup();
    const path = s.write(run, '{"auths": {"a.io": {"auth": hunter2}}}');
    const e = thrown(() => lookupCredentials("a.io", "x", env));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`reading credentials file ${path}: the file is not valid JSON`);
    expect(`${e.message}\n${e.hint}`).not.toContain("hunter2");
  });

  test("a non-base64 auth field is an error without the secret", () => {
    const { s, env, run } = setup();
    s.write(run, auths({ "a.io": { auth: "sec ret!" } }));
    const e = thrown(() => lookupCredentials("a.io", "x", env));
    expect(e.message).toContain("the auth field is not valid base64");
    expect(e.message).not.toContain("sec ret");
  });

  test("a wrong shape is an error", () => {
    const { s, env, run } = setup();
    s.write(run, JSON.stringify({ auths: ["a.io"] }));
    expect(thrown(() => lookupCredentials("a.io", "x", env)).message).toContain('"auths" is not a map of objects');
    s.write(run, "[]");
    expect(thrown(() => lookupCredentials("a.io", "x", env)).message).toContain("the top level is not a JSON object");
  });
});

describe("saveCredentials / removeCredentials", () => {
  test("creates the file 0600 in a 0700 dir and returns its path", () => {
    const { s, env } = setup();
    s.write("run/.keep", "");
    const path = saveCredentials("quay.io", "me", "s3cret", env);
    expect(path).toBe(join(s.dir, "run/containers/auth.json"));
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(s.dir, "run/containers")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ auths: { "quay.io": { auth: b64("me:s3cret") } } });
    expect(lookupCredentials("quay.io", "a/b", env)).toEqual({ username: "me", password: "s3cret" });
  });

  test("keeps other keys and top-level fields, leaves no temp file", () => {
    const { s, env, run } = setup();
    const path = s.write(run, JSON.stringify({ auths: { "a.io": { auth: b64("a:1"), extra: 1 } }, credHelpers: { "x.io": "pass" }, psFormat: "t" }));
    saveCredentials("b.io/team", "b", "2", env);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      auths: { "a.io": { auth: b64("a:1"), extra: 1 }, "b.io/team": { auth: b64("b:2") } },
      credHelpers: { "x.io": "pass" },
      psFormat: "t",
    });
    expect(readdirSync(join(s.dir, "run/containers"))).toEqual(["auth.json"]);
  });

  test("without XDG_RUNTIME_DIR writes under XDG_CONFIG_HOME; REGISTRY_AUTH_FILE wins", () => {
    const { s } = setup();
    expect(saveCredentials("a.io", "u", "p", s.env)).toBe(join(s.dir, "home/.config/containers/auth.json"));
    const custom = join(s.dir, "custom/dir/auth.json");
    expect(saveCredentials("a.io", "u", "p", { ...s.env, REGISTRY_AUTH_FILE: custom })).toBe(custom);
    expect(authFileForWrite({ ...s.env, REGISTRY_AUTH_FILE: custom })).toBe(custom);
  });

  test("a missing XDG_RUNTIME_DIR is reported, not created", () => {
    const { env } = setup();
    const e = thrown(() => saveCredentials("a.io", "u", "p", env));
    expect(e.message).toContain("(from $XDG_RUNTIME_DIR) does not exist");
    expect(e.hint).toContain("unset XDG_RUNTIME_DIR");
  });

  test("rejects keys podman rejects, without echoing the password", () => {
    const { s } = setup();
    for (const key of ["https://a.io", "a.io/x@sha256", "a.io/x:tag", "", "/x"]) {
      const e = thrown(() => saveCredentials(key, "u", "pw-secret", s.env));
      expect(e.message).toStartWith("invalid credentials key");
      expect(e.message).not.toContain("pw-secret");
    }
  });

  test("remove returns whether something was stored; removeAll empties auths only", () => {
    const { s, env, run } = setup();
    const path = s.write(run, JSON.stringify({ auths: { "a.io": { auth: b64("a:1") }, "b.io": { auth: b64("b:2") } }, other: true }));
    expect(removeCredentials("a.io", env)).toBe(true);
    expect(removeCredentials("a.io", env)).toBe(false);
    expect(Object.keys(JSON.parse(readFileSync(path, "utf8")).auths)).toEqual(["b.io"]);
    removeAllCredentials(env);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ auths: {}, other: true });
  });

  test("removing from a missing file writes nothing", () => {
    const { s } = setup();
    expect(removeCredentials("a.io", s.env)).toBe(false);
    removeAllCredentials(s.env);
    expect(() => statSync(join(s.dir, "home/.config/containers/auth.json"))).toThrow();
  });
});
