/**
 * The OAuth steps an MCP client goes through, checked from what it sent (the Recorder) and what it
 * asked the user to open (the provider's authorization URLs).
 */
import { createHash } from "node:crypto";
import { decodeJwt } from "jose";
import { expect } from "vitest";
import { completeDevLogin, type DevLoginResult } from "./dev-login.js";
import type { McpConnection } from "./mcp-clients.js";
import type { TestOAuthProvider } from "./oauth-provider.js";
import type { Exchange } from "./recorder.js";
import { bearerChallenge, scopeSet } from "./results.js";

export interface ServerFacts {
  /** The server's origin, the development authorization server's issuer. */
  issuer: string;
  /** The MCP URL, the PRM `resource`. */
  resource: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint: string;
}

/**
 * The client met a refusal (401 or 403) and started signing in: it fetched the PRM named in the
 * challenge, the authorization server's metadata, registered (DCR) unless it uses a CIMD client_id
 * or is registered already, and asked to open an authorization URL with PKCE S256, `state`, the
 * RFC 8707 resource and `expectScope`. Returns the challenge.
 */
export function expectSignInStarted(
  exchanges: Exchange[],
  provider: TestOAuthProvider,
  facts: ServerFacts,
  expected: { status: 401 | 403; scope: string[]; registration: "dcr" | "cimd" | "none"; clientId?: string },
): Record<string, string> {
  const refusalAt = exchanges.findIndex((e) => e.url.pathname === "/mcp" && e.status === expected.status);
  expect(refusalAt, `a ${expected.status} from /mcp among ${describe(exchanges)}`).toBeGreaterThanOrEqual(0);
  const refusal = exchanges[refusalAt] as Exchange;
  const challenge = bearerChallenge(refusal.wwwAuthenticate);
  expect(challenge.resource_metadata).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource/);
  if (expected.status === 403) expect(challenge.error).toBe("insufficient_scope");
  else expect(challenge.error).toBeUndefined(); // RFC 6750 §3.1: no error code when no credential was sent
  const after = exchanges.slice(refusalAt + 1);

  if (expected.status === 401) {
    // Discovery, from the challenge: exactly the PRM URL it names, then the AS metadata.
    const prm = after.find((e) => e.method === "GET" && e.url.href === challenge.resource_metadata);
    expect(prm?.status, `GET ${challenge.resource_metadata} among ${describe(after)}`).toBe(200);
    const asMetadata = after.find(
      (e) =>
        e.method === "GET" &&
        e.url.origin === facts.issuer &&
        /^\/\.well-known\/(oauth-authorization-server|openid-configuration)$/.test(e.url.pathname),
    );
    expect(asMetadata?.status, `AS metadata among ${describe(after)}`).toBe(200);
  }

  const registrations = after.filter((e) => e.method === "POST" && e.url.href === facts.registrationEndpoint);
  if (expected.registration === "dcr") {
    expect(registrations.map((e) => e.status)).toEqual([201]);
    expect(JSON.parse(registrations[0]?.body ?? "{}")).toMatchObject({ redirect_uris: [provider.redirectUrl] });
  } else {
    expect(registrations, "no dynamic registration").toEqual([]);
  }

  const url = provider.pendingAuthorization;
  expect(`${url.origin}${url.pathname}`).toBe(facts.authorizationEndpoint);
  const params = url.searchParams;
  expect(params.get("response_type")).toBe("code");
  expect(params.get("code_challenge_method")).toBe("S256");
  expect(params.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(params.get("redirect_uri")).toBe(provider.redirectUrl);
  expect(params.get("state")).toBe(provider.lastState);
  expect(params.get("resource")).toBe(facts.resource);
  expect(scopeSet(params.get("scope") ?? "")).toEqual([...expected.scope].sort());
  if (expected.clientId) expect(params.get("client_id")).toBe(expected.clientId);
  return challenge;
}

/**
 * The user signs in on the development login page and consents; the callback goes to the client,
 * which checks `iss` (RFC 9207) and redeems the code with its PKCE verifier.
 */
export async function completeSignIn(
  connection: McpConnection,
  provider: TestOAuthProvider,
  login: string,
  facts: ServerFacts,
): Promise<DevLoginResult & { authorizationUrl: URL }> {
  const authorizationUrl = provider.pendingAuthorization;
  const result = await completeDevLogin(authorizationUrl, { redirectUri: provider.redirectUrl, login });
  expect(result.prompts).toEqual(["login", "consent"]);
  const callback = result.callback.searchParams;
  expect(callback.get("code")).toBeTruthy();
  expect(callback.get("state")).toBe(authorizationUrl.searchParams.get("state"));
  expect(callback.get("iss")).toBe(facts.issuer);
  await connection.finishAuth(result.callback);
  return { ...result, authorizationUrl };
}

/**
 * The code exchange the client made: authorization_code grant with the PKCE verifier whose S256 is
 * the challenge it sent, the redirect_uri and the resource; and the access token it got: a JWT for
 * the MCP resource, for `login`, with `scope`.
 */
export function expectCodeExchange(
  exchanges: Exchange[],
  provider: TestOAuthProvider,
  authorizationUrl: URL,
  facts: ServerFacts,
  expected: { login: string; scope: string[]; clientId: string },
): void {
  const tokenRequests = exchanges.filter((e) => e.method === "POST" && e.url.href === facts.tokenEndpoint);
  expect(tokenRequests.map((e) => e.status)).toEqual([200]);
  const body = new URLSearchParams(tokenRequests[0]?.body ?? "");
  expect(body.get("grant_type")).toBe("authorization_code");
  const verifier = body.get("code_verifier") ?? "";
  expect(createHash("sha256").update(verifier).digest("base64url")).toBe(
    authorizationUrl.searchParams.get("code_challenge"),
  );
  expect(body.get("redirect_uri")).toBe(provider.redirectUrl);
  expect(body.get("resource")).toBe(facts.resource);

  const token = provider.tokens();
  expect(token?.token_type).toMatch(/^bearer$/i);
  const claims = decodeJwt(token?.access_token ?? "");
  expect(claims).toMatchObject({ iss: facts.issuer, aud: facts.resource, sub: expected.login });
  expect(claims.client_id).toBe(expected.clientId);
  expect(scopeSet(String(claims.scope))).toEqual([...expected.scope].sort());
}

function describe(exchanges: Exchange[]): string {
  return exchanges.map((e) => `${e.method} ${e.url.pathname} ${e.status}`).join(", ");
}
