/** Messages between the development authorization server's worker and its host. */
import type { IncomingHttpHeaders } from "node:http";
import type { JWK } from "jose";

/** From the worker. */
export type WorkerMessage =
  | { type: "ready"; issuer: string; jwksUri: string; publicJwks: { keys: JWK[] }; authorizationEndpoint: string }
  | { type: "failed"; message: string }
  | { type: "log"; level: "debug" | "info" | "warn"; fields: object; message?: string }
  | WorkerAnswer;

/** The answer to one forwarded request: the provider's response, "no provider route", or a failure. */
export type WorkerAnswer =
  | { type: "answer"; id: number; status: number; headers: IncomingHttpHeaders; body: Uint8Array }
  | { type: "answer"; id: number; unclaimed: true }
  | { type: "answer"; id: number; error: string };

/** To the worker. */
export type HostMessage =
  | { type: "close" }
  | {
      type: "request";
      id: number;
      method: string;
      url: string;
      headers: IncomingHttpHeaders;
      body: Uint8Array | undefined;
    };

/** Set by the worker's server on a 404 for a path no provider route claims: the host passes the request on. */
export const UNCLAIMED_HEADER = "x-toolgate-dev-as-unclaimed";

/** Hop-by-hop headers (RFC 9110 §7.6.1), never forwarded. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te"]);

export function withoutHopByHop(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const copy: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name)) copy[name] = value;
  return copy;
}

/**
 * The headers of a request as the host forwards it to the worker. The worker replays it over plain
 * HTTP to its own listener, and the provider builds every URL it sends (discovery, form actions,
 * redirects) and decides whether cookies are `Secure` from the request it sees: without help an
 * https issuer (toolgate behind a TLS tunnel) would advertise `http://` endpoints. The issuer is
 * fixed, so its scheme and host are what the provider must see, whatever reached this server: every
 * `X-Forwarded-*` and `Forwarded` header the client (or a proxy) sent is dropped, and
 * `X-Forwarded-Proto` / `X-Forwarded-Host` are set from the issuer. The worker's provider trusts these
 * two (Koa `proxy`) and nothing else reaches its listener.
 */
export function replayedHeaders(headers: IncomingHttpHeaders, issuer: URL): IncomingHttpHeaders {
  const copy = withoutHopByHop(headers);
  for (const name of Object.keys(copy)) if (name === "forwarded" || name.startsWith("x-forwarded-")) delete copy[name];
  copy["x-forwarded-proto"] = issuer.protocol.slice(0, -1);
  copy["x-forwarded-host"] = issuer.host;
  return copy;
}
