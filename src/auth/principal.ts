import { createHash } from "node:crypto";
import type { Principal } from "../tools/handler-api.js";

/**
 * A stable per-user id, safe as a file name, URL segment and DNS label (RFC 1123: lower-case
 * letters and digits, ≤ 63 characters): a hash of issuer and subject, so the same `sub` at two
 * issuers never collides and nothing about the user leaks into paths.
 */
export function userIdOf(issuer: string, subject: string): string {
  return `u${createHash("sha256").update(`${issuer}\u0000${subject}`).digest("hex").slice(0, 40)}`;
}

export function tokenPrincipal(token: {
  subject: string;
  clientId?: string;
  scopes: readonly string[];
  issuer: string;
  claims: Record<string, unknown>;
}): Principal {
  return Object.freeze({
    subject: token.subject,
    userId: userIdOf(token.issuer, token.subject),
    ...(token.clientId ? { clientId: token.clientId } : {}),
    scopes: Object.freeze([...token.scopes]),
    issuer: token.issuer,
    claims: Object.freeze({ ...token.claims }),
    via: "oauth2" as const,
  });
}

export function apiKeyPrincipal(name: string, scopes: readonly string[]): Principal {
  return Object.freeze({
    subject: name,
    userId: userIdOf("api-key", name),
    clientId: name,
    scopes: Object.freeze([...scopes]),
    claims: Object.freeze({}),
    via: "api-key" as const,
  });
}
