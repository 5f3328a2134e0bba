/**
 * One issuer's remote JWKS: jose's `createRemoteJWKSet` (timeout, cooldown, max age, single-flight
 * fetches, rate-limited refetch on an unknown `kid`) plus what jose does not do:
 *
 * - every answer is checked before jose sees it: 200, JSON, a non-empty key set, public keys only.
 *   Anything else (HTML, `{}`, a redirect, private keys) is a fault, like a refused connection.
 * - last-known-good: jose writes each successfully applied set into our `jwksCache` store; when a
 *   refresh fails we keep verifying with that set for `lastKnownGoodMs` after it was fetched,
 *   then answer `unavailable` (503), never `invalid_token` (401, which would send every client
 *   back to an authorization server that is down).
 * - after a fault, no new fetch for `cooldownMs`: jose's own cooldown only starts at a success, so
 *   during an outage every token would otherwise wait for a fetch of its own.
 *
 * Timing here follows the wall clock (`Date.now()`), because jose's cooldown and max age do.
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  type ExportedJWKSCache,
  errors,
  type FetchImplementation,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  jwksCache,
  type RemoteJWKSet,
} from "jose";
import type { JwtVerifierLogger, JwtVerifierOptions } from "../jwt-verifier.js";
import { boundedText } from "./bounded-body.js";
import { errorTag, JwksFault, TokenVerificationError } from "./errors.js";
import type { IssuerMetadata } from "./issuer-discovery.js";
import {
  hasPrivateKeyMaterial,
  type KeySource,
  type KeyState,
  keySelectionError,
  UNTRACKED_KEY,
} from "./key-source.js";

/** A real key set is a few KiB; this bounds what a broken or hostile endpoint can make us parse. */
const MAX_JWKS_BYTES = 512 * 1024;

export interface RemoteJwksOptions {
  issuer: string;
  /** Known up front, or else discovered from the issuer's metadata (`metadata`) on first use. */
  jwksUri?: string;
  /** The issuer's metadata, shared with whoever else reads it (one discovery for all). */
  metadata?: IssuerMetadata;
  timings: JwtVerifierOptions["jwks"];
  logger: JwtVerifierLogger;
  /** Called once per HTTP request for the key set (for stats). */
  onFetch: () => void;
}

export class RemoteJwksSource implements KeySource {
  readonly #options: RemoteJwksOptions;
  #remote: RemoteJWKSet | undefined;
  /**
   * jose writes `{jwks, uat}` here after every successful fetch: our last-known-good. Its `jwks` is
   * an accessor: a new key set marks every key it no longer holds as withdrawn (#keyStates).
   */
  readonly #store: Partial<ExportedJWKSCache>;
  /** By `kid`: the keys that verified a token, while their issuer publishes them. */
  readonly #keyStates = new Map<string, { withdrawn: boolean }>();
  readonly reuseForMs: number;
  #lastKnownGood: { uat: number; resolve: JWTVerifyGetKey } | undefined;
  /** When the last fault happened; undefined while healthy. No remote attempt for `cooldownMs` after it. */
  #faultAt: number | undefined;
  /** Said once per outage: the last-known-good keys ran out, every token is refused (503) now. */
  #toldExhausted = false;

  constructor(options: RemoteJwksOptions) {
    this.#options = options;
    this.reuseForMs = options.timings.cacheMaxAgeMs;
    const states = this.#keyStates;
    let jwks: ExportedJWKSCache["jwks"] | undefined;
    this.#store = {
      get jwks() {
        return jwks;
      },
      set jwks(value) {
        jwks = value;
        if (value === undefined) return;
        const published = new Set(value.keys.map((key) => key.kid));
        for (const [kid, state] of states)
          if (!published.has(kid)) {
            state.withdrawn = true;
            states.delete(kid);
          }
      },
    };
  }

  keyState(kid: string | undefined): KeyState {
    if (kid === undefined) return UNTRACKED_KEY;
    let state = this.#keyStates.get(kid);
    if (state === undefined) {
      // A set fetched between jose's choice of the key and now may not hold it any more.
      if (!this.#store.jwks?.keys.some((key) => key.kid === kid)) return WITHDRAWN_KEY;
      state = { withdrawn: false };
      this.#keyStates.set(kid, state);
    }
    return state;
  }

  async warm(): Promise<void> {
    try {
      const remote = await this.#remoteSet();
      await remote.reload();
      this.#noteSuccess();
    } catch (err) {
      this.#noteFault(err);
    }
  }

  readonly resolveKey: JWTVerifyGetKey = async (header, token) => {
    if (Date.now() >= this.#retryAt()) {
      try {
        const key = await (await this.#remoteSet())(header, token);
        this.#noteSuccess();
        return key;
      } catch (err) {
        if (!isFault(err)) {
          this.#noteSuccess();
          throw keySelectionError(err, false);
        }
        this.#noteFault(err);
      }
    }
    return this.#fromLastKnownGood(header, token);
  };

  async #fromLastKnownGood(...args: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const retryAfterSec = (this.#retryAt() - Date.now()) / 1000;
    const { uat, jwks } = this.#store;
    if (uat === undefined || jwks === undefined || Date.now() - uat > this.#options.timings.lastKnownGoodMs) {
      if (uat !== undefined && !this.#toldExhausted) {
        this.#toldExhausted = true;
        this.#options.logger.warn(
          { issuer: this.#options.issuer, fetchedAt: new Date(uat).toISOString() },
          "The last signing keys fetched are too old to use (jwks.lastKnownGood): every token of this authorization server is refused (503) until its keys can be fetched again",
        );
      }
      throw new TokenVerificationError("JWKS_UNAVAILABLE", retryAfterSec);
    }
    if (this.#lastKnownGood?.uat !== uat) this.#lastKnownGood = { uat, resolve: createLocalJWKSet(jwks) };
    try {
      return await this.#lastKnownGood.resolve(...args);
    } catch (err) {
      throw keySelectionError(err, true, retryAfterSec);
    }
  }

  /** The jose key set, after discovering the JWKS URL if the configuration did not give one. */
  async #remoteSet(): Promise<RemoteJWKSet> {
    if (this.#remote !== undefined) return this.#remote;
    const { jwksUri, metadata, timings, onFetch } = this.#options;
    // Concurrent first tokens (and the auth runtime) share one discovery attempt.
    const url = jwksUri ?? (await metadata?.jwksUri());
    if (url === undefined) throw new JwksFault("DISCOVERY_FAILED");
    this.#remote ??= createRemoteJWKSet(new URL(url), {
      timeoutDuration: timings.timeoutMs,
      cooldownDuration: timings.cooldownMs,
      cacheMaxAge: timings.cacheMaxAgeMs,
      [jwksCache]: this.#store as JWKSCacheInput,
      [customFetch]: checkedFetch(onFetch),
    });
    return this.#remote;
  }

  #retryAt(): number {
    return this.#faultAt === undefined ? 0 : this.#faultAt + this.#options.timings.cooldownMs;
  }

  #noteSuccess(): void {
    // Recovered once jose applied a set fetched after the fault (a cached answer proves nothing).
    if (this.#faultAt === undefined || (this.#store.uat ?? 0) < this.#faultAt) return;
    this.#faultAt = undefined;
    this.#toldExhausted = false;
    this.#options.logger.info(
      { issuer: this.#options.issuer },
      "Signing keys of the authorization server fetched again",
    );
  }

  #noteFault(err: unknown): void {
    // Concurrent tokens share jose's single fetch, so they all report the same failure: count it once.
    if (Date.now() < this.#retryAt()) return;
    this.#faultAt = Date.now();
    const reason =
      err instanceof JwksFault
        ? { reason: err.reason, ...(err.candidates ? { candidates: err.candidates } : {}) }
        : errorTag(err);
    // Whether tokens are still verified with the keys fetched before, and until when.
    const { uat } = this.#store;
    const until = uat === undefined ? undefined : uat + this.#options.timings.lastKnownGoodMs;
    const lastKnownGood = until !== undefined && Date.now() <= until;
    this.#options.logger.warn(
      {
        issuer: this.#options.issuer,
        ...reason,
        lastKnownGood,
        ...(lastKnownGood ? { lastKnownGoodUntil: new Date(until).toISOString() } : {}),
      },
      "Could not fetch the signing keys of the authorization server",
    );
  }
}

/** The state of a key the current set no longer holds. */
const WITHDRAWN_KEY: KeyState = Object.freeze({ withdrawn: true });

/** A failure to obtain keys (as opposed to a token naming a key that is not there). */
function isFault(err: unknown): boolean {
  return err instanceof JwksFault || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid;
}

/**
 * jose's fetch, with every answer checked before jose parses it, and every failure turned into a
 * `JwksFault` (so a refused connection — `TypeError: fetch failed` — is never mistaken for a bad token).
 */
function checkedFetch(onFetch: () => void): FetchImplementation {
  return async (url, init) => {
    onFetch();
    let text: string;
    try {
      const response = await fetch(url, init); // init.redirect is "manual": a redirect arrives as a 3xx
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => {});
        throw new JwksFault("HTTP_STATUS");
      }
      const body = await boundedText(response, MAX_JWKS_BYTES);
      if (body === undefined) throw new JwksFault("TOO_LARGE");
      text = body;
    } catch (err) {
      if (err instanceof JwksFault) throw err;
      throw new JwksFault(init.signal.aborted ? "TIMEOUT" : "FETCH_FAILED");
    }
    checkKeySet(text);
    return new Response(text, { status: 200, headers: { "content-type": "application/json" } });
  };
}

function checkKeySet(text: string): void {
  if (text.length > MAX_JWKS_BYTES) throw new JwksFault("TOO_LARGE");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new JwksFault("NOT_JSON");
  }
  const keys = isPlainObject(parsed) ? parsed.keys : undefined;
  if (!Array.isArray(keys) || !keys.every(isPlainObject)) throw new JwksFault("NOT_A_JWKS");
  if (keys.length === 0) throw new JwksFault("NO_KEYS");
  // An endpoint publishing private keys is broken: refuse the whole set, never use one of them.
  if (keys.some(hasPrivateKeyMaterial)) throw new JwksFault("PRIVATE_KEY_PUBLISHED");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
