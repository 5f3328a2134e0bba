import type { IncomingMessage } from "node:http";

/** What a credential header holds, routed by shape (never "try JWT, then API key"). */
export type Credential =
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

/** Where a credential came from, before its value is parsed: the one header carrying it. */
export type CredentialSource =
  | { kind: "none" }
  | { kind: "malformed"; reason: string }
  | { kind: "header"; header: "authorization" | "api-key"; value: string };

/**
 * The one header carrying the request's credential, checked for ambiguity (the cheap, structural half
 * of reading a credential; {@link parseCredential} is the other): two Authorization headers, two API key
 * headers, both kinds together, or a credential in the query string are `malformed` (ambiguity is an
 * error, not a guess). Scans `rawHeaders` once (Node keeps only the first
 * Authorization in `req.headers`; `headersDistinct` would build arrays for every header of every request).
 */
export function credentialSource(req: IncomingMessage, options: CredentialOptions): CredentialSource {
  const url = req.url;
  if (url?.includes("?")) {
    const query = new URLSearchParams(url.slice(url.indexOf("?") + 1));
    if (QUERY_CREDENTIALS.some((name) => query.has(name)))
      return {
        kind: "malformed",
        reason: "credentials are not accepted in the query string; send an Authorization header",
      };
  }
  const apiKeyHeader = options.apiKeyHeader;
  let authorization: string | undefined;
  let apiKey: string | undefined;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    // Most clients send lower-case names: compared as is first, lower-cased only when that fails.
    if (name.length === 13 && (name === "authorization" || name.toLowerCase() === "authorization")) {
      if (authorization !== undefined) return { kind: "malformed", reason: "more than one Authorization header" };
      authorization = raw[i + 1] as string;
    } else if (name.length === apiKeyHeader.length && (name === apiKeyHeader || name.toLowerCase() === apiKeyHeader)) {
      if (apiKey !== undefined) return { kind: "malformed", reason: `more than one ${apiKeyHeader} header` };
      apiKey = raw[i + 1] as string;
    }
  }
  if (authorization !== undefined && apiKey !== undefined)
    return { kind: "malformed", reason: `send either an Authorization header or ${apiKeyHeader}, not both` };
  if (apiKey !== undefined) return { kind: "header", header: "api-key", value: apiKey };
  if (authorization !== undefined) return { kind: "header", header: "authorization", value: authorization };
  return { kind: "none" };
}

/**
 * The credential in the header {@link credentialSource} found: the RFC 6750 grammar, the API key prefix.
 * A Bearer value outside the grammar is `malformed` (400 invalid_request); another scheme (Basic, …) is
 * `unsupported`, answered with a challenge that starts OAuth discovery.
 */
export function parseCredential(
  source: Extract<CredentialSource, { kind: "header" }>,
  options: CredentialOptions,
): Credential {
  if (source.header === "api-key") {
    const key = source.value.trim();
    return key ? { kind: "api-key", key } : { kind: "malformed", reason: `empty ${options.apiKeyHeader} header` };
  }
  const value = source.value.trim();
  const match = BEARER.exec(value);
  if (!match) {
    return /^bearer\b/i.test(value)
      ? { kind: "malformed", reason: "the Bearer credential is not a single RFC 6750 token" }
      : { kind: "unsupported" };
  }
  const token = match[1] as string;
  return token.startsWith(options.bearerPrefix) ? { kind: "api-key", key: token } : { kind: "bearer", token };
}
