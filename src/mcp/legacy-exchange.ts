/**
 * 2025-era (stateless Streamable HTTP) requests served by the SDK's `Server` over a transport that
 * lives for one HTTP exchange and writes to Node's response directly.
 *
 * Why not the SDK's legacy fallback: for every 2025 POST it builds a WebStandard transport, answers
 * over SSE even for a one-line result (a ReadableStream, a TextEncoder, a priming frame, a keep-alive
 * interval), wraps that stream in a second one to notice its end, validates every message with zod
 * twice, and hands toolgate a web Response it must copy back into Node. Here the answer is plain JSON
 * unless the handler streams (progress, log messages), in which case the reply turns into SSE at the
 * first notification — what the 2025 transport spec allows ("either application/json or
 * text/event-stream"), and what the SDK itself does on the 2026 path. Only requests this path
 * answers exactly as the SDK would are taken (see `legacyMessages`); the rest still go to the SDK.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type AuthInfo,
  classifyInboundRequest,
  isInitializeRequest,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type Server,
  SUPPORTED_PROTOCOL_VERSIONS,
  type Transport,
  type TransportSendOptions,
} from "@modelcontextprotocol/server";

/** The SDK's bound on a JSON-RPC batch (its legacy transport refuses longer ones). */
const MAX_BATCH_SIZE = 100;

const SSE_HEADERS = {
  "Content-Type": "text/event-stream",
  "Cache-Control": "no-cache, no-transform",
  Connection: "keep-alive",
  "X-Accel-Buffering": "no",
};

type RequestId = string | number;

const header = (req: IncomingMessage, name: string): string | undefined => {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
};

/**
 * The messages of a 2025-era POST this path serves, or undefined when the request must go to the SDK:
 * not classified legacy, an Accept the SDK would refuse (406), an unsupported MCP-Protocol-Version
 * (400), a batch over the bound, carrying `initialize` or reusing a request id, or anything that is not a well-formed
 * JSON-RPC request or notification (the SDK answers those with its own errors).
 */
export function legacyMessages(req: IncomingMessage, body: unknown): JSONRPCMessage[] | undefined {
  if (req.method !== "POST" || body === undefined) return undefined;
  const accept = header(req, "accept");
  if (!accept?.includes("application/json") || !accept.includes("text/event-stream")) return undefined;
  const version = header(req, "mcp-protocol-version");
  if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version.trim())) return undefined;
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
  const messages = Array.isArray(body) ? body : [body];
  if (messages.length === 0 || messages.length > MAX_BATCH_SIZE) return undefined;
  // Answers are matched to requests by id: a batch reusing an id is left to the SDK.
  const ids = new Set<unknown>();
  for (const message of messages) {
    if (isJSONRPCRequest(message)) {
      if (ids.has(message.id) || (messages.length > 1 && isInitializeRequest(message))) return undefined;
      ids.add(message.id);
    } else if (!isJSONRPCNotification(message)) return undefined;
  }
  return messages as JSONRPCMessage[];
}

/** Hooks the endpoint gives one exchange. */
export interface LegacyExchangeHooks {
  /** Called once when the reply turns into an SSE stream (headers are then on the wire). */
  onStreaming(): void;
  /** Called before the final answer is written; returning true means the hook answered instead. */
  beforeAnswer(): boolean;
  onerror(error: Error): void;
}

/** A Transport whose lifetime is one HTTP exchange: answers JSON, or SSE once a notification streams. */
class ExchangeTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport["onmessage"];
  private readonly pending: Set<RequestId>;
  private readonly answers = new Map<RequestId, JSONRPCMessage>();
  private streaming = false;
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
    private readonly order: readonly RequestId[],
    private readonly batch: boolean,
    private readonly hooks: LegacyExchangeHooks,
  ) {
    this.pending = new Set(order);
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed || this.completed) return;
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const id = message.id as RequestId;
      if (!this.pending.delete(id)) return;
      if (this.streaming) this.frame(message);
      else this.answers.set(id, message);
      if (this.pending.size === 0) this.finish();
      return;
    }
    // A notification (progress, log message) belongs on the stream of the request it relates to.
    // Without a session there is no standalone stream, so anything unrelated is dropped.
    const related = options?.relatedRequestId as RequestId | undefined;
    if (related === undefined || !this.pending.has(related)) return;
    if (!this.streaming) {
      this.streaming = true;
      this.hooks.onStreaming();
      this.res.writeHead(200, SSE_HEADERS);
      for (const answer of this.answers.values()) this.frame(answer);
      this.answers.clear();
    }
    this.frame(message);
  }

  private frame(message: JSONRPCMessage): void {
    this.res.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
  }

  private finish(): void {
    if (this.streaming) {
      this.res.end();
    } else if (!this.hooks.beforeAnswer()) {
      const answers = this.order.map((id) => this.answers.get(id));
      const body = JSON.stringify(this.batch ? answers : answers[0]);
      this.res
        .writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) })
        .end(body);
    }
    this.completed = true;
    this.settle();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.settle();
    this.onclose?.();
  }
}

/**
 * Serves the messages on a fresh Server. Resolves once the answer is written (202 with no body
 * when the POST carried notifications only), or once the client went away.
 */
export async function serveLegacyExchange(
  server: Server,
  res: ServerResponse,
  messages: readonly JSONRPCMessage[],
  authInfo: AuthInfo,
  hooks: LegacyExchangeHooks,
): Promise<void> {
  const order = messages.filter(isJSONRPCRequest).map((m) => m.id as RequestId);
  const transport = new ExchangeTransport(res, order, messages.length > 1, hooks);
  transport.onerror = hooks.onerror;
  await server.connect(transport);
  const onClose = () => void server.close().catch(hooks.onerror);
  res.once("close", onClose);
  try {
    for (const message of messages) transport.onmessage?.(message, { authInfo });
    if (order.length === 0) {
      res.writeHead(202).end();
      return;
    }
    await transport.done;
  } finally {
    res.off("close", onClose);
    // A completed exchange leaves nothing running: the Server and its transport are simply dropped.
    // Closing would only build the SDK's "Connection closed" error (a stack trace, ~20 µs) for
    // in-flight handlers, and there are none. An exchange the client left is closed, which aborts them.
    if (!transport.completed) await server.close().catch(hooks.onerror);
  }
}
