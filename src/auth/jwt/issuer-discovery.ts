/**
 * Finds an issuer's `jwks_uri` from its published metadata: OpenID Connect discovery first, then
 * RFC 8414 authorization server metadata. The metadata must name exactly the configured issuer
 * (OIDC Discovery §4.3, RFC 8414 §3.3), or an attacker who can serve one document could swap keys.
 */
import { JwksFault } from "./errors.js";

/**
 * Where an issuer's metadata may be, in the order tried: OpenID Connect discovery (appended to the
 * issuer, OIDC Discovery §4), then RFC 8414 §3.1 (`/.well-known/oauth-authorization-server` inserted
 * between the host and the issuer's path), then the two other forms clients use (the MCP
 * authorization spec lists them): OIDC inserted, RFC 8414 appended. Without a path the forms coincide.
 */
export function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, "");
  const { origin } = url;
  if (path === "")
    return [`${origin}/.well-known/openid-configuration`, `${origin}/.well-known/oauth-authorization-server`];
  return [
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}/.well-known/oauth-authorization-server${path}`,
    `${origin}/.well-known/openid-configuration${path}`,
    `${origin}${path}/.well-known/oauth-authorization-server`,
  ];
}

/** Metadata documents are small; anything bigger is not one. */
const MAX_METADATA_BYTES = 256 * 1024;

/** Resolves the issuer's JWKS URL, or throws a `JwksFault` naming what went wrong. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  let mismatch = false;
  for (const url of metadataUrls(issuer)) {
    const metadata = await fetchMetadata(url, timeoutMs);
    if (metadata === undefined) continue;
    if (metadata.issuer !== issuer) {
      mismatch = true;
      continue;
    }
    const jwksUri = metadata.jwks_uri;
    if (typeof jwksUri === "string" && isHttpUrl(jwksUri)) return jwksUri;
  }
  throw new JwksFault(mismatch ? "DISCOVERY_ISSUER_MISMATCH" : "DISCOVERY_FAILED");
}

/**
 * The issuer's metadata document (OIDC discovery, else RFC 8414), only when it names exactly this
 * issuer; undefined when none can be had. Used for `authorization_uri` and the metadata mirror.
 */
export async function discoverIssuerMetadata(
  issuer: string,
  timeoutMs: number,
): Promise<Record<string, unknown> | undefined> {
  for (const url of metadataUrls(issuer)) {
    const metadata = await fetchMetadata(url, timeoutMs);
    if (metadata?.issuer === issuer) return metadata;
  }
  return undefined;
}

/** One metadata document as a plain object, or undefined when this location does not serve one. */
async function fetchMetadata(url: string, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  try {
    // Redirects are not followed, as for the JWKS itself: the issuer publishes where it says it does.
    const response = await fetch(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: "application/json" },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      return undefined;
    }
    const text = await response.text();
    if (text.length > MAX_METADATA_BYTES) return undefined;
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}
