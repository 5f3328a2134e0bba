/**
 * The development authorization server behind a tunnel (README: MCP_RESOURCE_URL set to the tunnel's
 * https URL): its issuer and every URL it advertises are on the tunnel's origin, which the host
 * itself may not reach (no outbound network, split DNS, the tunnel not up yet). Here that origin,
 * https://tunnel.invalid, resolves nowhere: the test plays the tunnel by sending its requests to the
 * server's local port. A token the server issued must still verify — the verifier takes the
 * development server's public keys in memory instead of fetching its public jwks_uri.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningServer } from "../../../src/server.js";
import { runOAuthFlow } from "../../helpers/oauth-flow.js";
import { modern, rpc, startTestServer } from "../../helpers/server.js";

const TUNNEL = "https://tunnel.invalid";
let server: RunningServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "toolgate-tunnel-"));
  server = await startTestServer({ AUTH_MODE: "oauth2", MCP_RESOURCE_URL: `${TUNNEL}/mcp`, DATA_DIR: dataDir });
});
afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** `fetch` as a client on the far side of the tunnel sees it: the tunnel's URLs reach the local port. */
async function throughTheTunnel<T>(run: () => Promise<T>): Promise<T> {
  const real = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    return real(url.startsWith(`${TUNNEL}/`) ? `${server.url}${url.slice(TUNNEL.length)}` : input, init);
  };
  try {
    return await run();
  } finally {
    globalThis.fetch = real;
  }
}

it("a token the development server issued through the tunnel verifies, its jwks_uri unreachable from here", async () => {
  const { accessToken, metadata } = await throughTheTunnel(() =>
    runOAuthFlow({ issuer: TUNNEL, scope: "docs.write", resource: `${TUNNEL}/mcp` }),
  );
  expect(metadata.jwks_uri).toBe(`${TUNNEL}/jwks`);
  const { message, headers } = modern("tools/list");
  const res = await rpc(`${server.url}/mcp`, message, { ...headers, authorization: `Bearer ${accessToken}` });
  expect(res.status).toBe(200);
  expect(res.body.result.tools.map((t: { name: string }) => t.name)).toContain("docs.create");
});
