/**
 * Baseline (t): tmcp 1.20 (`tmcp` + `@tmcp/transport-http` + the zod adapter), the fastest
 * TypeScript MCP server known, with the same echo tool. The transport speaks Fetch `Request` /
 * `Response`; `@hono/node-server`'s `getRequestListener` (the adapter the SDKs use) connects it to
 * node:http. Bench code.
 */
import { createServer } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { ZodJsonSchemaAdapter } from "@tmcp/adapter-zod";
import { HttpTransport } from "@tmcp/transport-http";
import { McpServer } from "tmcp";
import * as z from "zod";
import { announce, ECHO_DESCRIPTION, exitOnSignal, HOST, PORT } from "./common.js";

const mcp = new McpServer(
  { name: "tmcp", version: "1.0.0", description: "benchmark" },
  { adapter: new ZodJsonSchemaAdapter(), capabilities: { tools: { listChanged: false } } },
);
mcp.tool({ name: "echo", description: ECHO_DESCRIPTION, schema: z.object({ text: z.string() }) }, async ({ text }) => ({
  content: [{ type: "text", text }],
}));
const transport = new HttpTransport(mcp, { path: "/mcp" });

const healthz = () => Response.json({ status: "ok" });
const listener = getRequestListener(async (request) => {
  if (new URL(request.url).pathname === "/healthz") return healthz();
  return (await transport.respond(request)) ?? new Response(null, { status: 404 });
});

const server = createServer(listener);
server.listen(PORT, HOST, () => announce("tmcp", server));
exitOnSignal(server);
