import pino from "pino";
import { project } from "../../generated/project.js";
import { type RunningServer, startServer } from "../../src/server.js";

/** Starts toolgate in-process on 127.0.0.1 with a free port and a silent logger. */
export async function startTestServer(env: Record<string, string> = {}): Promise<RunningServer & { mcpUrl: URL }> {
  const running = await startServer({
    project,
    env: { AUTH_MODE: "anonymous", ...env },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  return Object.assign(running, { mcpUrl: new URL(`${running.url}/mcp`) });
}

export const MODERN = "2026-07-28";
export const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": {},
};

/** POSTs one JSON-RPC message the way a client would, and parses a JSON or SSE answer. */
export async function rpc(
  url: URL | string,
  message: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: typeof message === "string" ? message : JSON.stringify(message),
  });
  const text = await res.text();
  let body: unknown = text;
  if (res.headers.get("content-type")?.includes("text/event-stream")) {
    const data = text
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)));
    body = data.length === 1 ? data[0] : data;
  } else if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  return { status: res.status, headers: res.headers, body };
}

/** A 2026-07-28 request: envelope in `_meta`, Mcp-Method / Mcp-Name headers. */
export function modern(method: string, params: Record<string, unknown> = {}, id = 1) {
  const headers: Record<string, string> = { "mcp-protocol-version": MODERN, "mcp-method": method };
  if (typeof params.name === "string") headers["mcp-name"] = params.name;
  return {
    message: {
      jsonrpc: "2.0",
      id,
      method,
      params: { ...params, _meta: { ...ENVELOPE, ...((params._meta as object) ?? {}) } },
    },
    headers,
  };
}

/** A 2025-11-25 request (no envelope): the SDK's stateless legacy path. */
export function legacy(method: string, params: Record<string, unknown> = {}, id = 1) {
  return { message: { jsonrpc: "2.0", id, method, params }, headers: { "mcp-protocol-version": "2025-11-25" } };
}
