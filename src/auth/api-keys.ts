import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKeyConfig } from "../config/auth-config.js";

export interface ApiKeyMatch {
  name: string;
  scopes: string[];
}

/**
 * Checks a presented key against the configured SHA-256 digests. Every digest is compared, in
 * constant time, whatever matched earlier: the time taken says nothing about which key was close.
 */
export function createApiKeyVerifier(keys: readonly ApiKeyConfig[]): (key: string) => ApiKeyMatch | undefined {
  // One frozen match per key, built once: callers may cache what they derive from it.
  const entries = keys.flatMap((k) => {
    const match: ApiKeyMatch = Object.freeze({ name: k.name, scopes: Object.freeze([...k.scopes]) as string[] });
    return k.digests.map((digest) => ({ digest, match }));
  });
  return (key) => {
    const presented = createHash("sha256").update(key, "utf8").digest();
    let found: ApiKeyMatch | undefined;
    for (const entry of entries) {
      if (timingSafeEqual(presented, entry.digest) && !found) found = entry.match;
    }
    return found;
  };
}
