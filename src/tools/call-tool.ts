import type { ToolName } from "../../generated/registry.js";
import { didYouMean } from "../config/diagnostics.js";
import {
  HandlerModuleError,
  type LoadedTool,
  type PreparedTool,
  type ScopeCatalogue,
  type ToolCatalogue,
} from "./catalogue.js";
import { ScopeRequiredError, ToolError, UnknownToolError } from "./errors.js";
import { type HandlerLogger, isToolResult, type LoggingLevel, type Principal, type ToolResult } from "./handler-api.js";
import { formatIssues } from "./standard-schema.js";

/** What the transport layer provides to one `tools/call`. */
export interface CallEnvironment {
  principal: Principal | undefined;
  requestId: string;
  log: HandlerLogger & { child(bindings: object): HandlerLogger };
  signal: AbortSignal;
  progress(progress: number, total?: number, message?: string): Promise<void>;
  notify(level: LoggingLevel, data: unknown): Promise<void>;
}

export type CallToolResultBody = ToolResult & { isError?: boolean };

const errorResult = (text: string): CallToolResultBody => ({ content: [{ type: "text", text }], isError: true });

/**
 * Serves one `tools/call`: find the tool, validate the arguments with the precompiled validator, run
 * the handler, check its result against the output schema, render it. Every failure of the call
 * itself becomes an `isError` result; two errors escape: UnknownToolError (no such tool: a JSON-RPC
 * error, as the spec has it) and ScopeRequiredError, for the auth layer.
 */
export async function callTool(
  catalogue: ToolCatalogue,
  params: { name?: unknown; arguments?: unknown },
  env: CallEnvironment,
): Promise<CallToolResultBody> {
  const name = typeof params.name === "string" ? params.name : "";
  const tool = catalogue.get(name);
  if (!tool) throw new UnknownToolError(name);

  const log = env.log.child({ tool: name });
  let code: LoadedTool;
  try {
    code = await tool.load();
  } catch (error) {
    // A handler module of the wrong shape: the message says what and where; its stack is the runtime's.
    if (error instanceof HandlerModuleError) log.error(`tool code failed to load: ${error.message}`);
    else log.error({ err: error }, "tool code failed to load");
    return errorResult(`Tool ${name} failed with an internal error (request id ${env.requestId}).`);
  }

  const args = params.arguments ?? {};
  let checked: ReturnType<LoadedTool["input"]["~standard"]["validate"]>;
  try {
    checked = code.input["~standard"].validate(args);
  } catch (error) {
    // A recursive schema's validator recurses with the arguments: thousands of levels (a 200 KB
    // body) overflow the stack. The client's arguments, so the client's error, not the server's.
    if (error instanceof RangeError)
      return errorResult(`Invalid arguments for tool ${name}: nested too deeply to be checked`);
    log.error({ err: error }, "tool arguments could not be checked");
    return errorResult(`Tool ${name} failed with an internal error (request id ${env.requestId}).`);
  }
  if (checked.issues) return errorResult(`Invalid arguments for tool ${name}: ${formatIssues(checked.issues)}`);

  try {
    const ctx = handlerContext(tool, env, log, catalogue.scopeCatalogue);
    const value = await code.run(checked.value as never, ctx as never);
    // Inside the try: rendering serialises a plain result, which throws for a cycle or a BigInt.
    const result = renderResult(tool, code, value, env.requestId, log);
    const problem = typeof result === "string" ? result : malformation(result);
    if (problem !== undefined) return malformedResult(name, problem, env.requestId, log);
    return result as CallToolResultBody;
  } catch (error) {
    if (error instanceof ScopeRequiredError) throw error;
    if (error instanceof ToolError) return errorResult(error.message);
    if (error instanceof UndeclaredScopeError)
      return errorResult(`Tool ${name} failed with an internal error (request id ${env.requestId}).`);
    // A handler that honours ctx.signal throws once the client has gone: expected, and no one is
    // waiting for the answer. Logged at debug rather than as a failure with its stack.
    if (env.signal.aborted) log.debug({ err: error }, "tool handler stopped: the client went away");
    else log.error({ err: error }, "tool handler failed");
    return errorResult(`Tool ${name} failed with an internal error (request id ${env.requestId}).`);
  }
}

/**
 * A result the tool should not have returned: the detail logged, the client told only that (and the
 * request id). The SDK would refuse it with a -32602 listing zod's issues, blaming the client, and
 * log nothing; what its own check of a result still finds beyond `malformation()` (base64, annotation
 * ranges…) is answered here too (src/mcp/).
 */
export function malformedResult(
  tool: string,
  detail: string,
  requestId: string,
  log: Pick<HandlerLogger, "error">,
): CallToolResultBody {
  log.error({ detail: detail.slice(0, 2000) }, "tool result is malformed");
  return errorResult(`Tool ${tool} returned a malformed result (request id ${requestId}).`);
}

/** What each content block type needs besides `type` (MCP `ContentBlock`), as string properties. */
const BLOCK_FIELDS: ReadonlyMap<string, readonly string[]> = new Map([
  ["text", ["text"]],
  ["image", ["data", "mimeType"]],
  ["audio", ["data", "mimeType"]],
  ["resource_link", ["uri", "name"]],
]);

/**
 * What makes a result not one the protocol accepts, checked cheaply (the SDK validates the rest:
 * base64, annotations), or undefined: a `content` array of known content blocks with their fields.
 */
function malformation(result: CallToolResultBody): string | undefined {
  const content = (result as { content?: unknown }).content;
  if (!Array.isArray(content)) return "content must be an array of content blocks";
  for (let i = 0; i < content.length; i++) {
    const block = content[i];
    if (typeof block !== "object" || block === null || typeof block.type !== "string")
      return `content[${i}] is not a content block (an object with a type)`;
    if (block.type === "resource") {
      const resource = block.resource;
      if (typeof resource?.uri !== "string" || (typeof resource.text !== "string" && typeof resource.blob !== "string"))
        return `content[${i}] needs resource.uri and resource.text or resource.blob (strings) in a block of type "resource"`;
      continue;
    }
    const fields = BLOCK_FIELDS.get(block.type);
    if (!fields)
      return `content[${i}] has type ${JSON.stringify(block.type)}: not text, image, audio, resource or resource_link`;
    for (const field of fields)
      if (typeof block[field] !== "string")
        return `content[${i}] needs ${field} (a string) in a block of type ${JSON.stringify(block.type)}`;
  }
  const isError = (result as { isError?: unknown }).isError;
  if (isError !== undefined && typeof isError !== "boolean") return "isError must be a boolean";
  return undefined;
}

/**
 * `ctx.requireScopes()` named a scope auth.yaml does not declare: a mistake in the handler (a typo,
 * most often) that would otherwise send a challenge for a scope the server offers nobody. Logged
 * where it happens (also when the handler catches it) and answered as an internal error: the call is
 * refused either way.
 */
class UndeclaredScopeError extends Error {
  override readonly name = "UndeclaredScopeError";
  constructor(tool: string, undeclared: readonly string[], catalogue: ScopeCatalogue) {
    const named = undeclared.map((scope) => {
      const near = didYouMean(scope, catalogue.scopes);
      return `${JSON.stringify(scope)}${near ? ` (did you mean ${JSON.stringify(near)}?)` : ""}`;
    });
    super(
      `ctx.requireScopes() in tool ${tool} asks for ${named.join(", ")}, which ${catalogue.file} does not declare: the call is refused; declare it under scopes: in ${catalogue.file}, or correct the handler`,
    );
  }
}

function handlerContext(tool: PreparedTool, env: CallEnvironment, log: HandlerLogger, catalogue: ScopeCatalogue) {
  // Literals, not `{ ...ctx, auth }`: a spread here was ~2 µs of CPU per call under load.
  if (tool.meta.auth === "none")
    return { log, signal: env.signal, requestId: env.requestId, progress: env.progress, notify: env.notify };
  return {
    log,
    signal: env.signal,
    requestId: env.requestId,
    progress: env.progress,
    notify: env.notify,
    auth: env.principal,
    requireScopes(...scopes: string[]) {
      const undeclared = scopes.filter((s) => !catalogue.scopes.has(s));
      if (undeclared.length > 0) {
        const error = new UndeclaredScopeError(tool.name, undeclared, catalogue);
        log.error(error.message);
        throw error;
      }
      const held = new Set(env.principal?.scopes ?? []);
      const missing = scopes.filter((s) => !held.has(s));
      if (!env.principal || missing.length > 0) {
        const needed = [...new Set([...tool.meta.scopes, ...scopes])];
        throw new ScopeRequiredError(tool.name as ToolName, needed, env.principal ? missing : scopes);
      }
    },
  };
}

/** The result to send, or what is wrong with the handler's return value. */
function renderResult(
  tool: PreparedTool,
  code: LoadedTool,
  value: unknown,
  requestId: string,
  log: HandlerLogger,
): CallToolResultBody | string {
  const badOutput = (detail: string) => {
    log.error({ detail }, "tool result does not match its output schema");
    return errorResult(
      `Tool ${tool.name} returned a result that does not match its output schema (request id ${requestId}).`,
    );
  };
  if (isToolResult(value)) {
    if (code.output && !value.isError) {
      const sent = asSent(value.structuredContent);
      if (typeof sent === "string") return badOutput(sent);
      const checked = code.output["~standard"].validate(sent);
      if (checked.issues) return badOutput(formatIssues(checked.issues));
      return { ...value, structuredContent: sent };
    }
    return value;
  }
  if (code.output) {
    const sent = asSent(value);
    if (typeof sent === "string") return badOutput(sent);
    const checked = code.output["~standard"].validate(sent);
    if (checked.issues) return badOutput(formatIssues(checked.issues));
    return { content: [{ type: "text", text: JSON.stringify(sent) }], structuredContent: sent };
  }
  // Without an output schema: text, a CallToolResult written out, or a JSON object (structured content).
  if (typeof value === "string") return { content: [{ type: "text", text: value }] };
  if (!isPlainObject(value) || typeof value.toJSON === "function")
    return `a tool without an output schema returns a string, a CallToolResult ({ content: [...] } or toolResult(...)) or a plain JSON object, not ${kindOf(value)}`;
  // `content` makes it a CallToolResult (checked by malformation()), as the handler types say.
  if (value.content !== undefined) return value as unknown as CallToolResultBody;
  // As a tool with an output schema answers: structured content and, for clients that read text only, its JSON.
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

/**
 * Structured content as it will be sent: the JSON the client gets, parsed back. The output schema
 * is checked on that, not on the handler's value — a class instance's getters, a `toJSON` or a Date
 * deep inside serialise to something else than the object the validator saw — and the validator's
 * defaults go into this copy, never into the handler's object (a frozen constant threw). A string
 * says what is wrong with a value that is not a plain object.
 */
function asSent(value: unknown): Record<string, unknown> | string {
  if (!isPlainObject(value) || typeof value.toJSON === "function")
    return `a structured result is a plain JSON object, not ${kindOf(value)}`;
  // A plain object without toJSON serialises to an object (its members' own toJSON aside).
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (isPlainObject(value) && typeof value.toJSON === "function") return "an object with a toJSON method";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return `an instance of ${value.constructor?.name ?? "a class"}`;
  return `a ${typeof value}`;
}
