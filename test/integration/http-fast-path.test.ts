/**
 * The /mcp fast path (plain JSON POSTs served without express) must answer exactly as the express
 * route does, and 2025-era requests are answered by toolgate's own one-exchange transport: JSON
 * unless the tool streams, then SSE. Every comparison sends the same body twice: once as
 * `application/json` (fast path) and once with a media-type parameter the fast path does not take
 * (express.json accepts it), so the two answers come from the two code paths.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { type IncomingHttpHeaders, request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { project as conformanceProject } from "../../examples/conformance/generated/project.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { legacy, modern, rpc, startTestServer } from "../helpers/server.js";

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

const ACCEPT = "application/json, text/event-stream";
const FAST = "application/json";
const EXPRESS = "application/json; charset=utf-8; profile=express";

async function post(contentType: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await fetch(server.mcpUrl, {
    method: "POST",
    headers: { "content-type": contentType, accept: ACCEPT, ...headers },
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    text,
    requestId: res.headers.get("x-request-id"),
  };
}

/** The answer with the request-specific parts (request id, SSE vs JSON framing) normalised. */
function normalise(answer: Awaited<ReturnType<typeof post>>) {
  return { status: answer.status, text: answer.text.replace(/request id [0-9a-f-]{36}/g, "request id <id>") };
}

const v2025 = { "mcp-protocol-version": "2025-11-25" };
const call = (id: number, query: string) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name: "codebase.search", arguments: { query, limit: 1 } },
});

describe("fast path and express route answer alike", () => {
  const cases: [string, string, Record<string, string>][] = [
    ["bad JSON", "{not json", {}],
    ["an empty body", "", v2025],
    ["a JSON number", "123", v2025],
    ["an empty array", "[]", v2025],
    ["an empty object", "{}", v2025],
    ["a 2025 tools/list", JSON.stringify(legacy("tools/list").message), v2025],
    ["a 2025 batch", JSON.stringify([call(1, "x"), call(2, "y")]), v2025],
    ["an unknown method", JSON.stringify({ jsonrpc: "2.0", id: 3, method: "no/such" }), v2025],
    ["a notification only", JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }), v2025],
    [
      "an unsupported protocol version",
      JSON.stringify(legacy("tools/list").message),
      { "mcp-protocol-version": "1999-01-01" },
    ],
    ["a 2026 tools/list", JSON.stringify(modern("tools/list").message), modern("tools/list").headers],
    ["a body over the limit", JSON.stringify(call(1, "x".repeat(1_100_000))), v2025],
    ["a UTF-8 byte order mark", `\ufeff${JSON.stringify(legacy("tools/list").message)}`, v2025],
  ];
  for (const [name, body, headers] of cases) {
    it(name, async () => {
      const fast = await post(FAST, body, headers);
      const slow = await post(EXPRESS, body, headers);
      expect(normalise(fast)).toEqual(normalise(slow));
      expect(fast.type).toEqual(slow.type);
      expect(fast.requestId).toMatch(/^[0-9a-f-]{36}$/);
    });
  }

  it("a JSON POST without any body (no Content-Length, no Transfer-Encoding): the same 400 on both paths", async () => {
    // The express route answered 415 "Content-Type must be application/json" to an application/json
    // POST: body-parser leaves a request without a body unparsed. fetch always sends Content-Length.
    const raw = (path: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(server.mcpUrl.port), "127.0.0.1", () =>
          socket.end(
            `POST ${path} HTTP/1.1\r\nHost: ${server.mcpUrl.host}\r\nContent-Type: application/json\r\nAccept: ${ACCEPT}\r\nMcp-Protocol-Version: 2025-11-25\r\nConnection: close\r\n\r\n`,
          ),
        );
        let text = "";
        socket.on("data", (chunk) => {
          text += chunk;
        });
        socket.on("end", () => resolve(text));
        socket.on("error", reject);
      });
    const answer = (text: string) => ({
      status: text.slice(0, text.indexOf("\r\n")),
      body: text.slice(text.indexOf("\r\n\r\n") + 4),
    });
    const fast = answer(await raw("/mcp"));
    expect(fast.status).toBe("HTTP/1.1 400 Bad Request");
    expect(JSON.parse(fast.body).error.message).toMatch(/not a valid JSON-RPC message/);
    // "/mcp/" is the express route's (the fast path takes "/mcp" only)
    expect(answer(await raw("/mcp/"))).toEqual(fast);
  });

  it("a gzip body, which only the express route inflates, is served", async () => {
    const body = JSON.stringify(legacy("tools/list").message);
    const zipped = await post(FAST, gzipSync(body), { ...v2025, "content-encoding": "gzip" });
    const plain = await post(FAST, body, v2025);
    expect(zipped.status).toBe(200);
    expect(JSON.parse(zipped.text)).toEqual(JSON.parse(plain.text));
  });

  it("a charset the express route refuses is a 415 there", async () => {
    const res = await post("application/json; charset=latin1", JSON.stringify(legacy("tools/list").message), v2025);
    expect(res.status).toBe(415);
  });

  it("without Accept: text/event-stream a 2025 POST is refused with 406, as the SDK does", async () => {
    const res = await post(FAST, JSON.stringify(legacy("tools/list").message), {
      ...v2025,
      accept: "application/json",
    });
    expect(res.status).toBe(406);
  });
});

describe("2026-07-28 answers", () => {
  it("a JSON answer carries its Content-Length (no chunked framing)", async () => {
    const { message, headers } = modern("tools/call", { name: "codebase.search", arguments: { query: "toolgate" } });
    const res = await rpc(server.mcpUrl, message, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("transfer-encoding")).toBeNull();
    expect(Number(res.headers.get("content-length"))).toBe(Buffer.byteLength(JSON.stringify(res.body)));
    expect(res.body).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { structuredContent: { matches: expect.any(Array) } },
    });
  });
});

describe("2025-era answers", () => {
  it("a plain tools/call is answered with JSON, not an event stream", async () => {
    const { message, headers } = legacy("tools/call", { name: "codebase.search", arguments: { query: "toolgate" } });
    const res = await rpc(server.mcpUrl, message, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(Number(res.headers.get("content-length"))).toBe(Buffer.byteLength(JSON.stringify(res.body)));
    expect(res.body).toMatchObject({
      jsonrpc: "2.0",
      id: 1,
      result: { structuredContent: { matches: expect.any(Array) } },
    });
  });

  it("a batch is answered with the responses in the order of the requests", async () => {
    const res = await rpc(
      server.mcpUrl,
      [call(7, "a"), { jsonrpc: "2.0", method: "notifications/initialized" }, call(5, "b")],
      v2025,
    );
    expect(res.status).toBe(200);
    expect(res.body.map((r: { id: number }) => r.id)).toEqual([7, 5]);
  });

  it("a batch that reuses a request id is left to the SDK's transport, which answers it", async () => {
    const res = await rpc(server.mcpUrl, [call(4, "a"), call(4, "b")], v2025);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream"); // the SDK's answer, not toolgate's JSON
    const answers = Array.isArray(res.body) ? res.body : [res.body];
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a: { id: number; result?: unknown }) => a.id === 4 && a.result !== undefined)).toBe(true);
  });

  describe("a tool that reports progress", () => {
    let conformance: RunningServer;
    beforeAll(async () => {
      conformance = await startServer({
        project: conformanceProject,
        authFile: new URL("../../examples/conformance/auth.yaml", import.meta.url).pathname,
        env: { AUTH_MODE: "anonymous" },
        server: { port: 0, host: "127.0.0.1" },
        logger: pino({ level: "silent" }),
      });
    });
    afterAll(() => conformance?.close());

    it("streams the progress as SSE when the client asked for it, then the result", async () => {
      const { message, headers } = legacy("tools/call", {
        name: "test_tool_with_progress",
        arguments: {},
        _meta: { progressToken: "p1" },
      });
      const res = await rpc(`${conformance.url}/mcp`, message, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("text/event-stream");
      const methods = res.body.map((m: { method?: string; id?: number }) => m.method ?? `response ${m.id}`);
      expect(methods).toEqual([
        "notifications/progress",
        "notifications/progress",
        "notifications/progress",
        "response 1",
      ]);
      expect(res.body[2].params).toMatchObject({ progressToken: "p1", progress: 100, total: 100 });
      expect(res.body[3].result.content[0].text).toContain("Progress reported");
    });

    it("answers JSON when no progress token was given", async () => {
      const { message, headers } = legacy("tools/call", { name: "test_tool_with_progress", arguments: {} });
      const res = await rpc(`${conformance.url}/mcp`, message, headers);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(res.body.result.content[0].text).toContain("Progress reported");
    });
  });
});

describe("requests other than /mcp that are served without express", () => {
  let dev: Awaited<ReturnType<typeof startTestServer>>;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "toolgate-plain-routes-"));
    dev = await startTestServer({ AUTH_MODE: "optional", DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await dev?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A GET through node:http, which (unlike fetch) lets the test send any Host header. */
  const get = (path: string, host?: string) =>
    new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = request(`${dev.url}${path}`, { headers: host ? { host } : {} }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    });

  it("GET /healthz", async () => {
    const res = await get("/healthz");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ status: "ok" });
    expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("the development authorization server's routes, with the server's origin as issuer", async () => {
    const res = await get("/.well-known/openid-configuration");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).issuer).toBe(dev.url);
  });

  it("registration answers browser clients (CORS on /reg, which oidc-provider leaves out)", async () => {
    const origin = "http://localhost:6274";
    const preflight = await fetch(`${dev.url}/reg`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");
    const registered = await fetch(`${dev.url}/reg`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ redirect_uris: ["http://127.0.0.1:9/cb"], token_endpoint_auth_method: "none" }),
    });
    expect(registered.status).toBe(201);
    expect(registered.headers.get("access-control-allow-origin")).toBe(origin);
  });

  it("CIMD is not advertised when no document is listed (clients register through DCR instead)", async () => {
    const as = JSON.parse((await get("/.well-known/oauth-authorization-server")).body);
    expect(as.registration_endpoint).toBe(`${dev.url}/reg`);
    expect(as.client_id_metadata_document_supported).toBeUndefined();
  });

  it("a path no one claims goes on to the app's 404", async () => {
    const res = await get("/no-such-path?x=1");
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ error: "not_found" });
  });

  it("the app's own routes never reach the development server", async () => {
    const res = await get("/.well-known/oauth-protected-resource");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).resource).toBe(`${dev.url}/mcp`);
  });

  it("the metadata is served from the listener as express served it: any method, HEAD without a body, spelt as express matches", async () => {
    const expected = JSON.parse((await get("/.well-known/oauth-protected-resource")).body) as { resource: string };
    for (const path of ["/.well-known/oauth-protected-resource/mcp", "/.well-known/OAuth-Protected-Resource/"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/json; charset=utf-8");
      expect(res.headers["access-control-allow-origin"]).toBe("*");
      expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(res.body));
      expect(JSON.parse(res.body)).toEqual(expected);
    }
    const post = await fetch(`${dev.url}/.well-known/oauth-protected-resource?x=1`, {
      method: "POST",
      body: "ignored",
    });
    expect(post.status).toBe(200);
    expect(await post.json()).toEqual(expected);
    const head = await fetch(`${dev.url}/.well-known/oauth-protected-resource`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await head.text()).toBe("");
    // The CORS preflight: test/integration/auth/challenges.test.ts.
  });

  it("/mcp spelt as express also matches it (a trailing slash, capitals) is the app's, body and all", async () => {
    for (const path of ["/mcp/", "/MCP"]) {
      const res = await fetch(`${dev.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json; charset=utf-8", accept: ACCEPT, ...v2025 },
        body: JSON.stringify(legacy("tools/list").message),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    }
  });

  /** Any request target, method, headers and body through node:http (which sends the path as given). */
  const send = (
    target: string,
    options: { method?: string; headers?: Record<string, string>; body?: string; base?: string } = {},
  ) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const url = new URL(options.base ?? dev.url);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: options.method ?? "POST",
          path: target,
          headers: options.headers,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            body += chunk;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.end(options.body);
    });
  const protectedCall = JSON.stringify({
    jsonrpc: "2.0",
    id: 7,
    method: "tools/call",
    params: { name: "docs.create", arguments: { title: "t", body: "b" } },
  });
  const jsonHeaders = { "content-type": "application/json; charset=utf-8", accept: ACCEPT, ...v2025 };

  it("an absolute-form request target (RFC 9112 §3.2.2) is served as its path, its authority taken as the Host", async () => {
    const { host } = new URL(dev.url);
    // the body is read and decided on: anonymous → the sign-in challenge, as for POST /mcp
    const res = await send(`http://${host}/mcp`, { headers: jsonHeaders, body: protectedCall });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).id).toBe(7);
    const health = await send(`http://${host}/healthz?probe=1`, { method: "GET" });
    expect(health.status).toBe(200);
    // the target's authority is what the Host check sees
    const foreign = await send("http://evil.example/mcp", { headers: jsonHeaders, body: protectedCall });
    expect(foreign.status).toBe(403);
  });

  it("a target with a fragment, or neither a path nor an http(s) URL, is a 400 that nothing behind it sees", async () => {
    for (const target of [
      "/mcp#x",
      "/mcp?a=1#x",
      "*",
      "ftp://127.0.0.1/mcp",
      `http://u:p@${new URL(dev.url).host}/mcp`,
    ]) {
      const res = await send(target, { headers: jsonHeaders, body: protectedCall });
      expect(res.status, target).toBe(400);
      expect(JSON.parse(res.body).error, target).toBe("bad_request");
    }
  });

  it("a POST whose body is not JSON is refused before the auth gate decides anything", async () => {
    const res = await send("/mcp", { headers: { ...jsonHeaders, "content-type": "text/plain" }, body: protectedCall });
    expect(res.status).toBe(415);
    // the SDK's answer, code and message
    expect(JSON.parse(res.body).error).toEqual({
      code: -32000,
      message: "Unsupported Media Type: Content-Type must be application/json",
    });
  });

  it("a Host the app refuses is refused before the development server or the health check see it", async () => {
    for (const path of ["/.well-known/openid-configuration", "/healthz", "/.well-known/oauth-protected-resource"]) {
      const res = await get(path, "evil.example");
      expect(res.status).toBe(403);
      expect(res.body).not.toContain("issuer");
    }
  });
});
