/**
 * Short answers for the params the SDK refuses with zod's dump. The SDK checks the params of the
 * methods it registers itself (`initialize`, `logging/setLevel`) inside their handlers, where a
 * mismatch is a plain Error: the client got -32603 (internal error) whose message was zod's JSON dump
 * of the issues, several lines and hundreds of characters. `tools/call`'s own check (in the Server's
 * `_wrapHandler`) answers -32602, with the same dump after "Invalid tools/call request: ".
 *
 * Neither check can be replaced without giving up what comes with it (the SDK's `initialize`
 * handshake, tools/call's result validation), and a check of toolgate's in front of tools/call would
 * cost every valid call. So the SDK's refusal stands — same request, same place in a batch — and only
 * its answer is made short: -32602 "Invalid params for initialize: protocolVersion: must be a
 * string". Nothing of the request but member names is repeated. Two places apply it, both only once
 * the SDK has refused: toolgate's own transports, on the error response (./exchange.ts), and the
 * Server the SDK's entry serves, on the error thrown (./endpoint.ts).
 *
 * (`tools/list` is registered with a params schema of toolgate's instead: the SDK then answers a
 * mismatch -32602 itself, see endpoint.ts.)
 */
import { ProtocolErrorCode, type StandardSchemaV1, specTypeSchemas } from "@modelcontextprotocol/server";

/** The spec's params schemas of the methods whose refusal is made short (the SDK's public copies). */
const PARAMS_SCHEMAS: ReadonlyMap<string, StandardSchemaV1> = new Map<string, StandardSchemaV1>([
  ["initialize", specTypeSchemas.InitializeRequestParams],
  ["logging/setLevel", specTypeSchemas.SetLevelRequestParams],
  ["tools/call", specTypeSchemas.CallToolRequestParams],
]);

/** The start of the message of the SDK's refusal of tools/call params (then zod's dump). */
const CALL_TOOL_REFUSAL = "Invalid tools/call request: ";
/** The start of the message of the SDK's refusal of a tools/call *result* (its check after the handler). */
const CALL_TOOL_RESULT_REFUSAL = "Invalid tools/call result: ";

/**
 * What the SDK found wrong with a tool's result, when this error is its refusal of one (-32602
 * "Invalid tools/call result: " and zod's dump): then the result is the server's fault, not the
 * caller's, and is answered as toolgate answers a malformed result. Undefined for any other error.
 */
export function resultRefusal(method: string, code: number, message: string): string | undefined {
  if (method !== "tools/call" || code !== ProtocolErrorCode.InvalidParams) return undefined;
  return message.startsWith(CALL_TOOL_RESULT_REFUSAL) ? message.slice(CALL_TOOL_RESULT_REFUSAL.length) : undefined;
}

/** What is said of params too deeply nested for the schema to be checked at all. */
const TOO_DEEP = "nested too deeply to be checked";

/** At most this many problems are named; the rest are counted. */
const MAX_ISSUES = 3;
/** A member name longer than this is cut. */
const MAX_SEGMENT = 40;

const ARTICLES: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "a boolean",
  object: "an object",
  record: "an object",
  array: "an array",
  tuple: "an array",
};

/** A member name as shown: printable ASCII only (a name can hold a line break), cut when long. */
function segment(key: PropertyKey | StandardSchemaV1.PathSegment): string {
  const raw = typeof key === "object" ? key.key : key;
  const text = String(typeof raw === "symbol" ? "?" : raw).replace(/[^\x20-\x7e]/g, "?");
  return text.length > MAX_SEGMENT ? `${text.slice(0, MAX_SEGMENT)}…` : text;
}

/** The value at `path` in `params`, or undefined when a member on the way is absent. */
function valueAt(params: unknown, path: readonly (PropertyKey | StandardSchemaV1.PathSegment)[]): unknown {
  let value = params;
  for (const step of path) {
    if (value === null || typeof value !== "object") return undefined;
    const key = typeof step === "object" ? step.key : step;
    value = Object.hasOwn(value, key) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  return value;
}

/**
 * What is wrong with one member, in a few words: from the issue's kind (zod's `code`, `expected`,
 * `values`), never from its message, which names what was received.
 */
function problem(issue: StandardSchemaV1.Issue, params: unknown): string {
  const { code, expected, values } = issue as StandardSchemaV1.Issue & {
    code?: unknown;
    expected?: unknown;
    values?: unknown;
  };
  if (issue.path?.length && valueAt(params, issue.path) === undefined) return "is required";
  if (code === "invalid_type" && typeof expected === "string" && ARTICLES[expected])
    return `must be ${ARTICLES[expected]}`;
  if (code === "invalid_value" && Array.isArray(values) && values.every((v) => typeof v === "string"))
    return `must be one of ${values.join(", ")}`;
  return "is invalid";
}

/** Whether the SDK's refusal of `method`'s params is made short here. */
export const refusalMadeShort = (method: string): boolean => PARAMS_SCHEMAS.has(method);

/** "protocolVersion: must be a string, clientInfo.name: is required", or undefined when the params are valid. */
function paramsProblems(method: string, params: unknown): string | undefined {
  const schema = PARAMS_SCHEMAS.get(method);
  if (!schema) return undefined;
  let result: ReturnType<StandardSchemaV1["~standard"]["validate"]>;
  try {
    result = schema["~standard"].validate(params ?? {});
  } catch {
    return TOO_DEEP;
  }
  // The spec schemas are synchronous: zod goes async only when its synchronous parse threw — the
  // stack overflowed on params nested thousands deep, as the SDK's own check did. That promise
  // rejects too, and unhandled it ended the process (one 12 KB initialize stopped the server).
  if (result instanceof Promise) {
    result.catch(() => {});
    return TOO_DEEP;
  }
  if (!result.issues?.length) return undefined;
  // zod can report one member twice (an intersection checks it as an object and as a record): each
  // member and problem is named once.
  const all = [
    ...new Set(
      result.issues.map((issue) => {
        const path = issue.path?.map(segment).join(".");
        return path ? `${path}: ${problem(issue, params)}` : problem(issue, params);
      }),
    ),
  ];
  const named = all.slice(0, MAX_ISSUES);
  const more = all.length - named.length;
  return `${named.join(", ")}${more > 0 ? ` (and ${more} more)` : ""}`;
}

/**
 * The short message for the SDK's refusal of a request (its error `code` and `message`), when the
 * refusal is its check of the request's params: "Invalid params for tools/call: name: must be a
 * string"; undefined for any other error, which is answered as it was.
 */
export function invalidParamsMessage(
  method: string,
  params: unknown,
  code: number,
  message: string,
): string | undefined {
  if (!refusalMadeShort(method)) return undefined;
  if (method === "tools/call") {
    if (code !== ProtocolErrorCode.InvalidParams || !message.startsWith(CALL_TOOL_REFUSAL)) return undefined;
    // The refusal is certain here; the spec's schema only words it (it may miss what the era's schema saw).
    const problems = paramsProblems(method, params);
    return problems ? `Invalid params for ${method}: ${problems}` : `Invalid params for ${method}`;
  }
  // initialize and logging/setLevel: the SDK's check failed as an internal error. Its handler does
  // nothing else that can fail, and the params fail the spec's schema: that check it was.
  if (code !== ProtocolErrorCode.InternalError) return undefined;
  const problems = paramsProblems(method, params);
  return problems ? `Invalid params for ${method}: ${problems}` : undefined;
}
