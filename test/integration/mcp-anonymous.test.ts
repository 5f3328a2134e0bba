import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validationStats } from "../../src/tools/standard-schema.js";
import { legacy, modern, rpc, startTestServer } from "../helpers/server.js";

let server: Awaited<ReturnType<typeof startTestServer>>;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

describe("official clients, both protocol eras", () => {
  it("v2 client pinned to 2026-07-28 lists the tools and calls codebase.search", async () => {
    const client = new Client({ name: "t", version: "1" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await client.connect(new StreamableHTTPClientTransport(server.mcpUrl));
    const { tools } = await client.listTools();
    // anonymous mode lists only the tools that allow noauth
    expect(tools.map((t) => t.name)).toEqual(["codebase.search"]);
    expect(tools[0]?._meta?.securitySchemes).toEqual([{ type: "noauth" }, { type: "oauth2", scopes: ["search.read"] }]);
    const result = await client.callTool({ name: "codebase.search", arguments: { query: "toolgate", limit: 2 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ matches: expect.any(Array), truncated: expect.any(Boolean) });
    await client.close();
  });

  it("v1 client (2025-11-25) lists the tools and calls codebase.search", async () => {
    const client = new V1Client({ name: "t", version: "1" });
    await client.connect(new V1Transport(server.mcpUrl));
    expect(client.getServerVersion()?.name).toBe("toolgate");
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(["codebase.search"]);
    const result = await client.callTool({ name: "codebase.search", arguments: { query: "toolgate", limit: 2 } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ matches: expect.any(Array), truncated: expect.any(Boolean) });
    await client.close();
  });
});

describe("raw HTTP", () => {
  for (const [era, build] of [
    ["2026-07-28", modern],
    ["2025-11-25", legacy],
  ] as const) {
    it(`${era}: tools/list carries securitySchemes top-level and in _meta`, async () => {
      const { message, headers } = build("tools/list");
      const res = await rpc(server.mcpUrl, message, headers);
      expect(res.status).toBe(200);
      const tool = res.body.result.tools[0];
      expect(tool.securitySchemes).toEqual([{ type: "noauth" }, { type: "oauth2", scopes: ["search.read"] }]);
      expect(tool._meta.securitySchemes).toEqual(tool.securitySchemes);
      expect(tool.inputSchema.required).toEqual(["query"]);
      expect(tool.outputSchema.required).toEqual(["matches", "truncated"]);
      expect(tool.annotations).toEqual({ readOnlyHint: true, openWorldHint: false });
    });

    it(`${era}: invalid arguments come back as isError naming the path`, async () => {
      const { message, headers } = build("tools/call", {
        name: "codebase.search",
        arguments: { query: "x", limit: 9999, extra: 1 },
      });
      const res = await rpc(server.mcpUrl, message, headers);
      expect(res.status).toBe(200);
      expect(res.body.result.isError).toBe(true);
      const text: string = res.body.result.content[0].text;
      expect(text).toMatch(/^Invalid arguments for tool codebase\.search: /);
      expect(text).toContain("/limit must be <= 500");
      expect(text).toContain('(root) must NOT have additional properties "extra"');
    });

    it(`${era}: a missing required argument names it`, async () => {
      const { message, headers } = build("tools/call", { name: "codebase.search", arguments: {} });
      const res = await rpc(server.mcpUrl, message, headers);
      expect(res.body.result.content[0].text).toContain("must have required property 'query'");
    });

    it(`${era}: unknown tools and tools hidden by the mode are answered alike`, async () => {
      for (const name of ["no.such.tool", "docs.create"]) {
        const { message, headers } = build("tools/call", { name, arguments: {} });
        const res = await rpc(server.mcpUrl, message, headers);
        // -32602, as the spec's tools "Error Handling" has it (an isError result before)
        expect(res.status).toBe(200);
        expect(res.body.result).toBeUndefined();
        expect(res.body.error).toEqual({ code: -32602, message: `Unknown tool: "${name}"` });
      }
    });

    it(`${era}: an Mcp-Name header that disagrees with the body gets 400`, async () => {
      const { message, headers } = build("tools/call", { name: "codebase.search", arguments: { query: "x" } });
      const res = await rpc(server.mcpUrl, message, { ...headers, "mcp-name": "docs.create" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(-32020);
      expect(res.body.error.message).toContain('the Mcp-Name header names "docs.create"');
    });

    // It said the body carried "undefined": a name that is no string is the request's fault (-32602).
    it(`${era}: a tools/call whose name is no string is refused as invalid params, not as a header mismatch`, async () => {
      const { message, headers } = build("tools/call", { name: 5, arguments: {} });
      const res = await rpc(server.mcpUrl, message, { ...headers, "mcp-name": "5" });
      expect(res.body.error.code).toBe(-32602);
      expect(JSON.stringify(res.body)).not.toContain("undefined");
    });

    it(`${era}: an Mcp-Method header that disagrees with the body gets 400`, async () => {
      const { message, headers } = build("tools/list");
      const res = await rpc(server.mcpUrl, message, { ...headers, "mcp-method": "tools/call" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(-32020);
    });
  }

  it("a batch whose second message disagrees with Mcp-Name gets 400", async () => {
    const call = (id: number, name: string) => ({
      jsonrpc: "2.0",
      id,
      method: "tools/call",
      params: { name, arguments: { query: "x" } },
    });
    const res = await rpc(server.mcpUrl, [call(1, "codebase.search"), call(2, "docs.create")], {
      "mcp-protocol-version": "2025-03-26",
      "mcp-name": "codebase.search",
    });
    expect(res.status).toBe(400);
  });

  it("bad JSON is a 400 parse error, not a 500", async () => {
    const res = await rpc(server.mcpUrl, "{not json", {});
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(-32700);
  });

  it("a body over the limit is a 413", async () => {
    const { message, headers } = legacy("tools/call", {
      name: "codebase.search",
      arguments: { query: "x".repeat(2_000_000) },
    });
    const res = await rpc(server.mcpUrl, message, headers);
    expect(res.status).toBe(413);
  });

  it("a foreign Origin is refused with 403; a loopback Origin is served", async () => {
    const { message, headers } = legacy("tools/list");
    expect((await rpc(server.mcpUrl, message, { ...headers, origin: "https://evil.example" })).status).toBe(403);
    expect((await rpc(server.mcpUrl, message, { ...headers, origin: "http://localhost:6274" })).status).toBe(200);
  });

  it("a foreign Host is refused with 403 (DNS rebinding)", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        server.mcpUrl,
        { method: "GET", path: "/healthz", headers: { host: "evil.example" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("GET /healthz answers ok", async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-powered-by")).toBeNull();
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("no schema is compiled at run time", () => {
  it("1,000 calls in both eras generate no code (counted at the Function constructor)", async () => {
    const RealFunction = globalThis.Function;
    let compiled = 0;
    globalThis.Function = new Proxy(RealFunction, {
      construct(target, args, newTarget) {
        compiled++;
        return Reflect.construct(target, args, newTarget);
      },
      apply(target, thisArg, args) {
        compiled++;
        return Reflect.apply(target, thisArg, args);
      },
    });
    try {
      // The counter can fail: compiling one schema with ajv is seen.
      new Ajv2020().compile({ type: "object" });
      expect(compiled).toBeGreaterThan(0);
      // Warm both paths once (the SDK's own protocol schemas are built lazily on first use).
      for (const build of [modern, legacy]) {
        const { message, headers } = build("tools/call", { name: "codebase.search", arguments: { query: "w" } });
        await rpc(server.mcpUrl, message, headers);
      }
      compiled = 0;
      const before = validationStats.calls;
      for (let i = 0; i < 1000; i++) {
        // An invalid regular expression: validated by the schema, then refused by the handler before any
        // file is read, so the loop measures the request path rather than disk I/O.
        const { message, headers } = (i % 2 ? modern : legacy)(
          "tools/call",
          { name: "codebase.search", arguments: { query: `(q${i}`, regex: true, limit: 5 } },
          i,
        );
        const res = await rpc(server.mcpUrl, message, headers);
        expect(res.body.result.isError).toBe(true);
      }
      expect(compiled).toBe(0);
      expect(validationStats.calls - before).toBe(1000);
    } finally {
      globalThis.Function = RealFunction;
    }
  });
});
