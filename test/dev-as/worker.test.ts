/**
 * The development authorization server runs in a worker thread (src/dev-as/worker-host.ts) and is
 * served on the app's port, each request handed to the thread as a message: provider routes answer
 * through it, other paths fall through to the app, and a start failure is reported, not swallowed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevAuthorizationServer } from "../../src/dev-as/index.js";
import { MAX_BODY_BYTES, startDevAuthorizationServerWorker } from "../../src/dev-as/worker-host.js";

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "toolgate-dev-as-worker-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Registers a public client at `origin` and sends it to the authorization endpoint (not followed). */
async function startAuthorization(origin: string, headers: Record<string, string> = {}): Promise<Response> {
  const registered = await fetch(`${origin}/reg`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ redirect_uris: ["http://127.0.0.1/callback"], token_endpoint_auth_method: "none" }),
  });
  const { client_id } = (await registered.json()) as { client_id: string };
  return fetch(
    `${origin}/auth?${new URLSearchParams({
      client_id,
      response_type: "code",
      redirect_uri: "http://127.0.0.1/callback",
      scope: "openid",
      code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
      code_challenge_method: "S256",
    })}`,
    { redirect: "manual", headers },
  );
}

describe("development authorization server in a worker thread", () => {
  let server: Server;
  let dev: DevAuthorizationServer;
  let origin: string;
  const warnings: string[] = [];
  beforeAll(async () => {
    let handler: DevAuthorizationServer["handler"] | undefined;
    server = createServer((req, res) =>
      handler ? handler(req, res, () => void res.writeHead(418).end("app")) : res.writeHead(503).end(),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dev = await startDevAuthorizationServerWorker({
      issuer: origin,
      resource: `${origin}/mcp`,
      scopes: { "docs.write": "Write documents." },
      dataDir,
      logger: { debug() {}, info() {}, warn: (_o, m) => void warnings.push(String(m)) },
    });
    handler = dev.handler;
  });
  afterAll(async () => {
    await dev?.close();
    server?.close();
  });

  it("serves discovery and the JWKS on the app's port, with the app's origin as issuer", async () => {
    const discovery = await fetch(`${origin}/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);
    const metadata = (await discovery.json()) as { issuer: string; jwks_uri: string };
    expect(metadata.issuer).toBe(origin);
    expect(metadata.jwks_uri).toBe(dev.jwksUri);
    const jwks = (await (await fetch(dev.jwksUri)).json()) as { keys: { kty: string }[] };
    expect(jwks.keys.map((k) => k.kty)).toContain("RSA");
  });

  it("passes paths no provider route claims on to the app", async () => {
    const res = await fetch(`${origin}/not-a-provider-route`);
    expect(res.status).toBe(418);
    expect(await res.text()).toBe("app");
  });

  it("forwards request bodies (dynamic client registration)", async () => {
    const res = await fetch(`${origin}/reg`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        redirect_uris: ["http://127.0.0.1/callback"],
        token_endpoint_auth_method: "none",
        client_name: "worker test",
      }),
    });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { client_id: string }).client_id).toEqual(expect.any(String));
  });

  it("refuses a body beyond MAX_BODY_BYTES with 413 without forwarding it, and goes on serving", async () => {
    const res = await fetch(`${origin}/reg`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "x".repeat(MAX_BODY_BYTES + 1),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
    expect((await fetch(`${origin}/jwks`)).status).toBe(200);
  });

  it("keeps a repeated response header (Set-Cookie) and answers HEAD without a body", async () => {
    const head = await fetch(`${origin}/.well-known/openid-configuration`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // The authorization endpoint starts an interaction: the provider sets its cookies (value and signature).
    const authorize = await startAuthorization(origin);
    expect(authorize.status).toBe(303);
    expect(authorize.headers.get("location")).toMatch(/\/interaction\//);
    expect(authorize.headers.getSetCookie().length).toBeGreaterThanOrEqual(2);
  });

  it("stops its thread on close; later requests get 503, not a hang", async () => {
    const other = await startDevAuthorizationServerWorker({
      issuer: origin,
      resource: `${origin}/mcp`,
      scopes: {},
      dataDir,
    });
    await other.close();
    const front = createServer((req, res) => other.handler(req, res));
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    const res = await fetch(`http://127.0.0.1:${(front.address() as AddressInfo).port}/jwks`);
    expect(res.status).toBe(503);
    front.close();
  });
});

describe("behind a TLS tunnel (an https issuer, plain http to toolgate)", () => {
  // The tunnel ends TLS and forwards plain HTTP: this test's server is that plain-HTTP side, and the
  // issuer is the https URL clients use. The provider must build its URLs from the issuer, not from
  // the plain request (nor from X-Forwarded-* headers a client chose), and mark its cookies Secure.
  let server: Server;
  let dev: DevAuthorizationServer;
  let origin: string;
  const issuer = "https://tunnel.example";
  beforeAll(async () => {
    let handler: DevAuthorizationServer["handler"] | undefined;
    server = createServer((req, res) => (handler ? handler(req, res) : res.writeHead(503).end()));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dev = await startDevAuthorizationServerWorker({
      issuer,
      resource: `${issuer}/mcp`,
      scopes: { "docs.write": "Write documents." },
      dataDir,
    });
    handler = dev.handler;
  });
  afterAll(async () => {
    await dev?.close();
    server?.close();
  });

  const endpoints = (metadata: Record<string, unknown>) =>
    Object.entries(metadata)
      .filter(([key]) => key.endsWith("_endpoint") || key === "jwks_uri" || key === "issuer")
      .map(([, value]) => String(value));

  it("advertises https endpoints on the issuer's host, whatever X-Forwarded-* the client sends", async () => {
    for (const headers of [
      {} as Record<string, string>,
      { "x-forwarded-proto": "http", "x-forwarded-host": "evil.example", forwarded: "proto=http;host=evil.example" },
    ]) {
      const metadata = (await (
        await fetch(`${origin}/.well-known/oauth-authorization-server`, { headers })
      ).json()) as Record<string, unknown>;
      expect(metadata.issuer).toBe(issuer);
      const urls = endpoints(metadata);
      expect(urls.length).toBeGreaterThanOrEqual(5);
      for (const url of urls) expect(url.startsWith(`${issuer}/`) || url === issuer, url).toBe(true);
    }
  });

  it("sets Secure cookies and posts the login form to the https issuer", async () => {
    const authorize = await startAuthorization(origin, { "x-forwarded-proto": "http" });
    expect(authorize.status).toBe(303);
    const cookies = authorize.headers.getSetCookie();
    expect(cookies.length).toBeGreaterThanOrEqual(2);
    for (const cookie of cookies) expect(cookie.toLowerCase().split("; ")).toContain("secure");
    const page = await fetch(new URL(authorize.headers.get("location") ?? "", origin), {
      headers: { cookie: cookies.map((c) => c.split(";")[0]).join("; ") },
    });
    const action = /<form\b[^>]*\baction="([^"]*)"/.exec(await page.text())?.[1];
    expect(action).toMatch(new RegExp(`^${issuer}/interaction/`));
  });
});

it("reports why it could not start", async () => {
  const notADirectory = join(dataDir, "file");
  await writeFile(notADirectory, "x");
  await expect(
    startDevAuthorizationServerWorker({
      issuer: "http://127.0.0.1:1",
      resource: "http://127.0.0.1:1/mcp",
      scopes: {},
      dataDir: notADirectory,
    }),
  ).rejects.toThrow(/^the development authorization server did not start: .*ENOTDIR/);
});
