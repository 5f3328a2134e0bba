/**
 * Baseline (a′): the same echo tool on the v1 SDK (`@modelcontextprotocol/sdk` 1.32): the
 * low-level `Server`, a stateless `StreamableHTTPServerTransport` (`sessionIdGenerator: undefined`,
 * `enableJsonResponse: true`) per request, as v1 documents for stateless servers. 2025-11-25 only.
 * Bench code: it imports the SDK directly.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import express from "express";
import { announce, ECHO_DESCRIPTION, exitOnSignal, HOST, PORT } from "./common.js";

const tools = {
  tools: [
    {
      name: "echo",
      description: ECHO_DESCRIPTION,
      inputSchema: {
        type: "object" as const,
        properties: { text: { type: "string" } },
        required: ["text"],
        additionalProperties: false,
      },
    },
  ],
};

function createServer(): Server {
  const server = new Server({ name: "baseline-v1", version: "1.0.0" }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, async () => tools);
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const text = (request.params.arguments as { text?: unknown } | undefined)?.text;
    if (typeof text !== "string") return { content: [{ type: "text", text: "text must be a string" }], isError: true };
    return { content: [{ type: "text", text }] };
  });
  return server;
}

const app = express();
app.use(express.json());
app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
app.post("/mcp", async (req, res) => {
  const server = createServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

const server = app.listen(PORT, HOST, (error?: Error) => {
  if (error) throw error;
  announce("baseline-v1", server);
});
exitOnSignal(server);
