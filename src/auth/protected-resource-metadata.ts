import type { ToolInfo } from "../tools/catalogue.js";

export interface ProtectedResourceMetadataInput {
  resource: string;
  issuers: readonly string[];
  resourceName: string;
  tools: readonly ToolInfo[];
  requiredScopes: readonly string[];
}

/**
 * The RFC 9728 document: `resource` exactly as configured, each authorization server exactly as its
 * issuer string, the scopes any tool or the server requires (never offline_access), header-only
 * bearer tokens, and toolgate's per-tool `scopes` map.
 */
export function protectedResourceMetadata(input: ProtectedResourceMetadataInput): Record<string, unknown> {
  const scopes = [...new Set([...input.requiredScopes, ...input.tools.flatMap((t) => t.scopes)])].filter(
    (s) => s !== "offline_access",
  );
  return {
    resource: input.resource,
    authorization_servers: [...input.issuers],
    scopes_supported: scopes,
    bearer_methods_supported: ["header"],
    resource_name: input.resourceName,
    scopes: Object.fromEntries(input.tools.map((t) => [t.name, [...t.scopes]])),
  };
}

/**
 * RFC 9728 §3 and §3.1: the well-known segment goes between the host and the resource's path and/or
 * query components, so a query in the resource is kept (`https://h/mcp?tenant=a` →
 * `https://h/.well-known/oauth-protected-resource/mcp?tenant=a`). The document is served by path
 * (src/http/app.ts ignores the query), so the URL without the query keeps answering too.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  // Only a slash right after the host is dropped; the rest of the path is kept as written.
  const path = url.pathname === "/" ? "" : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}${url.search}`;
}
