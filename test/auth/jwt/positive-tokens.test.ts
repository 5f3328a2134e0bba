/** Tokens that must be accepted, and what the verifier reads from them. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  generateTestKey,
  nowSec,
  signJwt,
  startTestIssuer,
  TEST_AUDIENCE,
  type TestIssuer,
  type TestKey,
} from "../../helpers/test-issuer.js";
import { expectRejected, issuerOptions, verifierFor } from "./setup.js";

let idp: TestIssuer;
let dir: string;

beforeAll(async () => {
  idp = await startTestIssuer();
  dir = await mkdtemp(join(tmpdir(), "toolgate-jwt-"));
});

afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

describe("scopes", () => {
  it("reads the space-delimited scope claim", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { scopeClaim: "scope" })]);
    const token = idp.token({ scope: "docs.read  docs.write docs.read", scp: "ignored", client_id: "c-1" });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      subject: "user-1",
      clientId: "c-1",
      scopes: ["docs.read", "docs.write"],
      issuer: idp.issuer,
      audience: [TEST_AUDIENCE],
    });
    verifier.close();
  });

  it("reads scp as a space-delimited string", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { scopeClaim: "scp" })]);
    const verified = await verifier.verify(idp.token({ scope: undefined, scp: "mail.read mail.send" }));
    expect(verified.scopes).toEqual(["mail.read", "mail.send"]);
    verifier.close();
  });

  it("reads scp as an array", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { scopeClaim: "scp" })]);
    const verified = await verifier.verify(
      idp.token({ scope: undefined, scp: ["mail.read", "mail.read", 7, "mail.send"] }),
    );
    expect(verified.scopes).toEqual(["mail.read", "mail.send"]);
    verifier.close();
  });

  // It took their union: an Auth0 RBAC token's `permissions` (every scope the user holds) widened the
  // `scope` the client asked for and the user consented to.
  it("scopeClaim auto reads the first of scope, scp and permissions the token carries, never their union", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { scopeClaim: "auto" })]);
    // `scope: undefined` leaves the test issuer's default `scope` out of the token
    const scopes = async (claims: Record<string, unknown>) =>
      (await verifier.verify(idp.token({ scope: undefined, ...claims }))).scopes;
    try {
      expect(await scopes({ scope: "a b", scp: ["b", "c"], permissions: ["c", "d"] })).toEqual(["a", "b"]);
      expect(await scopes({ scope: "openid", permissions: ["docs.write"] })).toEqual(["openid"]);
      expect(await scopes({ scp: ["b", "c"], permissions: ["c", "d"] })).toEqual(["b", "c"]);
      expect(await scopes({ permissions: ["c", "d"] })).toEqual(["c", "d"]);
      // carried but empty, or of another type: no scopes, not the next claim's
      expect(await scopes({ scope: "", permissions: ["d"] })).toEqual([]);
      expect(await scopes({ scope: ["a"], permissions: ["d"] })).toEqual([]);
      expect(await scopes({})).toEqual([]);
    } finally {
      verifier.close();
    }
  });

  it("reads `scope` as a string only and `permissions` as an array only, whichever is configured", async () => {
    const read = async (scopeClaim: "scope" | "scp" | "permissions", claims: Record<string, unknown>) => {
      const verifier = await verifierFor([issuerOptions(idp, { scopeClaim })]);
      try {
        return (await verifier.verify(idp.token({ scope: undefined, ...claims }))).scopes;
      } finally {
        verifier.close();
      }
    };
    expect(await read("scope", { scope: ["a", "b"] })).toEqual([]);
    expect(await read("scope", { scope: "a b" })).toEqual(["a", "b"]);
    expect(await read("scp", { scp: "a b" })).toEqual(["a", "b"]);
    expect(await read("scp", { scp: ["a", "b"] })).toEqual(["a", "b"]);
    expect(await read("permissions", { permissions: "a b" })).toEqual([]);
    expect(await read("permissions", { permissions: ["a", "b"], scope: "c" })).toEqual(["a", "b"]);
  });

  it("accepts an Auth0 access token: iss with trailing slash, aud array with userinfo, permissions, azp", async () => {
    const auth0 = await startTestIssuer({ issuerPath: "/" });
    const verifier = await verifierFor([
      issuerOptions(auth0, { audience: ["https://api.example.com/mcp"], scopeClaim: "permissions" }),
    ]);
    try {
      expect(auth0.issuer.endsWith("/")).toBe(true);
      const token = auth0.token(
        {
          sub: "auth0|64f0c0ffee",
          aud: ["https://api.example.com/mcp", `${auth0.issuer}userinfo`],
          azp: "AbCdEf123",
          scope: "openid profile email",
          permissions: ["docs:read", "docs:write"],
        },
        { typ: "JWT" },
      );
      await expect(verifier.verify(token)).resolves.toMatchObject({
        subject: "auth0|64f0c0ffee",
        clientId: "AbCdEf123",
        scopes: ["docs:read", "docs:write"],
        issuer: auth0.issuer,
      });
    } finally {
      verifier.close();
      await auth0.close();
    }
  });

  it("accepts the RFC 9068 at+jwt profile with client_id (also as application/at+jwt)", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { requireAccessTokenType: true })]);
    const claims = { client_id: "client-9068", azp: "other", jti: "j-1" };
    await expect(verifier.verify(idp.token(claims, { typ: "at+jwt" }))).resolves.toMatchObject({
      clientId: "client-9068",
    });
    await expect(verifier.verify(idp.token(claims, { typ: "application/at+jwt" }))).resolves.toMatchObject({
      clientId: "client-9068",
    });
    verifier.close();
  });
});

describe("time", () => {
  it("enforces maxTokenAge: requires iat and refuses an old one", async () => {
    const verifier = await verifierFor([issuerOptions(idp, { maxTokenAgeSec: 60 })]);
    await expect(verifier.verify(idp.token({ iat: nowSec() - 30 }))).resolves.toBeDefined();
    await expectRejected(verifier, idp.token({ iat: nowSec() - 120 }), "TOKEN_TOO_OLD");
    await expectRejected(verifier, idp.token({ iat: undefined }), "TOKEN_MISSING_CLAIM");
    await expectRejected(verifier, idp.token({ iat: nowSec() + 120 }), "TOKEN_ISSUED_IN_FUTURE");
    verifier.close();
  });

  it("applies the clock tolerance to exp and nbf", async () => {
    const exp = nowSec() - 20;
    const token = idp.token({ iat: exp - 300, exp });
    const notYet = idp.token({ nbf: nowSec() + 20 });
    const tolerant = await verifierFor([issuerOptions(idp, { clockToleranceSec: 30 })]);
    const strict = await verifierFor([issuerOptions(idp, { clockToleranceSec: 0 })]);
    await expect(tolerant.verify(token)).resolves.toMatchObject({ expiresAt: exp });
    await expect(tolerant.verify(notYet)).resolves.toBeDefined();
    await expectRejected(strict, token, "TOKEN_EXPIRED");
    await expectRejected(strict, notYet, "TOKEN_NOT_YET_VALID");
    tolerant.close();
    strict.close();
  });

  it("uses the injected clock", async () => {
    const exp = nowSec() + 60;
    const token = idp.token({ exp });
    const future = await verifierFor([issuerOptions(idp)], { now: () => (exp + 1) * 1000 });
    await expectRejected(future, token, "TOKEN_EXPIRED");
    future.close();
  });
});

describe("static keys", () => {
  const staticIssuer = "https://static.example.com";

  async function verifyWithFile(key: TestKey, contents: string, algorithms = ["RS256"]) {
    const file = join(dir, `${key.kid}-${Math.random().toString(36).slice(2)}.key`);
    await writeFile(file, contents);
    const verifier = await verifierFor([
      { ...issuerOptions(idp, { issuer: staticIssuer, algorithms, publicKeyFile: file }), jwksUri: undefined },
    ]);
    const now = nowSec();
    const claims = { iss: staticIssuer, sub: "svc", aud: TEST_AUDIENCE, iat: now, exp: now + 60 };
    return { verifier, token: signJwt(key, claims) };
  }

  it("verifies with a PEM public key file", async () => {
    const key = await generateTestKey("RS256", "pem-1");
    const { verifier, token } = await verifyWithFile(key, key.publicPem, ["RS256", "ES256"]);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "svc", issuer: staticIssuer });
    const other = await generateTestKey("RS256", "pem-1");
    await expectRejected(
      verifier,
      signJwt(other, { iss: staticIssuer, sub: "x", aud: TEST_AUDIENCE, exp: nowSec() + 60 }),
      "TOKEN_BAD_SIGNATURE",
    );
    expect(verifier.stats.jwksFetches).toBe(0);
    verifier.close();
  });

  it("verifies with a JWKS file and with a single JWK file", async () => {
    const key = await generateTestKey("ES256", "jwks-file-1");
    const fromSet = await verifyWithFile(key, JSON.stringify({ keys: [key.publicJwk] }), ["ES256"]);
    await expect(fromSet.verifier.verify(fromSet.token)).resolves.toMatchObject({ subject: "svc" });
    const fromJwk = await verifyWithFile(key, JSON.stringify(key.publicJwk), ["ES256"]);
    await expect(fromJwk.verifier.verify(fromJwk.token)).resolves.toMatchObject({ subject: "svc" });
    fromSet.verifier.close();
    fromJwk.verifier.close();
  });

  it("verifies HS256 with a 32-byte shared secret, and only HS256", async () => {
    const secret = "0123456789abcdef0123456789abcdef";
    const verifier = await verifierFor([
      {
        ...issuerOptions(idp, { issuer: staticIssuer, algorithms: ["RS256"], sharedSecret: secret }),
        jwksUri: undefined,
      },
    ]);
    const claims = { iss: staticIssuer, sub: "hs", aud: TEST_AUDIENCE, exp: nowSec() + 60 };
    await expect(verifier.verify(signJwt({ secret }, claims))).resolves.toMatchObject({ subject: "hs" });
    await expectRejected(verifier, signJwt({ secret: `${secret}!` }, claims), "TOKEN_BAD_SIGNATURE");
    await expectRejected(verifier, signJwt({ secret }, claims, { alg: "HS512" }), "TOKEN_ALG_NOT_ALLOWED");
    verifier.close();
  });
});

describe("issuers", () => {
  it("serves several issuers at once, each with its own keys", async () => {
    const second = await startTestIssuer({ issuerPath: "/tenant-b/" });
    const verifier = await verifierFor([issuerOptions(idp), issuerOptions(second, { algorithms: ["RS256", "PS256"] })]);
    try {
      await expect(verifier.verify(idp.token({ sub: "a" }))).resolves.toMatchObject({
        subject: "a",
        issuer: idp.issuer,
      });
      await expect(verifier.verify(second.token({ sub: "b" }))).resolves.toMatchObject({
        subject: "b",
        issuer: second.issuer,
      });
      // A token naming one issuer but signed with the other's key (same kid) is refused.
      const crossed = second.token({ iss: idp.issuer }, { kid: idp.signingKey.kid });
      await expectRejected(verifier, crossed, "TOKEN_BAD_SIGNATURE");
      expect(verifier.stats.jwksFetches).toBe(2);
    } finally {
      verifier.close();
      await second.close();
    }
  });

  it("discovers the JWKS through openid-configuration", async () => {
    const oidc = await startTestIssuer({ issuerPath: "/realms/main", discovery: "openid" });
    const verifier = await verifierFor([{ ...issuerOptions(oidc), jwksUri: undefined }]);
    try {
      await expect(verifier.verify(oidc.token())).resolves.toMatchObject({ issuer: oidc.issuer });
      expect(oidc.requests).toEqual(["/realms/main/.well-known/openid-configuration", "/jwks"]);
    } finally {
      verifier.close();
      await oidc.close();
    }
  });

  it("falls back to oauth-authorization-server metadata (RFC 8414)", async () => {
    const as = await startTestIssuer({ issuerPath: "/", discovery: "oauth" });
    const verifier = await verifierFor([{ ...issuerOptions(as), jwksUri: undefined }]);
    try {
      await expect(verifier.verify(as.token())).resolves.toMatchObject({ issuer: as.issuer });
      expect(as.requests).toEqual([
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
        "/jwks",
      ]);
    } finally {
      verifier.close();
      await as.close();
    }
  });

  it("finds RFC 8414 metadata of an issuer with a path where §3.1 puts it: between the host and the path", async () => {
    const as = await startTestIssuer({ issuerPath: "/tenant", discovery: "oauth-inserted" });
    const verifier = await verifierFor([{ ...issuerOptions(as), jwksUri: undefined }]);
    try {
      await expect(verifier.verify(as.token())).resolves.toMatchObject({ issuer: as.issuer });
      expect(as.requests).toEqual([
        "/tenant/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server/tenant",
        "/jwks",
      ]);
    } finally {
      verifier.close();
      await as.close();
    }
  });

  it("does not trust metadata that names another issuer", async () => {
    const as = await startTestIssuer({ discovery: "openid", metadataIssuer: "https://evil.example.com" });
    const verifier = await verifierFor([{ ...issuerOptions(as), jwksUri: undefined }]);
    try {
      const err = await expectRejected(verifier, as.token(), "JWKS_UNAVAILABLE");
      expect(err.kind).toBe("unavailable");
      expect(as.jwksFetches).toBe(0);
    } finally {
      verifier.close();
      await as.close();
    }
  });
});
