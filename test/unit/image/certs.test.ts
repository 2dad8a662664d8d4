import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PodError } from "../../../pkg/errors.ts";
import { certDirFor, tlsFor } from "../../../pkg/image/index.ts";
import { removeSandboxes, sandbox, thrown } from "./_tmp.ts";

afterEach(removeSandboxes);
afterAll(removeSandboxes);

const pem = (what: string) => `-----BEGIN ${what}-----\nMIIB\n-----END ${what}-----\n`;

describe("tlsFor", () => {
  test("undefined when no certs.d directory exists for the host", () => {
    const s = sandbox();
    expect(tlsFor("reg.local:5000", s.env, s.roots)).toBeUndefined();
  });

  test("reads every *.crt as a CA and a .cert/.key pair as the client certificate", () => {
    const s = sandbox();
    const dir = "etc/certs.d/reg.local:5000";
    s.write(`${dir}/b.crt`, pem("CA B"));
    s.write(`${dir}/a.crt`, pem("CA A"));
    s.write(`${dir}/client.cert`, pem("CERTIFICATE"));
    s.write(`${dir}/client.key`, pem("PRIVATE KEY"));
    s.write(`${dir}/README`, "ignored");
    expect(tlsFor("reg.local:5000", s.env, s.roots)).toEqual({
      ca: [pem("CA A"), pem("CA B")],
      cert: pem("CERTIFICATE"),
      key: pem("PRIVATE KEY"),
    });
    expect(tlsFor("reg.local", s.env, s.roots)).toBeUndefined();
  });

  test("the first existing directory wins, even when empty", () => {
    const s = sandbox();
    s.write("home/.config/containers/certs.d/r.io/.keep", "");
    s.write("etc/certs.d/r.io/ca.crt", pem("ETC"));
    expect(certDirFor("r.io", s.env, s.roots)).toBe(join(s.dir, "home/.config/containers/certs.d/r.io"));
    expect(tlsFor("r.io", s.env, s.roots)).toEqual({ ca: [] });
  });

  test("search order: user (XDG_CONFIG_HOME), /etc/containers, rootless dirs, /usr/share, /etc/docker", () => {
    const s = sandbox();
    const find = (env = s.env) => certDirFor("r.io", env, s.roots)?.slice(s.dir.length + 1);
    s.write("docker-certs/r.io/ca.crt", pem("DOCKER"));
    expect(find()).toBe("docker-certs/r.io");
    s.write("usr/certs.rootless.d/1000/r.io/ca.crt", pem("USR"));
    expect(find()).toBe("usr/certs.rootless.d/1000/r.io");
    s.write("etc/certs.rootless.d/r.io/ca.crt", pem("ETC"));
    expect(find()).toBe("etc/certs.rootless.d/r.io");
    s.write("xdg/containers/certs.d/r.io/ca.crt", pem("USER"));
    expect(find()).toBe("etc/certs.rootless.d/r.io");
    expect(find({ ...s.env, XDG_CONFIG_HOME: join(s.dir, "xdg") })).toBe("xdg/containers/certs.d/r.io");
  });

  test("a client certificate without its key is an error with a hint", () => {
    const s = sandbox();
    s.write("etc/certs.d/r.io/ca.cert", pem("CA"));
    const e = thrown(() => tlsFor("r.io", s.env, s.roots));
    expect(e).toBeInstanceOf(PodError);
    expect(e.message).toBe(`loading TLS certificates in ${join(s.dir, "etc/certs.d/r.io")}: missing key ca.key for client certificate ca.cert`);
    expect(e.hint).toContain(".crt");
  });

  test("a key without its client certificate is an error", () => {
    const s = sandbox();
    s.write("etc/certs.d/r.io/client.key", pem("PRIVATE KEY"));
    expect(thrown(() => tlsFor("r.io", s.env, s.roots)).message).toContain("missing client certificate client.cert for key client.key");
  });
});
