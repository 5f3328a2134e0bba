/**
 * Authentication and authorization, assembled from auth.yaml: the /mcp gate, the well-known
 * metadata routes and, outside production when no authorization server is configured, the
 * development authorization server mounted on the same port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestHandler } from "express";
import type { Logger } from "pino";
import type { AuthConfig, IssuerConfig } from "../config/auth-config.js";
import type { McpGate } from "../http/app.js";
import type { ToolInfo } from "../tools/catalogue.js";
import { createApiKeyVerifier, toolsNoKeyCanCall } from "./api-keys.js";
import type { ChallengeContext } from "./challenge.js";
import { createAnonymousGate, createAuditLog, createAuthGate } from "./gate.js";
import { discoverIssuerMetadata } from "./jwt/issuer-discovery.js";
import { createJwtVerifier, type JwtVerifier } from "./jwt-verifier.js";
import { protectedResourceMetadata, protectedResourceMetadataUrl } from "./protected-resource-metadata.js";

export interface AuthRuntime {
  gate: McpGate;
  /** The metadata this server publishes, by path: its protected resource metadata, the AS metadata mirror. */
  documents: ReadonlyMap<string, unknown>;
  /** The development authorization server's handler, when it is mounted (served without express). */
  fallback?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  issuers: string[];
  verifier?: JwtVerifier;
  close(): Promise<void>;
}

export interface AuthRuntimeOptions {
  config: AuthConfig;
  tools: readonly ToolInfo[];
  logger: Logger;
  production: boolean;
  /** The server's own origin, e.g. http://127.0.0.1:3000 (the development server's issuer). */
  origin: string;
  dataDir: string;
  resourceName: string;
  /**
   * Serves the development authorization server's routes before the app is ready: the verifier
   * pre-warms its keys from it over HTTP during startup, on this very port.
   */
  serveEarly?: (handler: RequestHandler) => void;
}

const MIRROR_PATH = "/.well-known/oauth-authorization-server";

export async function createAuthRuntime(options: AuthRuntimeOptions): Promise<AuthRuntime> {
  const { config, logger } = options;
  const byName = new Map(options.tools.map((t) => [t.name, t]));
  if (config.mode === "anonymous") {
    const audit = createAuditLog(logger, config);
    return { gate: createAnonymousGate(audit), documents: new Map(), issuers: [], close: async () => {} };
  }

  const issuers: IssuerConfig[] = [...config.issuers];
  let fallback: AuthRuntime["fallback"];
  let closeDev: (() => Promise<void>) | undefined;
  let authorizationUri: string | undefined;
  const wantsOAuth = config.mode !== "api-key";
  const devEnabled = config.developmentServer.enabled;
  const mountDev =
    wantsOAuth && !options.production && (devEnabled === true || (devEnabled === "auto" && issuers.length === 0));
  if (devEnabled === true && options.production)
    throw new Error(
      "developmentServer.enabled is true, but the development authorization server never runs in production",
    );
  if (mountDev) {
    const { startDevAuthorizationServerWorker } = await import("../dev-as/worker-host.js");
    const dev = await startDevAuthorizationServerWorker({
      issuer: options.origin,
      resource: config.resource,
      scopes: config.scopes,
      dataDir: options.dataDir,
      clientMetadataDocuments: config.developmentServer.clientMetadataDocuments,
      logger,
    });
    issuers.push({
      kind: "oidc",
      issuer: dev.issuer,
      jwksUri: dev.jwksUri,
      audience: [config.resource],
      algorithms: ["RS256"],
      scopeClaim: "scope",
      requireAccessTokenType: true,
      clockToleranceSec: 30,
    });
    authorizationUri = dev.authorizationEndpoint;
    fallback = dev.handler;
    options.serveEarly?.(dev.handler as RequestHandler);
    closeDev = () => dev.close();
    // The script's default URL is the default listen address; any other origin must be named.
    const getAToken = `npm run token${options.origin === "http://127.0.0.1:3000" ? "" : ` -- --url ${options.origin}`}`;
    logger.warn(
      { issuer: dev.issuer, getAToken },
      "DEVELOPMENT authorization server mounted on this port: any login name is accepted. Configure AUTH0_DOMAIN or an oidc issuer for real use; it never runs with NODE_ENV=production",
    );
  }

  if (config.mode === "api-key")
    for (const { tool, missing } of toolsNoKeyCanCall(
      options.tools,
      config.apiKeys.keys,
      config.requiredScopesEnforce ? config.requiredScopes : [],
    ))
      logger.warn(
        { tool, missing },
        `no API key may call tool "${tool}": no key in ${config.file} grants ${missing.map((s) => `"${s}"`).join(", ")} (add ${missing.length > 1 ? "them" : "it"} to the scopes of a key under apiKeys.keys); every call of it is refused`,
      );

  let verifier: JwtVerifier | undefined;
  if (wantsOAuth && issuers.length > 0) {
    verifier = await createJwtVerifier({
      issuers: issuers.map(({ kind: _kind, authorizationEndpoint: _a, ...rest }) => rest),
      jwks: config.jwks,
      tokenCache: config.tokenCache,
      logger,
    });
  }
  // Startup, not the request path: find what challenges and the metadata mirror need.
  const first = issuers[0];
  const firstMetadata =
    first && !mountDev ? await discoverIssuerMetadata(first.issuer, config.jwks.timeoutMs) : undefined;
  authorizationUri ??=
    first?.authorizationEndpoint ??
    (typeof firstMetadata?.authorization_endpoint === "string" ? firstMetadata.authorization_endpoint : undefined) ??
    (first?.kind === "auth0" ? `${first.issuer}authorize` : undefined);
  if (first && !firstMetadata && !mountDev)
    logger.warn({ issuer: first.issuer }, "could not read the authorization server's metadata at startup");

  const challenge: ChallengeContext = {
    resourceMetadataUrl: protectedResourceMetadataUrl(config.resource),
    ...(authorizationUri ? { authorizationUri } : {}),
  };
  const prm = Object.freeze(
    protectedResourceMetadata({
      resource: config.resource,
      issuers: issuers.map((i) => i.issuer),
      resourceName: config.resourceName ?? options.resourceName,
      tools: options.tools,
      requiredScopes: config.requiredScopes,
    }),
  );
  // The authorization server's metadata, served on this origin too (metadataMirror).
  const mirror = config.metadataMirror && firstMetadata && !mountDev ? firstMetadata : undefined;
  const prmPaths = [
    ...new Set(["/.well-known/oauth-protected-resource", new URL(challenge.resourceMetadataUrl).pathname]),
  ];

  return {
    gate: createAuthGate({
      config,
      tool: (name) => byName.get(name),
      verifier,
      apiKey: createApiKeyVerifier(config.apiKeys.keys),
      challenge,
      audit: createAuditLog(logger, config),
    }),
    documents: new Map<string, unknown>(
      wantsOAuth
        ? [...prmPaths.map((path) => [path, prm] as const), ...(mirror ? [[MIRROR_PATH, mirror] as const] : [])]
        : [],
    ),
    ...(fallback ? { fallback } : {}),
    issuers: issuers.map((i) => i.issuer),
    ...(verifier ? { verifier } : {}),
    async close() {
      verifier?.close();
      await closeDev?.();
    },
  };
}
