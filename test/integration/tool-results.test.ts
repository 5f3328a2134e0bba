import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedFixture, servedFixtureProject } from "../helpers/temp-project.js";

type Logged = { msg?: string; tool?: string; detail?: string; level?: number };
let fixture: ServedFixture<Logged>;
let mcpUrl: URL;
let logged: Logged[];

beforeAll(async () => {
  fixture = await servedFixtureProject<Logged>("results");
  expect(fixture.diagnostics).toEqual([]);
  mcpUrl = new URL(fixture.mcpUrl);
  logged = fixture.logged;
});
afterAll(() => fixture?.close());

type CallTool = (name: string) => Promise<Record<string, unknown>>;
const clients: [string, () => Promise<{ call: CallTool; close(): Promise<void> }>][] = [
  ...(
    [
      ["v2, 2026-07-28", { versionNegotiation: { mode: { pin: "2026-07-28" } } }],
      ["v2, 2025-11-25", {}],
    ] as const
  ).map(([name, options]) => [
    name,
    async () => {
      const client = new Client({ name: "results-test", version: "1" }, options);
      await client.connect(new StreamableHTTPClientTransport(mcpUrl));
      return { call: (tool: string) => client.callTool({ name: tool, arguments: {} }), close: () => client.close() };
    },
  ]),
  [
    "v1, 2025-11-25",
    async () => {
      const client = new V1Client({ name: "results-test", version: "1" });
      await client.connect(new V1Transport(mcpUrl));
      return { call: (tool: string) => client.callTool({ name: tool, arguments: {} }), close: () => client.close() };
    },
  ],
] as never;

describe.each(clients)("a tool without an output schema, %s client", (_name, connect) => {
  let call: CallTool;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ call, close } = await connect());
  });
  afterAll(() => close?.());

  it("a string → one text block", async () => {
    const result = await call("text");
    expect(result.content).toEqual([{ type: "text", text: "Bye!" }]);
    expect(result.structuredContent).toBeUndefined();
    expect(result.isError).toBeFalsy();
  });

  it("a plain { content: [...] } → those content blocks, not their JSON", async () => {
    const result = await call("blocks");
    expect(result.content).toEqual([
      { type: "text", text: "Bye!" },
      { type: "resource_link", uri: "file:///notes.md", name: "notes.md" },
    ]);
    expect(result.isError).toBeFalsy();
  });

  it("toolResult(...) → the result as built, _meta included", async () => {
    const result = await call("marked");
    expect(result.content).toEqual([{ type: "text", text: "Bye!" }]);
    expect(result._meta).toMatchObject({ "example/marked": true });
  });

  it("a JSON object → structuredContent, and its JSON as text for clients that read text only", async () => {
    const result = await call("object");
    expect(result.structuredContent).toEqual({ bye: "see you", loud: true });
    expect(result.content).toEqual([{ type: "text", text: '{"bye":"see you","loud":true}' }]);
    expect(result.isError).toBeFalsy();
  });

  it("a malformed { content } or a number → an internal error with the request id; what is wrong is logged", async () => {
    for (const [tool, detail] of [
      ["malformed", 'content[0] needs mimeType (a string) in a block of type "image"'],
      [
        "number",
        "a tool without an output schema returns a string, a CallToolResult ({ content: [...] } or toolResult(...)) or a plain JSON object, not a number",
      ],
    ]) {
      const before = logged.length;
      const result = await call(tool!);
      expect(result.isError).toBe(true);
      expect(result.content).toEqual([
        {
          type: "text",
          text: expect.stringMatching(
            new RegExp(`^Tool ${tool} returned a malformed result \\(request id [0-9a-f-]{36}\\)\\.$`),
          ),
        },
      ]);
      expect(logged.slice(before)).toEqual([
        expect.objectContaining({ msg: "tool result is malformed", tool, detail }),
      ]);
    }
  });
});

// src/tools/call-tool.ts renderResult: both output checks, the plain value's and the toolResult's
// structuredContent's. With either check disabled the result went out as the handler made it.
describe.each(clients)("a tool with an output schema, %s client", (_name, connect) => {
  let call: CallTool;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ call, close } = await connect());
  });
  afterAll(() => close?.());

  it.each([
    ["a plain value", "shaped.plain"],
    ["toolResult(...) with structuredContent", "shaped.marked"],
  ])(
    "%s that does not match it → isError naming the request id; nothing of it sent; the mismatch logged",
    async (_, tool) => {
      const before = logged.length;
      const result = await call(tool);
      expect(result.isError).toBe(true);
      expect(result.content).toEqual([
        {
          type: "text",
          text: expect.stringMatching(
            new RegExp(
              `^Tool ${tool.replace(".", "\\.")} returned a result that does not match its output schema \\(request id [0-9a-f-]{36}\\)\\.$`,
            ),
          ),
        },
      ]);
      expect(result.structuredContent).toBeUndefined();
      expect(JSON.stringify(result)).not.toContain("CANARY");
      expect(logged.slice(before)).toEqual([
        expect.objectContaining({
          level: 50,
          msg: "tool result does not match its output schema",
          tool,
          detail: '(root) must NOT have additional properties "secret"; /bye must be string',
        }),
      ]);
    },
  );
});
