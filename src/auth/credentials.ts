import type { IncomingMessage } from "node:http";

/** What a request presents, routed by shape (never "try JWT, then API key"). */
export type Credential =
  | { kind: "none" }
  | { kind: "bearer"; token: string }
  | { kind: "api-key"; key: string }
  /** An authorization scheme other than Bearer: treated as "no usable credential" (RFC 6750 §3.1). */
  | { kind: "unsupported" }
  | { kind: "malformed"; reason: string };

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const QUERY_CREDENTIALS = ["access_token", "api_key", "apikey", "api-key"];

export interface CredentialOptions {
  /** Lower-case header name carrying API keys (e.g. `x-api-key`). */
  apiKeyHeader: string;
  /** A Bearer value starting with this is an API key. */
  bearerPrefix: string;
}

/**
 * Every value of one header, as sent (Node keeps only the first Authorization in `req.headers`).
 * Scans `rawHeaders` instead of `headersDistinct`, which builds arrays for every header of every request.
 */
function headerValues(req: IncomingMessage, lowerName: string): string[] {
  const values: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) values.push(raw[i + 1] as string);
  }
  return values;
}

/**
 * Reads the credential of a request. Ambiguity is an error, not a guess: two Authorization headers,
 * an Authorization header and an API key header together, a non-Bearer scheme, a value outside the
 * RFC 6750 grammar, or a credential in the query string are all `malformed` (400 invalid_request).
 * Another scheme (Basic, …) is `unsupported`: answered with a challenge that starts OAuth discovery.
 */
export function extractCredential(req: IncomingMessage, options: CredentialOptions): Credential {
  const query = req.url?.includes("?") ? new URLSearchParams(req.url.slice(req.url.indexOf("?") + 1)) : undefined;
  if (query && QUERY_CREDENTIALS.some((name) => query.has(name)))
    return {
      kind: "malformed",
      reason: "credentials are not accepted in the query string; send an Authorization header",
    };

  const authorization = headerValues(req, "authorization");
  const apiKey = headerValues(req, options.apiKeyHeader);
  if (authorization.length > 1) return { kind: "malformed", reason: "more than one Authorization header" };
  if (apiKey.length > 1) return { kind: "malformed", reason: `more than one ${options.apiKeyHeader} header` };
  if (authorization.length === 1 && apiKey.length === 1)
    return { kind: "malformed", reason: `send either an Authorization header or ${options.apiKeyHeader}, not both` };

  if (apiKey.length === 1) {
    const key = (apiKey[0] ?? "").trim();
    return key ? { kind: "api-key", key } : { kind: "malformed", reason: `empty ${options.apiKeyHeader} header` };
  }
  if (authorization.length === 0) return { kind: "none" };
  const value = (authorization[0] ?? "").trim();
  const match = BEARER.exec(value);
  if (!match) {
    return /^bearer\b/i.test(value)
      ? { kind: "malformed", reason: "the Bearer credential is not a single RFC 6750 token" }
      : { kind: "unsupported" };
  }
  const token = match[1] as string;
  return token.startsWith(options.bearerPrefix) ? { kind: "api-key", key: token } : { kind: "bearer", token };
}
