// pod push to the test registry (plain and with htpasswd auth): push then pull
// into an empty store and run; blobs the registry has are skipped (HEAD) or
// mounted from another repository, counted through the registry's access
// log; zstd with OCI manifests; a push killed halfway leaves no manifest;
// and the layout and archive destinations, read back by skopeo.
import { beforeAll, describe } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { useSuite, it, runPod, pod, expect, expectExit, expectPodError, lines, sh, onSuiteEnd, SETUP_TIMEOUT, POD } from "./helpers.ts";
import { startRegistry, type Registry } from "../fixtures/registry.ts";
import { pushFixture, type Fixture } from "../fixtures/images.ts";
import { sleep } from "../fixtures/proc.ts";

useSuite("720-push");

let reg: Registry;
let authReg: Registry;
let busybox: Fixture;

beforeAll(async () => {
  reg = await startRegistry();
  onSuiteEnd(() => reg.stop());
  authReg = await startRegistry({ htpasswd: { pusher: "s3cret" } });
  onSuiteEnd(() => authReg.stop());
  pod().mirrorDockerIo(reg.host);
  busybox = await pushFixture(reg, "busybox");
  expectExit(await runPod(["pull", "-q", "busybox"]), 0);
  // an image with a layer of its own, which no registry has yet
  expectExit(await runPod(["run", "--name", "maker", "busybox", "sh", "-c", "echo pushed > /pushed-marker"]), 0);
  expectExit(await runPod(["commit", "-q", "maker", "localhost/mine:1"]), 0);
}, SETUP_TIMEOUT);

const file = (name: string) => join(pod().tmp, name);
const logLines = (r: Registry, re: RegExp) => readFileSync(r.log, "utf8").split("\n").filter((l) => re.test(l));
const blobPuts = (r: Registry, repo: string) => logLines(r, new RegExp(`"PUT /v2/${repo}/blobs/uploads/`)).length;

/** Empties the store, pulls `ref` and runs a command in it. */
async function pullAndRun(ref: string, cmd: string[], extra: string[] = []): Promise<string> {
  expectExit(await runPod(["rm", "-a", "-f"]), 0);
  expectExit(await runPod(["rmi", "-a", "-f"]), 0);
  expectExit(await runPod(["pull", "-q", ...extra, ref]), 0);
  const r = await runPod(["run", "--rm", ref, ...cmd]);
  expectExit(r, 0);
  return r.stdout;
}

describe("to a registry", () => {
  it("a new layer is uploaded, the base layers mounted from the repository they came from; pull and run it back", async () => {
    const dest = `${reg.host}/team/mine:1`;
    const digestfile = file("digest");
    const r = await runPod(["push", "--digestfile", digestfile, "localhost/mine:1", dest]);
    expectExit(r, 0);
    expect(r.stdout).toBe("");
    const err = lines(r.stderr);
    expect(err[0]).toBe("Getting image source signatures");
    expect(err).toContain("Writing manifest to image destination");
    // one PUT for the new layer and one for the config; busybox's layers came by mount
    expect(blobPuts(reg, "team/mine")).toBe(2);
    expect(logLines(reg, /"POST \/v2\/team\/mine\/blobs\/uploads\/\?from=library%2Fbusybox&mount=|mount=sha256/).length).toBeGreaterThan(0);
    const m = await reg.manifest("team/mine", "1");
    expect(readFileSync(digestfile, "utf8")).toBe(m.digest);
    expect(m.json.layers).toHaveLength(busybox.image.layers.length + 1);
    const out = await pullAndRun(dest, ["cat", "/pushed-marker"]);
    expect(out).toBe("pushed\n");
  });

  it("pushing again skips every blob the registry has (HEAD) and uploads nothing", async () => {
    const dest = `${reg.host}/team/mine:1`;
    const before = blobPuts(reg, "team/mine");
    const r = await runPod(["push", dest]);
    expectExit(r, 0);
    expect(r.stderr).toContain("skipped: already exists");
    expect(blobPuts(reg, "team/mine")).toBe(before);
    expect(logLines(reg, /"HEAD \/v2\/team\/mine\/blobs\/sha256:/).length).toBeGreaterThan(0);
  });

  it("--compression-format zstd --format oci: zstd layers in an OCI manifest, and it pulls and runs", async () => {
    const dest = `${reg.host}/team/zstd:1`;
    const r = await runPod(["push", "-q", "--compression-format", "zstd", "--format", "oci", `${reg.host}/team/mine:1`, dest]);
    expectExit(r, 0);
    expect(r.stderr).toBe("");
    const m = await reg.manifest("team/zstd", "1");
    expect(m.mediaType).toBe("application/vnd.oci.image.manifest.v1+json");
    for (const l of m.json.layers) expect(l.mediaType).toBe("application/vnd.oci.image.layer.v1.tar+zstd");
    const out = await pullAndRun(dest, ["cat", "/pushed-marker"]);
    expect(out).toBe("pushed\n");
  });

  it("--format v2s2 with zstd is refused; an unknown image and a bad format too", async () => {
    expectPodError(await runPod(["push", "--format", "v2s2", "--compression-format", "zstd", `${reg.host}/team/zstd:1`, `${reg.host}/x/y`]), "zstd");
    expectPodError(await runPod(["push", "--format", "v2s1", `${reg.host}/team/zstd:1`]), "v2s1");
    expectPodError(await runPod(["push", "no-such-image", `${reg.host}/x/y`]), "no-such-image");
    expectPodError(await runPod(["push", "--compression-format", "xz", `${reg.host}/team/zstd:1`]), "xz");
  });

  it("a registry with auth: refused without credentials in podman's words, pushed with --creds or --authfile", async () => {
    const src = `${reg.host}/team/zstd:1`;
    const dest = `${authReg.host}/secure/img:1`;
    const r = await runPod(["push", src, dest]);
    expectPodError(r, "authentication required");
    expect(lines(r.stderr).some((l) => l.includes("pod login"))).toBe(true);
    expectPodError(await runPod(["push", "--creds", "pusher:wrong", src, dest]), "invalid username/password");
    expectExit(await runPod(["push", "-q", "--creds", "pusher:s3cret", src, dest]), 0);
    expect((await authReg.manifest("secure/img", "1")).json.layers.length).toBeGreaterThan(0);
    const authfile = file("auth.json");
    await Bun.write(authfile, JSON.stringify({ auths: { [authReg.host]: { auth: Buffer.from("pusher:s3cret").toString("base64") } } }));
    expectExit(await runPod(["push", "-q", "--authfile", authfile, src, `${authReg.host}/secure/img:2`]), 0);
  });

  it("a push killed halfway leaves no manifest", async () => {
    // a big incompressible layer, so the kill lands while blobs move
    expectExit(await runPod(["run", "--name", "big", "busybox", "sh", "-c", "head -c 40000000 /dev/urandom > /big"]), 0);
    expectExit(await runPod(["commit", "-q", "big", "localhost/big:1"]), 0);
    const dest = `${reg.host}/team/big:1`;
    const p = Bun.spawn([POD, "push", "localhost/big:1", dest], { env: pod().env, cwd: pod().home, stdout: "ignore", stderr: "ignore" });
    for (let i = 0; i < 3000 && logLines(reg, /"(POST|HEAD) \/v2\/team\/big\/blobs\//).length === 0; i++) await sleep(10);
    p.kill("SIGKILL");
    await p.exited;
    await sleep(300);
    const res = await fetch(`http://${reg.host}/v2/team/big/manifests/1`, { method: "HEAD" });
    expect(res.status).toBe(404);
    // and the store has no push leftovers of a live process: the next pod sweeps them
    expectExit(await runPod(["images", "-q"]), 0);
  });
});

describe("over TLS", () => {
  it("--cert-dir trusts the registry's CA; without it the certificate is refused", async () => {
    const { makeCA, makeServerCert } = await import("../fixtures/certs.ts");
    const dir = file("tls");
    mkdirSync(join(dir, "certs"), { recursive: true });
    const ca = await makeCA(dir);
    const tlsReg = await startRegistry({ tls: await makeServerCert(dir, ca) });
    onSuiteEnd(() => tlsReg.stop());
    await Bun.write(join(dir, "certs", "ca.crt"), Bun.file(ca.cert));
    const src = `${reg.host}/team/mine:1`;
    expectExit(await runPod(["pull", "-q", src]), 0);
    const dest = `${tlsReg.host}/tls/img:1`;
    expectPodError(await runPod(["push", src, dest]), /certificate|x509|self.signed|unable to verify/i);
    expectExit(await runPod(["push", "-q", "--cert-dir", join(dir, "certs"), src, dest]), 0);
    expect((await tlsReg.manifest("tls/img", "1")).json.layers.length).toBeGreaterThan(0);
  });
});

describe("to layouts and archives", () => {
  const skopeo = (ref: string) => sh(["skopeo", "inspect", "--raw", "--config", ref], { PATH: "/usr/bin:/bin", HOME: pod().home });
  const idOf = async (ref: string) => {
    const r = await skopeo(ref);
    if (r.code !== 0) throw new Error(r.stderr);
    return new Bun.CryptoHasher("sha256").update(r.stdout).digest("hex");
  };

  it("oci:, dir:, docker-archive: and oci-archive: hold the image", async () => {
    expectExit(await runPod(["pull", "-q", "busybox"]), 0);
    const id = (await runPod(["image", "inspect", "--format", "{{.Id}}", "busybox"])).stdout.trim();
    const oci = file("push-oci");
    expectExit(await runPod(["push", "-q", "busybox", `oci:${oci}:mytag`]), 0);
    expect(await idOf(`oci:${oci}:mytag`)).toBe(id);
    const idx = JSON.parse(readFileSync(join(oci, "index.json"), "utf8"));
    const man = JSON.parse(readFileSync(join(oci, "blobs", "sha256", idx.manifests[0].digest.slice(7)), "utf8"));
    expect(man.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    const dir = file("push-dir");
    expectExit(await runPod(["push", "-q", "busybox", `dir:${dir}`]), 0);
    expect(await idOf(`dir:${dir}`)).toBe(id);
    const da = file("push.tar");
    expectExit(await runPod(["push", "-q", "busybox", `docker-archive:${da}:localhost/named:2`]), 0);
    expect(await idOf(`docker-archive:${da}`)).toBe(id);
    const oa = file("push.oci.tar");
    expectExit(await runPod(["push", "-q", "busybox", `oci-archive:${oa}`]), 0);
    const unpacked = file("push-oa");
    mkdirSync(unpacked);
    expect((await sh(["tar", "-xf", oa, "-C", unpacked])).code).toBe(0);
    expect(existsSync(join(unpacked, "index.json"))).toBe(true);
    const l = await runPod(["load", "-i", da]);
    expectExit(l, 0);
    expect(l.stdout).toBe("Loaded image: localhost/named:2\n");
  });

  it("an unknown transport is refused", async () => {
    expectPodError(await runPod(["push", "busybox", "containers-storage:foo"]), "containers-storage");
  });
});
