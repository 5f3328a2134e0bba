/**
 * The conformance example (examples/conformance) served in-process and called with the official v2
 * client in both protocol eras: keeps the fixture tools correct in `npm test`, without Node 22 or the
 * conformance suite itself (that is `npm run test:conformance`).
 */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { project } from "../../examples/conformance/generated/project.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { legacy, modern, rpc } from "../helpers/server.js";

const authFile = new URL("../../examples/conformance/auth.yaml", import.meta.url).pathname;

let server: RunningServer;
let mcpUrl: URL;
beforeAll(async () => {
  server = await startServer({
    project,
    authFile,
    env: { AUTH_MODE: "anonymous" },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }),
  });
  mcpUrl = new URL(`${server.url}/mcp`);
});
afterAll(() => server?.close());

const FIXTURES = [
  "test_simple_text",
  "test_image_content",
  "test_audio_content",
  "test_embedded_resource",
  "test_multiple_content_types",
  "test_tool_with_logging",
  "test_tool_with_progress",
  "test_error_handling",
  "json_schema_2020_12_tool",
  "test_logging_tool",
  "test_streaming_elicitation",
  "test_custom_header",
];

const eras = [
  ["2026-07-28", { versionNegotiation: { mode: { pin: "2026-07-28" } } }],
  ["2025-11-25", {}],
] as const;

async function connect(options: (typeof eras)[number][1]): Promise<Client> {
  const client = new Client({ name: "conformance-example-test", version: "1" }, options);
  await client.connect(new StreamableHTTPClientTransport(mcpUrl));
  return client;
}

describe.each(eras)("examples/conformance, %s", (_era, options) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(options);
  });
  afterAll(() => client?.close());

  it("lists every fixture tool, each noauth with a description and an input schema", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(FIXTURES);
    for (const tool of tools) {
      expect(tool.description).toBeTruthy();
      expect(tool.inputSchema.type).toBe("object");
      expect(tool._meta?.securitySchemes).toEqual([{ type: "noauth" }]);
    }
  });

  it("test_simple_text answers the scenario's text", async () => {
    const result = await client.callTool({ name: "test_simple_text" });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text: "This is a simple text response for testing." }]);
  });

  it("test_image_content and test_audio_content answer a real PNG and WAV", async () => {
    const image = await client.callTool({ name: "test_image_content", arguments: {} });
    expect(image.content).toEqual([{ type: "image", data: expect.any(String), mimeType: "image/png" }]);
    const png = Buffer.from((image.content as { data: string }[])[0]?.data ?? "", "base64");
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");

    const audio = await client.callTool({ name: "test_audio_content", arguments: {} });
    expect(audio.content).toEqual([{ type: "audio", data: expect.any(String), mimeType: "audio/wav" }]);
    const wav = Buffer.from((audio.content as { data: string }[])[0]?.data ?? "", "base64");
    expect([wav.subarray(0, 4).toString("latin1"), wav.subarray(8, 12).toString("latin1")]).toEqual(["RIFF", "WAVE"]);
  });

  it("test_embedded_resource and test_multiple_content_types answer resources", async () => {
    const embedded = await client.callTool({ name: "test_embedded_resource", arguments: {} });
    expect(embedded.content).toEqual([
      {
        type: "resource",
        resource: {
          uri: "test://embedded-resource",
          mimeType: "text/plain",
          text: "This is an embedded resource content.",
        },
      },
    ]);
    const mixed = await client.callTool({ name: "test_multiple_content_types", arguments: {} });
    expect((mixed.content as { type: string }[]).map((c) => c.type)).toEqual(["text", "image", "resource"]);
    expect((mixed.content as { resource?: { text: string } }[])[2]?.resource?.text).toBe('{"test":"data","value":123}');
  });

  it("test_error_handling answers isError with the scenario's message", async () => {
    const result = await client.callTool({ name: "test_error_handling", arguments: {} });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([{ type: "text", text: "This tool intentionally returns an error for testing" }]);
  });

  it("test_tool_with_progress reports 0, 50 and 100 of 100 through ctx.progress", async () => {
    const seen: { progress: number; total?: number }[] = [];
    const result = await client.callTool(
      { name: "test_tool_with_progress", arguments: {} },
      { onprogress: (p) => void seen.push({ progress: p.progress, total: p.total }) },
    );
    expect(result.isError).toBeFalsy();
    expect(seen).toEqual([
      { progress: 0, total: 100 },
      { progress: 50, total: 100 },
      { progress: 100, total: 100 },
    ]);
  });

  it("json_schema_2020_12_tool validates with its 2020-12 schema (if/then/else, anyOf)", async () => {
    const ok = await client.callTool({
      name: "json_schema_2020_12_tool",
      arguments: { name: "Ada", contactMethod: "phone", phone: "123", address: { city: "London" } },
    });
    expect(ok.isError).toBeFalsy();
    expect((ok.content as { text: string }[])[0]?.text).toMatch(/^JSON Schema 2020-12 tool called with: /);
    // contactMethod phone without a phone: `then` requires it.
    const bad = await client.callTool({
      name: "json_schema_2020_12_tool",
      arguments: { contactMethod: "phone", email: "a@example.com" },
    });
    expect(bad.isError).toBe(true);
    expect((bad.content as { text: string }[])[0]?.text).toContain("must have required property 'phone'");
  });
});

describe("logging through ctx.notify", () => {
  it("2025-11-25: test_tool_with_logging sends three info messages after logging/setLevel", async () => {
    const client = await connect({});
    const messages: unknown[] = [];
    client.setNotificationHandler("notifications/message", (n) => void messages.push(n.params));
    await client.setLoggingLevel("debug");
    const result = await client.callTool({ name: "test_tool_with_logging", arguments: {} });
    expect(result.isError).toBeFalsy();
    expect(messages).toEqual([
      expect.objectContaining({ level: "info", data: "Tool execution started" }),
      expect.objectContaining({ level: "info", data: "Tool processing data" }),
      expect.objectContaining({ level: "info", data: "Tool execution completed" }),
    ]);
    await client.close();
  });

  it("2026-07-28: no notifications/message without a log level in the request's _meta", async () => {
    const { message, headers } = modern("tools/call", { name: "test_logging_tool", arguments: {} });
    const res = await rpc(mcpUrl, message, headers);
    expect(res.status).toBe(200);
    const frames = Array.isArray(res.body) ? res.body : [res.body];
    expect(frames.filter((f: { method?: string }) => f.method === "notifications/message")).toEqual([]);
    expect(frames.at(-1).result.content).toEqual([{ type: "text", text: "Logging evaluated" }]);
  });

  it("2026-07-28: with io.modelcontextprotocol/logLevel set, the message is sent", async () => {
    const { message, headers } = modern("tools/call", {
      name: "test_logging_tool",
      arguments: {},
      _meta: { "io.modelcontextprotocol/logLevel": "info" },
    });
    const res = await rpc(mcpUrl, message, headers);
    const frames = Array.isArray(res.body) ? res.body : [res.body];
    expect(frames.filter((f: { method?: string }) => f.method === "notifications/message")).toEqual([
      expect.objectContaining({ params: expect.objectContaining({ level: "info" }) }),
    ]);
  });
});

describe("the JSON Schema 2020-12 fixture on the wire", () => {
  it.each([
    ["2026-07-28", modern],
    ["2025-11-25", legacy],
  ] as const)(
    "%s: tools/list keeps $schema, $defs, allOf/anyOf, if/then/else and additionalProperties",
    async (_era, build) => {
      const { message, headers } = build("tools/list");
      const res = await rpc(mcpUrl, message, headers);
      const schema = res.body.result.tools.find(
        (t: { name: string }) => t.name === "json_schema_2020_12_tool",
      ).inputSchema;
      expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(Object.keys(schema.$defs)).toEqual(["address"]);
      expect(schema.properties.address).toEqual({ $ref: "#/$defs/address" });
      expect(schema.allOf[0].anyOf.map((s: { required: string[] }) => s.required)).toEqual([["phone"], ["email"]]);
      expect(Object.keys(schema)).toEqual(expect.arrayContaining(["if", "then", "else"]));
      expect(schema.additionalProperties).toBe(false);
    },
  );
});

describe("SEP-2243: arguments mirrored in Mcp-Param-* headers (x-mcp-header)", () => {
  const call = (region: string) => modern("tools/call", { name: "test_custom_header", arguments: { region } });
  const b64 = (s: string) => `=?base64?${Buffer.from(s).toString("base64")}?=`;

  it("accepts the header equal to the argument, literally or Base64-encoded", async () => {
    for (const header of ["eu-west-2", b64("eu-west-2")]) {
      const { message, headers } = call("eu-west-2");
      const res = await rpc(mcpUrl, message, { ...headers, "mcp-param-region": header });
      expect(res.status).toBe(200);
      expect(res.body.result.content[0].text).toBe("region: eu-west-2");
    }
  });

  it("refuses a header that disagrees, bad Base64, or (2026-07-28) a missing header: 400 -32020", async () => {
    for (const header of ["us-east-1", "=?base64?ZXUtd2VzdA?=", "=?base64?ZX!!d2VzdC0y?=", undefined]) {
      const { message, headers } = call("eu-west-2");
      const res = await rpc(
        mcpUrl,
        message,
        header === undefined ? headers : { ...headers, "mcp-param-region": header },
      );
      expect(res.status, String(header)).toBe(400);
      expect(res.body.error.code).toBe(-32020);
    }
  });

  it("lets browser-based clients send the header: the /mcp preflight allows Mcp-Param-Region", async () => {
    const res = await fetch(mcpUrl, {
      method: "OPTIONS",
      headers: {
        origin: "http://localhost:6274",
        "access-control-request-method": "POST",
        "access-control-request-headers": "mcp-param-region",
      },
    });
    expect(res.status).toBe(204);
    const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase().split(/,\s*/);
    expect(allowed).toContain("mcp-param-region");
    expect(allowed).toContain("authorization");
  });

  it("does not ask 2025-era clients, which know no Mcp-Param headers, for one", async () => {
    const { message, headers } = legacy("tools/call", { name: "test_custom_header", arguments: { region: "eu" } });
    const res = await rpc(mcpUrl, message, headers);
    expect(res.status).toBe(200);
    expect(res.body.result.content[0].text).toBe("region: eu");
  });
});
