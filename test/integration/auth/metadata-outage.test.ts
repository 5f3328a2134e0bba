/**
 * The authorization server's metadata endpoints down through the real server: an oidc issuer the
 * test owns, configured without jwksUri (the keys are found through the metadata), in another
 * auth.yaml. Startup must not wait on an issuer that does not answer for longer than jwks.timeout.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { project } from "../../../generated/project.js";
import { type RunningServer, startServer } from "../../../src/server.js";
import { legacy, rpc } from "../../helpers/server.js";
import { type MetadataFaultMode, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import { authYaml, parseChallenge, useTemporaryToolFolders } from "./support.js";

const TIMEOUT = 500;

useTemporaryToolFolders();

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Started {
  issuer: TestIssuer;
  server: RunningServer;
  /** Milliseconds startServer() took. */
  startupMs: number;
  logs: Array<{ level: number; msg: string; [key: string]: unknown }>;
}

/** An issuer with a path (four metadata locations) whose metadata does `fault`, and toolgate using it. */
async function start(fault: MetadataFaultMode, jwks: Record<string, number>): Promise<Started> {
  const issuer = await startTestIssuer({ issuerPath: "/tenant", discovery: "openid", metadataFault: fault });
  cleanup.push(() => issuer.close());
  const dataDir = await mkdtemp(join(tmpdir(), "toolgate-metadata-it-"));
  cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
  const authFile = join(dataDir, "auth.yaml");
  await writeFile(
    authFile,
    authYaml({
      mode: "oauth2",
      authorizationServers: [{ type: "oidc", issuer: issuer.issuer, requireAccessTokenType: false }],
      authorizationServerMetadataMirror: true,
      jwks: { timeout: TIMEOUT, ...jwks },
    }),
  );
  const logs: Started["logs"] = [];
  const began = Date.now();
  const server = await startServer({
    project,
    env: { DATA_DIR: dataDir },
    server: { port: 0, host: "127.0.0.1" },
    authFile,
    logger: pino({ level: "debug" }, { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
  const startupMs = Date.now() - began;
  cleanup.push(() => server.close());
  return { issuer, server, startupMs, logs };
}

const listTools = (server: RunningServer, headers: Record<string, string> = {}) => {
  const { message, headers: eraHeaders } = legacy("tools/list");
  return rpc(`${server.url}/mcp`, message, { ...eraHeaders, ...headers });
};

describe("metadata that never answers", () => {
  it("holds startup for at most jwks.timeout; /healthz 200; a token then gets 503 with Retry-After", async () => {
    const { issuer, server, startupMs } = await start("hang", { cooldown: 30_000 });
    // Before: each of the four locations waited a full timeout, for the keys and again for the
    // metadata: 8 × 500 ms. Now one deadline for the one discovery both share.
    expect(startupMs).toBeLessThan(4 * TIMEOUT);
    expect(issuer.metadataRequests).toBeGreaterThanOrEqual(1);
    expect(issuer.metadataRequests).toBeLessThanOrEqual(4); // once per location, not once per consumer
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);

    const token = issuer.token({ aud: server.auth.resource, scope: "search.read" });
    const began = Date.now();
    const res = await listTools(server, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Date.now() - began).toBeLessThan(4 * TIMEOUT);
    expect(issuer.jwksFetches).toBe(0);
  });
});

describe("metadata unreadable at startup, then back", () => {
  it("the mirror and authorization_uri appear without a restart; the warning says what is missing and how to avoid it", async () => {
    const COOLDOWN = 300;
    const { issuer, server, logs } = await start("error", { cooldown: COOLDOWN });
    const mirrorUrl = `${server.url}/.well-known/oauth-authorization-server`;
    const challenge = async () => {
      const res = await listTools(server);
      expect(res.status).toBe(401);
      return parseChallenge(res.headers.get("www-authenticate") as string).params;
    };

    expect((await fetch(mirrorUrl)).status).toBe(404);
    expect((await challenge()).authorization_uri).toBeUndefined();
    const warning = logs.find((l) => l.level === 40 && l.msg.includes("metadata at startup"));
    expect(warning?.msg).toContain("authorization_uri");
    expect(warning?.msg).toContain("authorizationEndpoint");
    expect(warning?.msg).toContain("/.well-known/oauth-authorization-server");
    expect(warning?.candidates).toContainEqual({
      url: `${issuer.issuer}/.well-known/openid-configuration`,
      reason: "HTTP_STATUS",
    });

    issuer.metadataFault = "none";
    let mirror = await fetch(mirrorUrl);
    // Retried in the background at most every cooldown (300 ms): allow ten times that, and more.
    for (let i = 0; i < 50 && mirror.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      mirror = await fetch(mirrorUrl);
    }
    expect(mirror.status).toBe(200);
    expect(await mirror.json()).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri });
    expect((await challenge()).authorization_uri).toBe(`${issuer.origin}/authorize`);
    expect(logs).toContainEqual(expect.objectContaining({ level: 30, msg: expect.stringContaining("metadata read") }));

    // The keys come through the same metadata: a token works once the JWKS cooldown has passed.
    await new Promise((r) => setTimeout(r, COOLDOWN + 100));
    const token = issuer.token({ aud: server.auth.resource, scope: "search.read" });
    expect((await listTools(server, { authorization: `Bearer ${token}` })).status).toBe(200);
  });
});
