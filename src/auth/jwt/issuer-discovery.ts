/**
 * Finds an issuer's `jwks_uri` from its published metadata: OpenID Connect discovery first, then
 * RFC 8414 authorization server metadata. The metadata must name exactly the configured issuer
 * (OIDC Discovery §4.3, RFC 8414 §3.3), or an attacker who can serve one document could swap keys.
 */
import { JwksFault } from "./errors.js";

const WELL_KNOWN = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] as const;

/** Metadata documents are small; anything bigger is not one. */
const MAX_METADATA_BYTES = 256 * 1024;

/** Resolves the issuer's JWKS URL, or throws a `JwksFault` naming what went wrong. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const base = issuer.endsWith("/") ? issuer.slice(0, -1) : issuer;
  let mismatch = false;
  for (const suffix of WELL_KNOWN) {
    const metadata = await fetchMetadata(`${base}${suffix}`, timeoutMs);
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
  const base = issuer.endsWith("/") ? issuer.slice(0, -1) : issuer;
  for (const suffix of WELL_KNOWN) {
    const metadata = await fetchMetadata(`${base}${suffix}`, timeoutMs);
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
