import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { DigestMismatch, NotFoundInRegistry, PodError } from "../../../pkg/errors.ts";
import { RegistryClient } from "../../../pkg/registry/index.ts";
import { FakeRegistry, blobStore } from "./_fake-registry.ts";

let dir: string;
let reg: FakeRegistry;
const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) % 251);
const sha = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pod-blob-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => reg?.stop());

function setup(o: ConstructorParameters<typeof FakeRegistry>[0] = {}, idleTimeoutMs?: number) {
  reg = new FakeRegistry(o);
  const digest = reg.addBlob(data);
  const log: string[] = [];
  const client = new RegistryClient({ host: reg.host, insecure: false, loopback: true, idleTimeoutMs, log: (m) => log.push(m) });
  return { client, digest, log, dest: join(dir, `blob-${Math.random().toString(36).slice(2)}`) };
}

describe("downloadBlob", () => {
  test("streams to the file, verifies, reports progress", async () => {
    const { client, digest, dest } = setup();
    const seen: number[] = [];
    await client.downloadBlob("app", { digest, size: data.length }, dest, (n) => seen.push(n));
    expect(sha(readFileSync(dest))).toBe(digest);
    expect(seen.at(-1)).toBe(data.length);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });

  test("truncates an existing destination", async () => {
    const { client, digest, dest } = setup();
    await Bun.write(dest, new Uint8Array(data.length + 100).fill(9));
    await client.downloadBlob("app", { digest }, dest);
    expect(sha(readFileSync(dest))).toBe(digest);
  });

  test("wrong content: DigestMismatch naming both digests, file removed", async () => {
    const { client, digest, dest } = setup();
    const bad = data.slice();
    bad[100] = (bad[100] ?? 0) ^ 1;
    reg.corrupt.set(digest, bad);
    const e = await client.downloadBlob("app", { digest, size: data.length }, dest).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DigestMismatch);
    expect((e as Error).message).toContain(digest);
    expect((e as Error).message).toContain(sha(bad));
    expect(existsSync(dest)).toBe(false);
  });

  test("more bytes than the descriptor's size: DigestMismatch, file removed", async () => {
    const { client, digest, dest } = setup();
    await expect(client.downloadBlob("app", { digest, size: 1000 }, dest)).rejects.toBeInstanceOf(DigestMismatch);
    expect(existsSync(dest)).toBe(false);
  });

  test("unknown blob: NotFoundInRegistry, file removed", async () => {
    const { client, dest } = setup();
    const e = await client.downloadBlob("app", { digest: `sha256:${"0".repeat(64)}` }, dest).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotFoundInRegistry);
    expect((e as Error).message).toContain("blob unknown to registry");
    expect(existsSync(dest)).toBe(false);
  });

  test("a redirect to storage on another port does not carry Authorization", async () => {
    const { digest, dest } = setup({ auth: { kind: "basic", username: "u", password: "p" } });
    const client = new RegistryClient({ host: reg.host, insecure: false, loopback: true, credentials: { username: "u", password: "p" } });
    const store = blobStore(reg);
    reg.blobRedirect = store.origin;
    try {
      await client.downloadBlob("app", { digest, size: data.length }, dest);
      expect(sha(readFileSync(dest))).toBe(digest);
      expect(reg.requests.at(-1)?.headers.get("authorization")).toBe(`Basic ${btoa("u:p")}`);
      expect(store.seen).toHaveLength(1);
      expect(store.seen[0]?.headers.get("authorization")).toBeNull();
    } finally {
      store.server.stop(true);
    }
  });

  test("a connection reset mid-body is resumed with a Range request", async () => {
    const digest = sha(data);
    const ranges: (string | undefined)[] = [];
    const server = createServer((sock) => {
      sock.once("data", (req) => {
        if (req[0] === 0x16) return sock.destroy(); // the client's HTTPS attempt
        const range = /\r\nrange: bytes=(\d+)-/i.exec(req.toString())?.[1];
        ranges.push(range);
        const start = Number(range ?? 0);
        const part = Buffer.from(data.subarray(start));
        const head = range === undefined ? "200 OK" : `206 Partial Content\r\nContent-Range: bytes ${start}-${data.length - 1}/${data.length}`;
        sock.write(`HTTP/1.1 ${head}\r\nContent-Length: ${part.length}\r\nConnection: close\r\n\r\n`);
        if (range === undefined) sock.write(part.subarray(0, 500_000), () => setTimeout(() => sock.destroy(), 20));
        else sock.end(part);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const dest = join(dir, "reset");
    try {
      const client = new RegistryClient({ host: `127.0.0.1:${port}`, insecure: false, loopback: true });
      await client.downloadBlob("app", { digest, size: data.length }, dest);
      expect(sha(readFileSync(dest))).toBe(digest);
      expect(ranges.filter((r) => r !== undefined)).toHaveLength(1);
      expect(Number(ranges.at(-1))).toBeGreaterThan(0);
    } finally {
      server.close();
    }
  });

  test("a broken transfer resumes with a Range request", async () => {
    const { client, digest, dest, log } = setup();
    reg.breakBlobAfter = 1 << 20;
    await client.downloadBlob("app", { digest, size: data.length }, dest);
    expect(sha(readFileSync(dest))).toBe(digest);
    const gets = reg.requests.filter((r) => r.path.includes("/blobs/"));
    expect(gets).toHaveLength(2);
    expect(gets[1]?.headers.get("range")).toBe(`bytes=${1 << 20}-`);
    expect(log.some((l) => l.includes("retrying"))).toBe(true);
  });

  test("a registry that ignores Range makes the download start over", async () => {
    const { client, digest, dest } = setup();
    reg.honourRange = false;
    reg.breakBlobAfter = 1 << 20;
    const seen: number[] = [];
    await client.downloadBlob("app", { digest, size: data.length }, dest, (n) => seen.push(n));
    expect(sha(readFileSync(dest))).toBe(digest);
    expect(seen).toContain(0);
  });

  test("a stalled body is aborted after the idle timeout and retried", async () => {
    const { client, digest, dest } = setup({}, 300);
    reg.stallBlobOnce = true;
    await client.downloadBlob("app", { digest, size: data.length }, dest);
    expect(sha(readFileSync(dest))).toBe(digest);
  });

  test("a malformed digest is refused before any request", async () => {
    const { client, dest } = setup();
    await expect(client.downloadBlob("app", { digest: "sha256:../../x" }, dest)).rejects.toBeInstanceOf(PodError);
    expect(reg.requests).toHaveLength(0);
  });
});
