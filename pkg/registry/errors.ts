// How registry failures become PodErrors: the registry's JSON error body, HTTP
// statuses, and connection failures (which carry Bun's error codes).
import { NotFoundInRegistry, PodError, Unauthorized } from "../errors.ts";

/** A failure below HTTP: refused, reset, TLS, DNS, a stalled body. These are retried. */
export class TransportError extends Error {
  readonly code?: string;
  constructor(message: string, info: { code?: string; cause?: unknown } = {}) {
    super(message, { cause: info.cause });
    this.code = info.code;
  }
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|HOSTNAME_MISMATCH/;

const CODE_TEXT: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  EPROTO: "TLS handshake failed",
  ETIMEDOUT: "connection timed out",
  ENOTFOUND: "host not found",
  ConnectionRefused: "connection refused",
  ConnectionClosed: "connection closed",
  FailedToOpenSocket: "could not open a connection",
};

/** Wraps whatever fetch threw (a TypeError with a code, usually) as a TransportError. */
export function toTransportError(e: unknown): TransportError {
  if (e instanceof TransportError) return e;
  const code = typeof e === "object" && e !== null && "code" in e ? String((e as { code: unknown }).code) : undefined;
  const raw = e instanceof Error ? e.message : String(e);
  let text = code !== undefined ? CODE_TEXT[code] : undefined;
  if (text === undefined && code !== undefined && CERT_CODES.test(code)) text = `certificate not trusted: ${raw}`;
  return new TransportError(text ?? raw, { code, cause: e });
}

export function isCertificateError(e: TransportError): boolean {
  return e.code !== undefined && CERT_CODES.test(e.code);
}

/** Failures that another try will not cure: certificate and handshake errors. */
export function isPermanent(e: TransportError): boolean {
  return isCertificateError(e) || e.code === "EPROTO";
}

/** The fix to suggest for a transport failure, if there is one. */
export function transportHint(e: TransportError, host: string): string | undefined {
  if (isCertificateError(e)) {
    return `put the registry's CA certificate in ~/.config/containers/certs.d/${host}/ca.crt, or use --tls-verify=false for a registry you trust`;
  }
  if (e.code === "EPROTO") {
    return `if ${host} serves plain HTTP, mark it insecure in registries.conf or use --tls-verify=false; if it wants a client certificate, put client.cert and client.key in ~/.config/containers/certs.d/${host}/`;
  }
  return undefined;
}

type RegistryErrorBody = { errors?: { code?: unknown; message?: unknown }[] };

/**
 * Summarises an error body: the registry's `{errors:[{code,message}]}` as
 * "message; message", else the first line of a short text body.
 */
export function describeErrorBody(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === "") return undefined;
  try {
    const body = JSON.parse(trimmed) as RegistryErrorBody;
    if (Array.isArray(body.errors) && body.errors.length > 0) {
      return body.errors
        .map((e) => (typeof e.message === "string" && e.message !== "" ? e.message : String(e.code ?? "error").toLowerCase().replaceAll("_", " ")))
        .join("; ");
    }
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
  }
  if (trimmed.startsWith("<")) return undefined;
  const line = trimmed.split("\n", 1)[0] ?? "";
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * The error for a status the caller did not expect. `what` is "doing what"
 * naming the reference; `fallback` describes a 404 whose body says nothing.
 */
export function statusError(what: string, status: number, body: string, fallback = "not found"): PodError {
  const detail = describeErrorBody(body);
  if (status === 404) return new NotFoundInRegistry(`${what}: ${detail ?? fallback}`);
  if (status === 401 || status === 403) return new Unauthorized(`${what}: ${detail ?? "access denied"}`);
  if (status === 429) {
    return new PodError(`${what}: too many requests${detail ? ` (${detail})` : ""}`, { hint: "wait a while and try again" });
  }
  return new PodError(`${what}: registry answered ${status}${detail ? `: ${detail}` : ""}`);
}
