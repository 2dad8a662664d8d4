// A small in-process registry for the client's unit tests: manifests and blobs
// from memory, Basic or token auth (token server on the same port), Range
// support, and switches to inject 503s, redirects, broken and stalled bodies.
// It records every request so tests can check headers.
import type { Server } from "bun";

export type FakeAuth =
  | { kind: "basic"; username: string; password: string }
  | { kind: "bearer"; username?: string; password?: string; identityToken?: string; private?: boolean };

export type Recorded = { method: string; path: string; headers: Headers; body?: string };

export type FakeOptions = { auth?: FakeAuth; tls?: { cert: string; key: string; ca?: string; requestCert?: boolean } };

const sha256 = (b: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(b).digest("hex")}`;

export class FakeRegistry {
  readonly requests: Recorded[] = [];
  readonly manifests = new Map<string, { mediaType: string; bytes: Uint8Array }>();
  readonly blobs = new Map<string, Uint8Array>();
  /** Answer this many registry requests with 503 first. */
  fail503 = 0;
  /** Redirect blob GETs to this base URL (`${base}/${digest}`). */
  blobRedirect?: string;
  /** End the body after this many bytes, once. */
  breakBlobAfter?: number;
  /** Stop sending after half the body, once, and never finish. */
  stallBlobOnce = false;
  honourRange = true;
  /** Serve this content instead of the stored one (by digest). */
  readonly corrupt = new Map<string, Uint8Array>();
  private readonly server: Server<undefined>;

  constructor(readonly o: FakeOptions = {}) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: o.tls && { cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: o.tls.requestCert, rejectUnauthorized: o.tls.requestCert },
      fetch: (req) => this.handle(req),
    });
  }

  get host(): string {
    return `127.0.0.1:${this.server.port}`;
  }

  get origin(): string {
    return `${this.o.tls ? "https" : "http"}://${this.host}`;
  }

  stop(): void {
    this.server.stop(true);
  }

  addManifest(repo: string, tag: string | undefined, doc: unknown, mediaType: string): string {
    const bytes = new TextEncoder().encode(JSON.stringify(doc, null, 2));
    const digest = sha256(bytes);
    this.manifests.set(`${repo}@${digest}`, { mediaType, bytes });
    if (tag !== undefined) this.manifests.set(`${repo}:${tag}`, { mediaType, bytes });
    return digest;
  }

  addBlob(bytes: Uint8Array): string {
    const digest = sha256(bytes);
    this.blobs.set(digest, bytes);
    return digest;
  }

  private async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const body = req.method === "POST" ? await req.text() : undefined;
    this.requests.push({ method: req.method, path: url.pathname + url.search, headers: req.headers, body });
    if (url.pathname === "/token") return this.token(req, url, body);
    if (this.fail503 > 0) {
      this.fail503--;
      return Response.json({ errors: [{ code: "UNAVAILABLE", message: "try later" }] }, { status: 503 });
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    const repo = m?.[1];
    const denied = this.authorize(req, repo);
    if (denied) return denied;
    if (url.pathname === "/v2/") return Response.json({});
    if (m === null || repo === undefined) return new Response("not found", { status: 404 });
    const ref = m[3] ?? "";
    if (m[2] === "manifests") {
      const entry = this.manifests.get(`${repo}${ref.includes(":") ? "@" : ":"}${ref}`);
      if (entry === undefined) return Response.json({ errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] }, { status: 404 });
      return new Response(this.corrupt.get(ref) ?? entry.bytes, { headers: { "Content-Type": entry.mediaType } });
    }
    if (!this.blobs.has(ref)) return Response.json({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry" }] }, { status: 404 });
    if (this.blobRedirect) return new Response(null, { status: 307, headers: { Location: `${this.blobRedirect}/${ref}` } });
    return this.serveBlob(req, ref);
  }

  /** Serves a stored blob; also used by a second FakeRegistry acting as blob storage. */
  serveBlob(req: Request, digest: string): Response {
    const bytes = this.corrupt.get(digest) ?? this.blobs.get(digest) ?? new Uint8Array();
    const range = /^bytes=(\d+)-$/.exec(req.headers.get("range") ?? "");
    const start = range && this.honourRange ? Number(range[1]) : 0;
    const part = bytes.subarray(start);
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream", "Content-Length": String(part.length) };
    if (start > 0) headers["Content-Range"] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    const status = start > 0 ? 206 : 200;
    if (this.breakBlobAfter !== undefined || this.stallBlobOnce) {
      const cut = this.breakBlobAfter ?? Math.floor(part.length / 2);
      const stall = this.stallBlobOnce;
      this.breakBlobAfter = undefined;
      this.stallBlobOnce = false;
      const stream = new ReadableStream({
        start(c) {
          c.enqueue(part.slice(0, cut));
          // Ends early but cleanly (Bun sends the rest as a finished chunked body);
          // erroring the stream instead would make Bun.serve print the error.
          if (!stall) setTimeout(() => c.close(), 20);
        },
      });
      return new Response(stream, { status, headers });
    }
    return new Response(part, { status, headers });
  }

  private challenge(repo: string | undefined, error?: string): Response {
    const auth = this.o.auth;
    const header =
      auth?.kind === "basic"
        ? `Basic realm="fake"`
        : `Bearer realm="${this.origin}/token",service="fake-registry"${repo ? `,scope="repository:${repo}:pull"` : ""}${error ? `,error="${error}"` : ""}`;
    return Response.json({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, {
      status: 401,
      headers: { "WWW-Authenticate": header },
    });
  }

  private authorize(req: Request, repo: string | undefined): Response | undefined {
    const auth = this.o.auth;
    if (auth === undefined) return undefined;
    const got = req.headers.get("authorization") ?? "";
    if (auth.kind === "basic") {
      return got === `Basic ${btoa(`${auth.username}:${auth.password}`)}` ? undefined : this.challenge(repo);
    }
    const token = /^Bearer (.+)$/.exec(got)?.[1];
    if (token === undefined) return this.challenge(repo);
    const [who, scopes = ""] = token.split("|");
    if (repo === undefined) return undefined;
    if (auth.private && who === "anonymous") return this.challenge(repo, "insufficient_scope");
    return scopes.split(" ").includes(`repository:${repo}:pull`) ? undefined : this.challenge(repo, "insufficient_scope");
  }

  private token(req: Request, url: URL, body: string | undefined): Response {
    const auth = this.o.auth;
    if (auth?.kind !== "bearer") return new Response("no token server", { status: 404 });
    let who = "anonymous";
    let scopes = url.searchParams.getAll("scope");
    if (req.method === "POST") {
      const form = new URLSearchParams(body);
      if (form.get("grant_type") !== "refresh_token" || form.get("refresh_token") !== auth.identityToken || !form.get("client_id")) {
        return Response.json({ error: "invalid_grant" }, { status: 401 });
      }
      who = "identity";
      scopes = form.getAll("scope");
      return Response.json({ access_token: `${who}|${scopes.join(" ")}`, expires_in: 300 });
    }
    const basic = req.headers.get("authorization");
    if (basic !== null) {
      if (basic !== `Basic ${btoa(`${auth.username}:${auth.password}`)}`) return Response.json({ details: "incorrect username or password" }, { status: 401 });
      who = auth.username ?? "user";
    }
    return Response.json({ token: `${who}|${scopes.join(" ")}` });
  }
}

export function blobStore(source: FakeRegistry): { server: Server<undefined>; seen: Recorded[]; origin: string } {
  const seen: Recorded[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      seen.push({ method: req.method, path: url.pathname, headers: req.headers });
      return source.serveBlob(req, url.pathname.slice(1));
    },
  });
  return { server, seen, origin: `http://127.0.0.1:${server.port}` };
}
