/**
 * Baseline (a): what a user writes by hand today on the MCP TypeScript SDK v2 — `McpServer` with a
 * zod `registerTool`, `createMcpHandler`, `toNodeHandler`, `createMcpExpressApp`. Serves both eras
 * (2026-07-28 natively, 2025-era clients through the SDK's stateless legacy fallback).
 * Bench code: it imports the SDK directly.
 */
import { createMcpExpressApp } from "@modelcontextprotocol/express";
import { toNodeHandler } from "@modelcontextprotocol/node";
import { createMcpHandler, McpServer } from "@modelcontextprotocol/server";
import * as z from "zod";
import { announce, ECHO_DESCRIPTION, exitOnSignal, HOST, PORT } from "./common.js";

const echoInput = z.object({ text: z.string() });

// The factory runs per request, as the SDK documents: schemas are built once, outside it.
const handler = createMcpHandler(() => {
  const server = new McpServer({ name: "baseline-v2", version: "1.0.0" });
  server.registerTool("echo", { description: ECHO_DESCRIPTION, inputSchema: echoInput }, async ({ text }) => ({
    content: [{ type: "text", text }],
  }));
  return server;
});
const node = toNodeHandler(handler);

const app = createMcpExpressApp();
app.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
app.all("/mcp", (req, res) => node(req, res, req.body));

const server = app.listen(PORT, HOST, (error?: Error) => {
  if (error) throw error;
  announce("baseline-v2", server);
});
exitOnSignal(server);
