/**
 * The audit line of every tools/call decision: who (subject, client, credential kind), what (tool),
 * the decision and its status, the request id — and never the credential itself.
 */
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { project } from "../../generated/project.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { legacy, modern, rpc } from "../helpers/server.js";

const API_KEY = "tgk_auditlog0123456789abcdefghijk";
const lines: Record<string, unknown>[] = [];
let server: RunningServer;
let mcpUrl: string;

beforeAll(async () => {
  server = await startServer({
    project,
    env: { AUTH_MODE: "optional", MCP_API_KEY: API_KEY, DATA_DIR: "test/.tmp/audit-data" },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) }),
  });
  mcpUrl = `${server.url}/mcp`;
});
afterAll(() => server?.close());

const audits = () => lines.filter((l) => l.audit === "tools/call");

it("logs each tools/call decision with the caller and the request id, never the key", async () => {
  const before = audits().length;
  const anonymous = modern("tools/call", { name: "docs.create", arguments: { title: "x", body: "y" } });
  const refused = await rpc(mcpUrl, anonymous.message, anonymous.headers);
  expect(refused.status).toBe(401);
  const signedIn = legacy("tools/call", { name: "codebase.search", arguments: { query: "zzz-no-match", limit: 1 } });
  const allowed = await rpc(mcpUrl, signedIn.message, { ...signedIn.headers, "x-api-key": API_KEY });
  expect(allowed.status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 50)); // lines are written when the response closes
  const [deny, allow] = audits().slice(before);
  expect(deny).toMatchObject({
    audit: "tools/call",
    mode: "optional",
    tool: "docs.create",
    decision: "deny",
    status: 401,
    reqId: refused.headers.get("x-request-id"),
  });
  expect(deny?.subject).toBeUndefined();
  expect(allow).toMatchObject({
    audit: "tools/call",
    mode: "optional",
    tool: "codebase.search",
    decision: "allow",
    subject: "env", // the name auth.yaml gives the key from MCP_API_KEY
    via: "api-key",
    reqId: allowed.headers.get("x-request-id"),
  });
  expect(JSON.stringify(lines)).not.toContain(API_KEY);
});

it("cuts a tool name longer than any tool's to 128 characters: a request cannot make a line of its size", async () => {
  const before = audits().length;
  const name = "x".repeat(100_000);
  // 2025-era: a 2026 client would send the name in a header too, which node refuses at this size
  const call = legacy("tools/call", { name, arguments: {} });
  expect((await rpc(mcpUrl, call.message, { ...call.headers, "x-api-key": API_KEY })).status).toBe(200);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const [line] = audits().slice(before);
  expect(line?.tool).toBe(`${"x".repeat(128)}…`);
  expect(JSON.stringify(line).length).toBeLessThan(1_000);
});

// TRUST_PROXY was read into express's `trust proxy` and nothing used it: no line named the client.
it("names the client's address: the peer's, or behind a trusted proxy the one it forwards (TRUST_PROXY)", async () => {
  const call = legacy("tools/call", { name: "docs.create", arguments: { title: "x", body: "y" } });
  const forwarded = { ...call.headers, "x-forwarded-for": "203.0.113.7" };
  const before = lines.length;
  expect((await rpc(mcpUrl, call.message, forwarded)).status).toBe(401);
  expect((await rpc(mcpUrl, call.message, { ...forwarded, "x-api-key": "tgk_not-a-configured-key-0123" })).status).toBe(
    401,
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  const untrusted = lines
    .slice(before)
    .filter((l) => l.audit === "tools/call" || l.msg === "API key refused: no configured key matches");
  // two audit lines and the refused key's line, each with the peer's address: the header is not trusted
  expect(untrusted.map((l) => l.ip)).toEqual(["127.0.0.1", "127.0.0.1", "127.0.0.1"]);

  const behindProxy: Record<string, unknown>[] = [];
  const proxied = await startServer({
    project,
    env: { AUTH_MODE: "optional", TRUST_PROXY: "loopback", DATA_DIR: "test/.tmp/audit-data" },
    server: { port: 0, host: "127.0.0.1" },
    logger: pino({ level: "info" }, { write: (line: string) => void behindProxy.push(JSON.parse(line)) }),
  });
  try {
    expect((await rpc(`${proxied.url}/mcp`, call.message, forwarded)).status).toBe(401);
    expect(
      (await rpc(`${proxied.url}/mcp`, call.message, { ...forwarded, authorization: "Bearer not.a.jwt" })).status,
    ).toBe(401);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const audit = behindProxy.filter((l) => l.audit === "tools/call");
    expect(audit.map((l) => l.ip)).toEqual(["203.0.113.7", "203.0.113.7"]);
    expect(behindProxy.find((l) => l.msg === "access token refused")?.ip).toBe("203.0.113.7");
  } finally {
    await proxied.close();
  }
});
