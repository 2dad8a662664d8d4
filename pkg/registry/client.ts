// An OCI distribution client for one registry host: ping (login check),
// manifests by tag or digest, and blobs streamed to a file while being
// hashed (every byte is verified against the digest it was asked for); for
// pushes, blob checks (HEAD), cross-repository mounts, uploads and manifests.
//
// Contract: one RegistryClient per registry host; it remembers the working
// scheme and the tokens per repository, so reuse it for a whole pull. It never
// reads config files or credentials itself: the caller passes them in.
import { DigestMismatch, PodError } from "../errors.ts";
import { Authenticator, type Credentials } from "./auth.ts";
import { BlobTarget, type BlobWant } from "./blob.ts";
import { TransportError, statusError, transportHint } from "./errors.ts";
import { MANIFEST_ACCEPT, digestAlgorithm, digestOf, isDigest, manifestMediaType } from "./manifest.ts";
import { type Exchange, MAX_TRIES, type TlsOptions, Transport, backoffMs, sleep } from "./transport.ts";

export type { Credentials } from "./auth.ts";
export type { TlsOptions } from "./transport.ts";

export type ClientOptions = {
  /** "host[:port]" as in the URL, e.g. "127.0.0.1:5000" or "registry-1.docker.io". */
  host: string;
  /** Allow plain HTTP and skip TLS verification (registries.conf `insecure`, --tls-verify=false). */
  insecure: boolean;
  /** The host is a loopback address: plain HTTP is allowed after HTTPS fails, as docker does. */
  loopback: boolean;
  tls?: TlsOptions;
  credentials?: Credentials;
  /** How users name the registry in messages and hints, e.g. "docker.io"; defaults to host. */
  name?: string;
  /** Abort a request when no bytes arrive for this long (default 60 s). */
  idleTimeoutMs?: number;
  /** Receives debug lines (one per request, retry and fallback). */
  log?: (msg: string) => void;
};

export type FetchedManifest = { mediaType: string; digest: string; bytes: Uint8Array };

type SendInit = { method?: "GET" | "HEAD" | "POST" | "PUT"; body?: Blob | Uint8Array; push?: boolean };

const MANIFEST_LIMIT = 4 << 20;
const ERROR_BODY_LIMIT = 64 << 10;
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^\w[\w.-]{0,127}$/;

export class RegistryClient {
  readonly name: string;
  private readonly http: Transport;
  private readonly auth: Authenticator;
  private readonly log: (msg: string) => void;

  constructor(private readonly o: ClientOptions) {
    if (!HOST.test(o.host)) throw new PodError(`connecting to registry ${JSON.stringify(o.host)}: not a host[:port]`);
    this.name = o.name ?? o.host;
    this.log = o.log ?? (() => {});
    this.http = new Transport(o);
    this.auth = new Authenticator(this.name, o.credentials, this.http);
  }

  /**
   * GET /v2/, authenticating as needed. `pod login` uses it to check
   * credentials: rejected ones throw Unauthorized. A registry that asks for
   * no authentication accepts any credentials, as with docker and podman.
   */
  async ping(): Promise<void> {
    const what = `checking ${this.name}`;
    const ex = await this.request(what, "/v2/", undefined);
    if (ex.status === 200) return ex.discard();
    const body = await ex.errorText(ERROR_BODY_LIMIT);
    if (ex.status === 404) throw new PodError(`${what}: not a container registry (GET /v2/ answered 404)`);
    throw statusError(what, ex.status, body);
  }

  /**
   * The manifest or index `reference` (a tag or a digest) names, with its
   * digest computed from the exact bytes. For a digest reference, content
   * with another digest throws DigestMismatch.
   */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const byDigest = isDigest(reference);
    const ref = `${this.name}/${repository}${byDigest ? "@" : ":"}${reference}`;
    const what = `fetching manifest ${ref}`;
    checkRepository(repository, what);
    if (!byDigest && !TAG.test(reference)) throw new PodError(`${what}: ${JSON.stringify(reference)} is neither a tag nor a digest pod can verify`);

    const ex = await this.request(what, `/v2/${repository}/manifests/${reference}`, repository, { Accept: MANIFEST_ACCEPT.join(", ") });
    if (ex.status !== 200) throw statusError(what, ex.status, await ex.errorText(ERROR_BODY_LIMIT), "manifest unknown");
    const bytes = await this.guardTransport(what, ex.bytes(MANIFEST_LIMIT, what));
    let mediaType: string;
    try {
      mediaType = manifestMediaType(ex.header("content-type"), bytes);
    } catch (e) {
      throw e instanceof PodError ? new PodError(`${what}: ${e.message}`, { hint: e.hint, cause: e }) : e;
    }
    const algorithm = byDigest ? digestAlgorithm(reference) : "sha256";
    const digest = digestOf(bytes, algorithm);
    if (byDigest && digest !== reference) {
      throw new DigestMismatch(`${what}: received content has digest ${digest}, expected ${reference}`);
    }
    return { mediaType, digest, bytes };
  }

  /**
   * Streams blob `want.digest` into `destPath` (created or truncated),
   * hashing as it goes, then checks size and digest. On any failure
   * `destPath` is deleted. A transfer that breaks off resumes with a Range
   * request, or starts over when the registry does not honour it.
   * The caller MUST choose a temporary `destPath` and rename it after
   * success; `onProgress` gets the bytes received so far (it may go back to 0
   * when a transfer starts over) and is called for every chunk.
   */
  async downloadBlob(repository: string, want: BlobWant, destPath: string, onProgress?: (bytesSoFar: number) => void): Promise<void> {
    const what = `fetching blob ${want.digest} from ${this.name}/${repository}`;
    checkRepository(repository, what);
    const target = new BlobTarget(what, want, destPath, onProgress);
    try {
      for (let attempt = 1; ; attempt++) {
        const resumeAt = target.received;
        const ex = await this.request(what, `/v2/${repository}/blobs/${want.digest}`, repository, resumeAt > 0 ? { Range: `bytes=${resumeAt}-` } : undefined);
        if (resumeAt > 0 && !(ex.status === 206 && rangeStart(ex) === resumeAt)) {
          this.log(`${what}: registry did not resume at byte ${resumeAt} (status ${ex.status}); starting over`);
          await target.restart();
          if (ex.status !== 200) {
            ex.discard();
            continue;
          }
        } else if (resumeAt === 0 && ex.status !== 200) {
          throw statusError(what, ex.status, await ex.errorText(ERROR_BODY_LIMIT), "blob unknown");
        }
        try {
          await target.consume(ex, attempt >= MAX_TRIES);
          break;
        } catch (e) {
          if (!(e instanceof TransportError) || attempt >= MAX_TRIES) throw e;
          this.log(`${what}: ${e.message} after ${target.received} bytes; retrying`);
          await sleep(backoffMs(attempt - 1));
        }
      }
      await target.finish();
    } catch (e) {
      await target.remove();
      if (e instanceof TransportError) throw new PodError(`${what}: ${e.message}`, { hint: transportHint(e, this.o.host), cause: e });
      throw e;
    }
  }

  /**
   * Sends a request with the credentials the registry asks for: on a 401 it
   * learns the challenge, authenticates and retries once. Returns any other
   * status for the caller to handle; a second 401 throws Unauthorized.
   * `init.push` asks for the push scope of `repository`.
   */
  private async request(what: string, path: string, repository: string | undefined, headers: Record<string, string> = {}, init: SendInit = {}): Promise<Exchange> {
    const scope = repository === undefined ? undefined : `repository:${repository}:${init.push ? "pull,push" : "pull"}`;
    const first = await this.attempt(what, path, scope, headers, init);
    if (first.status !== 401) return first;
    const body = await first.errorText(ERROR_BODY_LIMIT);
    if (!this.auth.learn(first, scope)) throw this.auth.rejected(repository, body);
    const second = await this.attempt(what, path, scope, headers, init);
    if (second.status !== 401) return second;
    throw this.auth.rejected(repository, await second.errorText(ERROR_BODY_LIMIT));
  }

  private attempt(what: string, path: string, scope: string | undefined, headers: Record<string, string>, init: SendInit = {}): Promise<Exchange> {
    return this.guardTransport(
      what,
      (async () => {
        const authorization = await this.auth.header(scope);
        const h = authorization === undefined ? headers : { ...headers, Authorization: authorization };
        return this.http.send(path, { headers: h, method: init.method, body: init.body });
      })(),
    );
  }

  // ---- pushing -------------------------------------------------------------

  /** HEAD of a blob in `repository`: its size when the registry has it, undefined when not. */
  async blobSize(repository: string, digest: string): Promise<number | undefined> {
    const what = `checking whether a blob ${digest} exists in ${this.name}/${repository}`;
    checkRepository(repository, what);
    const ex = await this.request(what, `/v2/${repository}/blobs/${digest}`, repository, {}, { method: "HEAD", push: true });
    ex.discard();
    if (ex.status === 200) return Number(ex.header("content-length") ?? "0");
    if (ex.status === 404) return undefined;
    throw statusError(what, ex.status, "");
  }

  /**
   * Asks the registry to mount blob `digest` from repository `from` into
   * `repository` (the cross-repository mount). Returns true when it did; when
   * it cannot, the upload session it opened instead is left to expire.
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const what = `mounting blob ${digest} from ${this.name}/${from} into ${repository}`;
    checkRepository(repository, what);
    const q = new URLSearchParams({ mount: digest, from }).toString();
    const ex = await this.request(what, `/v2/${repository}/blobs/uploads/?${q}`, repository, {}, { method: "POST", push: true });
    if (ex.status === 201) {
      ex.discard();
      return true;
    }
    const body = await ex.errorText(ERROR_BODY_LIMIT);
    if (ex.status === 202) return false;
    throw statusError(what, ex.status, body);
  }

  /**
   * Uploads the file `path` as blob `digest` of `size` bytes: POST opens an
   * upload session, one PUT sends the bytes (streamed from the file) and
   * closes it. The registry checks the digest; a refusal is an error.
   */
  async uploadBlob(repository: string, digest: string, path: string, size: number): Promise<void> {
    const what = `writing blob ${digest} to ${this.name}/${repository}`;
    checkRepository(repository, what);
    const start = await this.request(what, `/v2/${repository}/blobs/uploads/`, repository, {}, { method: "POST", push: true });
    const startBody = await start.errorText(ERROR_BODY_LIMIT);
    if (start.status !== 202) throw statusError(`${what}: initiating layer upload to /v2/${repository}/blobs/uploads/`, start.status, startBody);
    const location = start.header("location");
    if (!location) throw new PodError(`${what}: the registry gave no upload location`);
    const url = new URL(location, `http://${this.o.host}`);
    url.searchParams.set("digest", digest);
    const target = url.host === new URL(`http://${this.o.host}`).host ? `${url.pathname}${url.search}` : undefined;
    if (!target) throw new PodError(`${what}: the registry sent the upload to another host (${url.host})`, { hint: "pod uploads only to the registry it was given" });
    const put = await this.request(what, target, repository, { "Content-Type": "application/octet-stream" }, { method: "PUT", body: Bun.file(path), push: true });
    void size;
    const body = await put.errorText(ERROR_BODY_LIMIT);
    if (put.status !== 201) throw statusError(what, put.status, body);
  }

  /** PUT of a manifest under a tag or digest; returns the digest of the bytes sent. */
  async putManifest(repository: string, reference: string, mediaType: string, bytes: Uint8Array): Promise<string> {
    const what = `writing manifest to ${this.name}/${repository}:${reference}`;
    checkRepository(repository, what);
    const ex = await this.request(what, `/v2/${repository}/manifests/${reference}`, repository, { "Content-Type": mediaType }, { method: "PUT", body: bytes, push: true });
    const body = await ex.errorText(ERROR_BODY_LIMIT);
    if (ex.status !== 201 && ex.status !== 200) throw statusError(what, ex.status, body);
    return digestOf(bytes, "sha256");
  }

  /** Turns a TransportError into the PodError people see, naming what was being done. */
  private async guardTransport<T>(what: string, p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof TransportError) throw new PodError(`${what}: ${e.message}`, { hint: transportHint(e, this.o.host), cause: e });
      throw e;
    }
  }
}

function checkRepository(repository: string, what: string): void {
  if (!REPOSITORY.test(repository)) throw new PodError(`${what}: ${JSON.stringify(repository)} is not a valid repository name`);
}

function rangeStart(ex: Exchange): number | undefined {
  const m = /^bytes (\d+)-/.exec(ex.header("content-range") ?? "");
  return m?.[1] === undefined ? undefined : Number(m[1]);
}
