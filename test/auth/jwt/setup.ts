/** Shared building blocks for the JWT verifier tests. */
import { expect } from "vitest";
import {
  createJwtVerifier,
  type IssuerOptions,
  type JwtVerifier,
  type JwtVerifierOptions,
  TokenVerificationError,
} from "../../../src/auth/jwt-verifier.js";
import { TEST_AUDIENCE, type TestIssuer } from "../../helpers/test-issuer.js";

/** Generous defaults; fault tests shorten them. */
export const JWKS_TIMINGS: JwtVerifierOptions["jwks"] = {
  timeoutMs: 2_000,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  lastKnownGoodMs: 3_600_000,
};

export function issuerOptions(issuer: TestIssuer, overrides: Partial<IssuerOptions> = {}): IssuerOptions {
  return {
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    audience: [TEST_AUDIENCE],
    algorithms: ["RS256"],
    scopeClaim: "auto",
    requireAccessTokenType: false,
    clockToleranceSec: 0,
    ...overrides,
  };
}

export interface LogLine {
  level: "warn" | "info" | "debug";
  obj: object;
  msg?: string;
}

/** A pino-shaped logger that keeps what it is given, to check that nothing secret was logged. */
export function captureLogger(): {
  lines: LogLine[];
  logger: NonNullable<JwtVerifierOptions["logger"]>;
  text(): string;
} {
  const lines: LogLine[] = [];
  const record = (level: LogLine["level"]) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return {
    lines,
    logger: { warn: record("warn"), info: record("info"), debug: record("debug") },
    text: () => JSON.stringify(lines),
  };
}

export function verifierFor(
  issuers: IssuerOptions[],
  options: Partial<Omit<JwtVerifierOptions, "issuers">> = {},
): Promise<JwtVerifier> {
  return createJwtVerifier({
    issuers,
    jwks: JWKS_TIMINGS,
    tokenCache: { enabled: false, maxEntries: 0 },
    ...options,
  });
}

/** Verifies and expects a `TokenVerificationError` with this code; returns it for further checks. */
export async function expectRejected(
  verifier: JwtVerifier,
  token: string,
  code: string,
): Promise<TokenVerificationError> {
  const err = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TokenVerificationError);
  const tokenError = err as TokenVerificationError;
  expect(tokenError.code).toBe(code);
  // Fixed sentences only: no part of the token ever shows up in the message.
  for (const part of token.split(".")) {
    if (part.length >= 8) expect(tokenError.message).not.toContain(part);
  }
  return tokenError;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
