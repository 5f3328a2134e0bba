import type { ToolMeta, ToolName } from "../../generated/registry.js";
import type { ToolTypes } from "../../generated/types.js";

/** Who is calling: set when the caller presented a valid credential. Never holds the raw token. */
export interface Principal {
  /** `sub` of the token, or the API key's name. */
  readonly subject: string;
  /** A stable id derived from issuer and subject, safe in file names, URLs and DNS labels (RFC 1123). */
  readonly userId: string;
  readonly clientId?: string;
  readonly scopes: readonly string[];
  readonly issuer?: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly via: "oauth2" | "api-key";
}

export type LogFn = (obj: object | string, msg?: string) => void;
export interface HandlerLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export type LoggingLevel = "debug" | "info" | "notice" | "warning" | "error" | "critical" | "alert" | "emergency";

/** A content block of a tool result (MCP `ContentBlock`). */
export type ContentBlock =
  | { type: "text"; text: string; annotations?: Record<string, unknown>; _meta?: Record<string, unknown> }
  | {
      type: "image" | "audio";
      data: string;
      mimeType: string;
      annotations?: Record<string, unknown>;
      _meta?: Record<string, unknown>;
    }
  | {
      type: "resource";
      resource: { uri: string; mimeType?: string; text?: string; blob?: string };
      annotations?: Record<string, unknown>;
      _meta?: Record<string, unknown>;
    }
  | {
      type: "resource_link";
      uri: string;
      name: string;
      mimeType?: string;
      description?: string;
      title?: string;
      _meta?: Record<string, unknown>;
    };

/** A complete MCP `CallToolResult`, for handlers that return rich content. Build it with `toolResult()`. */
export interface ToolResult<S = Record<string, unknown>> {
  content: ContentBlock[];
  structuredContent?: S;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

const TOOL_RESULT = Symbol.for("toolgate.toolResult");

/** Marks a value as a full `CallToolResult` rather than a structured result. */
export function toolResult<S = Record<string, unknown>>(result: ToolResult<S>): ToolResult<S> {
  return Object.defineProperty(result, TOOL_RESULT, { value: true, enumerable: false });
}

export function isToolResult(value: unknown): value is ToolResult {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[TOOL_RESULT] === true;
}

interface BaseContext {
  /** A child logger bound to this request (request id, tool). */
  readonly log: HandlerLogger;
  /** Aborts when the client cancels or disconnects. */
  readonly signal: AbortSignal;
  /** The id answered to the client in generic error messages. */
  readonly requestId: string;
  /** Sends a progress notification when the client asked for them (a no-op otherwise). */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /** Sends a log message to the client (`notifications/message`). */
  notify(level: LoggingLevel, data: unknown): Promise<void>;
}

interface AuthContext<A> extends BaseContext {
  /** The caller. */
  readonly auth: A;
  /**
   * Throws unless the caller holds every scope; the client gets the standard challenge
   * (401 to sign in, 403 insufficient_scope to step up) naming all of them.
   */
  requireScopes(...scopes: string[]): void;
}

/** `ctx.auth` follows the tool's schemes: required (oauth2 only), optional (noauth + oauth2), absent (noauth). */
export type HandlerContext<N extends ToolName> = ToolMeta<N>["auth"] extends "required"
  ? AuthContext<Principal>
  : ToolMeta<N>["auth"] extends "optional"
    ? AuthContext<Principal | undefined>
    : BaseContext;

export type ToolInput<N extends ToolName> = ToolTypes[N]["input"];
export type ToolOutput<N extends ToolName> = ToolTypes[N]["output"];

/** With an output schema: the structured result (or a full ToolResult carrying it). Without: text, or a ToolResult. */
export type HandlerReturn<N extends ToolName> =
  ToolOutput<N> extends undefined ? string | ToolResult : ToolOutput<N> | ToolResult<NonNullable<ToolOutput<N>>>;

export type HandlerFunction<N extends ToolName> = (
  input: ToolInput<N>,
  ctx: HandlerContext<N>,
) => HandlerReturn<N> | Promise<HandlerReturn<N>>;

export interface ToolHandler<N extends ToolName> {
  readonly tool: N;
  readonly run: HandlerFunction<N>;
}

/** Every tool mapped to a handler defined for that very tool: checked by `generated/handlers.ts`. */
export type HandlerMap = { readonly [N in ToolName]: ToolHandler<N> };

/**
 * Defines the handler of tool `name`: `input` is the tool's generated argument type (already
 * validated), the return value is checked against its output schema, `ctx.auth` is typed by its schemes.
 */
export function defineHandler<N extends ToolName>(name: N, run: HandlerFunction<N>): ToolHandler<N> {
  return Object.freeze({ tool: name, run });
}
