import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import express, {
  type ErrorRequestHandler,
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import type { Logger } from "pino";
import type { ServerConfig } from "../config/server-config.js";
import { lazyLogger, type RequestLogger } from "../log.js";
import type { McpEndpoint, McpRequestState } from "../mcp/endpoint.js";
import { hostAndOriginAllowed, hostAndOriginValidation } from "../mcp/security.js";
import { readBody } from "./body.js";
import {
  headerMismatch,
  type ParamHeader,
  paramHeaderMismatch,
  RPC,
  type RpcCall,
  rpcCalls,
  rpcError,
} from "./jsonrpc.js";

/**
 * The authentication/authorization step of a /mcp POST. It either answers the request itself (a
 * challenge) and returns undefined, or returns the request state to serve the request with.
 */
export type McpGate = (
  req: Request,
  res: Response,
  calls: RpcCall[],
  base: { requestId: string; log: RequestLogger },
) => Promise<McpRequestState | undefined>;

/** A JSON document served at a fixed path: fixed, or read at each request (undefined: not served, 404). */
export type ServedDocument = object | (() => object | undefined);

export interface AppOptions {
  config: ServerConfig;
  logger: Logger;
  endpoint: McpEndpoint;
  gate: McpGate;
  /**
   * JSON documents at fixed paths (the well-known metadata): answered for any method with open CORS
   * (a preflight gets 204), from the listener — not express, for the reason given under `fallback`.
   */
  documents?: ReadonlyMap<string, ServedDocument>;
  /**
   * Serves every other path (the development authorization server) before the express app does:
   * requests for /mcp, /healthz and `documents` never reach it, and what it does not claim (it calls
   * `next`) goes on to the app, which answers 404. Not an express middleware on purpose: express
   * gives every request it handles its own prototypes and properties, and requests of many shapes
   * make node:http's code megamorphic for the /mcp fast path too (bench/README.md).
   */
  fallback?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  /** Arguments each tool mirrors in `Mcp-Param-*` headers (SEP-2243). */
  paramHeaders?: (tool: string) => readonly ParamHeader[];
  /**
   * Request headers a browser-based client may send besides the standard ones, allowed in the /mcp
   * CORS preflight: the configured API key header, every tool's `Mcp-Param-*` header.
   */
  requestHeaders?: readonly string[];
}

declare module "express-serve-static-core" {
  interface Request {
    id: string;
    log: RequestLogger;
  }
}

/** The HTTP side of toolgate: the express app, and the listener to give node:http (fast path first). */
export interface HttpApp {
  app: Express;
  listener(req: IncomingMessage, res: ServerResponse): void;
}

export function createApp(options: AppOptions): HttpApp {
  const { config, logger, endpoint } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.set("etag", false);

  /** Request id, the request's logger, and (at debug) one line per request when it ends. */
  const begin = (req: IncomingMessage, res: ServerResponse, path: () => string) => {
    const started = process.hrtime.bigint();
    const id = randomUUID();
    const log = lazyLogger(logger, { reqId: id });
    res.setHeader("X-Request-Id", id);
    if (logger.isLevelEnabled("debug"))
      res.on("close", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        log.debug(
          { method: req.method, path: path(), status: res.statusCode, ms: Math.round(ms * 10) / 10 },
          "request",
        );
      });
    return { requestId: id, log };
  };
  app.use((req, res, next) => {
    const base = begin(req, res, () => req.path);
    req.id = base.requestId;
    req.log = base.log;
    next();
  });
  app.use(hostAndOriginValidation({ allowedHosts: config.allowedHosts, allowedOrigins: [], checkOrigin: false }));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });

  const originCheck = hostAndOriginValidation({
    allowedHosts: [],
    allowedOrigins: config.allowedOrigins,
    checkOrigin: true,
  });
  const json = express.json({
    limit: config.bodyLimit,
    type: ["application/json", "application/*+json"],
    strict: false,
  });
  /** Everything after the body is parsed, shared by the express route and the fast path. */
  const serveMcpBody = async (
    req: IncomingMessage,
    res: ServerResponse,
    body: unknown,
    base: { requestId: string; log: RequestLogger },
  ) => {
    // Fail closed: a POST whose body was not parsed as JSON (another media type) is never decided on
    // an empty list of calls; it is refused here, as the SDK would refuse it.
    if (req.method === "POST" && body === undefined) {
      sendJson(res, 415, rpcError(-32000, "Unsupported Media Type: Content-Type must be application/json"));
      return;
    }
    const calls = req.method === "POST" ? rpcCalls(body) : [];
    const mismatch =
      headerMismatch(req.headers as Record<string, string>, calls) ??
      (options.paramHeaders
        ? paramHeaderMismatch(req.headers, calls, options.paramHeaders, (call) => argumentsOf(body, call))
        : undefined);
    if (mismatch) {
      sendJson(
        res,
        400,
        rpcError(RPC.HEADER_MISMATCH, `Bad Request: the request headers and body disagree: ${mismatch}`, calls[0]?.id),
      );
      return;
    }
    const state = await options.gate(req as Request, res as Response, calls, base);
    if (!state) return;
    await endpoint.handle(req, res, body, state);
  };
  const serveMcp = async (req: Request, res: Response, next: NextFunction) => {
    try {
      // A JSON POST without any body (neither Content-Length nor Transfer-Encoding): body-parser
      // leaves req.body undefined, which read as another media type (415); the fast path reads it as
      // the empty body, as body-parser does with Content-Length: 0.
      const body = req.body === undefined && !hasBody(req) && jsonMediaType(req) ? {} : req.body;
      await serveMcpBody(req, res, body, { requestId: req.id, log: req.log });
    } catch (error) {
      next(error);
    }
  };
  const limit = byteLimit(config.bodyLimit);
  app.all("/mcp", originCheck, mcpCors(options.requestHeaders ?? []), bodyLimitGuard(limit), json, serveMcp);

  app.use((_req, res) => {
    res.status(404).json({ error: "not_found" });
  });
  app.use(errorHandler(logger));

  // The fast path: a JSON POST to /mcp that passes the Host/Origin checks is served without the
  // express router and body-parser (a quarter of the request's CPU under load). Anything else —
  // another method or path, another media type or charset, a compressed body, a refused Host or
  // Origin — goes to the express app above, which answers it exactly as before.
  const fast = { allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins };
  const serveFast = async (req: IncomingMessage, res: ServerResponse) => {
    const base = begin(req, res, () => "/mcp");
    try {
      corsHeaders(req, res);
      const read = await readJsonBody(req, limit);
      if (read.kind === "too-large") return refuseTooLarge(req, res);
      if (read.kind === "invalid")
        return sendJson(res, 400, rpcError(RPC.PARSE_ERROR, "Parse error: the body is not valid JSON"));
      if (read.kind === "aborted") return void res.destroy();
      await serveMcpBody(req, res, read.body, base);
    } catch (error) {
      if (res.headersSent) {
        base.log.error({ err: error }, "error after the response started");
        res.destroy();
        return;
      }
      base.log.error({ err: error }, "request failed");
      sendJson(res, 500, rpcError(-32603, `Internal error (request id ${base.requestId})`));
    }
  };
  // Requests other than /mcp POSTs the fast path takes: the health check and the fallback's paths
  // are served without express too (see AppOptions.fallback), after the same Host check the app makes.
  const hostOnly = { allowedHosts: config.allowedHosts, allowedOrigins: [] };
  // Compared the way express routes match (case-insensitive, a trailing slash allowed): a path
  // express would serve must never reach the fallback, which reads the body.
  const routeKey = (path: string) => path.toLowerCase().replace(/\/+$/, "");
  const documents = new Map(
    [...(options.documents ?? [])].map(([path, document]) => [routeKey(path), documentText(document)] as const),
  );
  const appPaths = new Set(["/mcp", "/healthz"].map(routeKey));
  const health = JSON.stringify({ status: "ok" });
  const fallback = options.fallback;
  return {
    app,
    listener: (req, res) => {
      if (isFastMcpPost(req) && hostAndOriginAllowed(req.headers, fast)) return void serveFast(req, res);
      if (!originForm(req)) {
        closeAfterAnswer(req, res);
        begin(req, res, () => "(bad request target)");
        return sendJson(res, 400, {
          error: "bad_request",
          message: "the request target must be a path or an absolute http(s) URL, without a fragment",
        });
      }
      const url = req.url ?? "/";
      const query = url.indexOf("?");
      const path = query < 0 ? url : url.slice(0, query);
      if (!hostAndOriginAllowed(req.headers, hostOnly)) {
        closeAfterAnswer(req, res);
        return app(req, res); // the app answers the refusal
      }
      if (path === "/healthz" && req.method === "GET") {
        closeAfterAnswer(req, res);
        begin(req, res, () => path);
        return sendJsonText(res, 200, health);
      }
      const key = routeKey(path);
      const document = documents.get(key);
      if (document !== undefined) {
        closeAfterAnswer(req, res);
        const text = document();
        if (text === undefined) return app(req, res); // not there (yet): the app's 404, never the fallback
        begin(req, res, () => path);
        return serveDocument(req, res, text);
      }
      if (fallback && !appPaths.has(key)) {
        begin(req, res, () => path);
        return fallback(req, res, () => app(req, res));
      }
      // Only the /mcp route reads a body (body-parser, with its limit); the app answers anything else
      // (a 404, a method the route does not serve) without reading one.
      if (key !== MCP_KEY) closeAfterAnswer(req, res);
      app(req, res);
    },
  };
}

const MCP_KEY = "/mcp";

/**
 * For a request answered without reading its body (a refusal, a document, a 404): the connection is
 * closed after the answer. Kept alive, node would read and discard the rest of the body to reach the
 * next request — an endless one held a core for the whole request timeout (1.6–3.1 GB in 2 s).
 */
function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  const length = req.headers["content-length"];
  if ((length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined)
    res.setHeader("Connection", "close");
}

/**
 * Brings the request target to origin form (`/path?query`) before anything routes on it, so this
 * listener, express and the SDK all see the same path: an absolute-form target (`POST http://host/mcp`,
 * which RFC 9112 §3.2.2 says a server must accept) becomes its path and query, and its authority
 * replaces the Host header (the same section: the target's host wins). False for anything else — a
 * fragment (never part of a request target), the authority or asterisk forms, a URL that does not
 * parse. Before this, such a target reached the fallback (which read the body) while express still
 * routed it to /mcp with the body gone.
 */
function originForm(req: IncomingMessage): boolean {
  const url = req.url ?? "";
  if (url.charCodeAt(0) === 47 /* / */ && !url.includes("#")) return true;
  if (!/^https?:\/\//i.test(url) || url.includes("#")) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username || parsed.password) return false;
  req.url = `${parsed.pathname}${parsed.search}`;
  req.headers.host = parsed.host;
  return true;
}

/** A document's JSON text, serialised once (again only when a document read at each request changes). */
function documentText(document: ServedDocument): () => string | undefined {
  if (typeof document !== "function") {
    const text = JSON.stringify(document);
    return () => text;
  }
  let last: object | undefined;
  let text: string | undefined;
  return () => {
    const current = document();
    if (current !== last) {
      last = current;
      text = current === undefined ? undefined : JSON.stringify(current);
    }
    return text;
  };
}

/** A metadata document: readable from any origin (browser-based clients discover the server with it). */
function serveDocument(req: IncomingMessage, res: ServerResponse, json: string): void {
  res.setHeader("Access-Control-Allow-Origin", "*");
  if (req.method === "OPTIONS") {
    res.writeHead(204, { "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Allow-Headers": "*" }).end();
    return;
  }
  sendJsonText(res, 200, json, req.method === "HEAD");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** JSON already serialised; for HEAD the headers only. */
function sendJsonText(res: ServerResponse, status: number, text: string, headOnly = false): void {
  res
    .writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) })
    .end(headOnly ? undefined : text);
}

/** Whether a request has a body at all (RFC 9112 §6.3: one of these headers). */
const hasBody = (req: IncomingMessage) =>
  req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;

/** The media types express.json reads here: application/json and application/*+json. */
function jsonMediaType(req: IncomingMessage): boolean {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  return type === "application/json" || /^application\/[^/]+\+json$/.test(type);
}

/** POST /mcp with a plain `application/json` body (UTF-8, not compressed). */
function isFastMcpPost(req: IncomingMessage): boolean {
  if (req.method !== "POST" || (req.url !== "/mcp" && !(req.url?.startsWith("/mcp?") && !req.url.includes("#"))))
    return false;
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") return false;
  const contentType = req.headers["content-type"];
  // What every MCP client sends, decided without splitting the header.
  if (contentType === "application/json") return true;
  const [type, ...parameters] = (contentType ?? "").split(";");
  if (type?.trim().toLowerCase() !== "application/json") return false;
  return parameters.every((p) => /^\s*charset\s*=\s*"?utf-8"?\s*$/i.test(p));
}

/** BODY_LIMIT ("512kb", "1mb", "2048") in bytes, as body-parser reads it. */
function byteLimit(limit: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(limit);
  if (!match) throw new Error(`invalid body limit "${limit}"`);
  const unit = (match[2] ?? "b").toLowerCase();
  return Number(match[1]) * (unit === "mb" ? 1024 * 1024 : unit === "kb" ? 1024 : 1);
}

type BodyRead = { kind: "ok"; body: unknown } | { kind: "too-large" } | { kind: "invalid" } | { kind: "aborted" };

/** Reads and parses a JSON body up to `limit` bytes, the way express.json({ strict: false }) does. */
function readJsonBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.resolve({ kind: "too-large" });
  return readBody(req, limit, (bytes): BodyRead => {
    if (declared !== undefined && Number(declared) !== bytes.length) return { kind: "invalid" };
    let text = bytes.toString("utf8");
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.length === 0) return { kind: "ok", body: {} };
    try {
      return { kind: "ok", body: JSON.parse(text) };
    } catch {
      return { kind: "invalid" };
    }
  });
}

/**
 * 413, and the connection closed once the answer is written: the rest of the body is never read.
 * (Answered with keep-alive, node went on reading and discarding whatever the client sent — without
 * end for an endless body.) The dev authorization server's 413 does the same.
 */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  req.pause();
  refused.add(res);
  if (res.headersSent) return void res.destroy();
  const text = JSON.stringify(rpcError(RPC.INVALID_REQUEST, "Request body too large"));
  // `Connection: close` makes node end the connection once the answer is written (and not read on).
  res
    .writeHead(413, {
      "Content-Type": "application/json; charset=utf-8",
      "Content-Length": Buffer.byteLength(text),
      Connection: "close",
    })
    .end(text);
}

/** Responses `refuseTooLarge` answered (the body parser may still report the same body later). */
const refused = new WeakSet<ServerResponse>();

/**
 * Before express.json: a body declared or growing past the limit is refused at once (refuseTooLarge).
 * body-parser would read all of it before answering 413 — an endless body was never answered. The
 * bytes counted are the ones on the wire, which for a compressed body is what body-parser's own
 * limit (on the inflated bytes) cannot bound.
 */
function bodyLimitGuard(limit: number): RequestHandler {
  return (req, res, next) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) return refuseTooLarge(req, res);
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received <= limit) return;
      req.off("data", onData);
      refuseTooLarge(req, res);
    };
    req.on("data", onData);
    req.once("end", () => req.off("data", onData));
    next();
  };
}

/** The `arguments` of the message a call came from (matched by id within a batch). */
function argumentsOf(body: unknown, call: RpcCall): Record<string, unknown> | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const message = messages.find((m) => typeof m === "object" && m !== null && (m as { id?: unknown }).id === call.id);
  const args = (message as { params?: { arguments?: unknown } } | undefined)?.params?.arguments;
  return typeof args === "object" && args !== null ? (args as Record<string, unknown>) : undefined;
}

/** Sets the CORS response headers of a request with an Origin (already checked); false without one. */
function corsHeaders(req: IncomingMessage, res: ServerResponse): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader(
    "Access-Control-Expose-Headers",
    "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, X-Request-Id, Retry-After",
  );
  return true;
}

/**
 * CORS for browser-based clients (the Inspector, web apps): the Origin was already checked against
 * ALLOWED_ORIGINS, so it is echoed; WWW-Authenticate is exposed so the client can read challenges.
 */
function mcpCors(extraHeaders: readonly string[]): RequestHandler {
  const standard = [
    "Authorization",
    "Content-Type",
    "Accept",
    "MCP-Protocol-Version",
    "Mcp-Method",
    "Mcp-Name",
    "Mcp-Session-Id",
    "Last-Event-ID",
    "X-API-Key",
  ];
  const known = new Set(standard.map((h) => h.toLowerCase()));
  const allowHeaders = [
    ...standard,
    ...extraHeaders.filter((h) => !known.has(h.toLowerCase()) && known.add(h.toLowerCase())),
  ].join(", ");
  return (req, res, next) => {
    if (!corsHeaders(req, res)) return next();
    if (req.method === "OPTIONS") {
      res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
      res.setHeader("Access-Control-Allow-Headers", allowHeaders);
      res.setHeader("Access-Control-Max-Age", "600");
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Client mistakes get 4xx with a JSON-RPC body; anything else is logged and answered 500 with the request id. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const type = (error as { type?: string }).type;
    const status = (error as { status?: number }).status;
    if (refused.has(res)) return; // already answered 413; the body parser gave up on the same body
    if (res.headersSent) {
      (req.log ?? logger).error({ err: error }, "error after the response started");
      res.destroy();
      return;
    }
    if (type === "entity.parse.failed") {
      res.status(400).json(rpcError(RPC.PARSE_ERROR, "Parse error: the body is not valid JSON"));
    } else if (type === "entity.too.large") {
      // Inflated past the limit (the guard counts the bytes on the wire): the body was read to its end.
      res.status(413).set("Connection", "close").json(rpcError(RPC.INVALID_REQUEST, "Request body too large"));
    } else if (type === "charset.unsupported" || type === "encoding.unsupported") {
      res.status(415).json(rpcError(RPC.INVALID_REQUEST, "Unsupported content encoding or charset"));
    } else if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(status).json(rpcError(RPC.INVALID_REQUEST, "Bad request"));
    } else {
      (req.log ?? logger).error({ err: error }, "request failed");
      res.status(500).json(rpcError(-32603, `Internal error (request id ${req.id ?? "unknown"})`));
    }
  };
}
