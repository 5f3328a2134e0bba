/** Tokens that must be refused, each for one reason, with a stable code and a fixed message. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JwtVerifier } from "../../../src/auth/jwt-verifier.js";
import {
  generateTestKey,
  type Listener,
  nowSec,
  signJwt,
  startListener,
  startTestIssuer,
  TEST_AUDIENCE,
  type TestIssuer,
  type TestKey,
  unsignedJwt,
} from "../../helpers/test-issuer.js";
import { expectRejected, issuerOptions, verifierFor } from "./setup.js";

let idp: TestIssuer;
let esKey: TestKey;
let attackerKey: TestKey;
let listener: Listener;
let verifier: JwtVerifier;

beforeAll(async () => {
  const [rsKey, es, attacker] = await Promise.all([
    generateTestKey("RS256", "rs-1"),
    generateTestKey("ES256", "es-1"),
    generateTestKey("RS256", "attacker"),
  ]);
  esKey = es;
  attackerKey = attacker;
  // The ES256 key is published too: the allow-list, not key availability, must refuse ES256.
  idp = await startTestIssuer({ keys: [rsKey, es] });
  listener = await startListener();
  verifier = await verifierFor([issuerOptions(idp)]);
});

afterAll(async () => {
  verifier.close();
  await Promise.all([idp.close(), listener.close()]);
});

describe("signature and algorithm", () => {
  it("refuses alg none, unsigned or with a made-up signature", async () => {
    const payload = { iss: idp.issuer, sub: "u", aud: TEST_AUDIENCE, exp: nowSec() + 60 };
    await expectRejected(verifier, unsignedJwt({ alg: "none", typ: "JWT" }, payload), "TOKEN_MALFORMED");
    await expectRejected(verifier, unsignedJwt({ alg: "none" }, payload, "c2ln"), "TOKEN_ALG_NOT_ALLOWED");
  });

  it("refuses HS256 forged with the issuer's RSA public key as the secret", async () => {
    const rsKey = idp.signingKey;
    const payload = { iss: idp.issuer, sub: "u", aud: TEST_AUDIENCE, exp: nowSec() + 60 };
    const header = { alg: "HS256", kid: rsKey.kid };
    await expectRejected(verifier, signJwt({ secret: rsKey.publicPem }, payload, header), "TOKEN_ALG_NOT_ALLOWED");
    const jwkSecret = JSON.stringify(rsKey.publicJwk);
    await expectRejected(verifier, signJwt({ secret: jwkSecret }, payload, header), "TOKEN_ALG_NOT_ALLOWED");
  });

  it("refuses an algorithm outside the allow-list (ES256 with a published ES256 key, RS256 allowed)", async () => {
    await expectRejected(verifier, idp.token({}, {}, esKey), "TOKEN_ALG_NOT_ALLOWED");
  });

  it("refuses a token signed by another key under a published kid", async () => {
    await expectRejected(verifier, idp.token({}, { kid: "rs-1" }, attackerKey), "TOKEN_BAD_SIGNATURE");
  });

  it("refuses a token whose payload was changed after signing", async () => {
    const [header, , sig] = idp.token().split(".");
    const forged = Buffer.from(
      JSON.stringify({ iss: idp.issuer, sub: "admin", aud: TEST_AUDIENCE, exp: nowSec() + 60 }),
    );
    await expectRejected(verifier, `${header}.${forged.toString("base64url")}.${sig}`, "TOKEN_BAD_SIGNATURE");
  });

  it("refuses an unknown critical header parameter", async () => {
    await expectRejected(
      verifier,
      idp.token({}, { crit: ["x-must-understand"], "x-must-understand": true }),
      "TOKEN_UNSUPPORTED_HEADER",
    );
  });

  it("never follows or uses jku, x5u, jwk or x5c (the listener sees zero requests)", async () => {
    const attackerJwks = `${listener.url}/jwks.json`;
    const headers = [
      { jku: attackerJwks, kid: "attacker" },
      { x5u: `${listener.url}/cert.pem`, kid: "attacker" },
      { jwk: attackerKey.publicJwk, kid: "attacker" },
      { jwk: attackerKey.publicJwk, kid: undefined },
      { x5c: ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"], jku: attackerJwks, kid: "attacker" },
    ];
    for (const header of headers) {
      const err = await verifier.verify(idp.token({}, header, attackerKey)).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: "invalid_token" });
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(listener.requests).toEqual([]);
  });

  it("refuses odd kid values without echoing them (very long, ../, unicode, empty)", async () => {
    const kids = ["k".repeat(3_000), "../../../../etc/passwd", "ключ-🔑-\u202e", "", "%00", { not: "a string" }];
    for (const kid of kids) {
      const err = await expectRejected(verifier, idp.token({}, { kid }), "TOKEN_NO_MATCHING_KEY");
      if (typeof kid === "string" && kid.length > 0) expect(err.message).not.toContain(kid);
    }
  });
});

describe("shape and size", () => {
  it("refuses garbage a.b.c", async () => {
    await expectRejected(verifier, "a.b.c", "TOKEN_MALFORMED");
  });

  it("refuses anything that is not three base64url segments", async () => {
    const valid = idp.token();
    for (const token of ["", "abc", "a.b", "a.b.c.d.e", `${valid}.`, `${valid} `, valid.replace(".", ".+"), "a..c"]) {
      await expectRejected(verifier, token, "TOKEN_MALFORMED");
    }
  });

  it("refuses a 20 KB token before parsing it", async () => {
    await expectRejected(verifier, idp.token({ padding: "x".repeat(20_000) }), "TOKEN_TOO_LARGE");
  });
});

describe("issuer", () => {
  it("refuses an unknown issuer", async () => {
    await expectRejected(verifier, idp.token({ iss: "https://evil.example.com" }), "TOKEN_UNKNOWN_ISSUER");
  });

  it("refuses an issuer that differs only by a trailing slash", async () => {
    await expectRejected(verifier, idp.token({ iss: `${idp.issuer}/` }), "TOKEN_UNKNOWN_ISSUER");
  });

  it("refuses a token without iss or with a non-string iss", async () => {
    await expectRejected(verifier, idp.token({ iss: undefined }), "TOKEN_UNKNOWN_ISSUER");
    await expectRejected(verifier, idp.token({ iss: [idp.issuer] }), "TOKEN_UNKNOWN_ISSUER");
  });
});

describe("audience", () => {
  it("refuses a wrong audience", async () => {
    await expectRejected(verifier, idp.token({ aud: "https://other.example.com/mcp" }), "TOKEN_WRONG_AUDIENCE");
  });

  it("accepts an aud array containing the audience", async () => {
    const token = idp.token({ aud: ["https://other.example.com", TEST_AUDIENCE] });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      audience: ["https://other.example.com", TEST_AUDIENCE],
    });
  });

  it("refuses an aud array without the audience", async () => {
    await expectRejected(
      verifier,
      idp.token({ aud: ["https://a.example.com", "https://b.example.com"] }),
      "TOKEN_WRONG_AUDIENCE",
    );
  });

  it("refuses an empty aud array", async () => {
    await expectRejected(verifier, idp.token({ aud: [] }), "TOKEN_WRONG_AUDIENCE");
  });

  it("refuses a missing aud", async () => {
    await expectRejected(verifier, idp.token({ aud: undefined }), "TOKEN_MISSING_CLAIM");
  });
});

describe("time claims", () => {
  it("refuses an expired token", async () => {
    await expectRejected(verifier, idp.token({ iat: nowSec() - 600, exp: nowSec() - 60 }), "TOKEN_EXPIRED");
  });

  it("refuses a token whose nbf is in the future", async () => {
    await expectRejected(verifier, idp.token({ nbf: nowSec() + 120 }), "TOKEN_NOT_YET_VALID");
  });

  it("refuses a token issued beyond the clock tolerance in the future, without maxTokenAge too", async () => {
    // jose compares iat with the clock only when maxTokenAge is given; the verifier does it always.
    await expectRejected(verifier, idp.token({ iat: nowSec() + 120 }), "TOKEN_ISSUED_IN_FUTURE");
    const tolerant = await verifierFor([issuerOptions(idp, { clockToleranceSec: 30 })]);
    try {
      await expect(tolerant.verify(idp.token({ iat: nowSec() + 20 }))).resolves.toBeDefined();
      await expectRejected(tolerant, idp.token({ iat: nowSec() + 3600 }), "TOKEN_ISSUED_IN_FUTURE");
    } finally {
      tolerant.close();
    }
  });

  it("refuses a token without exp", async () => {
    await expectRejected(verifier, idp.token({ exp: undefined }), "TOKEN_MISSING_CLAIM");
  });

  it("refuses a non-numeric exp", async () => {
    await expectRejected(verifier, idp.token({ exp: String(nowSec() + 600) }), "TOKEN_INVALID_CLAIM");
    await expectRejected(verifier, idp.token({ exp: null }), "TOKEN_INVALID_CLAIM");
  });
});

describe("subject and token type", () => {
  it("refuses a token without sub", async () => {
    await expectRejected(verifier, idp.token({ sub: undefined }), "TOKEN_MISSING_CLAIM");
  });

  it("refuses a non-string or empty sub", async () => {
    await expectRejected(verifier, idp.token({ sub: 42 }), "TOKEN_INVALID_CLAIM");
    await expectRejected(verifier, idp.token({ sub: "" }), "TOKEN_INVALID_CLAIM");
  });

  it("refuses an ID token used as an access token when at+jwt is required", async () => {
    const strict = await verifierFor([
      issuerOptions(idp, { requireAccessTokenType: true, audience: [TEST_AUDIENCE, "client-123"] }),
    ]);
    try {
      const idToken = idp.token({ aud: "client-123", nonce: "n-1", azp: "client-123" }, { typ: "JWT" });
      await expectRejected(strict, idToken, "TOKEN_WRONG_TYPE");
      await expectRejected(strict, idp.token({}, { typ: undefined }), "TOKEN_WRONG_TYPE");
    } finally {
      strict.close();
    }
  });
});
