import { randomUUID } from "node:crypto";
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
import { hostAndOriginValidation } from "../mcp/security.js";
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

export interface AppOptions {
  config: ServerConfig;
  logger: Logger;
  endpoint: McpEndpoint;
  gate: McpGate;
  /** Routes mounted before /mcp (well-known metadata). */
  routes?: (app: Express) => void;
  /** Middleware mounted after everything (the development authorization server). */
  fallback?: RequestHandler;
  /** Arguments each tool mirrors in `Mcp-Param-*` headers (SEP-2243). */
  paramHeaders?: (tool: string) => readonly ParamHeader[];
}

declare module "express-serve-static-core" {
  interface Request {
    id: string;
    log: RequestLogger;
  }
}

export function createApp(options: AppOptions): Express {
  const { config, logger, endpoint } = options;
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", config.trustProxy);
  app.set("etag", false);

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    req.id = randomUUID();
    req.log = lazyLogger(logger, { reqId: req.id });
    res.setHeader("X-Request-Id", req.id);
    if (logger.isLevelEnabled("debug"))
      res.on("close", () => {
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        req.log.debug(
          { method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
          "request",
        );
      });
    next();
  });
  app.use(hostAndOriginValidation({ allowedHosts: config.allowedHosts, allowedOrigins: [], checkOrigin: false }));

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  options.routes?.(app);

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
  const serveMcp = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const body: unknown = req.body;
      const calls = req.method === "POST" ? rpcCalls(body) : [];
      const mismatch =
        headerMismatch(req.headers as Record<string, string>, calls) ??
        (options.paramHeaders
          ? paramHeaderMismatch(req.headers, calls, options.paramHeaders, (call) => argumentsOf(body, call))
          : undefined);
      if (mismatch) {
        res
          .status(400)
          .json(
            rpcError(
              RPC.HEADER_MISMATCH,
              `Bad Request: the request headers and body disagree: ${mismatch}`,
              calls[0]?.id,
            ),
          );
        return;
      }
      const state = await options.gate(req, res, calls, { requestId: req.id, log: req.log });
      if (!state) return;
      await endpoint.handle(req, res, body, state);
    } catch (error) {
      next(error);
    }
  };
  app.all("/mcp", originCheck, mcpCors, json, serveMcp);

  if (options.fallback) app.use(options.fallback);
  app.use((_req, res) => {
    res.status(404).json({ error: "not_found" });
  });
  app.use(errorHandler(logger));
  return app;
}

/** The `arguments` of the message a call came from (matched by id within a batch). */
function argumentsOf(body: unknown, call: RpcCall): Record<string, unknown> | undefined {
  const messages = Array.isArray(body) ? body : [body];
  const message = messages.find((m) => typeof m === "object" && m !== null && (m as { id?: unknown }).id === call.id);
  const args = (message as { params?: { arguments?: unknown } } | undefined)?.params?.arguments;
  return typeof args === "object" && args !== null ? (args as Record<string, unknown>) : undefined;
}

/**
 * CORS for browser-based clients (the Inspector, web apps): the Origin was already checked against
 * ALLOWED_ORIGINS, so it is echoed; WWW-Authenticate is exposed so the client can read challenges.
 */
const mcpCors: RequestHandler = (req, res, next) => {
  const origin = req.headers.origin;
  if (origin === undefined) return next();
  res.setHeader("Access-Control-Allow-Origin", origin);
  res.setHeader("Vary", "Origin");
  res.setHeader(
    "Access-Control-Expose-Headers",
    "WWW-Authenticate, Mcp-Session-Id, MCP-Protocol-Version, X-Request-Id, Retry-After",
  );
  if (req.method === "OPTIONS") {
    res.setHeader("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    res.setHeader(
      "Access-Control-Allow-Headers",
      "Authorization, Content-Type, Accept, MCP-Protocol-Version, Mcp-Method, Mcp-Name, Mcp-Session-Id, Last-Event-ID, X-API-Key",
    );
    res.setHeader("Access-Control-Max-Age", "600");
    res.status(204).end();
    return;
  }
  next();
};

/** Client mistakes get 4xx with a JSON-RPC body; anything else is logged and answered 500 with the request id. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const type = (error as { type?: string }).type;
    const status = (error as { status?: number }).status;
    if (res.headersSent) {
      (req.log ?? logger).error({ err: error }, "error after the response started");
      res.destroy();
      return;
    }
    if (type === "entity.parse.failed") {
      res.status(400).json(rpcError(RPC.PARSE_ERROR, "Parse error: the body is not valid JSON"));
    } else if (type === "entity.too.large") {
      res.status(413).json(rpcError(RPC.INVALID_REQUEST, "Request body too large"));
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
