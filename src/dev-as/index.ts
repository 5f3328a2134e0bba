/**
 * The embedded development authorization server: a real OAuth 2.1 / OIDC provider (oidc-provider)
 * mounted at the root of toolgate's own express app, for when no authorization server is
 * configured outside production. See DESIGN §5.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import type { JWK } from "jose";
import { clientMetadataDocumentHooks } from "./client-metadata-documents.js";
import { keepAuthorizationErrorsHere } from "./client-policy.js";
import { markDevelopmentPages, registrationCors, validateDevelopmentLogins } from "./development-pages.js";
import { createDevStorage } from "./memory-adapter.js";
import { providerConfiguration } from "./provider-configuration.js";
import { type NoticeLogger, withProviderNotices } from "./provider-notices.js";
import { loadOrCreateSigningKeys, publicKeySet } from "./signing-keys.js";

export { DEVELOPMENT_SERVER_MARKER } from "./provider-configuration.js";

export interface DevAuthorizationServerOptions {
  /** e.g. "http://127.0.0.1:3000"; the provider is mounted at the root of the app that serves /mcp. */
  issuer: string;
  /** The MCP resource URL, e.g. "http://127.0.0.1:3000/mcp"; access tokens are JWTs with this `aud`. */
  resource: string;
  /** The scope catalogue (name -> description) from auth.yaml. */
  scopes: Record<string, string>;
  /** Git-ignored folder; the signing JWKS lives in `${dataDir}/dev-as/jwks.json` (mode 0600). */
  dataDir: string;
  /** CIMD documents served without fetching, keyed by their https client_id URL (the allowlist). */
  clientMetadataDocuments?: Record<string, Record<string, unknown>>;
  /** Default 600. */
  accessTokenTtlSec?: number;
  /**
   * Build URLs and cookie `Secure` flags from `X-Forwarded-Proto` / `X-Forwarded-Host` (Koa `proxy`).
   * Set by the worker only, whose listener gets nothing but the host's replays, in which those two
   * headers are set from the issuer and any the client sent are dropped. Never set it where clients
   * reach the handler directly: they would choose the URLs the provider advertises.
   */
  trustForwardedHeaders?: boolean;
  logger?: NoticeLogger;
}

export interface DevAuthorizationServer {
  issuer: string;
  /**
   * A Node handler for every path the app does not serve itself (src/http/app.ts calls it before the
   * express app, with no body parser in front); `next` hands on a path the provider does not claim.
   */
  handler: (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void;
  jwksUri: string;
  /**
   * The public keys its tokens are signed with: the server's verifier takes them from here, not over
   * HTTP from `jwksUri` — behind a tunnel that URL is the public origin, which the host itself may
   * not reach (no outbound network, split DNS, the tunnel not up yet).
   */
  publicJwks: { keys: JWK[] };
  authorizationEndpoint: string;
  close(): Promise<void>;
}

export async function createDevAuthorizationServer(
  options: DevAuthorizationServerOptions,
): Promise<DevAuthorizationServer> {
  const { issuer, logger } = options;
  if (new URL(issuer).pathname !== "/") {
    // The provider builds its endpoint URLs from the issuer path; mounted at the root, it must be empty.
    throw new Error(`the development authorization server is mounted at the root: issuer ${issuer} must have no path`);
  }
  const keyFile = join(options.dataDir, "dev-as", "jwks.json");
  const { jwks, created } = await loadOrCreateSigningKeys(keyFile);
  if (created) logger?.info({ keyFile }, "development authorization server: created a signing key");

  // Answered to the client as is (an exposed error keeps its status and text); made once the
  // provider's error classes are loaded.
  let fullError: ((description: string) => Error) | undefined;
  const storage = createDevStorage({
    full: (model, limit, maxBytes) => {
      const megabytes = `${Math.round(maxBytes / (1024 * 1024))} MB`;
      const description =
        model === "Client"
          ? `the development authorization server already holds ${limit} registered clients or ${megabytes} of their metadata, its limit; restart toolgate to clear them (registered clients live in memory)`
          : `the development authorization server holds ${limit} ${model} entries or ${megabytes} of them, its limit; restart toolgate to clear them`;
      return fullError ? fullError(description) : new Error(description);
    },
  });

  // Imported here, not at the top, so the notices oidc-provider prints on import reach the logger.
  const provider = await withProviderNotices(logger, async () => {
    const { default: Provider, errors } = await import("oidc-provider");
    fullError = (description) => {
      const error = new errors.OIDCProviderError(503, "temporarily_unavailable");
      error.expose = true;
      error.error_description = description;
      return error;
    };
    const configuration = providerConfiguration({
      resource: options.resource,
      scopes: Object.keys(options.scopes),
      jwks,
      accessTokenTtlSec: options.accessTokenTtlSec ?? 600,
      // Cookies only carry a login in progress; they need not survive a restart.
      cookieKeys: [randomBytes(32).toString("base64url")],
      clientMetadataDocuments: clientMetadataDocumentHooks(options.clientMetadataDocuments),
      invalidTarget: () => new errors.InvalidTarget(),
      invalidClientMetadata: (description) => new errors.InvalidClientMetadata(description),
      adapter: storage.adapter,
    });
    const provider = new Provider(issuer, configuration);
    validateDevelopmentLogins(provider, (description) => new errors.InvalidRequest(description));
    return provider;
  });
  provider.proxy = options.trustForwardedHeaders === true;
  // provider.use() inserts in front of the provider's own router, so this sees the pages it renders.
  provider.use(markDevelopmentPages);
  provider.use(registrationCors);
  // Pushed after the router, so it is reached only by requests that no provider route matched:
  // those go back to express (`next`) instead of getting Koa's 404.
  const unclaimed = new WeakSet<IncomingMessage>();
  provider.middleware.push((ctx) => {
    ctx.respond = false;
    unclaimed.add(ctx.req);
  });
  // Listeners run in order: the first may turn a redirected authorization error into a page.
  provider.on("authorization.error", keepAuthorizationErrorsHere);
  provider.on("server_error", keepAuthorizationErrorsHere);
  provider.on("server_error", (_ctx, error) => logger?.warn({ err: error }, "development authorization server error"));

  const callback = provider.callback();
  const handler: DevAuthorizationServer["handler"] = (req, res, next) => {
    callback(req, res).then(
      () => {
        if (!unclaimed.has(req)) return;
        if (!next) return void res.end(); // Koa's preset 404 stands.
        res.statusCode = 200; // Undo Koa's preset 404, so express's later handlers start clean.
        next();
      },
      (error: unknown) => (next ? next(error) : res.destroy(error as Error)),
    );
  };
  return {
    issuer: provider.issuer,
    handler,
    jwksUri: provider.urlFor("jwks"),
    publicJwks: publicKeySet(jwks),
    authorizationEndpoint: provider.urlFor("authorization"),
    // The provider opens no sockets and starts no timers; the storage's sweep is the one timer.
    close: async () => {
      provider.removeAllListeners();
      storage.close();
    },
  };
}
