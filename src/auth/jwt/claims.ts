/**
 * Turns a verified JWT payload into the `VerifiedToken` the rest of the server sees. Claims of the
 * wrong type count as absent (fewer scopes is the safe direction), except `sub`, which is required.
 */
import type { JWTPayload } from "jose";
import type { IssuerOptions, VerifiedToken } from "../jwt-verifier.js";
import { TokenVerificationError } from "./errors.js";

export function toVerifiedToken(payload: JWTPayload, scopeClaim: IssuerOptions["scopeClaim"]): VerifiedToken {
  const { sub, exp, iss, aud } = payload;
  if (typeof sub !== "string" || sub.length === 0) throw new TokenVerificationError("TOKEN_INVALID_CLAIM");
  if (typeof exp !== "number" || typeof iss !== "string") throw new TokenVerificationError("TOKEN_INVALID_CLAIM");
  const clientId = stringClaim(payload.client_id) ?? stringClaim(payload.azp);
  const token: VerifiedToken = {
    subject: sub,
    ...(clientId === undefined ? {} : { clientId }),
    scopes: Object.freeze(readScopes(payload, scopeClaim)) as string[],
    issuer: iss,
    audience: Object.freeze(typeof aud === "string" ? [aud] : (aud ?? []).filter(isString)) as string[],
    expiresAt: exp,
    claims: deepFreeze({ ...payload }),
  };
  return Object.freeze(token);
}

const SCOPE_CLAIMS = ["scope", "scp", "permissions"] as const;

/**
 * Scopes from the configured claim: `scope` a space-delimited string (RFC 9068), `scp` a string or an
 * array, `permissions` an array (Auth0 RBAC). `auto` reads the first of the three the token carries,
 * never their union: with Auth0 RBAC `scope` holds what the client asked for and the user holds,
 * `permissions` everything the user holds — a union would give a client scopes the user never
 * consented to for it. A claim of another type grants nothing (and still counts as the one carried):
 * fewer scopes is the safe direction.
 */
export function readScopes(payload: JWTPayload, scopeClaim: IssuerOptions["scopeClaim"]): string[] {
  const name = scopeClaim === "auto" ? SCOPE_CLAIMS.find((claim) => payload[claim] !== undefined) : scopeClaim;
  if (name === undefined) return [];
  const value = payload[name];
  // `scope` a string only (RFC 9068 §2.2.3), `permissions` an array only, `scp` either.
  const items =
    typeof value === "string"
      ? name === "permissions"
        ? undefined
        : value.split(" ")
      : Array.isArray(value) && name !== "scope"
        ? value
        : undefined;
  if (items === undefined) return [];
  const scopes = new Set<string>();
  for (const item of items) if (typeof item === "string" && item.length > 0) scopes.add(item);
  return [...scopes];
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

function isString(value: unknown): value is string {
  return typeof value === "string";
}

/** Cached tokens are shared between requests: nobody may change one under another's feet. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
