/**
 * Verifies OAuth access tokens (JWTs) from the configured authorization servers.
 *
 * A token is routed to its issuer by the *unverified* `iss` (exact match) and then verified with
 * everything pinned by configuration: issuer, audience, algorithms, required claims, `typ`, age.
 * Header `jku`, `x5u`, `jwk` and `x5c` are never followed or used: keys come only from the issuer's
 * JWKS (remote, with last-known-good during outages), a configured public key file, or a secret.
 * Successes are cached by the token's SHA-256 until the token expires.
 *
 * Internals live in ./jwt/: errors, key sources (jwks.ts, static-keys.ts), per-issuer
 * verification, claims mapping and the token cache.
 */
import { decodeJwt } from "jose";
import { errorTag, JwtVerifierConfigError, TokenVerificationError } from "./jwt/errors.js";
import type { IssuerMetadata } from "./jwt/issuer-discovery.js";
import { createIssuerVerifier, type IssuerVerifier } from "./jwt/issuer-verifier.js";
import type { KeyState } from "./jwt/key-source.js";
import { TokenCache, tokenCacheKey } from "./jwt/token-cache.js";

export type { TokenErrorCode, TokenErrorKind } from "./jwt/errors.js";
export { JwtVerifierConfigError, TokenVerificationError };

export interface IssuerOptions {
  /** Compared exactly with `iss` (a trailing slash matters). */
  issuer: string;
  /** Else discovered: `{issuer}/.well-known/openid-configuration`, then `/.well-known/oauth-authorization-server`. */
  jwksUri?: string;
  /**
   * This issuer's metadata discovery, when the caller reads the metadata too (one discovery for both);
   * else the verifier makes its own when it needs one (no `jwksUri`).
   */
  metadata?: IssuerMetadata;
  /** Token `aud` (string or array) must contain at least one of these. */
  audience: string[];
  /** Allow-list; never taken from the token header. Public-key algorithms only (HS256 via `sharedSecret`). */
  algorithms: string[];
  /** Where scopes are read; `auto` is the union of all three. */
  scopeClaim: "auto" | "scope" | "scp" | "permissions";
  /** Header `typ` must be `at+jwt` (RFC 9068; `application/at+jwt` too). */
  requireAccessTokenType: boolean;
  /** Then `iat` is required and must be at most this old. */
  maxTokenAgeSec?: number;
  /** 0..300. */
  clockToleranceSec: number;
  /** SPKI PEM, or a JWK / JWKS JSON file: static keys instead of a remote JWKS. */
  publicKeyFile?: string;
  /** Public keys in memory (the development authorization server's): static keys instead of a remote JWKS. */
  publicKeys?: { keys: object[] };
  /** HS256 only, at least 32 bytes; then `algorithms` is `["HS256"]` whatever was configured. */
  sharedSecret?: string;
}

export interface JwtVerifierLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug?(obj: object, msg?: string): void;
}

export interface JwtVerifierOptions {
  issuers: IssuerOptions[];
  /** Milliseconds. `cooldownMs` also spaces out retries after a failed fetch. */
  jwks: { timeoutMs: number; cooldownMs: number; cacheMaxAgeMs: number; lastKnownGoodMs: number };
  tokenCache: { enabled: boolean; maxEntries: number };
  /** pino-compatible. */
  logger?: JwtVerifierLogger;
  /** Clock (ms) for token times and the token cache. JWKS timing follows the wall clock, as jose's does. */
  now?: () => number;
}

export interface VerifiedToken {
  /** `sub` (required). */
  subject: string;
  /** `client_id`, else `azp`. */
  clientId?: string;
  /** Deduplicated, from the configured claim(s). Frozen: tokens are shared through the cache. */
  scopes: string[];
  issuer: string;
  audience: string[];
  /** `exp`, seconds since the epoch. */
  expiresAt: number;
  /** The verified payload (frozen). */
  claims: Record<string, unknown>;
}

export interface JwtVerifier {
  /** Throws `TokenVerificationError` only. */
  verify(token: string): Promise<VerifiedToken>;
  /**
   * The verified token when this very token is in the token cache, without awaiting anything (the
   * hot path of every request after a caller's first); undefined otherwise — then call `verify`.
   */
  cached(token: string): VerifiedToken | undefined;
  /**
   * True while a token this verifier returned may be used again without verifying it: the token cache
   * is on, the verifier is open, and the token's validity (`exp`; `iat` + maxTokenAge) has not ended —
   * the same rule as a cache hit, for callers that remember a verified token themselves.
   */
  stillValid(token: VerifiedToken): boolean;
  /** JWKS fetches over all issuers, and token cache use. */
  readonly stats: { jwksFetches: number; cacheHits: number; cacheMisses: number };
  close(): void;
}

/** Longer tokens are refused before any parsing: nothing legitimate comes close. */
export const MAX_TOKEN_LENGTH = 8 * 1024;
/** Three non-empty base64url segments: an unsigned (`alg: none`) token has an empty third one. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

const silentLogger: JwtVerifierLogger = { warn() {}, info() {} };

/**
 * Builds one key source per issuer and pre-warms the keys (discovery, then the JWKS), waiting for that
 * at most `jwks.timeoutMs`: an authorization server that does not answer by then is not waited for
 * (tokens get `unavailable` until its keys arrive), and one that fails is logged and retried later.
 * Configuration errors reject with `JwtVerifierConfigError`.
 */
export async function createJwtVerifier(options: JwtVerifierOptions): Promise<JwtVerifier> {
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  const stats = { jwksFetches: 0, cacheHits: 0, cacheMisses: 0 };
  checkJwksTimings(options.jwks);
  if (options.issuers.length === 0) throw new JwtVerifierConfigError("no issuers configured");

  const issuers = new Map<string, IssuerVerifier>();
  const context = { jwks: options.jwks, logger, now, onJwksFetch: () => void stats.jwksFetches++ };
  for (const config of options.issuers) {
    if (issuers.has(config.issuer)) throw new JwtVerifierConfigError(`issuer ${config.issuer} is configured twice`);
    issuers.set(config.issuer, await createIssuerVerifier(config, context));
  }
  await settledOrAfter(Promise.all([...issuers.values()].map((issuer) => issuer.warm())), options.jwks.timeoutMs);

  const { enabled, maxEntries } = options.tokenCache;
  const cache = enabled && maxEntries > 0 ? new TokenCache<VerifiedToken>(maxEntries, now) : undefined;
  let closed = false;
  /**
   * When each verified token stops counting (what the cache uses as the entry's expiry), and the key
   * that verified it: a token whose key left the issuer's key set is verified again (and refused).
   */
  const validity = new WeakMap<VerifiedToken, { untilMs: number; key: KeyState }>();
  const current = (token: VerifiedToken): boolean => {
    const entry = validity.get(token);
    return entry !== undefined && !entry.key.withdrawn && now() < entry.untilMs;
  };

  async function verify(token: string): Promise<VerifiedToken> {
    if (closed) throw new TokenVerificationError("VERIFIER_CLOSED");
    if (typeof token !== "string") throw new TokenVerificationError("TOKEN_MALFORMED");
    if (token.length > MAX_TOKEN_LENGTH) throw new TokenVerificationError("TOKEN_TOO_LARGE");

    // A hit is this exact string verified before, so its shape needs no second look.
    const cacheKey = cache === undefined ? undefined : tokenCacheKey(token);
    if (cache !== undefined && cacheKey !== undefined) {
      const hit = cache.get(cacheKey);
      if (hit !== undefined && current(hit)) {
        stats.cacheHits++;
        return hit;
      }
      stats.cacheMisses++;
    }
    if (!COMPACT_JWS.test(token)) throw new TokenVerificationError("TOKEN_MALFORMED");
    const { token: verified, validUntilMs, key } = await route(token).verify(token);
    if (cache !== undefined && cacheKey !== undefined) {
      cache.set(cacheKey, verified, validUntilMs);
      validity.set(verified, { untilMs: validUntilMs, key });
    }
    return verified;
  }

  /** The issuer named by the unverified `iss`; verification then pins that very issuer. */
  function route(token: string): IssuerVerifier {
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      throw new TokenVerificationError("TOKEN_MALFORMED");
    }
    const issuer = typeof iss === "string" ? issuers.get(iss) : undefined;
    if (issuer === undefined) throw new TokenVerificationError("TOKEN_UNKNOWN_ISSUER");
    return issuer;
  }

  return {
    async verify(token) {
      try {
        return await verify(token);
      } catch (err) {
        if (err instanceof TokenVerificationError) throw err;
        logger.warn(errorTag(err), "Unexpected error while verifying an access token");
        throw new TokenVerificationError("TOKEN_INVALID");
      }
    },
    cached(token) {
      if (closed || cache === undefined || typeof token !== "string" || token.length > MAX_TOKEN_LENGTH)
        return undefined;
      const hit = cache.get(tokenCacheKey(token));
      if (hit === undefined || !current(hit)) return undefined;
      stats.cacheHits++;
      return hit;
    },
    stillValid(token) {
      return !closed && current(token);
    },
    stats,
    close() {
      closed = true;
      cache?.clear();
    },
  };
}

/** Resolves when `work` settles or after `ms`, whichever comes first (the work goes on). */
async function settledOrAfter(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, waited]);
  } finally {
    clearTimeout(timer);
  }
}

function checkJwksTimings(jwks: JwtVerifierOptions["jwks"]): void {
  for (const [name, value] of Object.entries(jwks)) {
    if (typeof value !== "number" || Number.isNaN(value) || value < 0) {
      throw new JwtVerifierConfigError(`jwks.${name} must be a non-negative number`);
    }
  }
  if (!Number.isInteger(jwks.timeoutMs)) throw new JwtVerifierConfigError("jwks.timeoutMs must be an integer");
}
