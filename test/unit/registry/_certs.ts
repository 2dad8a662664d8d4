// Test PKI made with /usr/bin/openssl: a CA, a server certificate for
// 127.0.0.1 and a client certificate, both signed by the CA.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type TestPki = { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; cleanup: () => void };

export const haveOpenssl = Bun.which("openssl") !== null;

function openssl(dir: string, args: string[]): void {
  const p = Bun.spawnSync(["openssl", ...args], { cwd: dir, stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`openssl ${args[0]}: ${p.stderr.toString()}`);
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "pod-pki-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, ["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=pod test CA"]);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\n");
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  for (const who of ["server", "client"]) {
    openssl(dir, ["req", ...ec, "-keyout", `${who}.key`, "-out", `${who}.csr`, "-subj", `/CN=${who === "server" ? "127.0.0.1" : "pod test client"}`]);
    openssl(dir, ["x509", "-req", "-in", `${who}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-out", `${who}.crt`, "-extfile", `${who}.ext`]);
  }
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    ca: read("ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
