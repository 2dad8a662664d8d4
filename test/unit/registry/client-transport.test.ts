import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { PodError } from "../../../pkg/errors.ts";
import { MediaType, RegistryClient } from "../../../pkg/registry/index.ts";
import { type TestPki, haveOpenssl, makePki } from "./_certs.ts";
import { FakeRegistry } from "./_fake-registry.ts";

const manifest = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: { mediaType: MediaType.ociConfig, digest: `sha256:${"c".repeat(64)}`, size: 2 },
  layers: [],
};

let reg: FakeRegistry;
afterEach(() => reg?.stop());

describe("scheme", () => {
  test("loopback: HTTPS fails, falls back to HTTP, and remembers it", async () => {
    reg = new FakeRegistry();
    reg.addManifest("app", "1", manifest, MediaType.ociManifest);
    const log: string[] = [];
    const c = new RegistryClient({ host: reg.host, insecure: false, loopback: true, log: (m) => log.push(m) });
    await c.ping();
    await c.getManifest("app", "1");
    expect(log.filter((l) => l.startsWith("GET https://"))).toHaveLength(1);
    expect(log.filter((l) => l.includes("trying http"))).toHaveLength(1);
    expect(reg.requests).toHaveLength(2);
  });

  test("neither insecure nor loopback: HTTPS only, the TLS failure is reported with a hint", async () => {
    reg = new FakeRegistry();
    const c = new RegistryClient({ host: reg.host, insecure: false, loopback: false });
    const e = await c.ping().catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PodError);
    expect((e as PodError).message).toStartWith(`checking ${reg.host}: TLS handshake failed`);
    expect((e as PodError).hint).toContain("--tls-verify=false");
    expect(reg.requests).toHaveLength(0);
  });

  test("connection refused is retried, then reported", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const host = `127.0.0.1:${probe.port}`;
    probe.stop(true);
    const log: string[] = [];
    const e = await new RegistryClient({ host, insecure: false, loopback: false, log: (m) => log.push(m) }).ping().catch((x: unknown) => x);
    expect((e as Error).message).toBe(`checking ${host}: connection refused`);
    expect(log.filter((l) => l.includes("retrying"))).toHaveLength(2);
  });
});

describe.skipIf(!haveOpenssl)("TLS", () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => pki.cleanup());

  const tlsRegistry = (requestCert = false) => {
    reg = new FakeRegistry({ tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert } });
    reg.addManifest("app", "1", manifest, MediaType.ociManifest);
    return reg;
  };

  test("a custom CA is trusted", async () => {
    tlsRegistry();
    const c = new RegistryClient({ host: reg.host, insecure: false, loopback: false, tls: { ca: [pki.ca] } });
    expect((await c.getManifest("app", "1")).mediaType).toBe(MediaType.ociManifest);
  });

  test("an unknown CA fails verification with a certs.d hint", async () => {
    tlsRegistry();
    const e = await new RegistryClient({ host: reg.host, insecure: false, loopback: false }).ping().catch((x: unknown) => x);
    expect((e as PodError).message).toContain("certificate not trusted");
    expect((e as PodError).hint).toContain(`certs.d/${reg.host}/ca.crt`);
  });

  test("insecure skips verification but still uses HTTPS", async () => {
    tlsRegistry();
    const log: string[] = [];
    await new RegistryClient({ host: reg.host, insecure: true, loopback: false, log: (m) => log.push(m) }).getManifest("app", "1");
    expect(log.every((l) => !l.includes("http://"))).toBe(true);
  });

  test("a client certificate is presented", async () => {
    tlsRegistry(true);
    const without = new RegistryClient({ host: reg.host, insecure: false, loopback: false, tls: { ca: [pki.ca] } });
    await expect(without.ping()).rejects.toBeInstanceOf(PodError);
    const withCert = new RegistryClient({ host: reg.host, insecure: false, loopback: false, tls: { ca: [pki.ca], cert: pki.clientCert, key: pki.clientKey } });
    await withCert.ping();
  });
});
