/**
 * The only module family that imports the MCP SDK (`@modelcontextprotocol/*`). It serves both
 * protocol eras from one stateless endpoint: 2026-07-28 (server/discover, Mcp-* headers, the _meta
 * envelope) natively, 2025-era clients through the SDK's stateless legacy fallback.
 */
import { toNodeHandler } from "@modelcontextprotocol/node";
import { type AuthInfo, createMcpHandler, Server, type ServerContext } from "@modelcontextprotocol/server";
import type { Logger } from "pino";
import { type CallEnvironment, callTool } from "../tools/call-tool.js";
import type { ToolCatalogue } from "../tools/catalogue.js";
import { ScopeRequiredError } from "../tools/errors.js";
import type { LoggingLevel, Principal } from "../tools/handler-api.js";

/** Per-request state the HTTP layer hands to the MCP layer (through the SDK's pass-through `authInfo`). */
export interface McpRequestState {
  requestId: string;
  log: Logger;
  principal: Principal | undefined;
  /** When set, tools/call answers this result instead of running the tool (a refusal delivered in-band). */
  result?: Record<string, unknown>;
  /** Called when a handler's `ctx.requireScopes()` refuses; returns the result to send instead. */
  onScopeRequired(error: ScopeRequiredError): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface McpEndpointOptions {
  serverInfo: { name: string; version: string; title?: string };
  instructions?: string;
  catalogue: ToolCatalogue;
  logger: Logger;
  /** Bound on a body the SDK reads itself (when no parsed body is given). */
  maxRequestBodySize: number;
}

export interface McpEndpoint {
  /** Serves one HTTP request; `body` is the already parsed JSON body, if any. */
  handle(
    req: import("node:http").IncomingMessage & { auth?: AuthInfo },
    res: import("node:http").ServerResponse,
    body: unknown,
    state: McpRequestState,
  ): Promise<void>;
  close(): Promise<void>;
}

const STATE_KEY = "toolgate";

function stateOf(ctx: ServerContext): McpRequestState {
  const state = ctx.http?.authInfo?.extra?.[STATE_KEY] as McpRequestState | undefined;
  if (!state)
    throw new Error("toolgate request state missing: the endpoint was called outside createMcpEndpoint().handle");
  return state;
}

export function createMcpEndpoint(options: McpEndpointOptions): McpEndpoint {
  const { catalogue, serverInfo, instructions } = options;
  // McpServer would drop the top-level `securitySchemes` from tools/list and re-validate every call
  // through its own schema pipeline; the low-level Server (JSDoc-deprecated "for advanced use cases")
  // lets toolgate answer tools/list from the generated, frozen list and run tools/call itself.
  const factory = () => {
    const server = new Server(serverInfo, {
      capabilities: { tools: { listChanged: false }, logging: {} },
      ...(instructions ? { instructions } : {}),
    });
    server.setRequestHandler(
      "tools/list",
      (_request, ctx) => catalogue.list(stateOf(ctx).principal !== undefined) as never,
    );
    server.setRequestHandler("tools/call", async (request, ctx) => {
      const state = stateOf(ctx);
      if (state.result) return state.result as never;
      const progressToken = request.params._meta?.progressToken;
      const env: CallEnvironment = {
        principal: state.principal,
        requestId: state.requestId,
        log: state.log,
        signal: ctx.mcpReq.signal,
        progress: async (progress, total, message) => {
          if (progressToken === undefined) return;
          await ctx.mcpReq.notify({
            method: "notifications/progress",
            params: {
              progressToken,
              progress,
              ...(total !== undefined ? { total } : {}),
              ...(message ? { message } : {}),
            },
          });
        },
        notify: (level: LoggingLevel, data: unknown) => ctx.mcpReq.log(level, data),
      };
      try {
        return (await callTool(catalogue, request.params, env)) as never;
      } catch (error) {
        if (error instanceof ScopeRequiredError) return (await state.onScopeRequired(error)) as never;
        throw error;
      }
    });
    return server;
  };
  const handler = createMcpHandler(factory, {
    onerror: (error) => options.logger.debug({ err: error }, "MCP request rejected"),
    maxRequestBodySize: options.maxRequestBodySize,
  });
  const node = toNodeHandler(handler, {
    onerror: (error) => options.logger.error({ err: error }, "MCP handler failed"),
    maxRequestBodySize: options.maxRequestBodySize,
  });
  return {
    async handle(req, res, body, state) {
      const principal = state.principal;
      // The SDK passes `req.auth` through untouched. The raw token is never put here.
      req.auth = {
        token: "",
        clientId: principal?.clientId ?? "",
        scopes: [...(principal?.scopes ?? [])],
        extra: { [STATE_KEY]: state },
      };
      await node(req as never, res, body);
    },
    close: () => handler.close(),
  };
}
