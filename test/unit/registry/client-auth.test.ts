import { afterEach, describe, expect, test } from "bun:test";
import { Unauthorized } from "../../../pkg/errors.ts";
import { type Credentials, MediaType, RegistryClient } from "../../../pkg/registry/index.ts";
import { type FakeAuth, FakeRegistry } from "./_fake-registry.ts";

const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: `sha256:${"c".repeat(64)}`, size: 2 },
  layers: [],
};

let reg: FakeRegistry;
afterEach(() => reg?.stop());

function setup(auth: FakeAuth, credentials?: Credentials): RegistryClient {
  reg = new FakeRegistry({ auth });
  reg.addManifest("team/app", "1", manifest, MediaType.ociManifest);
  return new RegistryClient({ host: reg.host, insecure: true, loopback: true, credentials });
}

const tokenRequests = () => reg.requests.filter((r) => r.path.startsWith("/token"));

describe("bearer tokens", () => {
  test("anonymous: token without Authorization, scope in the request, cached for the next call", async () => {
    const c = setup({ kind: "bearer" });
    await c.getManifest("team/app", "1");
    await c.getManifest("team/app", "1");
    const [t, ...rest] = tokenRequests();
    expect(rest).toHaveLength(0);
    const q = new URL(`http://x${t?.path}`).searchParams;
    expect(q.get("service")).toBe("fake-registry");
    expect(q.getAll("scope")).toEqual(["repository:team/app:pull"]);
    expect(t?.headers.get("authorization")).toBeNull();
    expect(reg.requests.at(-1)?.headers.get("authorization")).toBe("Bearer anonymous|repository:team/app:pull");
  });

  test("concurrent requests share one token request per scope", async () => {
    const c = setup({ kind: "bearer" });
    await c.ping();
    await Promise.all([1, 2, 3, 4].map(() => c.getManifest("team/app", "1")));
    expect(tokenRequests().filter((t) => t.path.includes("team%2Fapp"))).toHaveLength(1);
  });

  test("with credentials: Basic to the token server", async () => {
    const c = setup({ kind: "bearer", username: "u", password: "p", private: true }, { username: "u", password: "p" });
    await c.getManifest("team/app", "1");
    expect(tokenRequests()[0]?.headers.get("authorization")).toBe(`Basic ${btoa("u:p")}`);
    expect(reg.requests.at(-1)?.headers.get("authorization")).toBe("Bearer u|repository:team/app:pull");
  });

  test("identity token: POST refresh_token grant", async () => {
    const c = setup({ kind: "bearer", identityToken: "refresh-me", private: true }, { identityToken: "refresh-me" });
    await c.getManifest("team/app", "1");
    const t = tokenRequests()[0];
    expect(t?.method).toBe("POST");
    const form = new URLSearchParams(t?.body);
    expect(form.get("grant_type")).toBe("refresh_token");
    expect(form.get("refresh_token")).toBe("refresh-me");
    expect(form.getAll("scope")).toEqual(["repository:team/app:pull"]);
    expect(reg.requests.at(-1)?.headers.get("authorization")).toBe("Bearer identity|repository:team/app:pull");
  });

  test("wrong password: Unauthorized naming the host, hint to log in", async () => {
    const c = setup({ kind: "bearer", username: "u", password: "p" }, { username: "u", password: "wrong" });
    const e = await c.getManifest("team/app", "1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Unauthorized);
    expect((e as Unauthorized).message).toBe(`authenticating to ${reg.host}: invalid username/password`);
    expect((e as Unauthorized).hint).toBe(`run \`pod login ${reg.host}\``);
  });

  test("private repository without credentials: Unauthorized with a login hint", async () => {
    const c = setup({ kind: "bearer", username: "u", password: "p", private: true });
    const e = await c.getManifest("team/app", "1").catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Unauthorized);
    expect((e as Unauthorized).message).toStartWith(`accessing ${reg.host}/team/app: authentication required`);
    expect((e as Unauthorized).hint).toContain(`pod login ${reg.host}`);
  });

  test("ping with credentials checks them at the token server", async () => {
    const good = setup({ kind: "bearer", username: "u", password: "p" }, { username: "u", password: "p" });
    await good.ping();
    expect(tokenRequests()[0]?.headers.get("authorization")).toBe(`Basic ${btoa("u:p")}`);
    reg.stop();
    const bad = setup({ kind: "bearer", username: "u", password: "p" }, { username: "u", password: "nope" });
    await expect(bad.ping()).rejects.toBeInstanceOf(Unauthorized);
  });
});

describe("basic auth", () => {
  test("credentials are sent after the challenge", async () => {
    const c = setup({ kind: "basic", username: "alice", password: "s3cret" }, { username: "alice", password: "s3cret" });
    const m = await c.getManifest("team/app", "1");
    expect(m.mediaType).toBe(MediaType.ociManifest);
    expect(reg.requests.at(-1)?.headers.get("authorization")).toBe(`Basic ${btoa("alice:s3cret")}`);
    await c.ping();
  });

  test("wrong password is Unauthorized", async () => {
    const c = setup({ kind: "basic", username: "alice", password: "s3cret" }, { username: "alice", password: "guess" });
    const e = await c.ping().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Unauthorized);
    expect((e as Error).message).toBe(`authenticating to ${reg.host}: invalid username/password`);
  });

  test("no credentials is Unauthorized with a login hint", async () => {
    const c = setup({ kind: "basic", username: "alice", password: "s3cret" });
    const e = await c.ping().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Unauthorized);
    expect((e as Unauthorized).hint).toBe(`run \`pod login ${reg.host}\``);
  });
});
