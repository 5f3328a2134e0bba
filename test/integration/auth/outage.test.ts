/**
 * An authorization-server outage through the real server (DESIGN §3: "JWKS unreachable, timeout,
 * garbage is 503 with Retry-After, never 401"), with an oidc issuer the test owns, configured through
 * another auth.yaml (`startServer({ authFile })`).
 *
 * Timings: jose refetches keys only once they are older than `cacheMaxAge` (schema minimum 1000 ms);
 * before that a JWKS outage is not even noticed. So `lastKnownGood` must be longer than `cacheMaxAge`
 * for a window "endpoint down, keys stale, last-known-good still serving" to exist: 1000 / 2500 ms.
 * Every request carries a fresh token (own `jti`), because verified tokens are cached until `exp`
 * and a cached token would pass whatever the JWKS endpoint does.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTestKey, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import {
  type AuthTestServer,
  authYaml,
  call,
  expectReachedHandler,
  parseChallenge,
  startAuthServer,
  useTemporaryToolFolders,
} from "./support.js";

const CACHE_MAX_AGE = 1000;
const LAST_KNOWN_GOOD = 2500;
const COOLDOWN = 200;

let issuer: TestIssuer;
let server: AuthTestServer;
/** When the test issuer last served its key set successfully (a lower bound of jose's `uat`). */
let lastServed = 0;

useTemporaryToolFolders();

beforeAll(async () => {
  issuer = await startTestIssuer();
  const handle = issuer.handle.bind(issuer);
  issuer.handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === "/jwks" && issuer.fault === "none")
      res.on("finish", () => {
        lastServed = Date.now();
      });
    handle(req, res);
  };
  server = await startAuthServer({
    authYaml: authYaml({
      mode: "oauth2",
      authorizationServers: [
        { type: "oidc", issuer: issuer.issuer, jwksUri: issuer.jwksUri, requireAccessTokenType: false },
      ],
      jwks: { cooldown: COOLDOWN, cacheMaxAge: CACHE_MAX_AGE, lastKnownGood: LAST_KNOWN_GOOD, timeout: 500 },
    }),
  });
});

afterAll(async () => {
  await server?.stop();
  await issuer?.close();
});

const token = (claims: Record<string, unknown> = {}) =>
  issuer.token({ aud: server.auth.resource, scope: "search.read docs.write", jti: crypto.randomUUID(), ...claims });
const withToken = (t = token()) => ({ authorization: `Bearer ${t}` });
const sleepUntil = async (at: number) => {
  const ms = at - Date.now();
  if (ms > 0) await new Promise((r) => setTimeout(r, ms));
};

function expect503(res: { status: number; headers: Headers; body: any }) {
  expect(res.status).toBe(503);
  const retryAfter = res.headers.get("retry-after");
  // RFC 9110 §10.2.3: delay-seconds = 1*DIGIT
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(res.headers.get("www-authenticate")).toBeNull();
  expect(res.body).toMatchObject({ jsonrpc: "2.0", error: { code: expect.any(Number) } });
}

describe("JWKS outage", () => {
  it("valid → down within last-known-good → past it (503, never 401) → back", async () => {
    // 1. healthy
    expect(lastServed).toBeGreaterThan(0); // pre-warmed at startup
    expectReachedHandler(await call(server, "2025-11-25", "docs.create", withToken()), "docs.create");

    // 2. endpoint down; keys stale (older than cacheMaxAge), so a refetch is attempted, fails, and
    //    the last-known-good set keeps serving
    issuer.fault = "down";
    const downSince = issuer.jwksFetches;
    await sleepUntil(lastServed + CACHE_MAX_AGE + 150);
    expect(Date.now() - lastServed).toBeLessThan(LAST_KNOWN_GOOD - 500);
    expectReachedHandler(await call(server, "2026-07-28", "docs.create", withToken()), "docs.create");
    expect(issuer.jwksFetches).toBeGreaterThan(downSince); // it did try, and failed
    // ...and a bad signature with a known kid is still a bad token, not an outage
    const other = await generateTestKey("RS256", issuer.signingKey.kid);
    const bad = await call(
      server,
      "2025-11-25",
      "docs.create",
      withToken(issuer.token({ aud: server.auth.resource, jti: crypto.randomUUID() }, {}, other)),
    );
    expect(bad.status).toBe(401);
    expect(parseChallenge(bad.headers.get("www-authenticate") as string).params.error).toBe("invalid_token");

    // 3. past last-known-good: 503 with Retry-After, in both eras, and for ChatGPT too (no sign-in prompt)
    await sleepUntil(lastServed + LAST_KNOWN_GOOD + 300);
    expect503(await call(server, "2025-11-25", "docs.create", withToken()));
    expect503(await call(server, "2026-07-28", "codebase.search", withToken()));
    expect503(await call(server, "2025-11-25", "docs.create", withToken(), { "openai/locale": "en-US" }));

    // 4. back: after the cooldown the next token triggers a fetch that succeeds
    issuer.fault = "none";
    await new Promise((r) => setTimeout(r, COOLDOWN + 100));
    const before = issuer.jwksFetches;
    expectReachedHandler(await call(server, "2026-07-28", "docs.create", withToken()), "docs.create");
    expect(issuer.jwksFetches).toBeGreaterThan(before);
    expectReachedHandler(await call(server, "2025-11-25", "docs.create", withToken()), "docs.create");
  });

  it("an expired token is 401 invalid_token, whatever the keys", async () => {
    const res = await call(server, "2025-11-25", "docs.create", withToken(token({ exp: 1000, iat: 900 })));
    expect(res.status).toBe(401);
    expect(parseChallenge(res.headers.get("www-authenticate") as string).params.error).toBe("invalid_token");
  });
});
