import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { PodError } from "../../../pkg/errors.ts";
import {
  type RegistriesConfig,
  findRegistry,
  formatReference,
  isLoopbackHost,
  loadRegistriesConfig,
  parseReference,
  pullSources,
  resolveShortName,
} from "../../../pkg/image/index.ts";
import { removeSandboxes, sandbox, thrown } from "./_tmp.ts";

afterEach(removeSandboxes);
afterAll(removeSandboxes);

const H64 = "ab".repeat(32);
const USER = "home/.config/containers";

function load(text: string): RegistriesConfig {
  const s = sandbox();
  s.write(`${USER}/registries.conf`, text);
  return loadRegistriesConfig(s.env, s.roots);
}

describe("loadRegistriesConfig: which files", () => {
  test("no files: docker.io search, permissive, nothing else", () => {
    const s = sandbox();
    const cfg = loadRegistriesConfig(s.env, s.roots);
    expect(cfg.unqualifiedSearchRegistries).toEqual(["docker.io"]);
    expect(cfg.unqualifiedSearchRegistriesSource).toBeUndefined();
    expect(cfg.shortNameMode).toBe("permissive");
    expect(cfg.registries).toEqual([]);
    expect(cfg.files).toEqual([]);
  });

  test("the user file wins over /etc and /usr/share; XDG_CONFIG_HOME moves it", () => {
    const s = sandbox();
    s.write("etc/registries.conf", 'unqualified-search-registries = ["etc.io"]');
    s.write("usr/registries.conf", 'unqualified-search-registries = ["usr.io"]');
    expect(loadRegistriesConfig(s.env, s.roots).unqualifiedSearchRegistries).toEqual(["etc.io"]);
    const user = s.write("xdg/containers/registries.conf", 'unqualified-search-registries = ["user.io"]');
    const env = { ...s.env, XDG_CONFIG_HOME: `${s.dir}/xdg` };
    const cfg = loadRegistriesConfig(env, s.roots);
    expect(cfg.unqualifiedSearchRegistries).toEqual(["user.io"]);
    expect(cfg.unqualifiedSearchRegistriesSource).toBe(user);
    expect(cfg.files).toEqual([user]);
  });

  test("/usr/share is the last resort", () => {
    const s = sandbox();
    s.write("usr/registries.conf", 'unqualified-search-registries = ["usr.io"]');
    expect(loadRegistriesConfig(s.env, s.roots).unqualifiedSearchRegistries).toEqual(["usr.io"]);
  });

  test("drop-ins: sorted by name across dirs, same name read from the highest-precedence dir", () => {
    const s = sandbox();
    s.write("etc/registries.conf", 'unqualified-search-registries = ["main.io"]\n[aliases]\n"a" = "quay.io/a/a"\n"b" = "quay.io/b/b"');
    s.write("usr/registries.conf.d/10-vendor.conf", 'unqualified-search-registries = ["vendor.io"]');
    s.write(`${USER}/registries.conf.d/10-vendor.conf`, "# empty: shadows the vendor file");
    s.write("etc/registries.conf.d/20-a.conf", '[[registry]]\nlocation = "r.io"\ninsecure = true\n[aliases]\n"b" = ""');
    s.write("usr/registries.rootless.conf.d/1000/30-b.conf", '[[registry]]\nlocation = "r.io"\nblocked = true\n[aliases]\n"c" = "quay.io/c/c"');
    s.write("etc/registries.conf.d/40-c.conf.disabled", "this is not TOML");
    s.write("etc/registries.conf.d/50-dir.conf/x.conf", "neither is this");
    const cfg = loadRegistriesConfig(s.env, s.roots);
    expect(cfg.unqualifiedSearchRegistries).toEqual(["main.io"]);
    expect(cfg.registries).toHaveLength(1);
    expect(cfg.registries[0]).toMatchObject({ prefix: "r.io", insecure: false, blocked: true });
    expect(Object.keys(cfg.aliases).sort()).toEqual(["a", "c"]);
    expect(cfg.files.map((f) => f.slice(s.dir.length + 1))).toEqual([
      "etc/registries.conf",
      `${USER}/registries.conf.d/10-vendor.conf`,
      "etc/registries.conf.d/20-a.conf",
      "usr/registries.rootless.conf.d/1000/30-b.conf",
    ]);
  });

  test("root reads registries.rootful.conf.d", () => {
    const s = sandbox(0);
    s.write("etc/registries.rootful.conf.d/a.conf", 'unqualified-search-registries = ["root.io"]');
    s.write("etc/registries.rootless.conf.d/b.conf", 'unqualified-search-registries = ["user.io"]');
    expect(loadRegistriesConfig(s.env, s.roots).unqualifiedSearchRegistries).toEqual(["root.io"]);
  });

  test("CONTAINERS_REGISTRIES_CONF: only that file, then _OVERRIDE", () => {
    const s = sandbox();
    s.write(`${USER}/registries.conf`, 'unqualified-search-registries = ["user.io"]');
    s.write("etc/registries.conf.d/a.conf", 'short-name-mode = "disabled"');
    const only = s.write("custom.conf", 'unqualified-search-registries = ["custom.io"]');
    const cfg = loadRegistriesConfig({ ...s.env, CONTAINERS_REGISTRIES_CONF: only }, s.roots);
    expect(cfg.unqualifiedSearchRegistries).toEqual(["custom.io"]);
    expect(cfg.shortNameMode).toBe("permissive");
    expect(cfg.files).toEqual([only]);
    const over = s.write("override.conf", 'short-name-mode = "enforcing"');
    const both = loadRegistriesConfig({ ...s.env, CONTAINERS_REGISTRIES_CONF: only, CONTAINERS_REGISTRIES_CONF_OVERRIDE: over }, s.roots);
    expect(both.shortNameMode).toBe("enforcing");
    expect(both.files).toEqual([only, over]);
  });

  test("a missing CONTAINERS_REGISTRIES_CONF is an error", () => {
    const s = sandbox();
    const e = thrown(() => loadRegistriesConfig({ ...s.env, CONTAINERS_REGISTRIES_CONF: `${s.dir}/nope.conf` }, s.roots));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`reading registries configuration ${s.dir}/nope.conf: no such file`);
    expect(e.hint).toContain("CONTAINERS_REGISTRIES_CONF");
  });

  test("an empty unqualified-search-registries in a drop-in replaces the list", () => {
    const s = sandbox();
    s.write("etc/registries.conf", 'unqualified-search-registries = ["a.io", "b.io"]');
    const d = s.write("etc/registries.conf.d/x.conf", "unqualified-search-registries = []");
    const cfg = loadRegistriesConfig(s.env, s.roots);
    expect(cfg.unqualifiedSearchRegistries).toEqual([]);
    expect(cfg.unqualifiedSearchRegistriesSource).toBe(d);
  });

  test("short-name-aliases.conf in the cache dir wins over [aliases]", () => {
    const s = sandbox();
    s.write(`${USER}/registries.conf`, '[aliases]\n"app" = "quay.io/team/app"');
    const rec = s.write("home/.cache/containers/short-name-aliases.conf", '[aliases]\n"app" = "docker.io/team/app"');
    const cfg = loadRegistriesConfig(s.env, s.roots);
    expect(cfg.aliases.app).toEqual({ value: "docker.io/team/app", source: rec });
  });
});

describe("loadRegistriesConfig: parsing", () => {
  test("reads every supported key", () => {
    const cfg = load(`
unqualified-search-registries = ["quay.io", "localhost:5000/"]
short-name-mode = "disabled"

[[registry]]
prefix = "docker.io/library"
location = "reg.local/mirror/"
insecure = true

[[registry.mirror]]
location = "m1.local"

[[registry.mirror]]
location = "m2.local/x"
insecure = true
pull-from-mirror = "tag-only"

[[registry]]
location = "blocked.io"
blocked = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"hub" = "docker.io/alpine"
`);
    expect(cfg.unqualifiedSearchRegistries).toEqual(["quay.io", "localhost:5000"]);
    expect(cfg.shortNameMode).toBe("disabled");
    expect(cfg.registries.map((r) => r.prefix)).toEqual(["blocked.io", "docker.io/library"]);
    expect(cfg.registries[1]).toMatchObject({
      location: "reg.local/mirror",
      insecure: true,
      blocked: false,
      mirrors: [
        { location: "m1.local", insecure: false, pullFromMirror: "all" },
        { location: "m2.local/x", insecure: true, pullFromMirror: "tag-only" },
      ],
    });
    expect(cfg.aliases.hub?.value).toBe("docker.io/library/alpine");
    expect(cfg.aliases.fedora?.value).toBe("registry.fedoraproject.org/fedora");
  });

  test("the first [[registry]] with a prefix wins within one file", () => {
    const cfg = load('[[registry]]\nlocation = "a.io"\ninsecure = true\n[[registry]]\nlocation = "a.io"');
    expect(cfg.registries).toHaveLength(1);
    expect(cfg.registries[0]?.insecure).toBe(true);
  });

  test("malformed TOML names the file and the parser's complaint", () => {
    const s = sandbox();
    const path = s.write(`${USER}/registries.conf`, 'unqualified-search-registries = ["a.io"\n[[registry]');
    const e = thrown(() => loadRegistriesConfig(s.env, s.roots));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toStartWith(`loading registries configuration ${path}: TOML Parse error`);
    expect(e.hint).toContain(`fix the TOML syntax in ${path}`);
  });

  test("the v1 format is refused with a hint", () => {
    const e = thrown(() => load('[registries.search]\nregistries = ["docker.io"]'));
    expect(e.message).toContain("the version 1 format ([registries.search] etc.) is not supported");
    expect(e.hint).toContain("unqualified-search-registries");
  });

  test.each([
    ['[[registry]]\ninsecure = true', "a [[registry]] table sets neither location nor prefix"],
    ['[[registry]]\nprefix = "a.io"', 'location is unset and the prefix is not a wildcard'],
    ['[[registry]]\nprefix = "*.a.io/x"\n', "a wildcard prefix must look like *.example.com"],
    ['[[registry]]\nlocation = "https://a.io"', "URI schemes are not supported"],
    ['[[registry]]\nlocation = "a.io"\npull-from-mirror = "all"', "pull-from-mirror is only valid in [[registry.mirror]]"],
    ['[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "sometimes"', 'unsupported pull-from-mirror value "sometimes"'],
    ['[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "all"', "cannot be combined with mirror-by-digest-only"],
    ['[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\ninsecure = true', "location is unset"],
    ['[[registry]]\nlocation = "a.io"\ninsecure = "yes"', "insecure must be true or false"],
    ['unqualified-search-registries = "docker.io"', "must be an array of strings"],
    ['unqualified-search-registries = ["docker.io/library"]', "invalid unqualified-search-registries entry"],
    ['short-name-mode = "strict"', 'invalid short-name-mode "strict"'],
    ['[aliases]\n"quay.io/x" = "quay.io/x"', "the name must be a short name"],
    ['[aliases]\n"x:1" = "quay.io/x"', "the name must be a short name without tag or digest"],
    ['[aliases]\n"x" = "x"', "the value must be a fully-qualified name"],
    ['[aliases]\n"x" = "quay.io/x:1"', "the value must be a fully-qualified name without tag or digest"],
    ['[aliases]\n"x" = "quay.io/X"', "repository name must be lowercase"],
  ])("rejects %p", (text, cause) => {
    const e = thrown(() => load(text));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toContain("loading registries configuration ");
    expect(e.message).toContain(cause);
    expect(e.hint).toContain("containers-registries.conf(5)");
  });
});

describe("findRegistry", () => {
  const cfg = load(`
[[registry]]
location = "docker.io"
[[registry]]
location = "docker.io/library"
[[registry]]
prefix = "*.example.com"
insecure = true
[[registry]]
location = "example.com"
[[registry]]
prefix = "quay.io/a/b:1"
location = "quay.io/a/b:2"
`);
  const find = (s: string) => findRegistry(cfg, parseReference(s))?.prefix;
  test("longest prefix on component boundaries", () => {
    expect(find("alpine")).toBe("docker.io/library");
    expect(find("docker.io/libraryx/app")).toBe("docker.io");
    expect(find("user/app")).toBe("docker.io");
    expect(find("quay.io/x")).toBeUndefined();
  });
  test("a host prefix does not match another port of that host", () => {
    expect(find("example.com/x")).toBe("example.com");
    expect(find("example.com:5000/x")).toBeUndefined();
  });
  test("wildcards match subdomains at any depth, ports included", () => {
    expect(find("a.example.com/x")).toBe("*.example.com");
    expect(find("a.b.example.com:5000/x")).toBe("*.example.com");
    expect(find("notexample.com/x")).toBeUndefined();
  });
  test("a prefix with a tag matches only that tag", () => {
    expect(find("quay.io/a/b:1")).toBe("quay.io/a/b:1");
    expect(find(`quay.io/a/b:1@sha256:${H64}`)).toBe("quay.io/a/b:1");
    expect(find("quay.io/a/b:10")).toBeUndefined();
  });
});

describe("pullSources", () => {
  const src = (cfg: RegistriesConfig, s: string) =>
    pullSources(cfg, parseReference(s)).map((p) => `${p.mirror ? "mirror " : ""}${p.insecure ? "insecure " : ""}${p.host}/${p.repository}`);

  test("no entry: the reference itself, docker.io served by registry-1.docker.io", () => {
    const cfg = load("");
    expect(src(cfg, "alpine")).toEqual(["registry-1.docker.io/library/alpine"]);
    expect(src(cfg, "quay.io/a/b")).toEqual(["quay.io/a/b"]);
    expect(pullSources(cfg, parseReference("alpine:3"))[0]).toEqual({ host: "registry-1.docker.io", repository: "library/alpine", tag: "3", insecure: false, mirror: false });
  });

  test("prefix rewriting into the location", () => {
    expect(src(load('[[registry]]\nprefix = "docker.io"\nlocation = "127.0.0.1:5000"'), "alpine")).toEqual(["127.0.0.1:5000/library/alpine"]);
    expect(src(load('[[registry]]\nprefix = "docker.io/library"\nlocation = "reg.local/mirror"'), "alpine")).toEqual(["reg.local/mirror/alpine"]);
    expect(src(load('[[registry]]\nprefix = "quay.io/a"\nlocation = "docker.io"\ninsecure = true'), "quay.io/a/b")).toEqual(["insecure registry-1.docker.io/library/b"]);
  });

  test("a tag in the prefix can be remapped", () => {
    const [p] = pullSources(load('[[registry]]\nprefix = "quay.io/a/b:1"\nlocation = "r.io/c:2"'), parseReference("quay.io/a/b:1"));
    expect(p).toMatchObject({ host: "r.io", repository: "c", tag: "2" });
  });

  test("mirrors first, in order, then the primary", () => {
    const cfg = load(`
[[registry]]
prefix = "docker.io"
location = "primary.io"
[[registry.mirror]]
location = "m1.io"
insecure = true
[[registry.mirror]]
location = "m2.io/hub"
`);
    expect(src(cfg, "alpine")).toEqual(["mirror insecure m1.io/library/alpine", "mirror m2.io/hub/library/alpine", "primary.io/library/alpine"]);
  });

  test("pull-from-mirror and mirror-by-digest-only", () => {
    const cfg = load(`
[[registry]]
location = "a.io"
[[registry.mirror]]
location = "digest.io"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tag.io"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "all.io"
[[registry]]
location = "b.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "bm.io"
`);
    expect(src(cfg, "a.io/x:1")).toEqual(["mirror tag.io/x", "mirror all.io/x", "a.io/x"]);
    expect(src(cfg, `a.io/x@sha256:${H64}`)).toEqual(["mirror digest.io/x", "mirror all.io/x", "a.io/x"]);
    expect(src(cfg, "b.io/x")).toEqual(["b.io/x"]);
    expect(src(cfg, `b.io/x@sha256:${H64}`)).toEqual(["mirror bm.io/x", "b.io/x"]);
    const [m] = pullSources(cfg, parseReference(`a.io/x:1@sha256:${H64}`));
    expect(m).toMatchObject({ host: "digest.io", tag: "1", digest: `sha256:${H64}` });
  });

  test("a wildcard without location keeps the host and applies its settings", () => {
    const cfg = load('[[registry]]\nprefix = "*.corp.io"\ninsecure = true\n[[registry.mirror]]\nlocation = "cache.io"');
    expect(src(cfg, "eu.corp.io/team/app")).toEqual(["mirror cache.io/team/app", "insecure eu.corp.io/team/app"]);
  });

  test("blocked registries are refused, naming the file", () => {
    const s = sandbox();
    const path = s.write(`${USER}/registries.conf`, '[[registry]]\nlocation = "evil.io"\nblocked = true');
    const cfg = loadRegistriesConfig(s.env, s.roots);
    const e = thrown(() => pullSources(cfg, parseReference("evil.io/x")));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`pulling evil.io/x:latest: registry evil.io is blocked in ${path}`);
    expect(e.hint).toContain("blocked = true");
  });
});

describe("resolveShortName", () => {
  const names = (cfg: RegistriesConfig, s: string) => resolveShortName(cfg, s).map(formatReference);

  test("qualified names are returned as they are", () => {
    const cfg = load('unqualified-search-registries = ["quay.io"]');
    expect(names(cfg, "localhost:5000/x")).toEqual(["localhost:5000/x:latest"]);
    expect(names(cfg, "docker.io/alpine:3")).toEqual(["docker.io/library/alpine:3"]);
  });

  test("without configuration short names go to docker.io", () => {
    expect(names(load(""), "alpine")).toEqual(["docker.io/library/alpine:latest"]);
    expect(names(load(""), "user/app:1")).toEqual(["docker.io/user/app:1"]);
  });

  test("one candidate per search registry, library/ only on docker.io", () => {
    const cfg = load('unqualified-search-registries = ["quay.io", "docker.io", "localhost:5000"]');
    expect(names(cfg, "alpine:3")).toEqual(["quay.io/alpine:3", "docker.io/library/alpine:3", "localhost:5000/alpine:3"]);
    expect(names(cfg, `ns/app@sha256:${H64}`)).toEqual([`quay.io/ns/app@sha256:${H64}`, `docker.io/ns/app@sha256:${H64}`, `localhost:5000/ns/app@sha256:${H64}`]);
  });

  test("an alias wins and keeps the input's tag or digest", () => {
    const cfg = load('unqualified-search-registries = ["quay.io"]\n[aliases]\n"app" = "registry.example.com/team/app"');
    expect(names(cfg, "app")).toEqual(["registry.example.com/team/app:latest"]);
    expect(names(cfg, "app:2")).toEqual(["registry.example.com/team/app:2"]);
    expect(names(cfg, `app@sha256:${H64}`)).toEqual([`registry.example.com/team/app@sha256:${H64}`]);
    expect(names(cfg, "other")).toEqual(["quay.io/other:latest"]);
  });

  test("an empty search list is an error with a hint", () => {
    const e = thrown(() => resolveShortName(load("unqualified-search-registries = []"), "alpine"));
    expect(e.message).toContain('resolving short name "alpine": no alias and no unqualified-search-registries in ');
    expect(e.hint).toContain("docker.io/library/alpine");
  });

  test("enforcing mode refuses ambiguity (pod never prompts)", () => {
    const two = load('short-name-mode = "enforcing"\nunqualified-search-registries = ["quay.io", "docker.io"]');
    expect(thrown(() => resolveShortName(two, "alpine")).message).toContain("short-name-mode is enforcing and 2 unqualified-search registries match");
    const one = load('short-name-mode = "enforcing"\nunqualified-search-registries = ["quay.io"]');
    expect(names(one, "alpine")).toEqual(["quay.io/alpine:latest"]);
  });

  test("invalid input is an InvalidReference", () => {
    expect(() => resolveShortName(load(""), "Alpine")).toThrow("repository name must be lowercase");
  });
});

describe("isLoopbackHost", () => {
  test.each(["localhost", "localhost:5000", "LOCALHOST", "127.0.0.1", "127.0.0.1:5000", "127.255.3.4", "[::1]", "[::1]:5000", "::1"])("%s is loopback", (h) => {
    expect(isLoopbackHost(h)).toBe(true);
  });
  test.each(["localhost.example.com", "128.0.0.1", "127.0.0.256", "10.0.0.1:5000", "[::2]:5000", "docker.io", "127.0.0.1.nip.io"])("%s is not", (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});
