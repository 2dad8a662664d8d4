// HTTP for one registry host: scheme choice (HTTPS, falling back to HTTP only
// for insecure or loopback registries), TLS options, retries with backoff, and
// an idle watchdog that aborts a request when no bytes arrive for a while.
//
// Facts this relies on (checked with Bun 1.4.5):
// - fetch follows redirects and drops Authorization when the redirect leaves
//   the origin (another host, port or scheme), so storage redirects never see
//   our token.
// - `tls.ca` replaces the trusted roots rather than adding to them, and the
//   options also apply to redirect targets; custom CAs are therefore appended
//   to `rootCertificates`, as podman appends certs.d files to the system pool.
// - ofetch passes `tls` through to fetch untouched.
import { rootCertificates } from "node:tls";
import { FetchError, type FetchOptions, ofetch } from "ofetch";
import { PodError } from "../errors.ts";
import { TransportError, isCertificateError, isPermanent, toTransportError } from "./errors.ts";

declare const POD_VERSION: string | undefined;
const USER_AGENT = `pod/${typeof POD_VERSION === "string" ? POD_VERSION : "dev"}`;

export const MAX_TRIES = 3;
const RETRY_AFTER_CAP_MS = 10_000;

export type TlsOptions = { ca?: string[]; cert?: string; key?: string };

export type TransportOptions = {
  host: string;
  insecure: boolean;
  loopback: boolean;
  tls?: TlsOptions;
  idleTimeoutMs?: number;
  log?: (msg: string) => void;
};

export type RequestInit = { method?: "GET" | "HEAD" | "POST" | "PUT" | "PATCH"; headers?: Record<string, string>; body?: URLSearchParams | Blob | Uint8Array };

export function backoffMs(attempt: number): number {
  return 200 * 2 ** attempt;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Cancels a body pod will not read further. Cancelling one that already
 * failed rejects with that failure, which was handled where it happened, so
 * the rejection is deliberately dropped here.
 */
function abandon(body: ReadableStream | null): void {
  body?.cancel().then(
    () => undefined,
    () => undefined,
  );
}

class Watchdog {
  private timer?: ReturnType<typeof setTimeout>;
  constructor(
    private readonly controller: AbortController,
    private readonly ms: number,
  ) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new TransportError(`no data for ${this.ms / 1000}s`, { code: "ETIMEDOUT" })), this.ms);
    this.timer.unref?.();
  }
  stop(): void {
    clearTimeout(this.timer);
  }
}

/** A response whose body the caller MUST consume with one of these methods, or discard(). */
export class Exchange {
  constructor(
    readonly res: Response,
    readonly url: string,
    private readonly watchdog: Watchdog,
  ) {}

  get status(): number {
    return this.res.status;
  }

  header(name: string): string | null {
    return this.res.headers.get(name);
  }

  /** The body's chunks; a failed read becomes a TransportError. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const body = this.res.body;
    if (body === null) return this.watchdog.stop();
    const reader = body.getReader();
    try {
      for (;;) {
        let step: Awaited<ReturnType<typeof reader.read>>;
        try {
          step = await reader.read();
        } catch (e) {
          throw toTransportError(e);
        }
        if (step.done) return;
        this.watchdog.touch();
        yield step.value;
      }
    } finally {
      this.watchdog.stop();
      reader.releaseLock();
      abandon(body);
    }
  }

  /** The whole body, refusing more than `limit` bytes. */
  async bytes(limit: number, what: string): Promise<Uint8Array> {
    const declared = Number(this.header("content-length") ?? "0");
    if (declared > limit) {
      this.discard();
      throw new PodError(`${what}: response of ${declared} bytes is over the ${limit}-byte limit`);
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of this.chunks()) {
      total += chunk.length;
      if (total > limit) throw new PodError(`${what}: response is over the ${limit}-byte limit`);
      parts.push(chunk);
    }
    return Buffer.concat(parts, total);
  }

  async text(limit: number, what: string): Promise<string> {
    return new TextDecoder().decode(await this.bytes(limit, what));
  }

  /** Error bodies are read best-effort: a failure to read one yields "". */
  async errorText(limit: number): Promise<string> {
    try {
      return await this.text(limit, "reading error body");
    } catch (e) {
      if (e instanceof PodError || e instanceof TransportError) return "";
      throw e;
    }
  }

  discard(): void {
    this.watchdog.stop();
    abandon(this.res.body);
  }
}

export class Transport {
  /** "https" or "http" once a request has received any HTTP response. */
  scheme?: "https" | "http";
  private readonly idleMs: number;
  private readonly log: (msg: string) => void;
  /** The host as URL parsing spells it ("example.com:443" becomes "example.com"). */
  private readonly urlHost: string;

  constructor(private readonly o: TransportOptions) {
    this.idleMs = o.idleTimeoutMs ?? 60_000;
    this.urlHost = new URL(`https://${o.host}`).host;
    this.log = o.log ?? (() => {});
    if (!o.insecure && !o.loopback) this.scheme = "https";
  }

  /** A request to a path on the registry (e.g. "/v2/"), retried on connection errors, 429 and 5xx. */
  send(path: string, init: RequestInit = {}): Promise<Exchange> {
    return this.retrying(() => this.toRegistry(path, init));
  }

  /** A request to an absolute URL (a token realm), with the same retries. */
  sendURL(url: string, init: RequestInit = {}): Promise<Exchange> {
    return this.retrying(() => this.once(url, init));
  }

  private async retrying(attempt: () => Promise<Exchange>): Promise<Exchange> {
    for (let n = 0; ; n++) {
      const last = n + 1 >= MAX_TRIES;
      let ex: Exchange;
      try {
        ex = await attempt();
      } catch (e) {
        if (!(e instanceof TransportError) || last || isPermanent(e)) throw e;
        this.log(`registry ${this.o.host}: ${e.message}; retrying`);
        await sleep(backoffMs(n));
        continue;
      }
      if (last || (ex.status !== 429 && ex.status < 500)) return ex;
      ex.discard();
      const retryAfter = Number(ex.header("retry-after")) * 1000;
      this.log(`${ex.url}: ${ex.status}; retrying`);
      await sleep(Math.max(backoffMs(n), Number.isFinite(retryAfter) ? Math.min(retryAfter, RETRY_AFTER_CAP_MS) : 0));
    }
  }

  private async toRegistry(path: string, init: RequestInit): Promise<Exchange> {
    if (this.scheme !== undefined) return this.once(`${this.scheme}://${this.o.host}${path}`, init);
    try {
      const ex = await this.once(`https://${this.o.host}${path}`, init);
      this.scheme = "https";
      return ex;
    } catch (httpsError) {
      if (!(httpsError instanceof TransportError)) throw httpsError;
      // A server that speaks TLS with a certificate we do not trust is not a plain HTTP server:
      // say so instead of retrying over HTTP and reporting a confusing 400.
      if (isCertificateError(httpsError)) throw httpsError;
      this.log(`https://${this.o.host}: ${httpsError.message}; trying http`);
      try {
        const ex = await this.once(`http://${this.o.host}${path}`, init);
        this.scheme = "http";
        return ex;
      } catch (httpError) {
        if (!(httpError instanceof TransportError)) throw httpError;
        this.log(`http://${this.o.host}: ${httpError.message}`);
        throw httpsError;
      }
    }
  }

  private async once(url: string, init: RequestInit): Promise<Exchange> {
    const controller = new AbortController();
    const watchdog = new Watchdog(controller, this.idleMs);
    this.log(`${init.method ?? "GET"} ${url}`);
    try {
      // `tls` is Bun's fetch option, which ofetch's types do not list but pass on.
      const options: FetchOptions<"stream"> & { tls?: BunFetchRequestInitTLS } = {
        method: init.method ?? "GET",
        headers: { ...init.headers, "User-Agent": USER_AGENT },
        body: init.body,
        signal: controller.signal,
        tls: this.tlsFor(url),
        retry: false,
        ignoreResponseError: true,
        responseType: "stream",
      };
      const res = await ofetch.raw(url, options);
      watchdog.touch();
      return new Exchange(res, url, watchdog);
    } catch (e) {
      watchdog.stop();
      throw toTransportError(e instanceof FetchError && e.cause !== undefined ? e.cause : e);
    }
  }

  private tlsFor(url: string): BunFetchRequestInitTLS | undefined {
    const u = new URL(url);
    if (u.protocol !== "https:" || u.host !== this.urlHost) return undefined;
    const tls: BunFetchRequestInitTLS = {};
    const { ca, cert, key } = this.o.tls ?? {};
    if (ca && ca.length > 0) tls.ca = [...rootCertificates, ...ca];
    if (cert !== undefined) tls.cert = cert;
    if (key !== undefined) tls.key = key;
    if (this.o.insecure) tls.rejectUnauthorized = false;
    return Object.keys(tls).length > 0 ? tls : undefined;
  }
}
