/**
 * The only module family that imports the MCP SDK (`@modelcontextprotocol/*`). It serves both
 * protocol eras from one stateless endpoint: 2026-07-28 (server/discover, Mcp-* headers, the _meta
 * envelope) and 2025-era clients. The common requests (2025-era POSTs, 2026 tools/call and
 * tools/list) are served by the SDK's `Server` over toolgate's one-exchange transports
 * (./exchange.ts); everything else by the SDK's `createMcpHandler`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AuthInfo,
  createMcpHandler,
  type JSONRPCRequest,
  type MessageClassification,
  PROTOCOL_VERSION_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type Result,
  SERVER_INFO_META_KEY,
  Server,
  type ServerContext,
  type StandardSchemaV1,
  SUPPORTED_PROTOCOL_VERSIONS,
} from "@modelcontextprotocol/server";
import type { Logger } from "pino";
import type { RequestLogger } from "../log.js";
import { type CallEnvironment, callTool, malformedResult } from "../tools/call-tool.js";
import type { ToolCatalogue } from "../tools/catalogue.js";
import { ScopeRequiredError, UnknownToolError } from "../tools/errors.js";
import type { LoggingLevel, Principal } from "../tools/handler-api.js";
import {
  type ExchangeHooks,
  type ExchangeMessages,
  legacyMessages,
  MAX_BUFFERED_NOTIFICATION_BYTES,
  MODERN_REVISIONS,
  modernRequest,
  serveExchange,
} from "./exchange.js";
import { invalidParamsMessage, refusalMadeShort, resultRefusal } from "./params.js";

/** Per-request state the HTTP layer hands to the MCP layer (through the SDK's pass-through `authInfo`). */
export interface McpRequestState {
  requestId: string;
  log: RequestLogger;
  principal: Principal | undefined;
  /** When set, tools/call answers this result instead of running the tool (a refusal delivered in-band). */
  result?: Record<string, unknown>;
  /**
   * Called when a handler's `ctx.requireScopes()` refuses. `result` is the in-band answer (a tool
   * result carrying the challenge); `http`, when given, is sent instead as long as nothing of the
   * response has been produced yet (a streamed 2025 answer may already have started).
   */
  onScopeRequired(error: ScopeRequiredError): ScopeAnswer;
}

export interface ScopeAnswer {
  result: Record<string, unknown>;
  http?: { status: number; headers: Record<string, string>; body: unknown };
}

export interface McpEndpointOptions {
  serverInfo: { name: string; version: string; title?: string };
  instructions?: string;
  catalogue: ToolCatalogue;
  logger: Logger;
  /** Bound on a body the SDK reads itself (when no parsed body is given). */
  maxRequestBodySize: number;
  /** Request headers that carry credentials besides Authorization (the API key header): never passed to the SDK. */
  credentialHeaders?: readonly string[];
  /**
   * Serve every request through the SDK's `createMcpHandler`, none through toolgate's own
   * transports: the reference the own transports are compared with in tests.
   */
  sdkTransportsOnly?: boolean;
}

export interface McpEndpoint {
  /** Serves one HTTP request; `body` is the already parsed JSON body, if any. */
  handle(req: IncomingMessage, res: ServerResponse, body: unknown, state: McpRequestState): Promise<void>;
  close(): Promise<void>;
}

/**
 * The params of `tools/list`, checked by toolgate: registered with a schema, the SDK answers a
 * mismatch -32602 "Invalid params for tools/list: cursor: must be a string" (as it answers tools/call's).
 * Registered without one, the SDK's own check failed as an internal error (-32603) whose message was
 * zod's JSON dump of the issues.
 */
const LIST_TOOLS_PARAMS: StandardSchemaV1<Record<string, unknown>> = {
  "~standard": {
    version: 1,
    vendor: "toolgate",
    validate(value) {
      const params = value as Record<string, unknown>;
      const issues: StandardSchemaV1.Issue[] = [];
      // Every tool is listed on one page, so no cursor was ever given out: any cursor is invalid, and
      // the spec's pagination says so with -32602 (listing everything again would read as a next page).
      if (params.cursor !== undefined)
        issues.push({
          message:
            typeof params.cursor === "string"
              ? "is not one this server gave (it lists every tool at once)"
              : "must be a string",
          path: ["cursor"],
        });
      const meta = params._meta;
      if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta)))
        issues.push({ message: "must be an object", path: ["_meta"] });
      return issues.length > 0 ? { issues } : { value: params };
    },
  },
};

type RequestHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/**
 * The Server the SDK's entry serves. The SDK's transport writes its answers, so the SDK's refusal of
 * a request's params (zod's dump, see ./params.ts) is made short where it is thrown: `_wrapHandler`,
 * the SDK's hook for wrapping registered handlers, wraps the handlers of ./params.ts's methods and
 * no other. toolgate's own transports serve a plain Server and shorten the error answer themselves
 * (./exchange.ts): these wrappers are three closures more per Server, which the hot path does not pay.
 */
class SdkEntryServer extends Server {
  protected override _wrapHandler(method: string, handler: RequestHandler): RequestHandler {
    // Called from Server's constructor too: nothing here may read a field of this class.
    const wrapped = super._wrapHandler(method, handler);
    if (!refusalMadeShort(method)) return wrapped;
    return (request, ctx) =>
      wrapped(request, ctx).catch((error: unknown) => {
        const { code: thrown, message } = error as { code?: unknown; message?: unknown };
        // as the SDK answers a thrown error: its code if it has one, else an internal error
        const code = Number.isSafeInteger(thrown) ? (thrown as number) : ProtocolErrorCode.InternalError;
        const detail = resultRefusal(method, code, String(message));
        if (detail !== undefined) return malformedAnswer(request.params, detail, stateOf(ctx));
        const short = invalidParamsMessage(method, request.params, code, String(message));
        throw short === undefined ? error : new ProtocolError(ProtocolErrorCode.InvalidParams, short);
      });
  }
}

/** A tools/call result the SDK refused, answered as toolgate answers a malformed result (call-tool.ts). */
function malformedAnswer(params: unknown, detail: string, state: McpRequestState): Result {
  const name = (params as { name?: unknown } | undefined)?.name;
  const tool = typeof name === "string" ? name : "";
  return malformedResult(tool, detail, state.requestId, state.log.child({ tool })) as unknown as Result;
}

const STATE_KEY = "toolgate";
const NO_SCOPES: readonly string[] = Object.freeze([]);

/** What the endpoint tracks of one exchange, next to the caller's state. */
interface Exchange {
  state: McpRequestState;
  /** True once the SDK has produced the Response (headers may be on the wire). */
  answered: boolean;
  /** An HTTP refusal that replaces the SDK's answer. */
  override?: NonNullable<ScopeAnswer["http"]>;
  /** The SDK's entry only: how far the client has read the stream the SDK writes. */
  flow?: StreamFlow;
}

/**
 * The pace of an SSE stream the SDK's entry writes, for the handler's notifications. The SDK queues
 * every message of a stream in memory without a limit (its web stream has no backpressure toward the
 * handler), so a client that stops reading made the server hold all a tool sent — 96 MB for 5,000
 * progress messages of 20 KB. writeResponse reads the SDK's stream as it comes and holds what the
 * socket cannot take; here, as on toolgate's own transport (exchange.ts), an awaited
 * `ctx.progress`/`ctx.notify` resolves once the client has taken what waits, and what a handler sends
 * without waiting is dropped while more than MAX_BUFFERED_NOTIFICATION_BYTES wait.
 */
class StreamFlow {
  #streaming = false;
  #ended = false;
  #waiters: (() => void)[] = [];
  /** Bytes writeResponse holds for the socket. */
  #held: () => number = () => 0;
  /**
   * Progress sent and not yet read from the SDK's stream by writeResponse: a handler that sends in a
   * synchronous loop fills the SDK's queue before writeResponse runs (a burst of 3,000 × 20 KB held
   * ~80 MB before being dropped). Counted in its JSON, a little less than the frame read for it;
   * log messages are not counted (the SDK drops those below a client's level, which would count for
   * ever), so a synchronous burst of them is dropped only as writeResponse reads it.
   */
  #unread = 0;

  constructor(private readonly res: ServerResponse) {}

  /** writeResponse began writing an SSE stream, holding `held` bytes the socket has not taken. */
  streaming(held: () => number): void {
    this.#streaming = true;
    this.#held = held;
  }

  /** Bytes written or held that the client has not taken. */
  waiting(): number {
    return this.#unread + this.#held() + this.res.writableLength;
  }

  /** writeResponse read a chunk of `bytes` from the SDK's stream. */
  read(bytes: number): void {
    this.#unread = Math.max(0, this.#unread - bytes);
  }

  #backedUp(): boolean {
    return this.#held() > 0 || this.res.writableNeedDrain;
  }

  /** The socket took everything (writeResponse holds nothing). */
  drained(): void {
    if (!this.#backedUp()) for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** The stream is over (answered, cancelled, or the client left): nobody waits any more. */
  end(): void {
    this.#ended = true;
    for (const resolve of this.#waiters.splice(0)) resolve();
  }

  /** Sends a notification through `send` (`progressBytes`: its JSON's length, for a progress), bounded as above. */
  async send(send: () => Promise<void>, progressBytes = 0): Promise<void> {
    // After the stream, as on any other path. Before it (the handler runs before the SDK hands its
    // Response over) progress is counted all the same: nothing reads the SDK's queue yet.
    if (this.#ended) return send();
    if (this.waiting() > MAX_BUFFERED_NOTIFICATION_BYTES) return;
    this.#unread += progressBytes;
    await send();
    if (this.#streaming && !this.#ended && this.#backedUp())
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/**
 * Notifications the SDK had already encoded and queued when writeResponse dropped them: what the
 * bound at send time (StreamFlow) did not stop, so a test can see that it stops progress bursts.
 */
export const sdkStreamStats = { droppedAfterQueued: 0 };

/** Whether an SSE chunk of the SDK's stream is one JSON-RPC notification (a progress or log message). */
function isNotificationEvent(chunk: Uint8Array): boolean {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8");
  const data = text
    .split("\n")
    .filter((line) => line.startsWith("data:"))
    .map((line) => line.slice(5).trimStart())
    .join("\n");
  try {
    const message = JSON.parse(data) as Record<string, unknown>;
    return typeof message.method === "string" && !("id" in message);
  } catch {
    return false;
  }
}

/** Headers the SDK never needs: credentials stay out of the web Request it sees (and the configured API key header). */
const DROPPED_HEADERS = [
  "authorization",
  "x-api-key",
  "cookie",
  "content-length",
  "transfer-encoding",
  "content-encoding",
];

function exchangeOf(ctx: ServerContext): Exchange {
  const exchange = ctx.http?.authInfo?.extra?.[STATE_KEY] as Exchange | undefined;
  if (!exchange)
    throw new Error("toolgate request state missing: the endpoint was called outside createMcpEndpoint().handle");
  return exchange;
}
const stateOf = (ctx: ServerContext): McpRequestState => exchangeOf(ctx).state;

/**
 * The web Request the SDK sees. It carries no body: a POST comes with its body parsed (the SDK reads
 * `parsedBody`, so serialising the JSON again, as toNodeHandler does, is pure cost; a POST whose body
 * is not JSON is refused before it gets here), and the other methods have none.
 */
function webRequest(req: IncomingMessage, signal: AbortSignal, dropped: ReadonlySet<string>): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || dropped.has(name) || name.startsWith(":")) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, value);
  }
  // A fixed authority: the SDK reads the path, never the host, and a client's malformed Host header
  // (when the Host check is off) must not make the URL unparsable — that was a 500.
  return new Request(`http://localhost${req.url ?? "/"}`, {
    method: req.method ?? "POST",
    headers,
    signal,
  });
}

/**
 * Writes a web Response to Node: a JSON answer in one piece; an SSE stream chunk by chunk with
 * backpressure, stopping when the client goes away.
 */
async function writeResponse(
  res: ServerResponse,
  response: Response,
  abort: AbortController,
  flow?: StreamFlow,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  if (response.body === null) {
    res.writeHead(response.status, headers).end();
    return;
  }
  if (!headers["content-type"]?.startsWith("text/event-stream")) {
    // With its length: no chunked framing for an answer that is complete anyway.
    const body = Buffer.from(await response.arrayBuffer());
    headers["content-length"] = String(body.length);
    res.writeHead(response.status, headers).end(body);
    return;
  }
  res.writeHead(response.status, headers);
  // Read as it comes, so the SDK's queue stays empty; what the socket cannot take is held here,
  // where it is counted (StreamFlow) and notifications past the bound are dropped.
  const held: Uint8Array[] = [];
  let heldBytes = 0;
  const flush = () => {
    while (held.length > 0 && !res.writableNeedDrain) {
      const chunk = held.shift() as Uint8Array;
      heldBytes -= chunk.length;
      res.write(chunk);
    }
    flow?.drained();
  };
  res.on("drain", flush);
  flow?.streaming(() => heldBytes);
  const reader = response.body.getReader();
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      ended = done;
      if (done || abort.signal.aborted) break;
      flow?.read(value.length);
      if (held.length === 0 && !res.writableNeedDrain) {
        res.write(value);
        continue;
      }
      if (heldBytes + res.writableLength > MAX_BUFFERED_NOTIFICATION_BYTES && isNotificationEvent(value)) {
        sdkStreamStats.droppedAfterQueued++;
        continue;
      }
      held.push(value);
      heldBytes += value.length;
    }
  } catch {
    // the stream ended early (the client left, or the handler was closed)
  } finally {
    // A stream left early is cancelled, so the SDK's transport sees the exchange end.
    if (ended) reader.releaseLock();
    else await reader.cancel().catch(() => {});
    res.off("drain", flush);
    flow?.end();
  }
  // The answer is written whatever waits before it: the socket buffers it for the client.
  if (!abort.signal.aborted) for (const chunk of held) res.write(chunk);
  res.end();
}

/** The length of a notification's JSON; 0 for one that cannot be serialised (the SDK drops it). */
function jsonLength(value: unknown): number {
  try {
    return JSON.stringify(value)?.length ?? 0;
  } catch {
    return 0;
  }
}

const internalError = (requestId: string) => ({
  jsonrpc: "2.0",
  id: null,
  error: { code: -32603, message: `Internal error (request id ${requestId})` },
});

/** A handler asked for step-up before anything was sent: the challenge is answered over HTTP. */
function sendOverride(res: ServerResponse, override: NonNullable<Exchange["override"]>): void {
  res.writeHead(override.status, override.headers).end(JSON.stringify(override.body));
}

/** The messages toolgate's own transports serve, or undefined for the SDK's entry. */
function ownExchange(
  req: IncomingMessage,
  body: unknown,
): (ExchangeMessages & { classification?: MessageClassification }) | undefined {
  const legacy = legacyMessages(req, body);
  if (legacy) return legacy;
  const route = modernRequest(req, body);
  return route
    ? {
        messages: [route.message],
        requests: new Set([route.message]),
        batch: false,
        classification: route.classification,
      }
    : undefined;
}

export function createMcpEndpoint(options: McpEndpointOptions): McpEndpoint {
  const { catalogue, serverInfo, instructions } = options;
  // McpServer would drop the top-level `securitySchemes` from tools/list and re-validate every call
  // through its own schema pipeline; the low-level Server (JSDoc-deprecated "for advanced use cases")
  // lets toolgate answer tools/list from the generated, frozen list and run tools/call itself.
  // Built once: only the Server itself must be new per request (the SDK binds it to one exchange).
  const serverOptions = {
    capabilities: { tools: { listChanged: false }, logging: {} },
    ...(instructions ? { instructions } : {}),
  };
  const listTools = (_params: unknown, ctx: ServerContext) =>
    catalogue.list(stateOf(ctx).principal !== undefined) as never;
  const callToolHandler = async (
    request: { params: { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } } },
    ctx: ServerContext,
  ) => {
    const state = stateOf(ctx);
    if (state.result) return state.result as never;
    const progressToken = request.params._meta?.progressToken as string | number | undefined;
    // After the call has answered, progress and log messages have nowhere to go: they are dropped, and
    // a failure to send one never reaches the handler (a `void ctx.progress(…)` from a timer would
    // otherwise be an unhandled rejection — "Not connected" on the SDK's transport — and end the process).
    let finished = false;
    const flow = exchangeOf(ctx).flow;
    const quietly = async (send: () => Promise<void>, progressBytes?: () => number) => {
      if (finished) return;
      try {
        await (flow ? flow.send(send, progressBytes?.()) : send());
      } catch (error) {
        state.log.debug({ err: error }, "a notification of the call could not be sent");
      }
    };
    const env: CallEnvironment = {
      principal: state.principal,
      requestId: state.requestId,
      log: state.log,
      signal: ctx.mcpReq.signal,
      // The spec's progress and total are numbers: NaN or Infinity (JSON null) is not sent.
      progress: (progress, total, message) => {
        if (progressToken === undefined || !Number.isFinite(progress)) return Promise.resolve();
        const notification = {
          method: "notifications/progress" as const,
          params: {
            progressToken,
            progress,
            ...(total !== undefined && Number.isFinite(total) ? { total } : {}),
            ...(message ? { message } : {}),
          },
        };
        return quietly(
          () => ctx.mcpReq.notify(notification),
          () => jsonLength(notification),
        );
      },
      notify: (level: LoggingLevel, data: unknown) => quietly(() => ctx.mcpReq.log(level, data)),
    };
    try {
      return (await callTool(catalogue, request.params, env)) as never;
    } catch (error) {
      if (error instanceof UnknownToolError) throw new ProtocolError(ProtocolErrorCode.InvalidParams, error.message);
      if (!(error instanceof ScopeRequiredError)) throw error;
      const exchange = exchangeOf(ctx);
      const answer = state.onScopeRequired(error);
      if (answer.http && !exchange.answered) {
        exchange.override = answer.http;
        return { content: [], isError: true } as never;
      }
      return answer.result as never;
    } finally {
      finished = true;
    }
  };
  // A Server for a 2026 exchange of our own lists the revision, as the SDK's entry makes it do.
  const modernServerOptions = {
    ...serverOptions,
    supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, ...MODERN_REVISIONS],
  };
  const factory = (modern = false, ServerClass: typeof Server = Server) => {
    const server = new ServerClass(serverInfo, modern ? modernServerOptions : serverOptions);
    server.setRequestHandler("tools/list", { params: LIST_TOOLS_PARAMS }, listTools);
    server.setRequestHandler("tools/call", callToolHandler as never);
    return server;
  };
  const dropped = new Set([...DROPPED_HEADERS, ...(options.credentialHeaders ?? []).map((h) => h.toLowerCase())]);
  const handler = createMcpHandler(() => factory(false, SdkEntryServer), {
    onerror: (error) => options.logger.debug({ err: error }, "MCP request rejected"),
    maxRequestBodySize: options.maxRequestBodySize,
  });
  return {
    async handle(req, res, body, state) {
      const principal = state.principal;
      const exchange: Exchange = { state, answered: false };
      // The SDK passes `authInfo` through untouched. The raw token is never put here.
      const authInfo: AuthInfo = {
        token: "",
        clientId: principal?.clientId ?? "",
        // The principal's frozen list (the SDK only reads it): no copy per request.
        scopes: (principal?.scopes ?? NO_SCOPES) as string[],
        // STATE_KEY spelled out: an object with a computed key is slower to build.
        extra: { toolgate: exchange } satisfies Record<typeof STATE_KEY, Exchange>,
      };
      const own = options.sdkTransportsOnly ? undefined : ownExchange(req, body);
      if (own) {
        const hooks: ExchangeHooks = {
          onStreaming: () => {
            exchange.answered = true;
          },
          beforeAnswer: () => {
            exchange.answered = true;
            if (!exchange.override) return false;
            sendOverride(res, exchange.override);
            return true;
          },
          onerror: (error) => options.logger.debug({ err: error }, "MCP exchange error"),
          malformedResult: (request, detail) => {
            const result = malformedAnswer(request.params, detail, state);
            // A 2026-07-28 result as the SDK encodes one: complete, with the server's info.
            const meta = (request.params as { _meta?: unknown } | undefined)?._meta;
            return meta !== null && typeof meta === "object" && PROTOCOL_VERSION_META_KEY in meta
              ? { ...result, resultType: "complete", _meta: { [SERVER_INFO_META_KEY]: serverInfo } }
              : result;
          },
        };
        try {
          await serveExchange(
            factory(own.classification !== undefined),
            res,
            own,
            { authInfo, classification: own.classification },
            hooks,
          );
        } catch (error) {
          options.logger.error({ err: error }, "MCP handler failed");
          if (!res.headersSent) res.writeHead(500, { "Content-Type": "application/json" });
          res.end(JSON.stringify(internalError(state.requestId)));
        }
        return;
      }
      const abort = new AbortController();
      let finished = false;
      const flow = new StreamFlow(res);
      exchange.flow = flow;
      res.once("close", () => {
        flow.end();
        if (!finished) abort.abort();
      });
      let response: Response;
      try {
        const request = webRequest(req, abort.signal, dropped);
        response = await handler.fetch(request, { authInfo, ...(body !== undefined ? { parsedBody: body } : {}) });
      } catch (error) {
        if ((error as Error).name === "RequestBodyTooLargeError") {
          response = Response.json(
            { jsonrpc: "2.0", id: null, error: { code: -32000, message: "Request body too large" } },
            { status: 413 },
          );
        } else {
          options.logger.error({ err: error }, "MCP handler failed");
          response = Response.json(internalError(state.requestId), { status: 500 });
        }
      }
      exchange.answered = true;
      if (exchange.override) {
        await response.body?.cancel();
        sendOverride(res, exchange.override);
      } else {
        await writeResponse(res, response, abort, flow);
      }
      flow.end();
      finished = true;
    },
    close: () => handler.close(),
  };
}
