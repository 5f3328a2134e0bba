/** Configuration mistakes stop startup with a clear message; nothing secret is in it. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JwtVerifierConfigError } from "../../../src/auth/jwt-verifier.js";
import { generateTestKey, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import { issuerOptions, verifierFor } from "./setup.js";

let idp: TestIssuer;
let dir: string;

beforeAll(async () => {
  idp = await startTestIssuer();
  dir = await mkdtemp(join(tmpdir(), "toolgate-jwt-config-"));
});

afterAll(async () => {
  await idp.close();
  await rm(dir, { recursive: true, force: true });
});

async function configError(options: Parameters<typeof issuerOptions>[1]): Promise<JwtVerifierConfigError> {
  const err = await verifierFor([issuerOptions(idp, options)]).then(
    (v) => {
      v.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JwtVerifierConfigError);
  return err as JwtVerifierConfigError;
}

describe("configuration errors", () => {
  it("rejects a 16-byte shared secret without printing it", async () => {
    const secret = "0123456789abcdef";
    const err = await configError({ jwksUri: undefined, sharedSecret: secret });
    expect(err.message).toMatch(/at least 32 bytes/);
    expect(err.message).not.toContain(secret);
  });

  it("rejects an unreadable public key file", async () => {
    const err = await configError({ jwksUri: undefined, publicKeyFile: join(dir, "missing.pem") });
    expect(err.message).toMatch(/cannot be read \(ENOENT\)/);
  });

  it("rejects a key file holding a private key (PEM or JWK)", async () => {
    const key = await generateTestKey();
    const pem = join(dir, "private.pem");
    await writeFile(pem, key.privateKey.export({ format: "pem", type: "pkcs8" }));
    await configError({ jwksUri: undefined, publicKeyFile: pem });
    const jwk = join(dir, "private.json");
    await writeFile(jwk, JSON.stringify({ keys: [key.privateJwk] }));
    const err = await configError({ jwksUri: undefined, publicKeyFile: jwk });
    expect(err.message).toMatch(/private key material/);
    expect(err.message).not.toContain(String(key.privateJwk.d));
  });

  it("keys in memory (publicKeys, the development server's): public keys only, and one key source", async () => {
    const key = await generateTestKey();
    const err = await configError({ jwksUri: undefined, publicKeys: { keys: [key.privateJwk] } });
    expect(err.message).toMatch(/publicKeys holds private key material/);
    expect(err.message).not.toContain(String(key.privateJwk.d));
    await configError({ jwksUri: undefined, publicKeys: { keys: [] } });
    const both = await configError({ publicKeys: { keys: [key.publicJwk] } });
    expect(both.message).toMatch(/at most one of jwksUri, publicKeyFile, publicKeys and sharedSecret/);
  });

  it("rejects a PEM key that fits none of the algorithms", async () => {
    const key = await generateTestKey("ES256");
    const file = join(dir, "ec.pem");
    await writeFile(file, key.publicPem);
    await configError({ jwksUri: undefined, publicKeyFile: file, algorithms: ["RS256"] });
  });

  it("rejects an issuer that is not a URL", async () => {
    await configError({ issuer: "not a url" });
    await configError({ issuer: "ftp://idp.example.com" });
  });

  it("rejects symmetric, unknown or empty algorithm lists without a shared secret", async () => {
    await configError({ algorithms: ["HS256"] });
    await configError({ algorithms: ["none"] });
    await configError({ algorithms: [] });
  });

  it("rejects an empty audience, an excessive clock tolerance and a duplicated issuer", async () => {
    await configError({ audience: [] });
    await configError({ clockToleranceSec: 301 });
    await expect(verifierFor([issuerOptions(idp), issuerOptions(idp)])).rejects.toBeInstanceOf(JwtVerifierConfigError);
    await expect(verifierFor([])).rejects.toBeInstanceOf(JwtVerifierConfigError);
  });

  it("rejects two key sources for one issuer", async () => {
    await configError({ sharedSecret: "0123456789abcdef0123456789abcdef" });
  });
});
