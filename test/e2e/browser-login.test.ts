/**
 * Issue 11, item 5: a real browser. The v2 MCP client (2025-11-25, dynamic registration) asks to
 * sign in for docs.create; Debian's Chromium, driven by playwright-core, opens the authorization URL,
 * fills the development login form, shows the consent page (kept as test/e2e/artifacts/consent.png)
 * and submits it; the authorization server redirects the browser to the client's redirect_uri, a
 * small 127.0.0.1 listener this test owns, and the client finishes with that callback.
 *
 * Skipped when /usr/bin/chromium is missing (install: apt-get install -y chromium).
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUnauthorizedError, type McpConnection, openConnection } from "./helpers/mcp-clients.js";
import { TestOAuthProvider } from "./helpers/oauth-provider.js";
import { Recorder } from "./helpers/recorder.js";
import { expectDocumentWritten, expectReachedHandler } from "./helpers/results.js";
import { type E2eServer, startE2eServer } from "./helpers/servers.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
  "--disable-quic",
];
const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));
const hasChromium = existsSync(CHROMIUM);
const title = hasChromium
  ? "Chromium completes the development login and consent for the v2 client"
  : `Chromium login — SKIPPED: ${CHROMIUM} is missing (apt-get install -y chromium)`;

/** The client's redirect_uri: answers the browser and hands the callback URL to the test. */
async function startCallbackListener(): Promise<{ url: string; next: () => Promise<URL>; close(): Promise<void> }> {
  let deliver: ((url: URL) => void) | undefined;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
    if (url.pathname !== "/callback") return void res.writeHead(404).end();
    res
      .writeHead(200, { "content-type": "text/html; charset=utf-8" })
      .end("<!DOCTYPE html><p>Signed in. You can close this window.</p>");
    deliver?.(url);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    /** The next callback the browser brings (call before starting the authorization). */
    next: () =>
      new Promise<URL>((resolve) => {
        deliver = resolve;
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!hasChromium)(title, () => {
  let server: E2eServer;
  let browser: Browser;
  let listener: Awaited<ReturnType<typeof startCallbackListener>>;
  let connection: McpConnection;
  let provider: TestOAuthProvider;

  beforeAll(async () => {
    [server, listener, browser] = await Promise.all([
      startE2eServer({ mode: "optional" }),
      startCallbackListener(),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 }),
    ]);
    provider = new TestOAuthProvider({
      redirectUrl: listener.url,
      clientName: "toolgate e2e (browser)",
      grantTypes: ["authorization_code"],
    });
    connection = openConnection("v2-2025", {
      url: server.mcpUrl,
      provider,
      recorder: new Recorder(),
      issuer: server.origin,
    });
  }, 60_000);

  afterAll(async () => {
    await connection?.close();
    await browser?.close();
    await listener?.close();
    await server?.close();
  });

  it("signs in through the login and consent pages in Chromium; the client finishes and docs.create reaches the handler", async () => {
    await connection.connect();
    expectReachedHandler(await connection.callTool("codebase.search", { query: "toolgate", limit: 1 }));
    const error = await connection.callTool("docs.create", { title: "From Chromium", body: "Hi" }).catch((e) => e);
    expect(isUnauthorizedError(error)).toBe(true);
    const authorizationUrl = provider.pendingAuthorization;

    const context = await browser.newContext();
    const offHost: string[] = [];
    try {
      // Hermetic: only loopback is reachable (and nothing else is asked for).
      await context.route("**/*", (route) => {
        const { hostname } = new URL(route.request().url());
        if (hostname === "127.0.0.1" || hostname === "localhost") return route.continue();
        offHost.push(route.request().url());
        return route.abort();
      });
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      const callback = listener.next();

      await page.goto(authorizationUrl.href, { waitUntil: "domcontentloaded" });
      await expect(page.title()).resolves.toBe("Sign-in");
      await expect(page.textContent("body")).resolves.toContain("toolgate development authorization server");
      await page.fill('input[name="login"]', "dana");
      await page.fill('input[name="password"]', "anything");
      await Promise.all([page.waitForURL(/\/interaction\//), page.click('button[type="submit"]')]);

      await page.waitForSelector('input[name="prompt"][value="consent"]', { state: "attached" });
      const consent = (await page.textContent("body")) ?? "";
      expect(consent).toContain("toolgate development authorization server");
      expect(consent).toContain("docs.write");
      await mkdir(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: `${ARTIFACTS}consent.png`, fullPage: true });

      await page.click('button[type="submit"]');
      const redirected = await callback;
      await page.waitForURL((url) => url.href.startsWith(listener.url));
      await expect(page.textContent("body")).resolves.toContain("Signed in");

      expect(redirected.searchParams.get("state")).toBe(authorizationUrl.searchParams.get("state"));
      expect(redirected.searchParams.get("iss")).toBe(server.origin);
      await connection.finishAuth(redirected); // the whole query: the SDK checks iss (RFC 9207)
    } finally {
      await context.close();
    }

    const claims = decodeJwt(provider.tokens()?.access_token ?? "");
    expect(claims).toMatchObject({ sub: "dana", aud: server.mcpUrl.href, scope: "docs.write" });
    expectDocumentWritten(await connection.callTool("docs.create", { title: "From Chromium", body: "Hi" }));
    expect(offHost).toEqual([]); // the development pages load nothing from elsewhere
  }, 60_000);
});
