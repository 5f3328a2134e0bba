import { createRemoteJWKSet, type JWTPayload, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type AuthorizationServerMetadata,
  clientCredentialsGrant,
  fetchAuthorizationServerMetadata,
  HEADLESS_REDIRECT_URI,
  OAuthFlowError,
  registerClient,
  registerHeadlessClient,
  runOAuthFlow,
} from "../helpers/oauth-flow.js";
import { type RunningDevServer, SCOPES, startDevServer, temporaryDataDir } from "./dev-server.js";

const ALLOWED_CIMD = "https://client.example/oauth/client-metadata.json";
const UNLISTED_CIMD = "https://unlisted.example/oauth/client-metadata.json";
/** A CIMD client of the allowlist with an https redirect URI (a web client). */
const WEB_CIMD = "https://web.example/oauth/client-metadata.json";

describe("development authorization server", () => {
  let dataDir: Awaited<ReturnType<typeof temporaryDataDir>>;
  let server: RunningDevServer;
  let as: AuthorizationServerMetadata;

  /** Verifies like toolgate's verifier: issuer, audience = resource, RFC 9068 typ, one algorithm. */
  async function verify(token: string): Promise<JWTPayload> {
    const jwks = createRemoteJWKSet(new URL(server.devAs.jwksUri));
    const { payload } = await jwtVerify(token, jwks, {
      issuer: server.issuer,
      audience: server.resource,
      typ: "at+jwt",
      algorithms: ["RS256"],
      requiredClaims: ["exp"],
    });
    return payload;
  }

  beforeAll(async () => {
    dataDir = await temporaryDataDir();
    server = await startDevServer({
      dataDir: dataDir.path,
      clientMetadataDocuments: {
        [ALLOWED_CIMD]: {
          client_name: "CIMD test client",
          redirect_uris: [HEADLESS_REDIRECT_URI],
          grant_types: ["authorization_code"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        },
        [WEB_CIMD]: {
          client_name: "CIMD web client",
          redirect_uris: ["https://web.example/cb"],
          grant_types: ["authorization_code"],
          response_types: ["code"],
          token_endpoint_auth_method: "none",
        },
      },
    });
    as = await fetchAuthorizationServerMetadata(server.issuer);
  });

  afterAll(async () => {
    await server?.close();
    await dataDir?.remove();
  });

  it("serves the same discovery document at both well-known paths", async () => {
    const openid = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
    expect(openid).toEqual(as);
    expect(as).toMatchObject({
      issuer: server.issuer,
      authorization_endpoint: server.devAs.authorizationEndpoint,
      jwks_uri: server.devAs.jwksUri,
      registration_endpoint: `${server.issuer}/reg`,
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
      toolgate_development_server: true,
    });
    expect(as.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "client_credentials"]));
    expect(as.scopes_supported).toEqual(expect.arrayContaining(Object.keys(SCOPES)));
    expect(as.scopes_supported).not.toContain("offline_access");
  });

  it("issues a JWT access token for the resource (DCR, code, PKCE S256) and sends RFC 9207 iss", async () => {
    const { accessToken, callback, client } = await runOAuthFlow({
      issuer: server.issuer,
      scope: "docs.write memory.read",
      resource: server.resource,
      login: "alice",
    });
    expect(callback.searchParams.get("iss")).toBe(server.issuer);
    const claims = await verify(accessToken);
    expect(claims).toMatchObject({ sub: "alice", client_id: client.client_id, scope: "docs.write memory.read" });
  });

  it("defaults to the resource when the client does not send one", async () => {
    const { accessToken } = await runOAuthFlow({ issuer: server.issuer, scope: "search.read", login: "carol" });
    expect((await verify(accessToken)).aud).toBe(server.resource);
  });

  it("refuses a resource other than the MCP server", async () => {
    const flow = runOAuthFlow({ issuer: server.issuer, scope: "search.read", resource: `${server.issuer}/other` });
    await expect(flow).rejects.toMatchObject({ error: "invalid_target" });
  });

  /** The authorization endpoint asked with `params`, its redirect not followed. */
  async function authorize(params: Record<string, string>): Promise<{ url: URL; response: Response }> {
    const url = new URL(as.authorization_endpoint);
    url.search = new URLSearchParams(params).toString();
    return { url, response: await fetch(url, { redirect: "manual" }) };
  }

  it("requires PKCE", async () => {
    const client = await registerHeadlessClient(as, { name: "no pkce" });
    const { url, response } = await authorize({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: HEADLESS_REDIRECT_URI,
      scope: "search.read",
    });
    const location = new URL(response.headers.get("location") ?? "", url);
    expect(location.origin + location.pathname).toBe(HEADLESS_REDIRECT_URI);
    expect(location.searchParams.get("error")).toBe("invalid_request");
  });

  it("refuses http redirect URIs except on loopback addresses (OAuth 2.1, RFC 8252)", async () => {
    for (const uri of ["http://evil.example/cb", "http://192.168.1.20:8080/cb", "http://127.0.0.1.evil.example/cb"]) {
      const refused = registerClient(as, { redirect_uris: [uri], token_endpoint_auth_method: "none" });
      await expect(refused, uri).rejects.toMatchObject({ error: "invalid_redirect_uri", status: 400 });
    }
    for (const uri of [
      "https://client.example/cb",
      "http://localhost:6274/oauth/callback",
      "http://127.0.0.1:33418/callback",
      "http://[::1]/cb",
    ]) {
      const registered = await registerClient(as, { redirect_uris: [uri], token_endpoint_auth_method: "none" });
      expect(registered.redirect_uris, uri).toEqual([uri]);
    }
  });

  it("renders, not redirects, an authorization error before sign-in unless the redirect URI is loopback", async () => {
    // Registration is open: a registered https redirect URI is no reason to trust it, and redirecting
    // an immediate error there would make this server an open redirector (RFC 9700 §4.11.2).
    const untrusted = "https://evil.example/landing";
    const client = await registerClient(as, { redirect_uris: [untrusted], token_endpoint_auth_method: "none" });
    for (const mode of [undefined, "form_post", "fragment"]) {
      const { response } = await authorize({
        client_id: client.client_id,
        redirect_uri: untrusted,
        response_type: "code",
        scope: "search.read",
        ...(mode ? { response_mode: mode } : {}),
      });
      expect(response.status, String(mode)).toBe(400);
      expect(response.headers.get("location")).toBeNull();
      const page = await response.text();
      expect(page).not.toContain("evil.example");
      expect(page).toContain("<strong>error</strong>: invalid_request");
    }
    // A loopback redirect URI (a native client on this machine, waiting for the answer) still gets
    // the error: see "requires PKCE".
  });

  // The answer to prompt=none went back to any https redirect URI: anyone may register one and add
  // prompt=none to a link, so this server redirected the browser wherever that link said.
  it("sends the answer to prompt=none back to a CIMD client only (OIDC Core §3.1.2.6); to a registered https client, a page", async () => {
    const silent = (clientId: string, redirectUri: string) =>
      authorize({
        client_id: clientId,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "openid search.read",
        state: "s",
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        code_challenge_method: "S256",
        prompt: "none",
      });
    const registered = "https://client.example/cb";
    const client = await registerClient(as, { redirect_uris: [registered], token_endpoint_auth_method: "none" });
    const refused = (await silent(client.client_id, registered)).response;
    // a page, not a 303 without Location (which answered a silent sign-in with nothing at all)
    expect(refused.status).toBe(400);
    expect(refused.headers.get("location")).toBeNull();
    expect(await refused.text()).toContain("<strong>error</strong>: login_required");

    const { response } = await silent(WEB_CIMD, "https://web.example/cb");
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") ?? "about:blank");
    expect(location.origin + location.pathname).toBe("https://web.example/cb");
    expect(location.searchParams.get("error")).toBe("login_required");
    expect(location.searchParams.get("state")).toBe("s");
  });

  // The provider fetched a registered sector_identifier_uri: any web page could have it fetch any URL.
  it("refuses a sector_identifier_uri at registration, before fetching it", async () => {
    const refused = registerClient(as, {
      redirect_uris: ["https://client.example/cb"],
      token_endpoint_auth_method: "none",
      sector_identifier_uri: "https://sector.example/uris.json",
    });
    // refused by the policy, not by a fetch that failed (which this machine's network would also give)
    await expect(refused).rejects.toMatchObject({
      status: 400,
      error: "invalid_client_metadata",
      message: expect.stringContaining("sector_identifier_uri is not supported"),
    });
  });

  // A page on any origin could register a confidential client_credentials client (registration CORS is
  // open to all), mint a token with every scope of the catalogue, no user involved, and read it.
  it("answers no cross-origin token request of a client_credentials client; a browser client's, still", async () => {
    const machine = await registerClient(as, {
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "client_secret_post",
    });
    const tokenRequest = (origin?: string) =>
      fetch(as.token_endpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...(origin ? { origin } : {}) },
        body: new URLSearchParams({
          grant_type: "client_credentials",
          client_id: machine.client_id,
          client_secret: String(machine.client_secret),
          scope: "search.read",
        }),
      });
    const fromPage = await tokenRequest("http://127.0.0.1:47596");
    expect(fromPage.status).toBe(400);
    expect(fromPage.headers.get("access-control-allow-origin")).toBeNull();
    expect(JSON.stringify(await fromPage.json())).not.toContain("access_token");
    const direct = await tokenRequest();
    expect(direct.status).toBe(200);
    expect((await direct.json()).access_token).toEqual(expect.any(String));
    // a browser-based client (the Inspector) still reads the answers of the token endpoint
    const preflight = await fetch(as.token_endpoint, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:6274", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:6274");
  });

  // A page on another port of 127.0.0.1 is the same site for SameSite=Lax cookies: it could frame the
  // consent page and have the developer click "Continue" for its own client.
  it("forbids framing of every page: the login page, an error page", async () => {
    const client = await registerHeadlessClient(as, { name: "framing" });
    const { response } = await authorize({
      client_id: client.client_id,
      redirect_uri: HEADLESS_REDIRECT_URI,
      response_type: "code",
      scope: "search.read",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    expect(response.status).toBe(303);
    const loginPage = await fetch(new URL(response.headers.get("location") ?? "", as.issuer), {
      headers: { cookie: (response.headers.getSetCookie() ?? []).map((c) => c.split(";")[0]).join("; ") },
    });
    expect(await loginPage.text()).toContain("<form");
    const errorPage = (await authorize({ client_id: "no-such-client", response_type: "code" })).response;
    expect(errorPage.status).toBe(400);
    for (const page of [loginPage, errorPage]) {
      expect(page.headers.get("x-frame-options")).toBe("DENY");
      expect(page.headers.get("content-security-policy")).toMatch(/(^|;)\s*frame-ancestors 'none'/);
    }
  });

  it("refuses to register a public client for the client credentials grant (RFC 6749 §4.4)", async () => {
    const refused = registerClient(as, {
      grant_types: ["client_credentials"],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: "none",
    });
    await expect(refused).rejects.toMatchObject({ error: "invalid_client_metadata", status: 400 });
    await expect(refused).rejects.toThrow(/confidential clients only/);
  });

  it("lets a client registered with a narrow scope step up to a wider one", async () => {
    const registered = await registerClient(as, {
      redirect_uris: [HEADLESS_REDIRECT_URI],
      token_endpoint_auth_method: "none",
      scope: "search.read",
    });
    // The registered scope is dropped rather than kept as the client's ceiling.
    expect(registered.scope).toBeUndefined();
    const client = { client_id: registered.client_id };
    const narrow = await runOAuthFlow({ issuer: server.issuer, scope: "search.read", login: "dave", client });
    expect((await verify(narrow.accessToken)).scope).toBe("search.read");
    const wide = await runOAuthFlow({ issuer: server.issuer, scope: "search.read docs.write", login: "dave", client });
    expect((await verify(wide.accessToken)).scope).toBe("search.read docs.write");
  });

  it("accepts a Client ID Metadata Document from the development allowlist", async () => {
    const { accessToken } = await runOAuthFlow({
      issuer: server.issuer,
      scope: "memory.read",
      client: { client_id: ALLOWED_CIMD },
      login: "erin",
    });
    expect(await verify(accessToken)).toMatchObject({ client_id: ALLOWED_CIMD, sub: "erin" });
  });

  it("refuses a Client ID Metadata Document URL off the allowlist without fetching it", async () => {
    const spy = vi.spyOn(globalThis, "fetch");
    try {
      const flow = runOAuthFlow({ issuer: server.issuer, scope: "memory.read", client: { client_id: UNLISTED_CIMD } });
      await expect(flow).rejects.toMatchObject({ error: "invalid_client" });
      const fetched = spy.mock.calls.map(([input]) => String(input instanceof Request ? input.url : input));
      expect(fetched.some((url) => url.startsWith("https://unlisted.example"))).toBe(false);
    } finally {
      spy.mockRestore();
    }
  });

  it("issues a JWT for the resource with the client credentials grant", async () => {
    const client = await registerHeadlessClient(as, { name: "machine", confidential: true });
    expect(client.client_secret).toEqual(expect.any(String));
    const tokens = await clientCredentialsGrant(as, client, { scope: "memory.read", resource: server.resource });
    expect(await verify(tokens.access_token)).toMatchObject({ client_id: client.client_id, scope: "memory.read" });
    const defaulted = await clientCredentialsGrant(as, client, { scope: "search.read" });
    expect((await verify(defaulted.access_token)).aud).toBe(server.resource);
  });

  /** The login page an authorization request of a new headless client leads to, as HTML. */
  async function loginPage(name: string, extra: Record<string, string> = {}): Promise<string> {
    const client = await registerHeadlessClient(as, { name });
    const { url, response: start } = await authorize({
      response_type: "code",
      client_id: client.client_id,
      redirect_uri: HEADLESS_REDIRECT_URI,
      scope: "search.read",
      ...extra,
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    });
    const page = await fetch(new URL(start.headers.get("location") ?? "", url), {
      headers: {
        cookie: start.headers
          .getSetCookie()
          .map((c) => c.split(";")[0])
          .join("; "),
      },
    });
    return page.text();
  }

  it("marks the login page as development-only", async () => {
    const html = await loginPage("page");
    expect(html).toContain('name="login"');
    expect(html).toContain("development authorization server");
    // no outside request: the templates' Google web font (an @import in their <style>) is dropped
    expect(html).not.toContain("googleapis");
  });

  it("leaves a login_hint alone when it looks like the web font line it removes", async () => {
    const hint = "@import url(https://fonts.googleapis.com";
    const html = await loginPage("hint", { login_hint: hint });
    expect(html).toContain(`name="login" placeholder="Enter any login"  value="${hint}"`);
    expect(html).toContain('name="password"');
    expect(html).toContain("Sign-in</button>");
    // the template's own font import is still gone
    expect(html.slice(html.indexOf("<style>"), html.indexOf("</style>"))).not.toContain("googleapis");
  });

  it("refuses an empty, blank, overlong or control-character login name with invalid_request, not server_error", async () => {
    const client = await registerHeadlessClient(as, { name: "logins" });
    for (const [login, reason] of [
      ["", /cannot be empty/],
      ["   ", /cannot be empty/],
      ["a".repeat(256), /too long/],
      ["x\u0000y", /control characters/],
    ] as const) {
      const flow = runOAuthFlow({ issuer: server.issuer, scope: "search.read", client, login });
      await expect(flow, JSON.stringify(login)).rejects.toMatchObject({ error: "invalid_request", status: 400 });
      await expect(flow).rejects.toThrow(reason);
    }
    // The longest name allowed still signs in, and becomes sub.
    const longest = "a".repeat(255);
    const { accessToken } = await runOAuthFlow({ issuer: server.issuer, scope: "search.read", client, login: longest });
    expect((await verify(accessToken)).sub).toBe(longest);
  });

  it("issues plain Bearer tokens: DPoP is off (the resource server checks no proof of possession)", async () => {
    expect(as.dpop_signing_alg_values_supported).toBeUndefined();
    const client = await registerHeadlessClient(as, { name: "bearer", confidential: true });
    const token = await clientCredentialsGrant(as, client, { scope: "search.read" });
    expect(token.token_type).toBe("Bearer");
  });

  it("hands requests for paths it does not serve back to express", async () => {
    const response = await fetch(`${server.issuer}/no-such-path`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("Cannot GET /no-such-path");
  });

  it("reports an OAuth error as an OAuthFlowError with its code", async () => {
    const flow = runOAuthFlow({ issuer: server.issuer, scope: "search.read", client: { client_id: "unknown" } });
    await expect(flow).rejects.toBeInstanceOf(OAuthFlowError);
    await expect(flow).rejects.toMatchObject({ error: "invalid_client" });
  });
});
