import { SCOPE_TOKEN } from "../config/auth-resolve.js";

/**
 * Refusals and how they reach the client (RFC 6750 §3, RFC 9728 §5.1, MCP 2025-11-25 authorization).
 * One refusal, two deliveries: `http` (status + WWW-Authenticate) and `tool-result` (HTTP 200, a
 * CallToolResult with isError and `_meta["mcp/www_authenticate"]`, which ChatGPT needs).
 */
export type ChallengeError = "invalid_request" | "invalid_token" | "insufficient_scope";

export interface Refusal {
  status: 400 | 401 | 403 | 503;
  /** Absent when no credential was sent (RFC 6750 §3.1). */
  error?: ChallengeError;
  /** Every scope the operation needs (plus those already granted, for a step-up). */
  scope: readonly string[];
  /** Text for the client and the model, e.g. "Unauthorized: scope docs.write required". */
  message: string;
  /** For 503: seconds. */
  retryAfterSec?: number;
  /** Whether a Bearer challenge makes sense (not in api-key mode, not for 503). */
  bearer: boolean;
  /** The tools/call that was refused, when one was. */
  tool?: string;
  /** The scopes the caller lacks (audit). */
  missing?: readonly string[];
}

/** Fixed descriptions: never echo a token, a claim or a header value. */
const DESCRIPTIONS: Record<ChallengeError, string> = {
  invalid_request: "The request is malformed",
  invalid_token: "The access token is invalid or expired",
  insufficient_scope: "The access token lacks a required scope",
};

export interface ChallengeContext {
  /** Absolute URL of the Protected Resource Metadata. */
  resourceMetadataUrl: string;
  authorizationUri?: string;
}

/**
 * A URL as a challenge may carry it, or undefined when `value` is not an http(s) URL: the WHATWG
 * serialisation (ASCII only: an internationalised host in punycode, other characters
 * percent-encoded), with the two characters a quoted-string would need escaped percent-encoded too.
 * For URLs from elsewhere (an authorization server's metadata, auth.yaml) before they reach a header.
 */
export function challengeUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  return url.href.replace(/"/g, "%22").replace(/\\/g, "%5C");
}

/**
 * A quoted-string of printable ASCII: every value put here is already one (fixed words, scope-tokens,
 * {@link challengeUrl}s); anything else is dropped rather than sent, so a header is never refused.
 */
const quote = (v: string) => `"${v.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, "")}"`;

/** `Bearer realm="mcp", resource_metadata="…", scope="…", authorization_uri="…"[, error="…", error_description="…"]` */
export function wwwAuthenticate(
  refusal: Refusal,
  ctx: ChallengeContext,
  options: { forceError?: boolean } = {},
): string {
  const params: [string, string][] = [
    ["realm", "mcp"],
    ["resource_metadata", ctx.resourceMetadataUrl],
  ];
  // A granted scope outside RFC 6749's scope-token grammar (a token's `permissions` may hold anything)
  // cannot be named in a challenge, nor asked for again: left out rather than written into the
  // header, where a control character or one beyond latin1 made node refuse the whole answer.
  // Nor `offline_access` (a granted one comes back with the granted scopes): a challenge never asks
  // for it, as the metadata never lists it — whether to ask for a refresh token is the client's call.
  const scope = refusal.scope.filter((s) => SCOPE_TOKEN.test(s) && s !== "offline_access");
  if (scope.length > 0) params.push(["scope", scope.join(" ")]);
  if (ctx.authorizationUri) params.push(["authorization_uri", ctx.authorizationUri]);
  // In-band (tool-result) delivery for a caller who sent nothing: ChatGPT opens its sign-in UI only
  // for a challenge with error and error_description, so it says insufficient_scope there.
  const error = refusal.error ?? (options.forceError ? "insufficient_scope" : undefined);
  if (error) {
    params.push(["error", error]);
    params.push(["error_description", refusal.error ? DESCRIPTIONS[error] : "Sign in to use this tool"]);
  }
  return `Bearer ${params.map(([k, v]) => `${k}=${quote(v)}`).join(", ")}`;
}

/** The CallToolResult that carries a refusal in-band. */
export function refusalToolResult(refusal: Refusal, ctx: ChallengeContext): Record<string, unknown> {
  const text = { content: [{ type: "text", text: refusal.message }], isError: true };
  // A Bearer challenge only where signing in is possible (not in api-key mode, not for 503).
  if (!refusal.bearer) return text;
  return { ...text, _meta: { "mcp/www_authenticate": [wwwAuthenticate(refusal, ctx, { forceError: true })] } };
}

/** HTTP status, headers and JSON-RPC body of a refusal delivered over HTTP. */
export function refusalHttp(refusal: Refusal, ctx: ChallengeContext, id: unknown = null) {
  const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store" };
  if (refusal.status === 503) headers["retry-after"] = String(refusal.retryAfterSec ?? 30);
  else if (refusal.bearer) headers["www-authenticate"] = wwwAuthenticate(refusal, ctx);
  else if (refusal.status === 401) headers["www-authenticate"] = 'ApiKey realm="mcp"';
  const code = refusal.status === 400 ? -32600 : refusal.status === 503 ? -32603 : -32001;
  return {
    status: refusal.status,
    headers,
    body: { jsonrpc: "2.0", id: id ?? null, error: { code, message: refusal.message } },
  };
}
