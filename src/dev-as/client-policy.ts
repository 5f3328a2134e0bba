/**
 * What the development authorization server accepts from clients it does not know: registration is
 * open to anyone (RFC 7591 without an initial access token) and any login name is accepted, so the
 * limits must come from the metadata itself.
 */
import type { ClientMetadata, KoaContextWithOIDC } from "oidc-provider";

/**
 * A loopback host as a URL's `hostname` gives it: `localhost`, 127.0.0.0/8, `[::1]`. RFC 8252 §7.3
 * prefers the IP literals; `localhost` is accepted too, because MCP clients (the Inspector, SDK
 * examples) register `http://localhost:PORT/…` redirect URIs.
 */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** An `http:` URL on a loopback host: a native app listening on this machine (RFC 8252 §7.3). */
export function isLoopbackHttpUri(uri: unknown): boolean {
  if (typeof uri !== "string") return false;
  const parsed = URL.parse(uri);
  return parsed !== null && parsed.protocol === "http:" && isLoopbackHost(parsed.hostname);
}

/**
 * The registration policy, run on every client the provider builds (registration, stored clients,
 * CIMD documents) before oidc-provider's own checks; `refuse` throws oidc-provider's
 * InvalidClientMetadata (a description starting with `redirect_uris` becomes RFC 7591
 * `invalid_redirect_uri`). Values of the wrong type are left to the provider's schema.
 *
 * - A redirect URI is https, a loopback http URI, or (native apps) a private-use scheme the provider
 *   itself vets: http to any other host would carry codes in cleartext (OAuth 2.1 §2.3.1, RFC 8252 §8.3).
 * - client_credentials is for confidential clients only (RFC 6749 §4.4): a public client
 *   (`token_endpoint_auth_method: none`) could otherwise get tokens with no secret and no user.
 * - No `sector_identifier_uri`: subjects are public here (no pairwise identifiers to group), and the
 *   provider fetched the URL at registration — any web page (registration is open to every origin)
 *   could have this server fetch any public URL, hundreds a second.
 */
export function enforceClientPolicy(metadata: ClientMetadata, refuse: (description: string) => never): void {
  const redirectUris: unknown = metadata.redirect_uris;
  if (Array.isArray(redirectUris))
    for (const uri of redirectUris) {
      if (typeof uri !== "string") continue;
      const parsed = URL.parse(uri);
      if (parsed?.protocol === "http:" && !isLoopbackHost(parsed.hostname))
        refuse(`redirect_uris must use https, or http on a loopback address (127.0.0.1, [::1], localhost), not ${uri}`);
    }
  if (metadata.sector_identifier_uri !== undefined)
    refuse(
      "sector_identifier_uri is not supported: the development server issues public subject identifiers only (subject_type public)",
    );
  const grantTypes: unknown = metadata.grant_types;
  if (
    Array.isArray(grantTypes) &&
    grantTypes.includes("client_credentials") &&
    metadata.token_endpoint_auth_method === "none"
  )
    refuse(
      "grant_types client_credentials is for confidential clients only: register with a token_endpoint_auth_method other than none (RFC 6749 §4.4)",
    );
}

/**
 * RFC 9700 §4.11.2: an authorization server should redirect errors only to redirect URIs it trusts.
 * Registration is open, so a registered https redirect URI proves nothing, and a link to
 * `/auth?client_id=…&redirect_uri=https://evil.example/…` that fails at once (no PKCE, a bad scope)
 * would bounce the browser from this server's origin to that site: an open redirector. So an error of
 * the authorization request itself (no PKCE, a bad scope, an unknown resource…) is rendered as a page
 * here, unless the redirect URI is a loopback http URI (a native client on this machine, which waits
 * for the error; sending the browser to its own machine is no redirect elsewhere) or the error is the
 * answer to prompt=none (login_required, consent_required…, which OIDC sends back to the client) for
 * a client whose redirect URIs this server did not take from just anyone: a Client ID Metadata
 * Document's (its client_id an https URL of the allowlist; any other is refused earlier). Anyone
 * may add prompt=none to a link, so for a registered client it would reopen the redirector.
 * Errors after the login (the `resume` route: access_denied, …) still go back to the client, as OAuth
 * expects.
 *
 * Installed as a listener of `authorization.error` and `server_error`: oidc-provider's authorization
 * error handler emits them before it reads `allow_redirect` (lib/shared/authorization_error_handler.js,
 * checked for 9.13; test/dev-as/dev-as.test.ts fails if that order changes).
 */
export function keepAuthorizationErrorsHere(ctx: KoaContextWithOIDC, error: Error): void {
  const { oidc } = ctx as Partial<KoaContextWithOIDC>;
  if (oidc?.route !== "authorization") return;
  const params = (oidc.params ?? (ctx.method === "POST" ? oidc.body : ctx.query)) as
    | Record<string, unknown>
    | undefined;
  if (isLoopbackHttpUri(params?.redirect_uri)) return;
  // The answers to prompt=none (OIDC Core §3.1.2.6): the client asked for a silent answer and must
  // get it, signed in or not — its errors go back to it as before.
  if (SILENT_ANSWERS.has(String((error as { error?: unknown }).error)) && isDocumentClientId(params?.client_id)) return;
  (error as { allow_redirect?: boolean }).allow_redirect = false;
  // Such an error may carry 303 (it expected to redirect): a page answered with 303 and no Location
  // is no answer at all.
  if (ctx.status >= 300 && ctx.status < 400) ctx.status = 400;
}

/** A CIMD client_id (an https URL); dynamically registered clients get random strings. */
function isDocumentClientId(clientId: unknown): boolean {
  return typeof clientId === "string" && URL.parse(clientId)?.protocol === "https:";
}

/** The errors prompt=none answers with, which OIDC sends back to the client. */
const SILENT_ANSWERS = new Set([
  "login_required",
  "consent_required",
  "interaction_required",
  "account_selection_required",
]);
