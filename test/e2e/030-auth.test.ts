// Registry authentication: htpasswd (Basic) and Bearer tokens from a token
// server, pod login/logout, and where credentials are read from
// (containers-auth.json order).
import { beforeAll, describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, onSuiteEnd, type PodResult, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { startTokenServer, type TokenServer } from "../fixtures/token-server.ts";
import { makeSigningCert } from "../fixtures/certs.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";

useSuite("030-auth");

const ALICE = { user: "alice", pass: "s3cret-Alice-pw" };
const BOB = { user: "bob", pass: "hunter2-Bob-pw" };
let basicReg: Registry;
let tokenReg: Registry;
let tokens: TokenServer;
let bb: Fixture;

const b64 = (s: string) => Buffer.from(s).toString("base64");
const secrets = [ALICE.pass, BOB.pass, b64(`${ALICE.user}:${ALICE.pass}`), b64(`${BOB.user}:${BOB.pass}`)];

/** No secret may ever appear in pod's output. */
function expectNoSecrets(r: PodResult): void {
  for (const s of secrets) {
    expect(r.stdout.includes(s), `stdout of pod ${r.args[0]} contains a secret`).toBe(false);
    expect(r.stderr.includes(s), `stderr of pod ${r.args[0]} contains a secret`).toBe(false);
  }
}

const defaultAuthFile = () => join(pod().runtimeDir, "containers", "auth.json");

beforeAll(async () => {
  basicReg = await startRegistry({ htpasswd: { [ALICE.user]: ALICE.pass } });
  onSuiteEnd(() => basicReg.stop());
  const certDir = makeTempDir("pod-token-cert");
  onSuiteEnd(() => removeDir(certDir));
  tokens = startTokenServer(await makeSigningCert(certDir), { [BOB.user]: BOB.pass });
  onSuiteEnd(() => tokens.stop());
  tokenReg = await startRegistry({ token: tokens });
  onSuiteEnd(() => tokenReg.stop());
  pod().writeRegistriesConf([
    { location: basicReg.host, insecure: true },
    { location: tokenReg.host, insecure: true },
  ]);
  bb = await pushFixture(basicReg, "busybox");
  await pushFixture(tokenReg, "busybox");
}, SETUP_TIMEOUT);

const img = (reg: Registry) => `${reg.host}/library/busybox:latest`;

function readAuth(file: string): any {
  return JSON.parse(readFileSync(file, "utf8"));
}

describe("htpasswd (Basic auth)", () => {
  it("an anonymous pull is refused", async () => {
    const r = await runPod(["pull", img(basicReg)]);
    expectPodError(r, /unauthorized|authentication required|credentials/i);
  });

  it("login with a wrong password fails and saves nothing", async () => {
    const r = await runPod(["login", "-u", ALICE.user, "-p", "wrong-password", basicReg.host]);
    expectPodError(r, /invalid username\/password/i);
    expect(r.stderr).not.toContain("wrong-password");
    expect(existsSync(defaultAuthFile()) ? readAuth(defaultAuthFile()).auths?.[basicReg.host] : undefined).toBeUndefined();
  });

  it("login succeeds, writes $XDG_RUNTIME_DIR/containers/auth.json mode 0600, prints no secret", async () => {
    const r = await runPod(["login", "-u", ALICE.user, "-p", ALICE.pass, basicReg.host]);
    expectExit(r, 0);
    expect(r.stdout).toBe("Login Succeeded!\n");
    expectNoSecrets(r);
    const f = defaultAuthFile();
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readAuth(f).auths[basicReg.host].auth).toBe(b64(`${ALICE.user}:${ALICE.pass}`));
  });

  it("pull uses the saved credentials", async () => {
    const r = await runPod(["pull", "-q", img(basicReg)]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
  });

  it("nothing secret shows at --log-level debug either", async () => {
    const r = await runPod(["--log-level", "debug", "pull", img(basicReg)]);
    expectExit(r, 0);
    expectNoSecrets(r);
    const l = await runPod(["--log-level", "debug", "login", "-u", ALICE.user, "-p", ALICE.pass, basicReg.host]);
    expectExit(l, 0);
    expectNoSecrets(l);
  });

  it("logout removes the credentials, and pull is refused again", async () => {
    const r = await runPod(["logout", basicReg.host]);
    expectExit(r, 0);
    expect(r.stdout).toBe(`Removed login credentials for ${basicReg.host}\n`);
    expect(readAuth(defaultAuthFile()).auths?.[basicReg.host]).toBeUndefined();
    expectPodError(await runPod(["pull", img(basicReg)]), /unauthorized|authentication required|credentials/i);
  });

  it("logout when not logged in is an error", async () => {
    expectPodError(await runPod(["logout", basicReg.host]), basicReg.host);
  });

  it("--password-stdin reads the password from stdin", async () => {
    const r = await runPod(["login", "-u", ALICE.user, "--password-stdin", basicReg.host], { input: `${ALICE.pass}\n` });
    expectExit(r, 0);
    expect(r.stdout).toBe("Login Succeeded!\n");
    expectNoSecrets(r);
    expect(readAuth(defaultAuthFile()).auths[basicReg.host].auth).toBe(b64(`${ALICE.user}:${ALICE.pass}`));
    expectExit(await runPod(["logout", basicReg.host]), 0);
  });

  it("--tls-verify=false works without an insecure registries.conf entry", async () => {
    const env = pod();
    env.writeRegistriesConf([]);
    try {
      const r = await runPod(["login", "--tls-verify=false", "-u", ALICE.user, "-p", ALICE.pass, basicReg.host]);
      expectExit(r, 0);
      const p = await runPod(["pull", "-q", "--tls-verify=false", img(basicReg)]);
      expectExit(p, 0);
      expectExit(await runPod(["logout", basicReg.host]), 0);
    } finally {
      env.writeRegistriesConf([
        { location: basicReg.host, insecure: true },
        { location: tokenReg.host, insecure: true },
      ]);
    }
  });

  it("--authfile writes and reads that file only", async () => {
    const f = join(pod().base, "my-auth.json");
    const r = await runPod(["login", "--authfile", f, "-u", ALICE.user, "-p", ALICE.pass, basicReg.host]);
    expectExit(r, 0);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readAuth(f).auths[basicReg.host].auth).toBe(b64(`${ALICE.user}:${ALICE.pass}`));
    expect(existsSync(defaultAuthFile()) ? readAuth(defaultAuthFile()).auths?.[basicReg.host] : undefined).toBeUndefined();
    expectExit(await runPod(["pull", "-q", "--authfile", f, img(basicReg)]), 0);
    expectPodError(await runPod(["pull", img(basicReg)]));
    const o = await runPod(["logout", "--authfile", f, basicReg.host]);
    expectExit(o, 0);
    expect(readAuth(f).auths?.[basicReg.host]).toBeUndefined();
  });

  it("--creds USER:PASS works without login; wrong --creds fail", async () => {
    const r = await runPod(["pull", "-q", "--creds", `${ALICE.user}:${ALICE.pass}`, img(basicReg)]);
    expectExit(r, 0);
    expectNoSecrets(r);
    const w = await runPod(["pull", "--creds", `${ALICE.user}:nope`, img(basicReg)]);
    expectPodError(w);
    expect(w.stderr).not.toContain("nope");
  });
});

describe("where credentials are read from", () => {
  const entry = (pass: string) => JSON.stringify({ auths: { [basicReg.host]: { auth: b64(`${ALICE.user}:${pass}`) } } });
  const files = () => ({
    registryAuthFile: join(pod().base, "registry-auth-file.json"),
    runtime: defaultAuthFile(),
    config: join(pod().configDir, "auth.json"),
    docker: join(pod().home, ".docker", "config.json"),
  });
  const clean = () => {
    for (const f of Object.values(files())) rmSync(f, { force: true });
  };
  const put = (file: string, pass: string) => {
    mkdirSync(join(file, ".."), { recursive: true, mode: 0o700 });
    writeFileSync(file, entry(pass), { mode: 0o600 });
  };

  it("$REGISTRY_AUTH_FILE", async () => {
    clean();
    put(files().registryAuthFile, ALICE.pass);
    expectPodError(await runPod(["pull", img(basicReg)]));
    expectExit(await runPod(["pull", "-q", img(basicReg)], { env: { REGISTRY_AUTH_FILE: files().registryAuthFile } }), 0);
  });

  it("~/.config/containers/auth.json", async () => {
    clean();
    put(files().config, ALICE.pass);
    expectExit(await runPod(["pull", "-q", img(basicReg)]), 0);
  });

  it("~/.docker/config.json", async () => {
    clean();
    put(files().docker, ALICE.pass);
    expectExit(await runPod(["pull", "-q", img(basicReg)]), 0);
  });

  it("$XDG_RUNTIME_DIR/containers/auth.json comes before ~/.config/containers/auth.json and ~/.docker/config.json", async () => {
    clean();
    put(files().runtime, "wrong-one");
    put(files().config, ALICE.pass);
    put(files().docker, ALICE.pass);
    expectPodError(await runPod(["pull", img(basicReg)]));
    rmSync(files().runtime);
    expectExit(await runPod(["pull", "-q", img(basicReg)]), 0);
  });

  it("~/.config/containers/auth.json comes before ~/.docker/config.json", async () => {
    clean();
    put(files().config, "wrong-one");
    put(files().docker, ALICE.pass);
    expectPodError(await runPod(["pull", img(basicReg)]));
    clean();
  });
});

describe("Bearer tokens", () => {
  it("an anonymous pull is refused", async () => {
    const r = await runPod(["pull", img(tokenReg)]);
    expectPodError(r, /unauthorized|authentication required|credentials/i);
  });

  it("login with a wrong password fails", async () => {
    const r = await runPod(["login", "-u", BOB.user, "-p", "wrong-password", tokenReg.host]);
    expectPodError(r, /invalid username\/password/i);
  });

  it("login asks the token server with Basic credentials", async () => {
    const before = tokens.requests.length;
    const r = await runPod(["login", "-u", BOB.user, "-p", BOB.pass, tokenReg.host]);
    expectExit(r, 0);
    expect(r.stdout).toBe("Login Succeeded!\n");
    expectNoSecrets(r);
    const seen = tokens.requests.slice(before);
    expect(seen.some((q) => q.user === BOB.user && q.authorized && q.service === tokens.service)).toBe(true);
  });

  it("pull gets a pull-scoped token and the image", async () => {
    const before = tokens.requests.length;
    const r = await runPod(["pull", "-q", img(tokenReg)]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
    const seen = tokens.requests.slice(before);
    expect(seen.some((q) => q.authorized && q.scopes.some((s) => /^repository:library\/busybox:pull(,|$)/.test(s)))).toBe(true);
  });

  it("--creds works with tokens too", async () => {
    expectExit(await runPod(["logout", tokenReg.host]), 0);
    expectPodError(await runPod(["pull", img(tokenReg)]));
    const r = await runPod(["pull", "-q", "--creds", `${BOB.user}:${BOB.pass}`, img(tokenReg)]);
    expectExit(r, 0);
    expectNoSecrets(r);
  });
});

describe("logout -a", () => {
  it("removes every login", async () => {
    expectExit(await runPod(["login", "-u", ALICE.user, "-p", ALICE.pass, basicReg.host]), 0);
    expectExit(await runPod(["login", "-u", BOB.user, "-p", BOB.pass, tokenReg.host]), 0);
    const r = await runPod(["logout", "-a"]);
    expectExit(r, 0);
    expect(lines(r.stdout)).toEqual(["Removed login credentials for all registries"]);
    const a = readAuth(defaultAuthFile());
    expect(Object.keys(a.auths ?? {})).toEqual([]);
    expectPodError(await runPod(["pull", img(tokenReg)]));
  });
});
