import type { Adapter, ClientMetadata, Configuration, ResourceServer } from "oidc-provider";
import type { ClientMetadataDocumentHooks } from "./client-metadata-documents.js";
import { enforceClientPolicy } from "./client-policy.js";
import { renderError } from "./development-pages.js";
import { type PrivateJwks, SIGNING_ALG } from "./signing-keys.js";

/**
 * A field of the discovery document that names this server as toolgate's development server, so
 * `npm run token` can refuse to register clients at a real authorization server.
 */
export const DEVELOPMENT_SERVER_MARKER = "toolgate_development_server";

export interface ProviderSettings {
  /** The MCP resource URL; the only resource tokens are issued for, and their `aud`. */
  resource: string;
  /** Scope names from the catalogue. */
  scopes: readonly string[];
  jwks: PrivateJwks;
  accessTokenTtlSec: number;
  cookieKeys: string[];
  clientMetadataDocuments: ClientMetadataDocumentHooks;
  /** oidc-provider's `errors.InvalidTarget`, passed in because the module is imported lazily. */
  invalidTarget: () => Error;
  /** oidc-provider's `errors.InvalidClientMetadata`, likewise. */
  invalidClientMetadata: (description: string) => Error;
  /** The storage (memory-adapter.ts): bounded per model, clients never evicted. */
  adapter: (model: string) => Adapter;
}

export function providerConfiguration(settings: ProviderSettings): Configuration {
  const { resource, accessTokenTtlSec: ttl } = settings;
  const resourceServer: ResourceServer = {
    audience: resource,
    scope: settings.scopes.join(" "),
    accessTokenTTL: ttl,
    accessTokenFormat: "jwt",
    jwt: { sign: { alg: SIGNING_ALG } },
  };
  const hour = 3600;

  return {
    adapter: settings.adapter,
    jwks: settings.jwks,
    // The catalogue and openid only: no offline_access, whose presence in scopes_supported makes the
    // MCP SDK client add prompt=consent to every authorization (and refresh tokens are not needed).
    scopes: ["openid", ...settings.scopes],
    responseTypes: ["code"],
    // The devInteractions login name becomes the subject.
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    // OAuth 2.1: every client uses PKCE (the provider only offers S256).
    pkce: { required: () => true },
    // Browser-based MCP clients (the Inspector) call the token and registration endpoints cross-origin.
    // Not a client allowed client_credentials: a machine client, never a browser's, and a web page
    // (registration is open to any origin) would otherwise mint itself a token with every scope of the
    // catalogue, no user involved, and read it.
    clientBasedCORS: (_ctx, _origin, client) => !client.grantTypeAllowed("client_credentials"),
    // What the provider reads from a URL a client names (its jwks_uri; a sector_identifier_uri is
    // refused at registration): oidc-provider reads those without a limit (a gzip bomb took the worker
    // to 1.7 GB). A CIMD document keeps the provider's own limit, written out: an object given here
    // replaces the default whole.
    fetchResponseBodyLimits: {
      "client_id metadata document": 5 * 1024,
      jwks_uri: 64 * 1024,
      sector_identifier_uri: 16 * 1024,
    },
    cookies: { keys: settings.cookieKeys },
    discovery: { [DEVELOPMENT_SERVER_MARKER]: true },
    // The provider's one synchronous hook over a whole client's metadata: with a single property
    // listed, the validator runs once per client construction (registration, lookup, CIMD).
    extraClientMetadata: {
      properties: ["scope"],
      validator: (_ctx, key, _value, metadata) => {
        dropRegisteredScope(key, metadata);
        enforceClientPolicy(metadata, (description) => {
          throw settings.invalidClientMetadata(description);
        });
      },
    },
    // MCP SDK clients register `grant_types: [authorization_code, refresh_token]` by default; the
    // provider accepts refresh_token only when it may issue refresh tokens. Issue them to clients
    // that registered for them (without advertising offline_access, which forces prompt=consent).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed("refresh_token"),
    fetch: settings.clientMetadataDocuments.fetch,
    renderError,
    ttl: {
      AccessToken: ttl,
      ClientCredentials: ttl,
      IdToken: hour,
      Interaction: hour,
      Session: hour,
      Grant: 14 * 24 * hour,
      // The provider's default, written out: left unset, the provider prints a NOTICE to the console
      // (outside the logger) on the first refresh-token grant. A public web client's rotated refresh
      // token keeps the remaining lifetime of the one it replaces, so rotation never extends it.
      RefreshToken: (ctx, token, client) => {
        const rotated = ctx?.oidc?.entities.RotatedRefreshToken;
        return rotated &&
          client.applicationType === "web" &&
          client.clientAuthMethod === "none" &&
          !token.isSenderConstrained()
          ? rotated.remainingTTL
          : 14 * 24 * hour;
      },
    },
    features: {
      // The resource server verifies bearer tokens only (no `cnf` / DPoP proof check): a DPoP-bound
      // token would be sender-bound on paper only, and a client that sends it with the DPoP scheme
      // would be refused. Off, so tokens are plain Bearer tokens.
      dPoP: { enabled: false },
      devInteractions: { enabled: true },
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      clientIdMetadataDocument: {
        enabled: settings.clientMetadataDocuments.offered,
        ack: "draft-02",
        allowFetch: settings.clientMetadataDocuments.allowFetch,
      },
      resourceIndicators: {
        enabled: true,
        // Clients that skip RFC 8707 still get a token for the MCP server, not an opaque userinfo one.
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          // Exact match: the resource is the PRM `resource` verbatim, and becomes `aud`.
          if (indicator !== resource) throw settings.invalidTarget();
          return resourceServer;
        },
      },
    },
  };
}

/**
 * The step-up fix. The MCP SDK sends `scope` when it registers a client; the provider would keep it
 * as that client's allowed scopes and refuse a later, wider request with `invalid_scope`, so
 * step-up could never succeed. Dropping it leaves the catalogue as the only limit. The validator
 * runs on every client construction (registration, lookup, CIMD), so stored clients get it too.
 */
function dropRegisteredScope(key: string, metadata: ClientMetadata): void {
  if (key === "scope") delete metadata.scope;
}
