/**
 * Many requests on one keep-alive connection, through the real server: the gate remembers the
 * caller last authenticated on a connection (src/auth/connection-callers.ts), and these tests pin
 * down that this never lets a request through that would be refused on a connection of its own —
 * another credential, none, a tampered token, an expired one — since a proxy may pool one upstream
 * connection for many users. Every request here goes over the same socket (checked with
 * `reusedSocket`), so each one meets the previous request's remembered caller.
 */
import { Agent, request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nowSec, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import {
  API_KEY,
  type AuthTestServer,
  authYaml,
  parseChallenge,
  startAuthServer,
  useTemporaryToolFolders,
  WRONG_API_KEY,
} from "./support.js";

useTemporaryToolFolders();

interface Answer {
  status: number;
  reused: boolean;
  challenge?: string;
  body: { result?: { isError?: boolean; content?: { text?: string }[] }; error?: unknown };
}

/** One connection: an agent with a single socket, kept alive between requests. */
function connection(server: AuthTestServer) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let count = 0;
  const send = (tool: string, args: Record<string, unknown>, headers: Record<string, string>) =>
    new Promise<Answer>((resolve, reject) => {
      const body = JSON.stringify({
        jsonrpc: "2.0",
        id: ++count,
        method: "tools/call",
        params: { name: tool, arguments: args },
      });
      const req = httpRequest(
        {
          agent,
          host: server.mcpUrl.hostname,
          port: server.mcpUrl.port,
          path: server.mcpUrl.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            "mcp-protocol-version": "2025-11-25",
            "content-length": String(Buffer.byteLength(body)),
            ...headers,
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk) => {
            text += chunk;
          });
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              reused: req.reusedSocket,
              ...(res.headers["www-authenticate"] ? { challenge: res.headers["www-authenticate"] as string } : {}),
              body: text ? JSON.parse(text) : {},
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  return { send, close: () => agent.destroy() };
}

const DOCS_ARGS = { title: "same connection", body: "# written by same-connection.test.ts", overwrite: true };
const SEARCH_ARGS = { query: "toolgate", limit: 1 };

function expectAllowed(answer: Answer) {
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  expect(answer.challenge).toBeUndefined();
  const text = answer.body.result?.content?.[0]?.text ?? "";
  expect(text).not.toMatch(/^Unauthorized/);
}

describe("oauth2: one connection, several tokens", () => {
  let issuer: TestIssuer;
  let server: AuthTestServer;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    server = await startAuthServer({
      env: { AUTH_MODE: "oauth2" },
      authYaml: authYaml({
        mode: "oauth2",
        // No tolerance: a token is refused the second its `exp` has passed.
        authorizationServers: [
          {
            type: "oidc",
            issuer: issuer.issuer,
            jwksUri: issuer.jwksUri,
            clockTolerance: 0,
            requireAccessTokenType: false,
          },
        ],
      }),
    });
  });

  afterAll(async () => {
    await server?.stop();
    await issuer?.close();
  });

  const token = (claims: Record<string, unknown>) =>
    issuer.token({ aud: server.auth.resource, client_id: "same-connection", ...claims });

  it("decides every request on its own credential, whatever the previous request on the connection sent", async () => {
    const writer = token({ sub: "writer", scope: "docs.write search.read" });
    const reader = token({ sub: "reader", scope: "search.read" });
    const [header, payload, signature] = writer.split(".") as [string, string, string];
    const middle = Math.floor(signature.length / 2);
    const tampered = `${header}.${payload}.${signature.slice(0, middle)}${signature[middle] === "A" ? "B" : "A"}${signature.slice(middle + 1)}`;
    const conn = connection(server);
    try {
      const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
      expectAllowed(await conn.send("docs.create", DOCS_ARGS, bearer(writer)));

      const again = await conn.send("docs.create", DOCS_ARGS, bearer(writer));
      expect(again.reused).toBe(true);
      expectAllowed(again);

      // Nothing sent: not the previous request's caller.
      const none = await conn.send("docs.create", DOCS_ARGS, {});
      expect(none.reused).toBe(true);
      expect(none.status).toBe(401);
      expect(parseChallenge(none.challenge ?? "").params.error).toBeUndefined();

      // Another user with fewer scopes: refused for the tool the previous caller could use.
      const stepUp = await conn.send("docs.create", DOCS_ARGS, bearer(reader));
      expect(stepUp.reused).toBe(true);
      expect(stepUp.status).toBe(403);
      expect(parseChallenge(stepUp.challenge ?? "").params.error).toBe("insufficient_scope");

      expectAllowed(await conn.send("docs.create", DOCS_ARGS, bearer(writer)));
      // The remembered token with one character of its signature changed.
      const forged = await conn.send("docs.create", DOCS_ARGS, bearer(tampered));
      expect(forged.reused).toBe(true);
      expect(forged.status).toBe(401);
      expect(parseChallenge(forged.challenge ?? "").params.error).toBe("invalid_token");

      // The same token under another header (an API key header is not a bearer token).
      expectAllowed(await conn.send("docs.create", DOCS_ARGS, bearer(writer)));
      const asKey = await conn.send("docs.create", DOCS_ARGS, { "x-api-key": writer });
      expect(asKey.reused).toBe(true);
      expect(asKey.status).toBe(401);
    } finally {
      conn.close();
    }
  });

  it("stops accepting a remembered token the moment it expires", async () => {
    const exp = nowSec() + 2;
    const shortLived = token({ sub: "short", scope: "docs.write", exp });
    const conn = connection(server);
    try {
      const bearer = { authorization: `Bearer ${shortLived}` };
      expectAllowed(await conn.send("docs.create", DOCS_ARGS, bearer));
      expectAllowed(await conn.send("docs.create", DOCS_ARGS, bearer));
      await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 100));
      const late = await conn.send("docs.create", DOCS_ARGS, bearer);
      expect(late.reused).toBe(true);
      expect(late.status).toBe(401);
      expect(parseChallenge(late.challenge ?? "").params.error).toBe("invalid_token");
    } finally {
      conn.close();
    }
  });
});

describe("api-key: one connection, several keys", () => {
  let server: AuthTestServer;

  beforeAll(async () => {
    server = await startAuthServer({ env: { AUTH_MODE: "api-key", MCP_API_KEY: API_KEY } });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("refuses a wrong key of the same length after the right one was accepted on the connection", async () => {
    expect(WRONG_API_KEY.length).toBe(API_KEY.length);
    const conn = connection(server);
    try {
      expectAllowed(await conn.send("codebase.search", SEARCH_ARGS, { "x-api-key": API_KEY }));
      expectAllowed(await conn.send("codebase.search", SEARCH_ARGS, { "x-api-key": API_KEY }));
      const wrong = await conn.send("codebase.search", SEARCH_ARGS, { "x-api-key": WRONG_API_KEY });
      expect(wrong.reused).toBe(true);
      expect(wrong.status).toBe(401);
      const none = await conn.send("codebase.search", SEARCH_ARGS, {});
      expect(none.status).toBe(401);
      // The same key as a Bearer value is the same caller, through the other header.
      expectAllowed(await conn.send("codebase.search", SEARCH_ARGS, { authorization: `Bearer ${API_KEY}` }));
      expectAllowed(await conn.send("codebase.search", SEARCH_ARGS, { "x-api-key": API_KEY }));
    } finally {
      conn.close();
    }
  });
});
