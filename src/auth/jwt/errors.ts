/**
 * The verifier's errors. A refused token becomes a `TokenVerificationError` with a stable code and a
 * fixed sentence: no token, claim, `kid` or header value ever reaches a message or a log line, because
 * these messages end up in `WWW-Authenticate` headers and in logs that many people can read.
 */
import { errors } from "jose";

/** One fixed sentence per code. `invalid_token` → 401; `unavailable` → 503 with Retry-After. */
const MESSAGES = {
  TOKEN_TOO_LARGE: "The access token is too large.",
  TOKEN_MALFORMED: "The access token is malformed.",
  TOKEN_UNKNOWN_ISSUER: "The access token was issued by an authorization server this resource does not trust.",
  TOKEN_ALG_NOT_ALLOWED: "The access token is signed with an algorithm that is not allowed.",
  TOKEN_UNSUPPORTED_HEADER: "The access token uses a header parameter that is not supported.",
  TOKEN_NO_MATCHING_KEY: "No signing key of the authorization server matches the access token.",
  TOKEN_BAD_SIGNATURE: "The access token signature is invalid.",
  TOKEN_EXPIRED: "The access token has expired.",
  TOKEN_NOT_YET_VALID: "The access token is not valid yet.",
  TOKEN_TOO_OLD: "The access token was issued too long ago.",
  TOKEN_ISSUED_IN_FUTURE: "The access token was issued in the future.",
  TOKEN_WRONG_ISSUER: "The access token issuer does not match.",
  TOKEN_WRONG_AUDIENCE: "The access token was not issued for this resource.",
  TOKEN_WRONG_TYPE: "The token is not an access token.",
  TOKEN_MISSING_CLAIM: "The access token lacks a required claim.",
  TOKEN_INVALID_CLAIM: "The access token has a claim with an invalid value.",
  TOKEN_INVALID: "The access token is invalid.",
  JWKS_UNAVAILABLE: "The authorization server's signing keys are unavailable; try again later.",
  VERIFIER_CLOSED: "The token verifier is shut down.",
} as const;

export type TokenErrorCode = keyof typeof MESSAGES;
export type TokenErrorKind = "invalid_token" | "unavailable";

const UNAVAILABLE_CODES: ReadonlySet<TokenErrorCode> = new Set(["JWKS_UNAVAILABLE", "VERIFIER_CLOSED"]);

export class TokenVerificationError extends Error {
  readonly kind: TokenErrorKind;
  readonly code: TokenErrorCode;
  readonly retryAfterSec?: number;

  constructor(code: TokenErrorCode, retryAfterSec?: number) {
    // No `cause`: jose's claim errors carry the whole payload, and loggers serialise causes.
    super(MESSAGES[code]);
    this.name = "TokenVerificationError";
    this.code = code;
    this.kind = UNAVAILABLE_CODES.has(code) ? "unavailable" : "invalid_token";
    if (this.kind === "unavailable") this.retryAfterSec = Math.max(1, Math.ceil(retryAfterSec ?? 30));
  }
}

/** A mistake in the verifier's configuration: thrown at startup, never while serving. */
export class JwtVerifierConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JwtVerifierConfigError";
  }
}

/** Why keys could not be obtained from the authorization server. `reason` is a code, safe to log. */
export type JwksFaultReason =
  | "FETCH_FAILED"
  | "TIMEOUT"
  | "HTTP_STATUS"
  | "TOO_LARGE"
  | "NOT_JSON"
  | "NOT_A_JWKS"
  | "NO_KEYS"
  | "PRIVATE_KEY_PUBLISHED"
  | "DISCOVERY_FAILED"
  | "DISCOVERY_ISSUER_MISMATCH";

/** The key endpoint (or discovery) is down, slow or answering garbage: an outage, never the token's fault. */
export class JwksFault extends Error {
  constructor(
    readonly reason: JwksFaultReason,
    /** For a failed discovery: what each metadata location gave instead (URLs from the configuration, codes). */
    readonly candidates?: readonly { url: string; reason: string }[],
  ) {
    super(`JWKS fault: ${reason}`);
    this.name = "JwksFault";
  }
}

/**
 * Maps whatever `jwtVerify` threw to a stable code. Key-resolution outcomes were already turned
 * into `TokenVerificationError`s by the key sources, so here it is the token's own problems.
 */
export function classifyVerifyError(err: unknown): TokenVerificationError {
  if (err instanceof TokenVerificationError) return err;
  if (err instanceof errors.JWTExpired) {
    return new TokenVerificationError(err.claim === "iat" ? "TOKEN_TOO_OLD" : "TOKEN_EXPIRED");
  }
  if (err instanceof errors.JWTClaimValidationFailed) return classifyClaimError(err);
  if (err instanceof errors.JOSEAlgNotAllowed) return new TokenVerificationError("TOKEN_ALG_NOT_ALLOWED");
  if (err instanceof errors.JOSENotSupported) return new TokenVerificationError("TOKEN_UNSUPPORTED_HEADER");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new TokenVerificationError("TOKEN_BAD_SIGNATURE");
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) {
    return new TokenVerificationError("TOKEN_MALFORMED");
  }
  if (err instanceof errors.JWKSNoMatchingKey) return new TokenVerificationError("TOKEN_NO_MATCHING_KEY");
  return new TokenVerificationError("TOKEN_INVALID");
}

function classifyClaimError(err: InstanceType<typeof errors.JWTClaimValidationFailed>): TokenVerificationError {
  if (err.reason === "missing") return new TokenVerificationError("TOKEN_MISSING_CLAIM");
  if (err.reason === "invalid") return new TokenVerificationError("TOKEN_INVALID_CLAIM");
  switch (err.claim) {
    case "typ":
      return new TokenVerificationError("TOKEN_WRONG_TYPE");
    case "aud":
      return new TokenVerificationError("TOKEN_WRONG_AUDIENCE");
    case "iss":
      return new TokenVerificationError("TOKEN_WRONG_ISSUER");
    case "nbf":
      return new TokenVerificationError("TOKEN_NOT_YET_VALID");
    case "iat":
      return new TokenVerificationError("TOKEN_ISSUED_IN_FUTURE");
    default:
      return new TokenVerificationError("TOKEN_INVALID_CLAIM");
  }
}

/** A loggable description of an unexpected error: its name and code, never its message. */
export function errorTag(err: unknown): { error: string; code?: string } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? { error: err.name, code } : { error: err.name };
  }
  return { error: typeof err };
}
