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

/** The calls in a body; responses and malformed entries are left for the SDK to answer. */
export function rpcCalls(body: unknown): RpcCall[] {
  const messages = Array.isArray(body) ? body : [body];
  const calls: RpcCall[] = [];
  for (const m of messages) {
    if (!isObject(m) || typeof m.method !== "string") continue;
    const params = isObject(m.params) ? m.params : {};
    const target =
      typeof params.name === "string" ? params.name : typeof params.uri === "string" ? params.uri : undefined;
    calls.push({
      id: m.id as RpcCall["id"],
      method: m.method,
      ...(target !== undefined ? { target } : {}),
      ...(isObject(params._meta) ? { meta: params._meta } : {}),
    });
  }
  return calls;
}

const NAME_SOURCE = new Set(["tools/call", "prompts/get", "resources/read"]);

function decodeHeader(value: string): string | undefined {
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
      if (NAME_SOURCE.has(c.method) && c.target !== name)
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
