/**
 * Client ID Metadata Documents (CIMD) for the development server: the client_id is an https URL
 * whose JSON document is the client's registration. The provider would fetch it, but its fetch
 * refuses loopback and plain http (its SSRF guard), which is what local test clients use. So the
 * documents listed in configuration are served from memory through the provider's `fetch` hook,
 * and any other CIMD client_id is refused before a request is made (`allowFetch`).
 */
export type ClientMetadataDocuments = Record<string, Record<string, unknown>>;

export interface ClientMetadataDocumentHooks {
  /**
   * Whether any document is listed. Without one the development server does not offer CIMD at all
   * (discovery does not advertise it), so clients that would register with a CIMD client_id — which
   * it would refuse — register through DCR instead.
   */
  readonly offered: boolean;
  /** `features.clientIdMetadataDocument.allowFetch`: only the development allowlist. */
  allowFetch(ctx: unknown, clientId: string): boolean;
  /** The provider's `fetch` configuration: allowlisted documents from memory, the rest to the network. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
}

export function clientMetadataDocumentHooks(documents: ClientMetadataDocuments = {}): ClientMetadataDocumentHooks {
  const allowlist = new Map(Object.entries(documents));
  return {
    offered: allowlist.size > 0,
    allowFetch: (_ctx, clientId) => allowlist.has(clientId),
    fetch(input, init) {
      const url = input instanceof Request ? input.url : String(input);
      const document = allowlist.get(url);
      // Everything else (a client's jwks_uri, sector_identifier_uri, …) still goes through the
      // provider's SSRF-guarded dispatcher, which arrives in `init`.
      if (!document) return globalThis.fetch(input, init);
      return Promise.resolve(Response.json({ ...document, client_id: document.client_id ?? url }));
    },
  };
}
