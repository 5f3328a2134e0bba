/**
 * The HTTP requests the benchmark sends, in both protocol eras, and the check that an answer is a
 * JSON-RPC result (plain JSON or one SSE event).
 */

export type Era = "2026-07-28" | "2025-11-25";
export const MODERN: Era = "2026-07-28";
export const LEGACY: Era = "2025-11-25";

export interface HttpRequest {
  method: "POST";
  path: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * A POST /mcp of one JSON-RPC request. 2026-07-28: the `_meta` envelope plus `MCP-Protocol-Version`,
 * `Mcp-Method` and (tools/call) `Mcp-Name` headers. 2025-11-25: no envelope; the legacy path may
 * answer SSE, so both types are accepted.
 */
export function mcpRequest(
  era: Era,
  method: string,
  params: Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
): HttpRequest {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-protocol-version": era,
  };
  let body: Record<string, unknown>;
  if (era === MODERN) {
    headers["mcp-method"] = method;
    if (typeof params.name === "string") headers["mcp-name"] = params.name;
    body = {
      jsonrpc: "2.0",
      id: 1,
      method,
      params: {
        ...params,
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": {},
        },
      },
    };
  } else {
    body = { jsonrpc: "2.0", id: 1, method, params };
  }
  return { method: "POST", path: "/mcp", headers: { ...headers, ...extraHeaders }, body: JSON.stringify(body) };
}

export const toolCall = (era: Era, name: string, args: Record<string, unknown>, extra?: Record<string, string>) =>
  mcpRequest(era, "tools/call", { name, arguments: args }, extra);

export type Verdict = "ok" | "tool-error" | "bad";

/** Is this body a JSON-RPC result? `tool-error`: a result with `isError: true` (still a result). */
export function verdict(body: string): Verdict {
  let json = body;
  if (!body.startsWith("{")) {
    // SSE: the last `data:` line carries the response.
    const lines = body.split("\n").filter((l) => l.startsWith("data:"));
    json = lines[lines.length - 1]?.slice(5).trim() ?? "";
  }
  let parsed: { result?: { isError?: boolean }; error?: unknown };
  try {
    parsed = JSON.parse(json);
  } catch {
    return "bad";
  }
  if (!parsed || typeof parsed !== "object" || parsed.error !== undefined || typeof parsed.result !== "object")
    return "bad";
  return parsed.result?.isError === true ? "tool-error" : "ok";
}

/** How a load run's answers went (both load generators: lib/load.ts, lib/paced.ts). */
export interface AnswerCounts {
  /** A 2xx with a JSON-RPC result that is no tool error (or, for attack runs, the expected status). */
  ok: number;
  /** Results with `isError: true`: counted as bad too (the bench's tools never fail, so one means a misconfigured mode). */
  toolErrors: number;
  /** Wrong status, no result, tool errors, no answer. */
  bad: number;
  /** The first bad answer seen, for the failure message. */
  firstBad?: string;
}

/** Counts answers as they come: a 2xx JSON-RPC result that is no tool error, or `expectStatus` when given. */
export class AnswerTally {
  ok = 0;
  toolErrors = 0;
  bad = 0;
  firstBad: string | undefined;

  constructor(private readonly expectStatus?: number) {}

  /** Counts one answer; true when it was good. */
  answer(status: number, body: string): boolean {
    const v =
      this.expectStatus !== undefined
        ? status === this.expectStatus
          ? "ok"
          : "bad"
        : status >= 200 && status < 300
          ? verdict(body)
          : "bad";
    if (v === "ok") {
      this.ok++;
      return true;
    }
    if (v === "tool-error") this.toolErrors++;
    this.failed(`${status} ${body.slice(0, 200)}`);
    return false;
  }

  /** A request that got no answer (a connection error, a timeout). */
  failed(what: string): void {
    this.bad++;
    this.firstBad ??= what;
  }

  counts(): AnswerCounts {
    return {
      ok: this.ok,
      toolErrors: this.toolErrors,
      bad: this.bad,
      ...(this.firstBad !== undefined ? { firstBad: this.firstBad } : {}),
    };
  }
}

/** Sends one request with fetch: for smoke checks before a load run. */
export async function send(base: string, request: HttpRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(new URL(request.path, base), {
    method: request.method,
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}
