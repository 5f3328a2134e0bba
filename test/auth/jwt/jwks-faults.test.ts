/**
 * The key endpoint misbehaving: down, slow, garbage, redirects, private keys, rotation, floods of
 * unknown kids. All over real HTTP against a test issuer; fetches are counted at the server.
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JwtVerifier, JwtVerifierOptions } from "../../../src/auth/jwt-verifier.js";
import {
  generateTestKey,
  type JwksFaultMode,
  refusedUrl,
  startTestIssuer,
  type TestIssuer,
  type TestKey,
} from "../../helpers/test-issuer.js";
import { captureLogger, expectRejected, issuerOptions, sleep, verifierFor } from "./setup.js";

const FAST: JwtVerifierOptions["jwks"] = {
  timeoutMs: 300,
  cooldownMs: 200,
  cacheMaxAgeMs: 300,
  lastKnownGoodMs: 1_000,
};

const cleanup: Array<() => unknown> = [];
let sharedKey: TestKey; // RSA key generation is the slow part of setting up an issuer
beforeAll(async () => {
  sharedKey = await generateTestKey("RS256", "shared");
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(
  options: Parameters<typeof startTestIssuer>[0] = {},
  jwks: JwtVerifierOptions["jwks"] = FAST,
  tokenCache: JwtVerifierOptions["tokenCache"] = { enabled: false, maxEntries: 0 },
): Promise<{ idp: TestIssuer; verifier: JwtVerifier; log: ReturnType<typeof captureLogger> }> {
  const idp = await startTestIssuer({ keys: [sharedKey], ...options });
  cleanup.push(() => idp.close());
  const log = captureLogger();
  const verifier = await verifierFor([issuerOptions(idp)], { jwks, logger: log.logger, tokenCache });
  cleanup.push(() => verifier.close());
  return { idp, verifier, log };
}

describe("outage at startup", () => {
  it("resolves when the JWKS refuses connections, answers unavailable, never invalid_token", async () => {
    const idp = await startTestIssuer({ keys: [sharedKey] });
    cleanup.push(() => idp.close());
    const log = captureLogger();
    const verifier = await verifierFor([{ ...issuerOptions(idp), jwksUri: `${await refusedUrl()}/jwks` }], {
      jwks: FAST,
      logger: log.logger,
    });
    const err = await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(err.kind).toBe("unavailable");
    expect(err.retryAfterSec).toBeGreaterThanOrEqual(1);
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", obj: expect.objectContaining({ reason: "FETCH_FAILED" }) }),
    );
    verifier.close();
  });

  it("starts while the issuer is down and verifies once it answers", async () => {
    const { idp, verifier } = await setup({ fault: "down" });
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    idp.fault = "none";
    await sleep(FAST.cooldownMs + 50);
    await expect(verifier.verify(idp.token())).resolves.toMatchObject({ subject: "user-1" });
  });

  it("times out on a slow JWKS and answers unavailable", async () => {
    const started = Date.now();
    const { idp, verifier } = await setup({ fault: "slow", slowMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    const err = await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(err.kind).toBe("unavailable");
  });

  it.each<[JwksFaultMode, string]>([
    ["html", "NOT_JSON"],
    ["empty-object", "NOT_A_JWKS"],
    ["not-found", "HTTP_STATUS"],
  ])("treats a %s answer as an outage", async (fault, reason) => {
    const { idp, verifier, log } = await setup({ fault });
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(log.lines[0]).toMatchObject({ level: "warn", obj: { issuer: idp.issuer, reason } });
  });

  it("stops reading a chunked answer without a length once it passes 512 KiB", async () => {
    const { idp, verifier, log } = await setup({ fault: "endless" }, { ...FAST, timeoutMs: 5_000 });
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(log.lines[0]).toMatchObject({ level: "warn", obj: { reason: "TOO_LARGE" } });
    // hung up early: what was written is the limit plus what the sockets' buffers held, not 64 MiB
    expect(idp.endlessBytesSent).toBeLessThan(16 * 1024 * 1024);
  });

  it("refuses a JWKS that publishes private keys, without logging key material", async () => {
    const { idp, verifier, log } = await setup({ fault: "private-keys" });
    // Signed by the very key that was published: the set is refused whole, so it still fails.
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(log.lines[0]).toMatchObject({ level: "warn", obj: { reason: "PRIVATE_KEY_PUBLISHED" } });
    const privateJwk = idp.signingKey.privateJwk;
    for (const member of ["d", "p", "q", "dp", "dq", "qi"])
      expect(log.text()).not.toContain(String(privateJwk[member]));
  });

  it("does not follow a redirect from the JWKS URL", async () => {
    const { idp, verifier, log } = await setup({ fault: "redirect" });
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    expect(log.lines[0]).toMatchObject({ obj: { reason: "HTTP_STATUS" } });
    expect(idp.requests).not.toContain("/jwks-moved");
  });
});

describe("outage after startup (last-known-good)", () => {
  it("keeps verifying with last-known-good keys inside the window, then answers unavailable", async () => {
    const { idp, verifier, log } = await setup();
    const token = idp.token();
    idp.fault = "down";
    await sleep(FAST.cacheMaxAgeMs + 50); // the cached set is stale: jose must refetch, and fails
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "user-1" });
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: "warn", obj: expect.objectContaining({ lastKnownGood: true }) }),
    );
    await sleep(FAST.lastKnownGoodMs);
    const err = await expectRejected(verifier, token, "JWKS_UNAVAILABLE");
    expect(err.kind).toBe("unavailable");
    // Said once when it happens, and no fault line after it claims the old keys still serve.
    await expectRejected(verifier, token, "JWKS_UNAVAILABLE");
    expect(log.lines.filter((l) => l.msg?.includes("too old to use"))).toHaveLength(1);
    const faults = log.lines.filter((l) => l.msg === "Could not fetch the signing keys of the authorization server");
    expect(faults.at(-1)?.obj).toMatchObject({ lastKnownGood: false });
    expect(faults[0]?.obj).toMatchObject({ lastKnownGood: true, lastKnownGoodUntil: expect.any(String) });
    idp.fault = "none";
    await sleep(FAST.cooldownMs + 50);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "user-1" });
    expect(log.lines.at(-1)).toMatchObject({ level: "info" });
  });

  it("keeps the last-known-good keys when the endpoint starts answering garbage", async () => {
    const { idp, verifier, log } = await setup({}, { ...FAST, lastKnownGoodMs: 30_000 });
    const faults: Array<[JwksFaultMode, string]> = [
      ["html", "NOT_JSON"],
      ["empty-object", "NOT_A_JWKS"],
      ["private-keys", "PRIVATE_KEY_PUBLISHED"],
      ["slow", "TIMEOUT"],
      ["redirect", "HTTP_STATUS"],
    ];
    for (const [fault, reason] of faults) {
      idp.fault = fault;
      const fetches = idp.jwksFetches;
      await sleep(FAST.cacheMaxAgeMs + 50); // stale: the next token makes jose refetch
      await expect(verifier.verify(idp.token())).resolves.toMatchObject({ subject: "user-1" });
      expect(idp.jwksFetches).toBe(fetches + 1);
      expect(log.lines.at(-1)).toMatchObject({ level: "warn", obj: { reason, lastKnownGood: true } });
    }
  });

  it("answers unavailable, not invalid_token, for an unknown kid while keys cannot be refreshed", async () => {
    const { idp, verifier } = await setup();
    idp.fault = "down";
    await sleep(FAST.cooldownMs + 50);
    await expectRejected(verifier, idp.token({}, { kid: "rotated-in-during-the-outage" }), "JWKS_UNAVAILABLE");
    await expect(verifier.verify(idp.token())).resolves.toMatchObject({ subject: "user-1" });
  });

  it("spaces out fetch attempts during an outage instead of one per token", async () => {
    const { idp, verifier, log } = await setup();
    idp.fault = "down";
    await sleep(FAST.cacheMaxAgeMs + 50);
    const before = idp.jwksFetches;
    await Promise.all(Array.from({ length: 50 }, () => verifier.verify(idp.token())));
    expect(idp.jwksFetches - before).toBe(1);
    expect(log.lines.filter((line) => line.level === "warn")).toHaveLength(1);
  });
});

/** The issuer publishes `kept` only; a token naming an unknown kid, after the cooldown, makes the verifier refetch. */
async function retireAllBut(kept: TestKey, idp: TestIssuer, verifier: JwtVerifier, cooldownMs: number) {
  idp.published = [kept];
  await sleep(cooldownMs + 50);
  await expectRejected(verifier, idp.token({}, { kid: "unknown-kid-forces-refetch" }, kept), "TOKEN_NO_MATCHING_KEY");
}

describe("key rotation and unknown kids", () => {
  const CACHE = { enabled: true, maxEntries: 100 };
  const SLOW_CACHE: JwtVerifierOptions["jwks"] = { ...FAST, cacheMaxAgeMs: 60_000, lastKnownGoodMs: 60_000 };

  it("accepts a new key after the cooldown and the old one while it is still published", async () => {
    const [oldKey, newKey] = await Promise.all([generateTestKey("RS256", "key-1"), generateTestKey("RS256", "key-2")]);
    const timings = { ...SLOW_CACHE, cooldownMs: 1_000 }; // long enough to act inside it on a busy machine
    const { idp, verifier } = await setup({ keys: [oldKey] }, timings);
    idp.published = [oldKey, newKey];
    // Within the cooldown of the start-up fetch jose does not refetch for an unknown kid.
    await expectRejected(verifier, idp.token({}, {}, newKey), "TOKEN_NO_MATCHING_KEY");
    expect(idp.jwksFetches).toBe(1);
    await sleep(timings.cooldownMs + 50);
    await expect(verifier.verify(idp.token({ sub: "new" }, {}, newKey))).resolves.toMatchObject({ subject: "new" });
    await expect(verifier.verify(idp.token({ sub: "old" }, {}, oldKey))).resolves.toMatchObject({ subject: "old" });
    expect(idp.jwksFetches).toBe(2);
    // Once the old key is retired and the set refetched, its tokens are refused.
    await retireAllBut(newKey, idp, verifier, timings.cooldownMs);
    await expectRejected(verifier, idp.token({}, {}, oldKey), "TOKEN_NO_MATCHING_KEY");
    expect(idp.jwksFetches).toBe(3);
  });

  // A key the issuer withdrew (rotated out, or revoked after a leak): tokens it signed were reused
  // from the token cache until their exp, the refetched key set notwithstanding.
  it("stops reusing a verified token once a refetched key set no longer holds its key", async () => {
    const [oldKey, newKey] = await Promise.all([generateTestKey("RS256", "old"), generateTestKey("RS256", "new")]);
    const timings = { ...SLOW_CACHE, cooldownMs: 1_000 };
    const { idp, verifier } = await setup({ keys: [oldKey, newKey] }, timings, CACHE);
    const token = idp.token({ sub: "before-revocation" }, {}, oldKey);
    const verified = await verifier.verify(token);
    expect(verifier.cached(token)).toBe(verified);
    expect(verifier.stillValid(verified)).toBe(true);
    await retireAllBut(newKey, idp, verifier, timings.cooldownMs);
    expect(verifier.stillValid(verified)).toBe(false);
    expect(verifier.cached(token)).toBeUndefined();
    await expectRejected(verifier, token, "TOKEN_NO_MATCHING_KEY");
    // the new key's tokens are unaffected
    const fresh = idp.token({ sub: "after" }, {}, newKey);
    await expect(verifier.verify(fresh)).resolves.toMatchObject({ subject: "after" });
    expect(verifier.cached(fresh)).toBeDefined();
  });

  it("reuses a verified token for at most jwks.cacheMaxAge, then verifies it again against a current key set", async () => {
    const { idp, verifier } = await setup({}, { ...FAST, cacheMaxAgeMs: 300 }, CACHE);
    const token = idp.token();
    const verified = await verifier.verify(token);
    expect(verifier.cached(token)).toBe(verified);
    await sleep(350);
    expect(verifier.stillValid(verified)).toBe(false);
    expect(verifier.cached(token)).toBeUndefined();
    const fetches = idp.jwksFetches;
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: verified.subject });
    expect(idp.jwksFetches).toBe(fetches + 1); // the stale key set was fetched again on the way
  });

  it("refuses an unknown kid after the refetch as invalid_token", async () => {
    const { idp, verifier } = await setup({}, SLOW_CACHE);
    await sleep(SLOW_CACHE.cooldownMs + 50);
    const err = await expectRejected(verifier, idp.token({}, { kid: "never-published" }), "TOKEN_NO_MATCHING_KEY");
    expect(err.kind).toBe("invalid_token");
    expect(idp.jwksFetches).toBe(2); // start-up + the one refetch the unknown kid was allowed
  });

  it("bounds fetches under a flood of random kids to one per cooldown", async () => {
    const { idp, verifier } = await setup({}, SLOW_CACHE);
    const before = idp.jwksFetches;
    const durationMs = 1_000;
    const started = Date.now();
    let tokens = 0;
    const worker = async () => {
      while (Date.now() - started < durationMs) {
        tokens++;
        await expectRejected(verifier, idp.token({}, { kid: randomUUID() }), "TOKEN_NO_MATCHING_KEY");
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const elapsed = Date.now() - started;
    const fetches = idp.jwksFetches - before;
    console.info(`random-kid flood: ${tokens} tokens, ${fetches} JWKS fetches in ${elapsed} ms`);
    expect(tokens).toBeGreaterThan(100);
    expect(fetches).toBeGreaterThanOrEqual(1);
    expect(fetches).toBeLessThanOrEqual(Math.ceil(elapsed / SLOW_CACHE.cooldownMs) + 1);
  });

  it("verifies a token without kid when several keys of its type are published", async () => {
    const [first, second, stranger] = await Promise.all([
      generateTestKey("RS256", "first"),
      generateTestKey("RS256", "second"),
      generateTestKey("RS256", "stranger"),
    ]);
    const { idp, verifier } = await setup({ keys: [first, second] }, SLOW_CACHE);
    await expect(verifier.verify(idp.token({}, { kid: undefined }, first))).resolves.toMatchObject({
      subject: "user-1",
    });
    await expect(verifier.verify(idp.token({}, { kid: undefined }, second))).resolves.toMatchObject({
      subject: "user-1",
    });
    await expectRejected(verifier, idp.token({}, { kid: undefined }, stranger), "TOKEN_BAD_SIGNATURE");
  });
});
