// TLS: a registry with a certificate from a test CA, trusted only through
// ~/.config/containers/certs.d/HOST:PORT/ca.crt exactly as podman does (the
// registry is not marked insecure), and no silent fallback to plain HTTP.
import { beforeAll, describe } from "bun:test";
import { mkdirSync, copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, onSuiteEnd, SETUP_TIMEOUT } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { makeCA, makeServerCert, type CA } from "../fixtures/certs.ts";
import { makeTempDir, removeDir } from "../fixtures/proc.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";

useSuite("040-tls");

const CAROL = { user: "carol", pass: "tls-Carol-pw" };
let tlsReg: Registry;
let plainReg: Registry;
let ca: CA;
let otherCA: CA;
let bb: Fixture;
const certsD = () => join(pod().configDir, "certs.d", tlsReg.host);
const img = () => `${tlsReg.host}/library/busybox:latest`;

beforeAll(async () => {
  const dir = makeTempDir("pod-tls-certs");
  onSuiteEnd(() => removeDir(dir));
  mkdirSync(join(dir, "other"));
  ca = await makeCA(dir);
  otherCA = await makeCA(join(dir, "other"), "some other CA");
  tlsReg = await startRegistry({ tls: await makeServerCert(dir, ca), htpasswd: { [CAROL.user]: CAROL.pass } });
  onSuiteEnd(() => tlsReg.stop());
  plainReg = await startRegistry();
  onSuiteEnd(() => plainReg.stop());
  bb = await pushFixture(tlsReg, "busybox");
  await pushFixture(plainReg, "busybox");
  pod().writeRegistriesConf([]); // nothing is insecure
}, SETUP_TIMEOUT);

describe("a registry with a private CA", () => {
  it("is refused while its CA is not trusted", async () => {
    rmSync(certsD(), { recursive: true, force: true });
    const r = await runPod(["pull", "--creds", `${CAROL.user}:${CAROL.pass}`, img()]);
    expectPodError(r, /certificate|x509|unknown authority|self.signed/i);
    const l = await runPod(["login", "-u", CAROL.user, "-p", CAROL.pass, tlsReg.host]);
    expectPodError(l, /certificate|x509|unknown authority|self.signed/i);
  });

  it("is refused when certs.d holds a different CA", async () => {
    mkdirSync(certsD(), { recursive: true });
    copyFileSync(otherCA.cert, join(certsD(), "ca.crt"));
    const r = await runPod(["pull", "--creds", `${CAROL.user}:${CAROL.pass}`, img()]);
    expectPodError(r, /certificate|x509|unknown authority|self.signed/i);
  });

  it("is trusted through ~/.config/containers/certs.d/HOST:PORT/ca.crt", async () => {
    mkdirSync(certsD(), { recursive: true });
    copyFileSync(ca.cert, join(certsD(), "ca.crt"));
    const l = await runPod(["login", "-u", CAROL.user, "-p", CAROL.pass, tlsReg.host]);
    expectExit(l, 0);
    expect(l.stdout).toBe("Login Succeeded!\n");
    const r = await runPod(["pull", "-q", img()]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
    expectExit(await runPod(["logout", tlsReg.host]), 0);
  });

  it("--tls-verify=false skips verification", async () => {
    rmSync(certsD(), { recursive: true, force: true });
    const r = await runPod(["pull", "-q", "--tls-verify=false", "--creds", `${CAROL.user}:${CAROL.pass}`, img()]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
  });
});

describe("plain HTTP", () => {
  // The issue asks for plain HTTP only where configured insecure or on loopback (as docker treats
  // localhost); a non-loopback plain registry is covered by the registry client's unit tests.
  it("is used for a loopback registry after HTTPS fails", async () => {
    const r = await runPod(["pull", "-q", `${plainReg.host}/library/busybox:latest`]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
  });

  it("is used with --tls-verify=false", async () => {
    const r = await runPod(["pull", "-q", "--tls-verify=false", `${plainReg.host}/library/busybox:latest`]);
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(bb.image.id);
  });

  it("is used when registries.conf marks the registry insecure", async () => {
    pod().writeRegistriesConf([{ location: plainReg.host, insecure: true }]);
    try {
      const r = await runPod(["pull", "-q", `${plainReg.host}/library/busybox:latest`]);
      expectExit(r, 0);
    } finally {
      pod().writeRegistriesConf([]);
    }
  });
});
