/**
 * Finds an issuer's `jwks_uri` from its published metadata: OpenID Connect discovery first, then
 * RFC 8414 authorization server metadata. The metadata must name exactly the configured issuer
 * (OIDC Discovery §4.3, RFC 8414 §3.3), or an attacker who can serve one document could swap keys.
 */
import { boundedText } from "./bounded-body.js";
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

/** Metadata documents are small (a few KiB); anything bigger is not one, and is not read further. */
const MAX_METADATA_BYTES = 256 * 1024;

/** Why one metadata location gave no usable document. A code, safe to log: never the body. */
export type MetadataFailure =
  | "FETCH_FAILED"
  | "TIMEOUT"
  | "HTTP_STATUS"
  | "TOO_LARGE"
  | "NOT_JSON"
  | "NOT_AN_OBJECT"
  | "ISSUER_MISMATCH";

export interface CandidateFailure {
  url: string;
  reason: MetadataFailure;
}

/** Resolves the issuer's JWKS URL, or throws a `JwksFault` naming what went wrong at each location. */
export async function discoverJwksUri(issuer: string, timeoutMs: number): Promise<string> {
  const failures: CandidateFailure[] = [];
  for (const url of metadataUrls(issuer)) {
    const found = await fetchMetadata(url, issuer, timeoutMs);
    if ("reason" in found) {
      failures.push(found);
      continue;
    }
    const jwksUri = found.metadata.jwks_uri;
    if (typeof jwksUri === "string" && isHttpUrl(jwksUri)) return jwksUri;
  }
  const mismatch = failures.some((f) => f.reason === "ISSUER_MISMATCH");
  throw new JwksFault(mismatch ? "DISCOVERY_ISSUER_MISMATCH" : "DISCOVERY_FAILED", failures);
}

/**
 * The issuer's metadata document (OIDC discovery, else RFC 8414), only when it names exactly this
 * issuer; otherwise why each location gave none. Used for `authorization_uri` and the metadata mirror.
 */
export async function discoverIssuerMetadata(
  issuer: string,
  timeoutMs: number,
): Promise<{ metadata: Record<string, unknown> } | { failures: CandidateFailure[] }> {
  const failures: CandidateFailure[] = [];
  for (const url of metadataUrls(issuer)) {
    const found = await fetchMetadata(url, issuer, timeoutMs);
    if (!("reason" in found)) return found;
    failures.push(found);
  }
  return { failures };
}

/** One location's metadata document naming this issuer, or why it has none. */
async function fetchMetadata(
  url: string,
  issuer: string,
  timeoutMs: number,
): Promise<{ metadata: Record<string, unknown> } | CandidateFailure> {
  const signal = AbortSignal.timeout(timeoutMs);
  let text: string | undefined;
  try {
    // Redirects are not followed, as for the JWKS itself: the issuer publishes where it says it does.
    const response = await fetch(url, { redirect: "manual", signal, headers: { accept: "application/json" } });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      return { url, reason: "HTTP_STATUS" };
    }
    text = await boundedText(response, MAX_METADATA_BYTES);
  } catch {
    return { url, reason: signal.aborted ? "TIMEOUT" : "FETCH_FAILED" };
  }
  if (text === undefined) return { url, reason: "TOO_LARGE" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { url, reason: "NOT_JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return { url, reason: "NOT_AN_OBJECT" };
  const metadata = parsed as Record<string, unknown>;
  return metadata.issuer === issuer ? { metadata } : { url, reason: "ISSUER_MISMATCH" };
}

export function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === "https:" || protocol === "http:";
  } catch {
    return false;
  }
}
