/**
 * The handler API, generic over a project's generated types: `generated/define-handler.ts` binds
 * it to one project's tools (`defineHandler`, `HandlerContext<"tool">`, …), so one runtime serves any
 * project generated from a tools.yaml.
 */

/** What the generator knows of a project, as types: each tool's auth presence and its I/O types. */
export interface ProjectTypes {
  /** `typeof registry`: tool name → `{ auth: "none" | "optional" | "required", … }`. */
  registry: object;
  /** `ToolTypes`: tool name → `{ input, output }`. */
  types: { readonly [name: string]: { readonly input: unknown; readonly output: unknown } };
  /** `typeof scopeCatalogue`: auth.yaml's scopes at generate time, what `ctx.requireScopes()` may name. */
  scopes: object;
}

export type ToolNameOf<P extends ProjectTypes> = keyof P["registry"] & keyof P["types"] & string;
type AuthOf<P extends ProjectTypes, N extends ToolNameOf<P>> = P["registry"][N] extends { auth: infer A } ? A : never;

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

/**
 * A complete MCP `CallToolResult`, for handlers that return rich content: `toolResult({ content: [...] })`,
 * or (for a tool without an output schema) the plain object `{ content: [...] }`.
 */
export interface ToolResult<S = Record<string, unknown>> {
  content: ContentBlock[];
  structuredContent?: S;
  isError?: boolean;
  _meta?: Record<string, unknown>;
}

/**
 * A JSON object a tool without an output schema returns as its structured result: sent as
 * `structuredContent` and as its JSON text. An object with a `content` property is a ToolResult instead.
 */
export type StructuredResult = { readonly [key: string]: unknown; readonly content?: never };

const TOOL_RESULT = Symbol.for("toolgate.toolResult");

/** The type of TOOL_RESULT's mark (a type-level name only: the value is the symbol above). */
declare const marked: unique symbol;

/**
 * A ToolResult made by `toolResult()`. A tool with an output schema takes only this form of a full
 * result: the runtime tells it from a structured result by the mark, so a plain
 * `{ content, structuredContent }` there is checked as the structured result itself (and refused).
 */
export type MarkedToolResult<S = Record<string, unknown>> = ToolResult<S> & { readonly [marked]: true };

/**
 * Marks a value as a full `CallToolResult` rather than a structured result. The mark is an enumerable
 * symbol property: a spread (`{ ...toolResult(r), _meta }`) keeps it, as its type says, and JSON
 * never carries a symbol key.
 */
export function toolResult<S = Record<string, unknown>>(result: ToolResult<S>): MarkedToolResult<S> {
  return Object.defineProperty(result, TOOL_RESULT, { value: true, enumerable: true }) as MarkedToolResult<S>;
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
  /**
   * Sends a progress notification when the client asked for them (a no-op otherwise, and for a
   * `progress` that is not a finite number; a `total` that is not is left out). Await it: it resolves
   * once the client can take more, so a handler keeps pace with a slow reader; what is sent without
   * waiting is dropped while more than a megabyte waits for the client (the same for `notify`).
   */
  progress(progress: number, total?: number, message?: string): Promise<void>;
  /**
   * Sends a log message to the client (`notifications/message`); to a 2026-07-28 client only when
   * its request carries a log level (`io.modelcontextprotocol/logLevel`), at that level or above.
   */
  notify(level: LoggingLevel, data: unknown): Promise<void>;
}

/** A scope of the project's catalogue (auth.yaml's `scopes`). */
export type ScopeOf<P extends ProjectTypes> = keyof P["scopes"] & string;

interface AuthContext<A, S extends string> extends BaseContext {
  /** The caller. */
  readonly auth: A;
  /**
   * Throws unless the caller holds every scope; the client gets the standard challenge
   * (401 to sign in, 403 insufficient_scope to step up) naming all of them. Only scopes that
   * auth.yaml declares: the server refuses any other (a call no token could pass) with an internal
   * error, and logs it.
   */
  requireScopes(...scopes: S[]): void;
}

/** `ctx.auth` follows the tool's schemes: required (oauth2 only), optional (noauth + oauth2), absent (noauth). */
export type HandlerContextOf<P extends ProjectTypes, N extends ToolNameOf<P>> =
  AuthOf<P, N> extends "required"
    ? AuthContext<Principal, ScopeOf<P>>
    : AuthOf<P, N> extends "optional"
      ? AuthContext<Principal | undefined, ScopeOf<P>>
      : BaseContext;

// Indexed access, not `infer`: while TypeScript infers N from defineHandler's tool name, it types the
// handler's return value against these; an indexed access still offers the literal types there
// (`type: "text"`, an enum's values), a conditional type with `infer` widened them to string.
export type ToolInputOf<P extends ProjectTypes, N extends ToolNameOf<P>> = P["types"][N]["input"];
export type ToolOutputOf<P extends ProjectTypes, N extends ToolNameOf<P>> = P["types"][N]["output"];

/**
 * With an output schema: the structured result (or a `toolResult()` carrying it; a plain
 * `{ content, structuredContent }` is not told from a structured result there). Without: text (one
 * text block), a ToolResult (`toolResult(...)` or a plain `{ content: [...] }`), or a JSON object
 * (structured content plus its JSON text).
 */
export type HandlerReturnOf<P extends ProjectTypes, N extends ToolNameOf<P>> =
  ToolOutputOf<P, N> extends undefined
    ? string | ToolResult | StructuredResult
    : ToolOutputOf<P, N> | MarkedToolResult<NonNullable<ToolOutputOf<P, N>>>;

export type HandlerFunctionOf<P extends ProjectTypes, N extends ToolNameOf<P>> = (
  input: ToolInputOf<P, N>,
  ctx: HandlerContextOf<P, N>,
) => HandlerReturnOf<P, N> | Promise<HandlerReturnOf<P, N>>;

export interface ToolHandler<N extends string = string, F = (input: never, ctx: never) => unknown> {
  readonly tool: N;
  readonly run: F;
}

/** Every tool mapped to a handler defined for that very tool: checked by `generated/handlers.ts`. */
export type HandlerMapOf<P extends ProjectTypes> = {
  readonly [N in ToolNameOf<P>]: ToolHandler<N, HandlerFunctionOf<P, N>>;
};

/**
 * Returns the project's `defineHandler(name, fn)`: `input` is the tool's generated argument type
 * (already validated), the return value is checked against its output schema, `ctx.auth` is typed
 * by its schemes, and a name that is not a tool of the project does not compile.
 */
export function createDefineHandler<P extends ProjectTypes>() {
  return <N extends ToolNameOf<P>>(name: N, run: HandlerFunctionOf<P, N>): ToolHandler<N, HandlerFunctionOf<P, N>> =>
    Object.freeze({ tool: name, run });
}
