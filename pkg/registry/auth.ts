// Registry authentication: the Docker token protocol (Bearer challenges, a
// token per scope from the realm) and Basic. Facts from the distribution specs:
// - token GET realm?service=S&scope=repository:NAME:pull, with Basic
//   credentials when we have them; the answer carries `token` or
//   `access_token`, and `expires_in` (60 s when absent).
// - with an identity (refresh) token: POST realm as a form with
//   grant_type=refresh_token, refresh_token, service, scope and a client_id.
// - a token server answers 401 when the credentials are wrong.
import { PodError, Unauthorized } from "../errors.ts";
import { type Challenge, parseChallenges } from "./challenge.ts";
import { TransportError, describeErrorBody } from "./errors.ts";
import type { Exchange, Transport } from "./transport.ts";

export type Credentials = { username: string; password: string } | { identityToken: string };

const TOKEN_BODY_LIMIT = 1 << 20;
const ERROR_BODY_LIMIT = 64 << 10;
const DEFAULT_TOKEN_SECONDS = 60;
const CLIENT_ID = "pod";

type Token = { value: string; expiresAt: number };

type TokenResponse = { token?: unknown; access_token?: unknown; expires_in?: unknown };

export class Authenticator {
  private challenge?: Challenge;
  private readonly tokens = new Map<string, Promise<Token>>();

  constructor(
    private readonly name: string,
    private readonly credentials: Credentials | undefined,
    private readonly http: Transport,
  ) {}

  /** True when the registry asked for tokens: a 401 despite a token then means access denied. */
  get usesBearer(): boolean {
    return this.challenge?.scheme === "bearer";
  }

  /**
   * The Authorization header for a request needing `scope`, or undefined while
   * the registry has not asked for any. May fetch a token.
   */
  async header(scope: string | undefined): Promise<string | undefined> {
    const c = this.challenge;
    if (c === undefined) return undefined;
    if (c.scheme === "basic") return this.basic();
    let token = await this.token(c, scope);
    if (token.expiresAt <= Date.now()) {
      this.tokens.delete(scope ?? "");
      token = await this.token(c, scope);
    }
    return `Bearer ${token.value}`;
  }

  /** One token request per scope at a time: concurrent blob downloads share it. */
  private token(c: Challenge, scope: string | undefined): Promise<Token> {
    const key = scope ?? "";
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached;
    const p = this.fetchToken(c, scope);
    this.tokens.set(key, p);
    p.catch(() => this.tokens.get(key) === p && this.tokens.delete(key));
    return p;
  }

  /**
   * Records the challenge of a 401. Returns false when a retry cannot help:
   * no challenge pod understands, or Basic without a password.
   */
  learn(ex: Exchange, scope: string | undefined): boolean {
    const challenges = parseChallenges(ex.header("www-authenticate") ?? "");
    const c = challenges.find((x) => x.scheme === "bearer" && x.params.realm) ?? challenges.find((x) => x.scheme === "basic");
    this.tokens.delete(scope ?? "");
    if (c === undefined) return false;
    this.challenge = c;
    return c.scheme === "bearer" || this.basic() !== undefined;
  }

  /** The error for a 401 that survived authentication (or could not attempt it). */
  rejected(repository: string | undefined, body: string): Unauthorized {
    const detail = describeErrorBody(body);
    const login = `run \`pod login ${this.name}\``;
    if (this.credentials === undefined) {
      const what = repository === undefined ? `authenticating to ${this.name}` : `accessing ${this.name}/${repository}`;
      return new Unauthorized(`${what}: authentication required${detail ? ` (${detail})` : ""}`, {
        hint: repository === undefined ? login : `${login} if ${repository} is private; otherwise check the image name`,
      });
    }
    if (repository !== undefined && this.usesBearer) {
      return new Unauthorized(`accessing ${this.name}/${repository}: access denied${detail ? ` (${detail})` : ""}`, {
        hint: `check that your account may pull ${repository}, or ${login} again`,
      });
    }
    return new Unauthorized(`authenticating to ${this.name}: invalid username/password`, { hint: login });
  }

  private basic(): string | undefined {
    const c = this.credentials;
    if (c === undefined || !("username" in c)) return undefined;
    return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString("base64")}`;
  }

  private async fetchToken(c: Challenge, scope: string | undefined): Promise<Token> {
    const realm = c.params.realm ?? "";
    let url: URL;
    try {
      url = new URL(realm);
    } catch (e) {
      throw new PodError(`authenticating to ${this.name}: token realm ${JSON.stringify(realm)} is not a URL`, { cause: e });
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new PodError(`authenticating to ${this.name}: token realm ${realm} is not http(s)`);
    }
    const params = new URLSearchParams();
    if (c.params.service) params.set("service", c.params.service);
    for (const s of new Set([scope, c.params.scope])) if (s) params.append("scope", s);

    let ex: Exchange;
    try {
      ex = await this.requestToken(url, params);
    } catch (e) {
      if (e instanceof TransportError) throw new TransportError(`token server ${url.host}: ${e.message}`, { code: e.code, cause: e });
      throw e;
    }
    if (ex.status === 401 || ex.status === 403) throw this.rejected(undefined, await ex.errorText(ERROR_BODY_LIMIT));
    if (ex.status !== 200) {
      const detail = describeErrorBody(await ex.errorText(ERROR_BODY_LIMIT));
      throw new PodError(`authenticating to ${this.name}: token server ${url.host} answered ${ex.status}${detail ? `: ${detail}` : ""}`);
    }
    const what = `authenticating to ${this.name}: reading token from ${url.host}`;
    let body: TokenResponse;
    try {
      body = JSON.parse(await ex.text(TOKEN_BODY_LIMIT, what)) as TokenResponse;
    } catch (e) {
      if (e instanceof SyntaxError) throw new PodError(`${what}: not JSON`, { cause: e });
      throw e;
    }
    const value = typeof body.token === "string" && body.token !== "" ? body.token : body.access_token;
    if (typeof value !== "string" || value === "") throw new PodError(`${what}: the answer holds no token`);
    const seconds = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    // Renew a little early so a token does not expire between check and use.
    return { value, expiresAt: Date.now() + Math.max(seconds - 10, seconds / 2) * 1000 };
  }

  private requestToken(url: URL, params: URLSearchParams): Promise<Exchange> {
    const c = this.credentials;
    if (c !== undefined && "identityToken" in c) {
      const form = new URLSearchParams(params);
      form.set("grant_type", "refresh_token");
      form.set("refresh_token", c.identityToken);
      form.set("client_id", CLIENT_ID);
      return this.http.sendURL(url.href, { method: "POST", body: form });
    }
    for (const [k, v] of params) url.searchParams.append(k, v);
    const basic = this.basic();
    return this.http.sendURL(url.href, { headers: basic === undefined ? {} : { Authorization: basic } });
  }
}
