/**
 * toolgate's own one-exchange transports: the SDK's `Server` connected to a transport that lives for
 * one HTTP exchange and writes to Node's response directly, for both protocol eras. The SDK still
 * does the protocol (dispatch, the 2026-07-28 envelope and result encoding, zod validation of the
 * messages); only the transport around it is toolgate's.
 *
 * Why not the SDK's own HTTP entry (`createMcpHandler`): it speaks web `Request`/`Response`, so every
 * POST costs a `Headers`, a `Request` with its `AbortSignal`, a `Response` read back into a Buffer,
 * and on completion the SDK closes the exchange, which builds a "Connection closed" `SdkError` (a
 * stack trace) even when nothing was in flight. For a 2025-era POST its legacy fallback also answers
 * every request over SSE (a ReadableStream, a TextEncoder, a priming frame, a second stream wrapped
 * around the first) and validates each message with zod twice. Profiled under load (bench/profile.ts),
 * that transport work was more than half of a tools/call.
 *
 * Here the answer is plain JSON unless the handler streams (progress, log messages), in which case
 * the reply turns into SSE at the first notification — what both transports allow, and what the
 * SDK's 2026-07-28 transport does. Only requests these paths answer exactly as the SDK would are
 * taken (`legacyMessages`, `modernRequest`); everything else still goes to the SDK's entry, and
 * test/integration/own-transports.test.ts compares the two answer by answer.
 *
 * Failed zod parses are kept off the common path. zod 4.6 returns each failed `safeParse` as an object
 * literal with a getter and a setter of its own; V8 allocates every such accessor pair in the old
 * generation, so its closures — and what they reach — outlive young collections until the next full
 * one, and building them is slow besides. The SDK's type guards cost a request four of them: its
 * classifier and the `onmessage` a Server installs both try a request as a result and as an error
 * response first. Without the four, an anonymous tools/call took ~12 % less CPU (bench/paired.ts,
 * bench/README.md, Findings). Hence `plainLegacyBody`, `dispatch`, and each message's kind decided once
 * (`ExchangeMessages.requests`); what the Server sends back is told apart by its members (`isResponse`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AuthInfo,
  classifyInboundRequest,
  type InboundModernRoute,
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJsonContentType,
  type JSONRPCErrorResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type JSONRPCResultResponse,
  type MessageClassification,
  PerRequestHTTPServerTransport,
  PROTOCOL_VERSION_META_KEY,
  ProtocolErrorCode,
  type Result,
  type Server,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";
import { invalidParamsMessage, resultRefusal } from "./params.js";

/** The 2026-era revisions served here (the SDK does not export its list); others go to the SDK. */
export const MODERN_REVISIONS: readonly string[] = ["2026-07-28"];

/** The SDK's bound on a JSON-RPC batch (its legacy transport refuses longer ones). */
const MAX_BATCH_SIZE = 100;

/**
 * The most bytes an answer may have waiting for a client that does not read: notifications beyond it
 * are dropped (progress and log messages are advisory; the answer itself is always written).
 */
export const MAX_BUFFERED_NOTIFICATION_BYTES = 1024 * 1024;

/** The SDK's SSE keep-alive: a comment frame every 15 s while a stream is open. */
const KEEP_ALIVE_MS = 15_000;

const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  // No Connection header: node writes keep-alive itself, and close while the server shuts down
  // (an explicit keep-alive here overrode that).
  "X-Accel-Buffering": "no",
};

/**
 * The methods the 2026 path serves itself; anything else goes to the SDK's entry. Both are registered
 * on every Server, so the dispatch never refuses them with an error the SDK's transport would turn
 * into an HTTP 4xx (method not found, era mismatch): every answer here is a 200.
 */
const MODERN_METHODS = new Set(["tools/call", "tools/list"]);

type RequestId = string | number;

/** The messages of one exchange, and which of them are requests (decided once, where they are checked). */
export interface ExchangeMessages {
  messages: readonly JSONRPCMessage[];
  requests: ReadonlySet<JSONRPCMessage>;
  /** The body was a JSON array (a batch, even of one): answered with an array (JSON-RPC 2.0 §6). */
  batch: boolean;
}

/**
 * A response the Server sends: `result` or `error` beside an `id`, no `method`. The Server builds its
 * messages itself, so their members say what they are — without the SDK's guards, which would fail
 * twice on every progress or log notification.
 */
const isResponse = (message: JSONRPCMessage): message is JSONRPCResultResponse | JSONRPCErrorResponse =>
  "id" in message && !("method" in message) && ("result" in message || "error" in message);
type ModernRequestRoute = Extract<InboundModernRoute, { messageKind: "request" }>;

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
};

/**
 * A body the SDK's classifier is certain to call legacy, decided without it (it would first try the
 * body as a result and as an error response: two failed parses). With the MCP-Protocol-Version header
 * absent or a 2025-era version (checked before), a single message that is not a response and whose
 * `params._meta`, if any, is an object without the 2026-07-28 envelope claim
 * (`io.modelcontextprotocol/protocolVersion`) is legacy for the classifier — an `initialize` too. A
 * body that is not a valid request or notification still fails the checks after it. Anything else
 * (a batch, a claim, an odd `_meta`) is left to `classifyInboundRequest`.
 */
function plainLegacyBody(body: unknown): boolean {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return false;
  if ("result" in body || "error" in body) return false;
  const params = (body as { params?: unknown }).params;
  if (params === undefined) return true;
  if (params === null || typeof params !== "object" || Array.isArray(params)) return false;
  const meta = (params as { _meta?: unknown })._meta;
  if (meta === undefined) return true;
  return meta !== null && typeof meta === "object" && !Array.isArray(meta) && !(PROTOCOL_VERSION_META_KEY in meta);
}

/**
 * The messages of a 2025-era POST this path serves, or undefined when the request must go to the SDK:
 * not classified legacy, a media type or Accept the SDK would refuse (415, 406), an unsupported
 * MCP-Protocol-Version (400), a batch over the bound, carrying `initialize` or reusing a request id,
 * or anything that is not a well-formed JSON-RPC request or notification (the SDK answers those with
 * its own errors).
 */
export function legacyMessages(req: IncomingMessage, body: unknown): ExchangeMessages | undefined {
  if (req.method !== "POST" || body === undefined || !isJsonContentType(req.headers["content-type"])) return undefined;
  const accept = header(req, "accept");
  if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  // This path answers JSON. With parameters (`application/json;q=0`) or a look-alike type
  // (`application/json-seq`) the list is read properly, and without JSON acceptable the SDK answers
  // (SSE); the usual "application/json, text/event-stream" needs no more than the check above.
  if (
    (accept.includes(";") || accept.includes("application/json-") || accept.includes("application/json+")) &&
    !acceptsJson(accept)
  )
    return undefined;
  const version = header(req, "mcp-protocol-version");
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version.trim())) return undefined;
  if (!plainLegacyBody(body)) {
    const method = header(req, "mcp-method");
    const name = header(req, "mcp-name");
    const route = classifyInboundRequest({
      httpMethod: "POST",
      ...(version !== undefined ? { protocolVersionHeader: version } : {}),
      ...(method !== undefined ? { mcpMethodHeader: method } : {}),
      ...(name !== undefined ? { mcpNameHeader: name } : {}),
      body,
    });
    if (route.kind !== "legacy") return undefined;
  }
  const messages: JSONRPCMessage[] = Array.isArray(body) ? body : [body];
  if (messages.length === 0 || messages.length > MAX_BATCH_SIZE) return undefined;
  // Answers are matched to requests by id: a batch reusing an id is left to the SDK.
  const ids = new Set<unknown>();
  const requests = new Set<JSONRPCMessage>();
  for (const message of messages) {
    if (isJSONRPCRequest(message)) {
      if (ids.has(message.id) || (messages.length > 1 && isInitializeRequest(message))) return undefined;
      ids.add(message.id);
      requests.add(message);
    } else if (!isJSONRPCNotification(message)) return undefined;
  }
  return { messages, requests, batch: Array.isArray(body) };
}

/**
 * A 2026-07-28 `tools/call` or `tools/list` this path serves, or undefined when the request must go
 * to the SDK's entry. Taken only when the SDK would serve it without an entry-level refusal: the
 * SDK's own classifier says modern request for a revision served here, and the standard headers the
 * SDK requires are all there and agree with the body (`MCP-Protocol-Version`, `Mcp-Method`, and for
 * tools/call a plain `Mcp-Name` equal to `params.name`). Missing or encoded headers, notifications,
 * other methods (server/discover, subscriptions/listen, …) and every refusal stay with the SDK.
 */
export function modernRequest(req: IncomingMessage, body: unknown): ModernRequestRoute | undefined {
  if (req.method !== "POST" || body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  const method = (body as { method?: unknown }).method;
  if (typeof method !== "string" || !MODERN_METHODS.has(method)) return undefined;
  if (!isJsonContentType(req.headers["content-type"])) return undefined;
  const version = header(req, "mcp-protocol-version");
  const mcpMethod = header(req, "mcp-method");
  if (version === undefined || mcpMethod === undefined) return undefined;
  const name = header(req, "mcp-name");
  if (method === "tools/call") {
    const params = (body as { params?: { name?: unknown } }).params;
    const toolName = typeof params === "object" && params !== null ? params.name : undefined;
    if (typeof toolName !== "string" || name?.trim() !== toolName) return undefined;
  } else if (name !== undefined) return undefined;
  const route = classifyInboundRequest({
    httpMethod: "POST",
    protocolVersionHeader: version,
    mcpMethodHeader: mcpMethod,
    ...(name !== undefined ? { mcpNameHeader: name } : {}),
    body,
  });
  if (route.kind !== "modern" || route.messageKind !== "request") return undefined;
  const revision = route.classification.revision;
  if (revision === undefined || !MODERN_REVISIONS.includes(revision) || version.trim() !== revision) return undefined;
  return route;
}

/** Hooks the endpoint gives one exchange. */
export interface ExchangeHooks {
  /** Called once when the reply turns into an SSE stream (headers are then on the wire). */
  onStreaming(): void;
  /** Called before the final answer is written; returning true means the hook answered instead. */
  beforeAnswer(): boolean;
  onerror(error: Error): void;
  /**
   * The answer to a tools/call whose result the SDK refused (`detail`: what it found): a malformed
   * result is the tool's fault, answered as one (an isError result, the detail logged), not the
   * SDK's -32602 that blamed the caller and logged nothing. As the SDK would encode it for the
   * request's revision (this path writes it, not the SDK).
   */
  malformedResult(request: JSONRPCRequest, detail: string): Result;
}

/**
 * A response as JSON text. One that cannot be serialised (a handler's result holding a cycle or a
 * BigInt) becomes an internal error for its id — never an answer that is not written, which left
 * the exchange open with nothing on the wire.
 */
function responseText(message: JSONRPCResultResponse | JSONRPCErrorResponse, onerror: (error: Error) => void): string {
  try {
    return JSON.stringify(message);
  } catch (error) {
    onerror(error as Error);
    return JSON.stringify({
      jsonrpc: "2.0",
      id: message.id,
      error: { code: -32603, message: "Internal error: the result could not be serialised" },
    });
  }
}

/** A Transport whose lifetime is one HTTP exchange: answers JSON, or SSE once a notification streams. */
class ExchangeTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport["onmessage"];
  private readonly pending: Set<RequestId>;
  /** Answers serialised as they arrive, until the reply is written. */
  private readonly answers = new Map<RequestId, string>();
  private streaming = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private closed = false;
  /** True once every request has its answer written. */
  completed = false;
  private settle!: () => void;
  /** Resolves when every request of the exchange has its answer on the wire (or the client left). */
  readonly done = new Promise<void>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly res: ServerResponse,
    /** The messages of the exchange (read only to word a refusal, see `shortRefusal`). */
    private readonly messages: readonly JSONRPCMessage[],
    private readonly order: readonly RequestId[],
    private readonly batch: boolean,
    private readonly hooks: ExchangeHooks,
    /** 2025 era: stream once no answer came within KEEP_ALIVE_MS, to keep the connection alive (below). */
    streamWhenSlow: boolean,
    private readonly keepAliveMs = KEEP_ALIVE_MS,
  ) {
    this.pending = new Set(order);
    // The SDK answers a 2025-era POST over SSE and writes a keep-alive comment every 15 s, so a long
    // tool call keeps proxies from closing an idle connection. This transport answers JSON when it
    // can; a call still running after 15 s turns the reply into a stream, as a notification would.
    if (streamWhenSlow && order.length > 0) {
      this.keepAlive = setTimeout(() => {
        if (!this.closed && !this.completed && !this.streaming) this.startStreaming(true);
      }, keepAliveMs);
      this.keepAlive.unref();
    }
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed || this.completed) return;
    if (isResponse(message)) {
      const id = message.id as RequestId;
      if (!this.pending.delete(id)) return;
      const text = responseText("error" in message ? this.shortRefusal(message) : message, this.hooks.onerror);
      if (this.streaming) this.frame(text);
      else this.answers.set(id, text);
      if (this.pending.size === 0) this.finish();
      return;
    }
    // A notification (progress, log message) belongs on the stream of the request it relates to.
    // Without a session there is no standalone stream, so anything unrelated is dropped.
    const related = options?.relatedRequestId as RequestId | undefined;
    if (related === undefined || !this.pending.has(related)) return;
    let text: string;
    try {
      text = JSON.stringify(message);
    } catch (error) {
      this.hooks.onerror(error as Error); // a notification that cannot be serialised is dropped
      return;
    }
    if (!this.streaming) this.startStreaming(false);
    // A client that stops reading: what waits for it is bounded. A handler awaiting ctx.progress
    // or ctx.notify waits until the client has read what is queued (or left); what it sends without
    // waiting is dropped once a megabyte waits.
    if (this.res.writableLength > MAX_BUFFERED_NOTIFICATION_BYTES) return;
    if (!this.frame(text)) await this.drained();
  }

  /** One wait for the stream to drain, shared by every notification sent meanwhile (one listener pair). */
  private drainWait: Promise<void> | undefined;
  private drained(): Promise<void> {
    this.drainWait ??= drainedOrClosed(this.res).finally(() => {
      this.drainWait = undefined;
    });
    return this.drainWait;
  }

  /**
   * An error answer, or the short one when it is the SDK's refusal of the request's params (zod's dump
   * otherwise, see ./params.ts). Only error answers come here: a valid request costs nothing.
   */
  private shortRefusal(response: JSONRPCErrorResponse): JSONRPCErrorResponse | JSONRPCResultResponse {
    const request = this.messages.find((m) => "method" in m && "id" in m && m.id === response.id) as
      | JSONRPCRequest
      | undefined;
    if (!request) return response;
    const detail = resultRefusal(request.method, response.error.code, response.error.message);
    if (detail !== undefined)
      return { jsonrpc: "2.0", id: request.id, result: this.hooks.malformedResult(request, detail) };
    const message = invalidParamsMessage(request.method, request.params, response.error.code, response.error.message);
    return message === undefined
      ? response
      : { jsonrpc: "2.0", id: response.id, error: { code: ProtocolErrorCode.InvalidParams, message } };
  }

  /** Turns the reply into an SSE stream: headers, the answers so far, a keep-alive comment every 15 s. */
  private startStreaming(keepAliveNow: boolean): void {
    clearTimeout(this.keepAlive);
    this.streaming = true;
    this.hooks.onStreaming();
    this.res.writeHead(200, SSE_HEADERS);
    if (keepAliveNow) this.res.write(": keepalive\n\n");
    for (const answer of this.answers.values()) this.frame(answer);
    this.answers.clear();
    this.keepAlive = setInterval(() => this.res.write(": keepalive\n\n"), this.keepAliveMs);
    this.keepAlive.unref();
  }

  /** False when the stream's buffer is full (the client is not reading as fast as this writes). */
  private frame(text: string): boolean {
    return this.res.write(`event: message\ndata: ${text}\n\n`);
  }

  /** A request of the exchange that will get no answer (the client cancelled it in the same POST). */
  forget(id: RequestId): void {
    if (!this.pending.delete(id) || this.closed || this.completed) return;
    if (this.pending.size === 0) this.finish();
  }

  private finish(): void {
    clearInterval(this.keepAlive);
    if (this.streaming) {
      this.res.end();
    } else if (!this.hooks.beforeAnswer()) {
      const answers = this.order.flatMap((id) => this.answers.get(id) ?? []);
      if (answers.length === 0) {
        // every request was cancelled: nothing to answer, as for notifications only
        this.res.writeHead(202).end();
      } else {
        const body = this.batch ? `[${answers.join(",")}]` : (answers[0] as string);
        this.res
          .writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
          .end(body);
      }
    }
    this.completed = true;
    this.settle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.settle();
    this.onclose?.();
  }
}

/**
 * What a Server connects to for a 2026-07-28 exchange. The SDK binds a Server to a 2026 revision
 * only when it connects to an instance of its own per-request transport (`Server.connect` reads the
 * classification off it); everything that transport would do with a web Response is replaced by the
 * exchange's direct writes.
 */
class ModernBinding extends PerRequestHTTPServerTransport {
  constructor(
    classification: MessageClassification,
    private readonly exchange: ExchangeTransport,
  ) {
    super({ classification });
    exchange.onclose = () => this.onclose?.();
  }

  override send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    return this.exchange.send(message, options);
  }

  override close(): Promise<void> {
    return this.exchange.close();
  }
}

/** The handler a Server's `onmessage` hands a request to (the SDK's `Protocol`; not public API). */
type RequestDispatch = (message: JSONRPCMessage, extra: unknown) => void;
const requestDispatchOf = (server: Server): RequestDispatch | undefined => {
  const method = (server as unknown as { _onrequest?: unknown })._onrequest;
  return typeof method === "function" ? (method as RequestDispatch) : undefined;
};

/** Whether requests skip the `onmessage` type guards (false if an SDK release renames the method). */
export function directDispatchAvailable(server: Server): boolean {
  return requestDispatchOf(server) !== undefined;
}

/**
 * Hands one message to the Server. A request goes straight to the handler its `onmessage` would call
 * after finding the message is neither a result nor an error response — found here without the two
 * failed parses: it passed `isJSONRPCRequest` where the exchange was checked and carries no `result`
 * or `error` member. Everything else, and every message if the SDK lacks the method, goes through
 * `onmessage` as before.
 */
function dispatch(
  server: Server,
  transport: Transport,
  message: JSONRPCMessage,
  isRequest: boolean,
  extra: { authInfo: AuthInfo; classification: MessageClassification | undefined },
): void {
  const handle = isRequest && !("result" in message) && !("error" in message) ? requestDispatchOf(server) : undefined;
  if (handle) handle.call(server, message, extra);
  else transport.onmessage?.(message, extra);
}

/** The request id a `notifications/cancelled` names, if the message is one. */
function cancelledId(message: JSONRPCMessage): RequestId | undefined {
  if (!("method" in message) || message.method !== "notifications/cancelled" || "id" in message) return undefined;
  const id = (message.params as { requestId?: unknown } | undefined)?.requestId;
  return typeof id === "string" || typeof id === "number" ? id : undefined;
}

/**
 * Serves the messages on a fresh Server: 2025-era ones (`classification` undefined), or the one
 * 2026-07-28 request of `modernRequest` with its classification (the Server must list that revision
 * in its `supportedProtocolVersions`). Resolves once the answer is written (202 with no body when the
 * POST carried notifications only), or once the client went away.
 */
export async function serveExchange(
  server: Server,
  res: ServerResponse,
  { messages, requests, batch }: ExchangeMessages,
  extra: { authInfo: AuthInfo; classification: MessageClassification | undefined },
  hooks: ExchangeHooks,
  /** The keep-alive period (tests shorten it). */
  keepAliveMs = KEEP_ALIVE_MS,
): Promise<void> {
  const order = messages.filter((m) => requests.has(m)).map((m) => (m as { id: RequestId }).id);
  const exchange = new ExchangeTransport(
    res,
    messages,
    order,
    batch,
    hooks,
    extra.classification === undefined,
    keepAliveMs,
  );
  const transport: Transport = extra.classification ? new ModernBinding(extra.classification, exchange) : exchange;
  transport.onerror = hooks.onerror;
  await server.connect(transport);
  // The SDK reports a response it could not send here (not through the transport's onerror).
  server.onerror = hooks.onerror;
  const onClose = () => void server.close().catch(hooks.onerror);
  res.once("close", onClose);
  try {
    for (const message of messages) {
      dispatch(server, transport, message, requests.has(message), extra);
      // A request of this POST cancelled by a later message of it: the SDK aborts its handler and
      // sends no answer (nor should it: the cancellation utility), so the exchange stops waiting for one.
      const cancelled = cancelledId(message);
      if (cancelled !== undefined) exchange.forget(cancelled);
    }
    if (order.length === 0) {
      res.writeHead(202).end();
      return;
    }
    await exchange.done;
  } finally {
    res.off("close", onClose);
    // A completed exchange leaves nothing running: the Server and its transport are simply dropped.
    // Closing would only build the SDK's "Connection closed" error (a stack trace, ~20 µs) for
    // in-flight handlers, and there are none. An exchange the client left is closed, which aborts them.
    if (!exchange.completed) await server.close().catch(hooks.onerror);
  }
}

/** Resolves once `res` can take more, or is gone. */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Whether an Accept list names `application/json` itself with a quality above 0. */
function acceptsJson(accept: string): boolean {
  return accept.split(",").some((range) => {
    const [type = "", ...params] = range.split(";");
    if (type.trim().toLowerCase() !== "application/json") return false;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
