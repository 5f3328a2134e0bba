/**
 * What a POST to /mcp asks for, read from the parsed JSON-RPC body — every message of a batch — so
 * that decisions never rest on headers alone.
 */
export interface RpcCall {
  id: string | number | null | undefined;
  method: string;
  /** `params.name` (tools/call, prompts/get) or `params.uri` (resources/read). */
  target?: string;
  /** `params._meta` as sent (the 2026 envelope, `openai/*` keys, progressToken). */
  meta?: Record<string, unknown>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The calls of bodies that were a JSON array (a batch, even of one): rare, so not a field of every list. */
const batches = new WeakSet<readonly RpcCall[]>();

/** Whether `calls` came from a batch (a JSON array body), which JSON-RPC answers with an array. */
export function isBatch(calls: readonly RpcCall[]): boolean {
  return batches.has(calls);
}

/** The calls in a body; responses and malformed entries are left for the SDK to answer. */
export function rpcCalls(body: unknown): RpcCall[] {
  const messages = Array.isArray(body) ? body : [body];
  const calls: RpcCall[] = [];
  if (messages === body) batches.add(calls);
  for (const m of messages) {
    if (!isObject(m) || typeof m.method !== "string") continue;
    const params = isObject(m.params) ? m.params : {};
    const target =
      typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
    // Assigned, not spread in: conditional spreads were a measurable cost per request.
    // A JSON-RPC id is a string, a number or null; anything else is not echoed (a refusal answers null).
    const id = typeof m.id === "string" || typeof m.id === "number" || m.id === undefined ? m.id : null;
    const call: RpcCall = { id, method: m.method };
    if (target !== undefined) call.target = target;
    if (isObject(params._meta)) call.meta = params._meta;
    calls.push(call);
  }
  return calls;
}

const NAME_SOURCE = new Set(["tools/call", "prompts/get", "resources/read"]);

export function decodeHeader(value: string): string | undefined {
  if (!(value.startsWith("=?base64?") && value.endsWith("?="))) return value;
  const b64 = value.slice(9, -2);
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(b64, "base64"));
  } catch {
    return undefined;
  }
}

/**
 * Where `Mcp-Method` / `Mcp-Name` headers are present they must agree with the body, in either
 * protocol era (the SDK checks this only on the 2026 path): returns what disagrees, or undefined.
 */
export function headerMismatch(
  headers: { "mcp-method"?: string | string[]; "mcp-name"?: string | string[] },
  calls: RpcCall[],
): string | undefined {
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(",") : v);
  const method = one(headers["mcp-method"]);
  const rawName = one(headers["mcp-name"]);
  if (method !== undefined) {
    const other = calls.find((c) => c.method !== method);
    if (other)
      return `the Mcp-Method header names "${method.slice(0, 64)}" but the body calls "${other.method.slice(0, 64)}"`;
  }
  if (rawName !== undefined) {
    const name = decodeHeader(rawName);
    if (name === undefined) return "the Mcp-Name header carries an invalid Base64 value";
    for (const c of calls) {
      // A body without a string name is no request to compare with: the SDK refuses it (-32602).
      if (NAME_SOURCE.has(c.method) && c.target !== undefined && c.target !== name)
        return `the Mcp-Name header names "${name.slice(0, 128)}" but the body carries "${String(c.target).slice(0, 128)}"`;
    }
  }
  return undefined;
}

/** A JSON-RPC error body (id null when the request could not be identified). */
export function rpcError(code: number, message: string, id: RpcCall["id"] = null, data?: unknown) {
  return { jsonrpc: "2.0" as const, id: id ?? null, error: { code, message, ...(data !== undefined ? { data } : {}) } };
}

export const RPC = { PARSE_ERROR: -32700, INVALID_REQUEST: -32600, HEADER_MISMATCH: -32020 } as const;

/** One argument a tool mirrors in a header (SEP-2243 `x-mcp-header`): `Mcp-Param-<header>`. */
export interface ParamHeader {
  /** Lower-case full header name, e.g. `mcp-param-region`. */
  header: string;
  property: string;
}

const MODERN_VERSION = "2026-07-28";

/** How a primitive argument is written in a header (SEP-2243): strings as is, numbers in decimal, booleans in lower case. */
function headerForm(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** A decimal as the SDK's validator accepts one for a number argument (its CANONICAL_DECIMAL: `42`, `42.0`, `042`). */
const NUMBER_LITERAL = /^-?\d+(\.\d+)?$/;

/** SEP-2243: integer and number arguments are compared numerically (`42.0` and `42` are equal), as the SDK does. */
const sameNumber = (decoded: string, value: unknown): boolean =>
  typeof value === "number" && NUMBER_LITERAL.test(decoded) && Number(decoded) === value;

/**
 * SEP-2243: an `Mcp-Param-*` header must carry exactly its argument (Base64 sentinel decoded, and
 * strictly canonical); on a 2026-07-28 request an argument whose header is missing is refused too.
 * Returns what disagrees, or undefined.
 */
export function paramHeaderMismatch(
  headers: Record<string, string | string[] | undefined>,
  calls: RpcCall[],
  paramHeaders: (tool: string) => readonly ParamHeader[],
  args: (call: RpcCall) => Record<string, unknown> | undefined,
): string | undefined {
  for (const call of calls) {
    if (call.method !== "tools/call" || call.target === undefined) continue;
    const declared = paramHeaders(call.target);
    if (declared.length === 0) continue;
    const modern =
      headers["mcp-protocol-version"] === MODERN_VERSION ||
      call.meta?.["io.modelcontextprotocol/protocolVersion"] !== undefined;
    const values = args(call) ?? {};
    for (const { header, property } of declared) {
      const raw = headers[header];
      const sent = Array.isArray(raw) ? raw.join(",") : raw;
      const expected = headerForm(values[property]);
      if (sent === undefined) {
        if (modern && expected !== undefined) return `the body carries ${property} but the ${header} header is absent`;
        continue;
      }
      const decoded = decodeHeader(sent);
      if (decoded === undefined) return `the ${header} header carries an invalid Base64 value`;
      if (expected !== undefined && decoded !== expected && !sameNumber(decoded, values[property]))
        return `the ${header} header does not match the argument ${property}`;
    }
  }
  return undefined;
}
