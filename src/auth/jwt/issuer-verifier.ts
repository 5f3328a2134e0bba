/**
 * Verification for one configured issuer: its options checked once at startup, its key source, and
 * the jose call with everything pinned (issuer, audience, algorithms, required claims, typ, age).
 */
import { decodeProtectedHeader, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from "jose";
import type { IssuerOptions, JwtVerifierLogger, JwtVerifierOptions, VerifiedToken } from "../jwt-verifier.js";
import { toVerifiedToken } from "./claims.js";
import { classifyVerifyError, JwtVerifierConfigError, TokenVerificationError } from "./errors.js";
import { IssuerMetadata, isHttpUrl } from "./issuer-discovery.js";
import { RemoteJwksSource } from "./jwks.js";
import { type KeySource, type KeyState, UNTRACKED_KEY } from "./key-source.js";
import { keySetKeys, publicKeyFileKeys, sharedSecretKeys } from "./static-keys.js";

/** Public-key algorithms jose verifies on Node 20. Symmetric ones only through `sharedSecret`. */
const ASYMMETRIC_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);
const SCOPE_CLAIMS = new Set(["auto", "scope", "scp", "permissions"]);
export const MAX_CLOCK_TOLERANCE_SEC = 300;

export interface IssuerContext {
  jwks: JwtVerifierOptions["jwks"];
  logger: JwtVerifierLogger;
  now: () => number;
  onJwksFetch: () => void;
}

export interface IssuerResult {
  token: VerifiedToken;
  /**
   * The earliest moment (ms) the token stops being reused without a new check: its expiry, its
   * maximum age, and for a remote key set `reuseForMs` from now (so it meets a refetched key set).
   */
  validUntilMs: number;
  /** The key that verified it: once withdrawn from the issuer's key set, the token is not reused. */
  key: KeyState;
}

export class IssuerVerifier {
  readonly issuer: string;
  readonly #source: KeySource;
  readonly #options: JWTVerifyOptions;
  readonly #scopeClaim: IssuerOptions["scopeClaim"];
  readonly #maxTokenAgeSec: number | undefined;
  readonly #clockToleranceSec: number;
  readonly #now: () => number;

  constructor(config: IssuerOptions, source: KeySource, algorithms: string[], now: () => number) {
    this.issuer = config.issuer;
    this.#source = source;
    this.#scopeClaim = config.scopeClaim;
    this.#maxTokenAgeSec = config.maxTokenAgeSec;
    this.#clockToleranceSec = config.clockToleranceSec;
    this.#now = now;
    this.#options = Object.freeze({
      issuer: config.issuer,
      audience: [...config.audience],
      algorithms,
      requiredClaims: ["exp", "sub"],
      clockTolerance: config.clockToleranceSec,
      ...(config.requireAccessTokenType ? { typ: "at+jwt" } : {}), // jose also accepts "application/at+jwt"
      ...(config.maxTokenAgeSec === undefined ? {} : { maxTokenAge: config.maxTokenAgeSec }), // implies `iat`
    });
  }

  warm(): Promise<void> {
    return this.#source.warm();
  }

  /** Throws only `TokenVerificationError`. */
  async verify(token: string): Promise<IssuerResult> {
    const options: JWTVerifyOptions = { ...this.#options, currentDate: new Date(this.#now()) };
    let payload: JWTPayload;
    let kid: unknown;
    try {
      let protectedHeader: { kid?: unknown };
      ({ payload, protectedHeader } = await jwtVerify(token, this.#source.resolveKey, options));
      kid = protectedHeader.kid;
    } catch (err) {
      if (!(err instanceof errors.JWKSMultipleMatchingKeys)) throw classifyVerifyError(err);
      payload = await verifyWithEachCandidate(token, err, options);
      kid = decodeProtectedHeader(token).kid;
    }
    // jose checks `iat` against the clock only with maxTokenAge; a token issued beyond the clock
    // tolerance in the future is refused either way (docs/configuration.md: clockTolerance).
    if (
      this.#maxTokenAgeSec === undefined &&
      typeof payload.iat === "number" &&
      payload.iat > Math.floor((options.currentDate as Date).getTime() / 1000) + this.#clockToleranceSec
    )
      throw new TokenVerificationError("TOKEN_ISSUED_IN_FUTURE");
    const verified = toVerifiedToken(payload, this.#scopeClaim);
    let validUntilMs = verified.expiresAt * 1000;
    if (this.#maxTokenAgeSec !== undefined && typeof payload.iat === "number") {
      validUntilMs = Math.min(validUntilMs, (payload.iat + this.#maxTokenAgeSec) * 1000);
    }
    const reuseFor = this.#source.reuseForMs;
    if (reuseFor !== undefined) validUntilMs = Math.min(validUntilMs, this.#now() + reuseFor);
    const key = this.#source.keyState?.(typeof kid === "string" ? kid : undefined) ?? UNTRACKED_KEY;
    return { token: verified, validUntilMs, key };
  }
}

/**
 * jose 6 throws when several keys fit a token (no `kid`, two keys of one type during a rotation)
 * and hands over the candidates; the token is valid if one of them verifies it.
 */
async function verifyWithEachCandidate(
  token: string,
  candidates: InstanceType<typeof errors.JWKSMultipleMatchingKeys>,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  for await (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (err) {
      if (!(err instanceof errors.JWSSignatureVerificationFailed)) throw classifyVerifyError(err);
    }
  }
  throw new TokenVerificationError("TOKEN_BAD_SIGNATURE");
}

/** Checks one issuer's options and builds its key source. Throws `JwtVerifierConfigError`. */
export async function createIssuerVerifier(config: IssuerOptions, context: IssuerContext): Promise<IssuerVerifier> {
  checkIssuerOptions(config);
  const fail = (message: string) => new JwtVerifierConfigError(`issuer ${config.issuer}: ${message}`);
  const sources = [config.jwksUri, config.publicKeyFile, config.publicKeys, config.sharedSecret].filter(
    (s) => s !== undefined,
  );
  if (sources.length > 1) throw fail("give at most one of jwksUri, publicKeyFile, publicKeys and sharedSecret");

  if (config.sharedSecret !== undefined) {
    const { source, algorithms } = sharedSecretKeys(config.sharedSecret);
    return new IssuerVerifier(config, source, algorithms, context.now);
  }
  const unknown = config.algorithms.filter((alg) => !ASYMMETRIC_ALGORITHMS.has(alg));
  if (config.algorithms.length === 0) throw fail("algorithms must not be empty");
  if (unknown.length > 0) {
    throw fail(`algorithms ${unknown.join(", ")} not allowed (public-key algorithms only; HS256 needs sharedSecret)`);
  }
  if (config.publicKeyFile !== undefined) {
    const { source, algorithms } = await publicKeyFileKeys(config.publicKeyFile, config.algorithms);
    return new IssuerVerifier(config, source, algorithms, context.now);
  }
  if (config.publicKeys !== undefined) {
    const { source, algorithms } = keySetKeys("publicKeys", config.publicKeys, config.algorithms);
    return new IssuerVerifier(config, source, algorithms, context.now);
  }
  const source = new RemoteJwksSource({
    issuer: config.issuer,
    ...(config.jwksUri === undefined
      ? { metadata: config.metadata ?? new IssuerMetadata(config.issuer, context.jwks.timeoutMs) }
      : { jwksUri: config.jwksUri }),
    timings: context.jwks,
    logger: context.logger,
    onFetch: context.onJwksFetch,
  });
  return new IssuerVerifier(config, source, [...config.algorithms], context.now);
}

function checkIssuerOptions(config: IssuerOptions): void {
  const fail = (message: string) => new JwtVerifierConfigError(`issuer ${String(config.issuer)}: ${message}`);
  if (typeof config.issuer !== "string" || !isHttpUrl(config.issuer)) throw fail("issuer must be an http(s) URL");
  if (config.jwksUri !== undefined && !isHttpUrl(config.jwksUri)) throw fail("jwksUri must be an http(s) URL");
  if (config.metadata !== undefined && config.metadata.issuer !== config.issuer)
    throw fail("metadata is another issuer's");
  if (!Array.isArray(config.audience) || config.audience.length === 0) throw fail("audience must not be empty");
  if (config.audience.some((aud) => typeof aud !== "string" || aud.length === 0)) {
    throw fail("every audience must be a non-empty string");
  }
  if (!Array.isArray(config.algorithms)) throw fail("algorithms must be a list");
  if (!SCOPE_CLAIMS.has(config.scopeClaim)) throw fail("scopeClaim must be auto, scope, scp or permissions");
  const tolerance = config.clockToleranceSec;
  if (!Number.isFinite(tolerance) || tolerance < 0 || tolerance > MAX_CLOCK_TOLERANCE_SEC) {
    throw fail(`clockToleranceSec must be between 0 and ${MAX_CLOCK_TOLERANCE_SEC}`);
  }
  const maxAge = config.maxTokenAgeSec;
  if (maxAge !== undefined && (!Number.isFinite(maxAge) || maxAge <= 0)) {
    throw fail("maxTokenAgeSec must be a positive number");
  }
}
