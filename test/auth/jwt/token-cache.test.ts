/** The verified-token cache: keyed by hash, bounded, never serving a token past its expiry. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SWEEP_INTERVAL_MS, TokenCache, tokenCacheKey } from "../../../src/auth/jwt/token-cache.js";
import { nowSec, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import { expectRejected, issuerOptions, verifierFor } from "./setup.js";

describe("TokenCache", () => {
  it("keys entries by the token's SHA-256, never the token", () => {
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
    const key = tokenCacheKey(token);
    expect(key).toMatch(/^[\w-]{43}$/);
    expect(key).not.toContain(token.slice(0, 10));
    expect(tokenCacheKey(token)).toBe(key);
  });

  it("evicts the least recently used entry beyond maxEntries", () => {
    const cache = new TokenCache<string>(2, () => 0);
    cache.set("a", "A", 1_000);
    cache.set("b", "B", 1_000);
    expect(cache.get("a")).toBe("A"); // a is now the most recent
    cache.set("c", "C", 1_000);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe("A");
    expect(cache.get("c")).toBe("C");
    expect(cache.size).toBe(2);
  });

  it("forgets an entry at its expiry and refuses already-expired ones", () => {
    let now = 0;
    const cache = new TokenCache<string>(10, () => now);
    cache.set("a", "A", 100);
    cache.set("late", "L", 0);
    expect(cache.get("late")).toBeUndefined();
    now = 99;
    expect(cache.get("a")).toBe("A");
    now = 100;
    expect(cache.get("a")).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  // An expired token nobody presented again stayed until evicted: ~22 MB at the default 10,000 entries.
  it("sweeps out expired entries nobody asks for again, within SWEEP_INTERVAL_MS, on the next use", () => {
    let now = 0;
    const cache = new TokenCache<string>(10_000, () => now);
    for (let i = 0; i < 1_000; i++) cache.set(`t${i}`, "T", 1_000);
    cache.set("long", "L", 10 * SWEEP_INTERVAL_MS);
    expect(cache.size).toBe(1_001);
    now = 2_000; // all but one expired, before the next sweep is due: still held
    expect(cache.get("other")).toBeUndefined();
    expect(cache.size).toBe(1_001);
    now = SWEEP_INTERVAL_MS; // due: the next lookup of anything sweeps
    expect(cache.get("other")).toBeUndefined();
    expect(cache.size).toBe(1);
    expect(cache.get("long")).toBe("L");
  });
});

describe("verifier with the token cache", () => {
  let idp: TestIssuer;

  beforeAll(async () => {
    idp = await startTestIssuer();
  });

  afterAll(() => idp.close());

  /** A verifier with the token cache on and a clock the test moves (`clock.ms`). */
  async function clockedVerifier(issuer = issuerOptions(idp)) {
    const clock = { ms: Date.now() };
    const verifier = await verifierFor([issuer], {
      tokenCache: { enabled: true, maxEntries: 100 },
      now: () => clock.ms,
    });
    return { verifier, clock };
  }

  it("serves a second verification of the same token from the cache", async () => {
    const verifier = await verifierFor([issuerOptions(idp)], { tokenCache: { enabled: true, maxEntries: 100 } });
    const token = idp.token();
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).toBe(first);
    expect(verifier.stats).toMatchObject({ cacheHits: 1, cacheMisses: 1 });
    expect(Object.isFrozen(first) && Object.isFrozen(first.claims) && Object.isFrozen(first.scopes)).toBe(true);
    verifier.close();
  });

  it("answers cached() and stillValid() without awaiting for exactly the tokens it verified, until they expire", async () => {
    const { verifier, clock } = await clockedVerifier();
    const exp = nowSec() + 30;
    const token = idp.token({ exp });
    expect(verifier.cached(token)).toBeUndefined(); // never verified: the caller must verify()
    const verified = await verifier.verify(token);
    expect(verifier.cached(token)).toBe(verified);
    expect(verifier.stillValid(verified)).toBe(true);
    // Another signature on the same header and payload is another string: not in the cache.
    const [header, payload] = token.split(".");
    expect(verifier.cached(`${header}.${payload}.${"A".repeat(342)}`)).toBeUndefined();
    clock.ms = exp * 1000 - 1;
    expect(verifier.stillValid(verified)).toBe(true);
    clock.ms = exp * 1000;
    expect(verifier.stillValid(verified)).toBe(false);
    clock.ms = exp * 1000 + 1;
    expect(verifier.cached(token)).toBeUndefined();
    // A copy is not a token this verifier returned.
    clock.ms = exp * 1000 - 1;
    expect(verifier.stillValid({ ...verified })).toBe(false);
    verifier.close();
    expect(verifier.cached(token)).toBeUndefined();
    expect(verifier.stillValid(verified)).toBe(false);
  });

  it("verifies every time when the cache is disabled", async () => {
    const verifier = await verifierFor([issuerOptions(idp)], { tokenCache: { enabled: false, maxEntries: 100 } });
    const token = idp.token();
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(verifier.cached(token)).toBeUndefined();
    expect(verifier.stillValid(first)).toBe(false); // nothing may be remembered: every request verifies
    expect(verifier.stats).toMatchObject({ cacheHits: 0, cacheMisses: 0 });
    verifier.close();
  });

  it("does not serve a token from the cache once it has expired", async () => {
    const { verifier, clock } = await clockedVerifier();
    const exp = nowSec() + 30;
    const token = idp.token({ exp });
    await verifier.verify(token);
    clock.ms = exp * 1000 - 1;
    await verifier.verify(token);
    expect(verifier.stats.cacheHits).toBe(1);
    clock.ms = exp * 1000 + 1;
    await expectRejected(verifier, token, "TOKEN_EXPIRED");
    expect(verifier.stats.cacheHits).toBe(1);
    verifier.close();
  });

  it("does not keep a token past its maxTokenAge", async () => {
    const { verifier, clock } = await clockedVerifier(issuerOptions(idp, { maxTokenAgeSec: 60 }));
    const iat = nowSec();
    const token = idp.token({ iat, exp: iat + 3_600 });
    const verified = await verifier.verify(token);
    expect(verifier.stillValid(verified)).toBe(true);
    clock.ms = (iat + 61) * 1000;
    expect(verifier.stillValid(verified)).toBe(false);
    await expectRejected(verifier, token, "TOKEN_TOO_OLD");
    expect(verifier.stats.cacheHits).toBe(0);
    verifier.close();
  });

  it("caches only successes", async () => {
    const verifier = await verifierFor([issuerOptions(idp)], { tokenCache: { enabled: true, maxEntries: 100 } });
    const bad = idp.token({ aud: "https://elsewhere.example.com" });
    await expectRejected(verifier, bad, "TOKEN_WRONG_AUDIENCE");
    await expectRejected(verifier, bad, "TOKEN_WRONG_AUDIENCE");
    expect(verifier.stats.cacheHits).toBe(0);
    verifier.close();
  });

  it("refuses every token after close", async () => {
    const verifier = await verifierFor([issuerOptions(idp)], { tokenCache: { enabled: true, maxEntries: 100 } });
    const token = idp.token();
    const verified = await verifier.verify(token);
    expect(verifier.cached(token)).toBe(verified);
    verifier.close();
    const err = await expectRejected(verifier, token, "VERIFIER_CLOSED");
    expect(err.kind).toBe("unavailable");
    // Nor from the cache, which the gate asks first (synchronously) for a token it has seen.
    expect(verifier.cached(token)).toBeUndefined();
    expect(verifier.stillValid(verified)).toBe(false);
  });
});
