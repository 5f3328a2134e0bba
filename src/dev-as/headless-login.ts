/**
 * An OAuth client for the development authorization server that needs no browser: discovery,
 * dynamic registration, authorization code + PKCE S256 through the devInteractions login and consent
 * pages (posted as a browser posts them, cookies kept, every redirect followed by hand), and the
 * token endpoint. Shared by `npm run token` and the tests.
 */
import { createHash, randomBytes } from "node:crypto";

export class OAuthFlowError extends Error {
  override name = "OAuthFlowError";
  /** The OAuth `error` code when the server sent one (`invalid_client`, `invalid_scope`, …). */
  readonly error: string | undefined;
  /** The HTTP status of a response that was not what the flow expected. */
  readonly status: number | undefined;
  constructor(message: string, details: { error?: string; status?: number } = {}) {
    super(message);
    this.error = details.error;
    this.status = details.status;
  }
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  [key: string]: unknown;
}

export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  registration_endpoint?: string;
  [key: string]: unknown;
}

export interface ClientCredentials {
  client_id: string;
  client_secret?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  scope?: string;
  [key: string]: unknown;
}

export interface AuthorizationRequest {
  client: ClientCredentials;
  redirectUri: string;
  scope: string;
  /** RFC 8707 resource; omitted from the request when undefined. */
  resource?: string;
  /** Typed into the development login form; becomes the token's `sub`. */
  login: string;
}

export interface AuthorizationResponse {
  code: string;
  codeVerifier: string;
  /** The redirect back to the client, with `code`, `state` and RFC 9207 `iss`. */
  callback: URL;
}

/** RFC 9728 metadata at the root well-known path of `serverUrl`. */
export async function fetchProtectedResourceMetadata(serverUrl: string): Promise<ProtectedResourceMetadata> {
  const url = new URL("/.well-known/oauth-protected-resource", serverUrl);
  const body = await getJson(url, "protected resource metadata");
  const servers = body.authorization_servers;
  if (typeof body.resource !== "string" || !Array.isArray(servers) || typeof servers[0] !== "string") {
    throw new OAuthFlowError(`${url} has no resource or authorization_servers`);
  }
  return body as ProtectedResourceMetadata;
}

/** RFC 8414 discovery; the document must name `issuer` exactly (RFC 8414 §3.3). */
export async function fetchAuthorizationServerMetadata(issuer: string): Promise<AuthorizationServerMetadata> {
  const { origin, pathname } = new URL(issuer);
  const url = new URL(`/.well-known/oauth-authorization-server${pathname.replace(/\/$/, "")}`, origin);
  const body = await getJson(url, "authorization server metadata");
  if (body.issuer !== issuer) throw new OAuthFlowError(`${url} names issuer ${String(body.issuer)}, not ${issuer}`);
  return body as AuthorizationServerMetadata;
}

/**
 * The redirect URI of headless clients. Never loaded: the flow stops at the redirect and reads the
 * code from its URL.
 */
export const HEADLESS_REDIRECT_URI = "http://127.0.0.1/callback";

/**
 * Registers a client that redirects to HEADLESS_REDIRECT_URI: public (PKCE, no secret) as MCP clients
 * are, or confidential for the client credentials grant.
 */
export async function registerHeadlessClient(
  as: AuthorizationServerMetadata,
  options: { name: string; scope?: string; confidential?: boolean },
): Promise<ClientCredentials> {
  const grantTypes = options.confidential ? ["authorization_code", "client_credentials"] : ["authorization_code"];
  const registered = await registerClient(as, {
    client_name: options.name,
    redirect_uris: [HEADLESS_REDIRECT_URI],
    grant_types: grantTypes,
    response_types: ["code"],
    token_endpoint_auth_method: options.confidential ? "client_secret_basic" : "none",
    scope: options.scope,
  });
  return { client_id: registered.client_id, client_secret: registered.client_secret };
}

/** RFC 7591 dynamic client registration. */
export async function registerClient(
  as: AuthorizationServerMetadata,
  metadata: Record<string, unknown>,
): Promise<ClientCredentials & Record<string, unknown>> {
  if (!as.registration_endpoint) throw new OAuthFlowError(`${as.issuer} offers no dynamic client registration`);
  const response = await send(as.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(metadata),
  });
  return (await oauthJson(response, "client registration")) as ClientCredentials & Record<string, unknown>;
}

/** Authorization code + PKCE S256 through the development login and consent pages. */
export async function authorizeThroughDevLogin(
  as: AuthorizationServerMetadata,
  request: AuthorizationRequest,
): Promise<AuthorizationResponse> {
  const codeVerifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const url = new URL(as.authorization_endpoint);
  const params: Record<string, string | undefined> = {
    response_type: "code",
    client_id: request.client.client_id,
    redirect_uri: request.redirectUri,
    scope: request.scope,
    state,
    code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    code_challenge_method: "S256",
    resource: request.resource,
  };
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);

  const callback = await new DevLoginBrowser(request.login).run(url, request.redirectUri);
  const error = callback.searchParams.get("error");
  if (error) {
    const description = callback.searchParams.get("error_description");
    throw new OAuthFlowError(`authorization refused: ${error}${description ? ` (${description})` : ""}`, { error });
  }
  if (callback.searchParams.get("state") !== state) throw new OAuthFlowError("authorization response: state mismatch");
  // RFC 9207: a client must check who answered, against mix-up attacks.
  if (callback.searchParams.get("iss") !== as.issuer) {
    throw new OAuthFlowError(`authorization response: iss is not ${as.issuer}`);
  }
  const code = callback.searchParams.get("code");
  if (!code) throw new OAuthFlowError("authorization response has no code");
  return { code, codeVerifier, callback };
}

export async function exchangeAuthorizationCode(
  as: AuthorizationServerMetadata,
  client: ClientCredentials,
  grant: { code: string; codeVerifier: string; redirectUri: string; resource?: string },
): Promise<TokenResponse> {
  return requestToken(as, client, {
    grant_type: "authorization_code",
    code: grant.code,
    code_verifier: grant.codeVerifier,
    redirect_uri: grant.redirectUri,
    resource: grant.resource,
  });
}

/** The whole authorization code flow: authorize through the dev pages, then redeem the code. */
export async function authorizationCodeFlow(
  as: AuthorizationServerMetadata,
  request: AuthorizationRequest,
): Promise<{ tokens: TokenResponse; callback: URL }> {
  const { code, codeVerifier, callback } = await authorizeThroughDevLogin(as, request);
  const { client, redirectUri, resource } = request;
  const tokens = await exchangeAuthorizationCode(as, client, { code, codeVerifier, redirectUri, resource });
  return { tokens, callback };
}

export async function clientCredentialsGrant(
  as: AuthorizationServerMetadata,
  client: ClientCredentials,
  request: { scope: string; resource?: string },
): Promise<TokenResponse> {
  return requestToken(as, client, { grant_type: "client_credentials", ...request });
}

async function requestToken(
  as: AuthorizationServerMetadata,
  client: ClientCredentials,
  params: Record<string, string | undefined>,
): Promise<TokenResponse> {
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) body.set(name, value);
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (client.client_secret === undefined) {
    body.set("client_id", client.client_id);
  } else {
    // client_secret_basic: each part form-encoded before base64 (RFC 6749 §2.3.1).
    const pair = `${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString("base64")}`;
  }
  const response = await send(as.token_endpoint, { method: "POST", headers, body });
  return (await oauthJson(response, "token request")) as TokenResponse;
}

/**
 * A browser reduced to what the development pages need: follows redirects by hand, keeps the
 * provider's cookies (`_interaction`, `_session`, …) and posts each page's form, typing `login` into
 * the sign-in form. The jar ignores cookie path and domain: it only ever talks to one server.
 */
export class DevLoginBrowser {
  static readonly maxSteps = 12;
  readonly #cookies = new Map<string, string>();

  /** `onPage` sees each page before its form is posted (its `prompt`: "login", "consent"; its HTML). */
  constructor(
    readonly login: string,
    readonly onPage?: (prompt: string, html: string) => void,
  ) {}

  /** Starts at `url`; returns the redirect that leaves for `redirectUri`. */
  async run(url: URL, redirectUri: string): Promise<URL> {
    let response = await this.#request(url, { method: "GET" });
    let at = url;
    for (let step = 0; step < DevLoginBrowser.maxSteps; step++) {
      const location = response.headers.get("location");
      if (location && response.status >= 300 && response.status < 400) {
        await response.body?.cancel();
        at = new URL(location, at);
        if (isRedirectTo(at, redirectUri)) return at;
        response = await this.#request(at, { method: "GET" });
        continue;
      }
      const page = await response.text();
      const form = response.status === 200 ? parseForm(page, at) : undefined;
      if (!form) throw pageError(response.status, at, page);
      this.onPage?.(form.fields.get("prompt") ?? "", page);
      if (form.fields.get("prompt") === "login") {
        form.fields.set("login", this.login);
        form.fields.set("password", "development");
      }
      at = form.action;
      response = await this.#request(at, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form.fields,
      });
    }
    throw new OAuthFlowError(`authorization did not return to ${redirectUri} within ${DevLoginBrowser.maxSteps} steps`);
  }

  async #request(url: URL, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.#cookies.size > 0) {
      headers.set("cookie", [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; "));
    }
    const response = await send(url, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) this.#store(line);
    return response;
  }

  #store(setCookie: string): void {
    const [pair = "", ...attributes] = setCookie.split(";").map((part) => part.trim());
    const eq = pair.indexOf("=");
    if (eq <= 0) return;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    const attribute = (key: string) =>
      attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
    const expires = attribute("expires");
    const maxAge = attribute("max-age");
    // The provider clears a cookie by sending it empty with an expiry in the past.
    const expired =
      (expires !== undefined && Date.parse(expires) <= Date.now()) || (maxAge !== undefined && Number(maxAge) <= 0);
    if (value === "" || expired) this.#cookies.delete(name);
    else this.#cookies.set(name, value);
  }
}

function isRedirectTo(url: URL, redirectUri: string): boolean {
  const target = new URL(redirectUri);
  return url.origin === target.origin && url.pathname === target.pathname;
}

/** The first form of a devInteractions page: its action and hidden fields. */
function parseForm(html: string, base: URL): { action: URL; fields: URLSearchParams } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields = new URLSearchParams();
  for (const input of (form[2] ?? "").matchAll(/<input\b[^>]*>/gi)) {
    const attribute = (name: string) => new RegExp(`\\b${name}="([^"]*)"`, "i").exec(input[0])?.[1];
    const name = attribute("name");
    if (attribute("type") === "hidden" && name)
      fields.set(decodeEntities(name), decodeEntities(attribute("value") ?? ""));
  }
  return { action: new URL(decodeEntities(form[1] ?? ""), base), fields };
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

/**
 * An error of the provider as an OAuthFlowError: its error page (see development-pages.ts), or the
 * JSON it answers a client that does not ask for HTML (as this one).
 */
function pageError(status: number, url: URL, page: string): OAuthFlowError {
  const json = jsonObject(page);
  const html = (field: string) => {
    const found = new RegExp(`<strong>${field}</strong>: ([^<]+)`).exec(page)?.[1];
    return found === undefined ? undefined : decodeEntities(found);
  };
  const error = typeof json?.error === "string" ? json.error : html("error");
  const description = typeof json?.error_description === "string" ? json.error_description : html("error_description");
  const detail = error ? `${error}${description ? ` (${description})` : ""}` : `HTTP ${status}`;
  return new OAuthFlowError(`authorization failed at ${url.origin}${url.pathname}: ${detail}`, { error, status });
}

async function send(url: string | URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (cause) {
    // The code only: undici's message may quote the URL whole, a password in it included.
    const code = (cause as { cause?: { code?: unknown } }).cause?.code;
    const reason = typeof code === "string" && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : "the request could not be sent";
    throw new OAuthFlowError(`cannot reach ${new URL(url).origin} (${reason}); is the server running?`);
  }
}

async function getJson(url: URL, what: string): Promise<Record<string, unknown>> {
  const response = await send(url, { headers: { accept: "application/json" } });
  if (!response.ok) {
    await response.body?.cancel();
    throw new OAuthFlowError(`no ${what} at ${url} (HTTP ${response.status})`, { status: response.status });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!isObject(body)) throw new OAuthFlowError(`${url} did not return a JSON object`);
  return body;
}

/** A JSON success, or the OAuth error response (RFC 6749 §5.2) as an OAuthFlowError. */
async function oauthJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok && isObject(body)) return body;
  const error = isObject(body) && typeof body.error === "string" ? body.error : undefined;
  const description = isObject(body) && typeof body.error_description === "string" ? body.error_description : "";
  const detail = error ? `${error}${description ? ` (${description})` : ""}` : `HTTP ${response.status}`;
  throw new OAuthFlowError(`${what} refused: ${detail}`, { error, status: response.status });
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
