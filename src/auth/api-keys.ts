import { createHash, timingSafeEqual } from "node:crypto";
import type { ApiKeyConfig } from "../config/auth-config.js";
import type { ToolInfo } from "../tools/catalogue.js";

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

/**
 * In mode `api-key`, the tools no configured key may call: each needs scopes (and the enforced
 * `requiredScopes`) that no single key grants. Every call of them is refused; said once at startup,
 * where the operator can fix it (a scope added to a tool is not granted to a key by itself).
 */
export function toolsNoKeyCanCall(
  tools: readonly ToolInfo[],
  keys: readonly ApiKeyConfig[],
  required: readonly string[],
): { tool: string; missing: string[] }[] {
  return tools.flatMap((tool) => {
    if (tool.allowsAnonymous) return [];
    const needed = [...new Set([...required, ...tool.scopes])];
    const missingPerKey = keys.map((key) => needed.filter((scope) => !key.scopes.includes(scope)));
    if (missingPerKey.some((missing) => missing.length === 0)) return [];
    // What the key closest to it lacks.
    const missing = missingPerKey.reduce((a, b) => (b.length < a.length ? b : a), needed);
    return [{ tool: tool.name, missing }];
  });
}
