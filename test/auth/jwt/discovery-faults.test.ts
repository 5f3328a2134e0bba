/**
 * The issuer's metadata endpoints misbehaving while the JWKS URL is discovered from them: answers
 * far bigger than a metadata document. Over real HTTP against a test issuer; what the issuer wrote
 * and how often it was asked are counted at the issuer.
 */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JwtVerifierOptions } from "../../../src/auth/jwt-verifier.js";
import {
  generateTestKey,
  METADATA_CANARY,
  type MetadataFaultMode,
  startTestIssuer,
  type TestKey,
} from "../../helpers/test-issuer.js";
import { captureLogger, expectRejected, issuerOptions, sleep, verifierFor } from "./setup.js";

const cleanup: Array<() => unknown> = [];
let sharedKey: TestKey;
beforeAll(async () => {
  sharedKey = await generateTestKey("RS256", "shared");
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const MiB = 1024 * 1024;

describe("metadata answers far bigger than a document", () => {
  // A long timeout: the read must stop at the size cap, not because time ran out.
  const jwks: JwtVerifierOptions["jwks"] = {
    timeoutMs: 10_000,
    cooldownMs: 60_000,
    cacheMaxAgeMs: 600_000,
    lastKnownGoodMs: 3_600_000,
  };

  for (const fault of ["endless", "huge-declared"] as MetadataFaultMode[]) {
    it(`${fault}: stops reading at the cap, treats the metadata as unavailable, logs a reason and not the body`, async () => {
      const idp = await startTestIssuer({ keys: [sharedKey], discovery: "openid", metadataFault: fault });
      cleanup.push(() => idp.close());
      const log = captureLogger();
      const verifier = await verifierFor([{ ...issuerOptions(idp), jwksUri: undefined }], {
        jwks,
        logger: log.logger,
      });
      cleanup.push(() => verifier.close());

      await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
      expect(idp.metadataRequests).toBeGreaterThanOrEqual(1);
      // Every location answered 64 MiB at most; read whole that is all of it. Stopped at the cap, the
      // issuer could write the cap plus what the sockets' buffers held, per location.
      expect(idp.metadataBytesSent).toBeLessThan(idp.metadataRequests * 16 * MiB);
      expect(idp.jwksFetches).toBe(0);
      expect(log.lines).toContainEqual(
        expect.objectContaining({
          level: "warn",
          obj: expect.objectContaining({
            reason: "DISCOVERY_FAILED",
            candidates: expect.arrayContaining([
              { url: `${idp.issuer}/.well-known/openid-configuration`, reason: "TOO_LARGE" },
            ]),
          }),
        }),
      );
      expect(log.text()).not.toContain(METADATA_CANARY);
      expect(log.text()).not.toContain("aaaaaaaa");
    });
  }
});

describe("metadata that never answers", () => {
  const jwks: JwtVerifierOptions["jwks"] = {
    timeoutMs: 1_000,
    cooldownMs: 200,
    cacheMaxAgeMs: 600_000,
    lastKnownGoodMs: 3_600_000,
  };

  it("a token after the cooldown waits one deadline for all four locations, not one per location", async () => {
    const idp = await startTestIssuer({ keys: [sharedKey], issuerPath: "/tenant", metadataFault: "hang" });
    cleanup.push(() => idp.close());
    const log = captureLogger();
    const began = Date.now();
    const verifier = await verifierFor([{ ...issuerOptions(idp), jwksUri: undefined }], { jwks, logger: log.logger });
    cleanup.push(() => verifier.close());
    // Startup waited for the warm-up at most jwks.timeout (it used to wait 4 × 1 s).
    expect(Date.now() - began).toBeLessThan(2.5 * jwks.timeoutMs);

    await sleep(jwks.timeoutMs + jwks.cooldownMs); // past the startup attempt's deadline and the cooldown after it
    const asked = idp.metadataRequests;
    const started = Date.now();
    await expectRejected(verifier, idp.token(), "JWKS_UNAVAILABLE");
    // One attempt asked every location, under one deadline: about 1 s, where one timeout per location took 4 s.
    expect(idp.metadataRequests - asked).toBe(4);
    expect(Date.now() - started).toBeLessThan(2.5 * jwks.timeoutMs);
    expect(log.lines).toContainEqual(
      expect.objectContaining({
        obj: expect.objectContaining({
          reason: "DISCOVERY_FAILED",
          candidates: expect.arrayContaining([
            { url: `${idp.origin}/.well-known/oauth-authorization-server/tenant`, reason: "TIMEOUT" },
          ]),
        }),
      }),
    );
  });
});
