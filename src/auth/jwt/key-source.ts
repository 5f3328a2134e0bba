/**
 * Where an issuer's verification keys come from: a remote JWKS (jwks.ts) or keys fixed in the
 * configuration (static-keys.ts). Each gives jose a key resolver that only ever throws
 * `TokenVerificationError`s or jose's JWKSMultipleMatchingKeys (the verifier then tries each candidate).
 */
import { errors, type JWTVerifyGetKey } from "jose";
import { TokenVerificationError } from "./errors.js";

export interface KeySource {
  /** Called by jwtVerify after it checked the header's `alg` against the allow-list and `crit`. */
  readonly resolveKey: JWTVerifyGetKey;
  /** Fetches keys ahead of the first token; never throws (an unreachable issuer is logged). */
  warm(): Promise<void>;
  /**
   * A remote key set: the state of the key named `kid` that just verified a token, which turns
   * `withdrawn` when a key set without it arrives. Fixed keys are never withdrawn.
   */
  keyState?(kid: string | undefined): KeyState;
  /** A remote key set: how long a verified token may be reused before it is verified again (and so
   * meets a refetched key set). */
  readonly reuseForMs?: number;
}

/** Whether the key a verified token was signed with has since left its issuer's key set. */
export interface KeyState {
  readonly withdrawn: boolean;
}

/** The state of a fixed key, or of a token without `kid` (which key verified it is not tracked). */
export const UNTRACKED_KEY: KeyState = Object.freeze({ withdrawn: false });

/** JWK members that only private or secret keys have. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"] as const;

export function hasPrivateKeyMaterial(jwk: object): boolean {
  return PRIVATE_MEMBERS.some((member) => Object.hasOwn(jwk, member));
}

/**
 * Maps a key-selection failure from a jose key set. `stale` means the set could not be refreshed:
 * an unknown key may then be a new key we could not fetch, so it is an outage, not a bad token.
 */
export function keySelectionError(err: unknown, stale: boolean, retryAfterSec?: number): unknown {
  if (err instanceof errors.JWKSMultipleMatchingKeys) return err;
  if (err instanceof errors.JWKSNoMatchingKey && stale) {
    return new TokenVerificationError("JWKS_UNAVAILABLE", retryAfterSec);
  }
  if (err instanceof errors.JOSENotSupported) return new TokenVerificationError("TOKEN_ALG_NOT_ALLOWED");
  // No match, or a published key that cannot be imported for this algorithm: either way no usable key.
  return new TokenVerificationError("TOKEN_NO_MATCHING_KEY");
}
