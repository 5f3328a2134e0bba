import { request } from "node:http";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { Client as V1Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as V1Transport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdkStreamStats } from "../../src/mcp/endpoint.js";
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

describe.each(clients)("a result only the SDK's own check refuses, %s client", (_name, connect) => {
  let call: CallTool;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ call, close } = await connect());
  });
  afterAll(() => close?.());

  // Image data that is not base64: toolgate's check (malformation) passes it, the SDK's check of the
  // result refused it with -32602 "Invalid tools/call result: [zod's dump]", blaming the caller, and
  // nothing was logged. Now answered as any malformed result: on toolgate's transports and the SDK's entry.
  it("→ the malformed-result answer with the request id; what the SDK found is logged", async () => {
    const before = logged.length;
    const result = await call("sdk.refused");
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: expect.stringMatching(/^Tool sdk\.refused returned a malformed result \(request id [0-9a-f-]{36}\)\.$/),
      },
    ]);
    expect(logged.slice(before)).toEqual([
      expect.objectContaining({
        level: 50,
        msg: "tool result is malformed",
        tool: "sdk.refused",
        detail: expect.stringContaining("ase64"),
      }),
    ]);
  });
});

// The SDK's entry (a batch holding a response goes there) answers it alike, from the
// Server's handler wrapper (src/mcp/endpoint.ts SdkEntryServer) rather than toolgate's transport.
it("a result only the SDK's check refuses, through the SDK's entry: the same answer, logged", async () => {
  const before = logged.length;
  const response = { jsonrpc: "2.0", id: 100, result: {} };
  const res = await fetch(mcpUrl, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      "mcp-protocol-version": "2025-03-26",
    },
    body: JSON.stringify([
      { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "sdk.refused", arguments: {} } },
      response,
    ]),
  });
  const text = await res.text();
  expect(res.headers.get("content-type")).toContain("text/event-stream"); // the SDK's transport
  const answers = [...text.matchAll(/^data: (.*)$/gm)].flatMap((m) => JSON.parse(m[1] as string));
  expect(answers).toHaveLength(1);
  expect(answers.find((a: { id?: number }) => a.id === 2)).toEqual({
    jsonrpc: "2.0",
    id: 2,
    result: {
      content: [{ type: "text", text: expect.stringMatching(/^Tool sdk\.refused returned a malformed result/) }],
      isError: true,
    },
  });
  expect(logged.slice(before)).toEqual([
    expect.objectContaining({
      msg: "tool result is malformed",
      tool: "sdk.refused",
      detail: expect.stringContaining("ase64"),
    }),
  ]);
});

// On toolgate's transport the malformed-result answer is written by toolgate, not encoded by the SDK:
// for 2026-07-28 it must carry what the SDK's encoding adds to every result (resultType, server info).
it("2026-07-28: the malformed-result answer carries resultType and the server info, as a valid result does", async () => {
  const post = async (name: string) => {
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": name,
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: {
          name,
          arguments: {},
          _meta: {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
          },
        },
      }),
    });
    return (await res.json()).result as Record<string, unknown>;
  };
  const valid = await post("text");
  const refused = await post("sdk.refused");
  expect(refused.isError).toBe(true);
  expect(refused.resultType).toBe("complete");
  expect(refused._meta).toEqual(valid._meta);
  expect(Object.keys(refused._meta as object)).toEqual(["io.modelcontextprotocol/serverInfo"]);
});

// ctx.progress with NaN or Infinity sent "progress":null / "total":null, which the spec's numbers forbid.
it.each([
  ["2026-07-28", { versionNegotiation: { mode: { pin: "2026-07-28" } } }],
  ["2025-11-25", {}],
] as const)(
  "%s: ctx.progress sends no progress that is not a finite number, and leaves such a total out",
  async (_, options) => {
    const client = new Client({ name: "results-test", version: "1" }, options as never);
    await client.connect(new StreamableHTTPClientTransport(mcpUrl));
    try {
      const seen: unknown[] = [];
      const result = await client.callTool(
        { name: "progress.odd", arguments: {} },
        { onprogress: (progress) => void seen.push(progress) },
      );
      expect(result.content).toEqual([{ type: "text", text: "done" }]);
      expect(seen).toEqual([{ progress: 1, message: "one" }]);
    } finally {
      await client.close();
    }
  },
);

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

  // The schema is checked on the JSON that is sent: a class instance passed the check through its
  // getters and went out as {} (the 2026 client then refused it, the 2025 SDK answered -32602).
  it.each([
    ["a class instance", "shaped.instance", "an instance of Doc"],
    // its toJSON gives undefined: JSON.parse of that threw, an internal error blamed on the handler
    ["an object with toJSON", "shaped.tojson", "an object with a toJSON method"],
  ])("%s → refused as not a plain object, the kind logged", async (_, tool, kind) => {
    const before = logged.length;
    const result = await call(tool);
    expect(result.isError).toBe(true);
    expect(result.structuredContent).toBeUndefined();
    expect(logged.slice(before)).toEqual([
      expect.objectContaining({
        msg: "tool result does not match its output schema",
        tool,
        detail: `a structured result is a plain JSON object, not ${kind}`,
      }),
    ]);
  });

  // The output validator fills in defaults: into the copy that is sent, not the handler's value (a
  // frozen constant made every call an internal error).
  it("a frozen constant leaving out a defaulted property → sent with the default filled in", async () => {
    const first = await call("shaped.frozen");
    expect(first.isError).toBeFalsy();
    expect(first.structuredContent).toEqual({ path: "notes.md", bytes: 0 });
    expect(first.content).toEqual([{ type: "text", text: '{"path":"notes.md","bytes":0}' }]);
    expect((await call("shaped.frozen")).structuredContent).toEqual({ path: "notes.md", bytes: 0 });
  });

  // The mark was not enumerable: a spread dropped it (its type kept it), and the full result was
  // checked as the structured result itself — refused.
  it("a spread of toolResult(...) with _meta added → still the full result as built", async () => {
    const result = await call("shaped.spread");
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ bye: "spread" });
    expect(result.content).toEqual([{ type: "text", text: "Bye!" }]);
    expect(result._meta).toMatchObject({ "example/spread": true });
  });
});

// A recursive schema's validator recursed past the stack on thousands of levels of arguments: the
// RangeError escaped the call as a JSON-RPC -32603 "Maximum call stack size exceeded", logged nowhere.
describe("arguments nested deeper than a validator can recurse", () => {
  const nested = (levels: number) => `${'{"children":['.repeat(levels)}{}${"]}".repeat(levels)}`;
  const post = async (root: string) => {
    const res = await fetch(mcpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
      },
      body: `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"deep.tree","arguments":{"root":${root}}}}`,
    });
    return { status: res.status, body: (await res.json()) as { result?: Record<string, unknown>; error?: unknown } };
  };

  it("→ a tool error saying so, not a JSON-RPC internal error; what fits is served", async () => {
    expect((await post(nested(50))).body.result?.content).toEqual([{ type: "text", text: "depth 51" }]);
    const before = logged.length;
    const deep = await post(nested(20_000));
    expect(deep.status).toBe(200);
    expect(deep.body.error).toBeUndefined();
    expect(deep.body.result).toEqual({
      content: [{ type: "text", text: "Invalid arguments for tool deep.tree: nested too deeply to be checked" }],
      isError: true,
    });
    expect(logged.slice(before)).toEqual([]);
  });
});

// src/mcp/exchange.ts: a client that stops reading a stream of notifications. The handler's
// ctx.progress waited for nothing, so 20 MB of progress queued in memory for a client that read none.
// The SDK's entry (src/mcp/endpoint.ts, StreamFlow) serves what toolgate's own transport does not: a
// 2025-era Accept that excludes JSON (q=0) among others. There the SDK queued all a handler sent for
// a client that read nothing (96 MB for 5,000 progress messages of 20 KB), and awaiting ctx.progress
// waited for nothing.
describe.each([
  ["toolgate's own transport", "application/json, text/event-stream"],
  ["the SDK's entry", "text/event-stream, application/json;q=0"],
])("a client that stops reading the stream of a call's notifications (2025-11-25), %s", (_path, accept) => {
  const sent = () => (globalThis as { progressFloodSent?: number }).progressFloodSent ?? 0;

  /** POSTs a tools/call of progress.flood, reads nothing for `pauseMs`, then everything: what arrived. */
  function floodCall(awaited: boolean, pauseMs: number, whilePaused: () => void) {
    const body = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: {
        name: "progress.flood",
        arguments: { count: 2000, size: 10_000, awaited },
        _meta: { progressToken: 7 },
      },
    });
    return new Promise<{ notifications: number; answer: string }>((resolve, reject) => {
      const req = request(
        {
          host: mcpUrl.hostname,
          port: mcpUrl.port,
          path: mcpUrl.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept,
            "mcp-protocol-version": "2025-11-25",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.pause();
          setTimeout(() => {
            whilePaused();
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
              text += chunk;
            });
            res.on("end", () => {
              const frames = text.split("\n\n").filter((f) => f.includes("data: "));
              resolve({
                notifications: frames.filter((f) => f.includes("notifications/progress")).length,
                answer: frames.find((f) => f.includes('"result"')) ?? "",
              });
            });
            res.resume();
          }, pauseMs);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }

  it("a handler awaiting ctx.progress waits for the client; once it reads, every notification arrives", async () => {
    let sentWhilePaused = 0;
    const { notifications, answer } = await floodCall(true, 1_500, () => {
      sentWhilePaused = sent();
    });
    expect(sentWhilePaused).toBeLessThan(2000);
    expect(notifications).toBe(2000);
    expect(answer).toContain("sent 2000");
  }, 30_000);

  it("what a handler sends without waiting is dropped past a megabyte waiting; the answer still comes", async () => {
    const queuedThenDropped = sdkStreamStats.droppedAfterQueued;
    // Each unawaited notification that found the buffer full added its own drain/close listeners.
    const warnings: string[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning.name);
    process.on("warning", onWarning);
    const { notifications, answer } = await floodCall(false, 1_000, () => {}).finally(() =>
      process.off("warning", onWarning),
    );
    expect(warnings).not.toContain("MaxListenersExceededWarning");
    expect(notifications).toBeGreaterThan(0);
    expect(notifications).toBeLessThan(2000);
    expect(answer).toContain("sent 2000");
    // Dropped when sent, not after the SDK had encoded and queued them all (a burst of 2,000 × 10 KB
    // was held in its stream before: only the chunks read beyond the bound were dropped).
    expect(sdkStreamStats.droppedAfterQueued - queuedThenDropped).toBeLessThan(20);
  }, 30_000);
});
