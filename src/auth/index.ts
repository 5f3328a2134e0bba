/**
 * Authentication and authorization, assembled from auth.yaml: the /mcp gate, the well-known
 * metadata routes and, outside production when no authorization server is configured, the
 * development authorization server mounted on the same port.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AuthConfig, IssuerConfig } from "../config/auth-config.js";
import type { McpGate, ServedDocument } from "../http/app.js";
import type { ClientAddress } from "../http/client-address.js";
import type { ToolInfo } from "../tools/catalogue.js";
import { createApiKeyVerifier, toolsNoKeyCanCall } from "./api-keys.js";
import { type ChallengeContext, challengeUrl } from "./challenge.js";
import { createAnonymousGate, createAuditLog, createAuthGate } from "./gate.js";
import { JwksFault } from "./jwt/errors.js";
import { IssuerMetadata } from "./jwt/issuer-discovery.js";
import { createJwtVerifier, type JwtVerifier } from "./jwt-verifier.js";
import { protectedResourceMetadata, protectedResourceMetadataUrl } from "./protected-resource-metadata.js";

export interface AuthRuntime {
  gate: McpGate;
  /**
   * The metadata this server publishes, by path: its protected resource metadata, the AS metadata
   * mirror (a function: read at each request, undefined until the metadata was found).
   */
  documents: ReadonlyMap<string, ServedDocument>;
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
  /** The client's address as TRUST_PROXY reads it, for the audit line and refused credentials. */
  clientAddress: ClientAddress;
}

const MIRROR_PATH = "/.well-known/oauth-authorization-server";

export async function createAuthRuntime(options: AuthRuntimeOptions): Promise<AuthRuntime> {
  const { config, logger } = options;
  const byName = new Map(options.tools.map((t) => [t.name, t]));
  if (config.mode === "anonymous") {
    const audit = createAuditLog(logger, config, options.clientAddress);
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
      // In memory, not fetched from dev.jwksUri: that URL is on the public origin (a tunnel's, with
      // MCP_RESOURCE_URL), which this host may not reach.
      publicKeys: dev.publicJwks,
      audience: [config.resource],
      algorithms: ["RS256"],
      scopeClaim: "scope",
      requireAccessTokenType: true,
      clockToleranceSec: 30,
    });
    authorizationUri = dev.authorizationEndpoint;
    fallback = dev.handler;
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

  // The first issuer's metadata gives challenges their authorization_uri (unless auth.yaml gives it)
  // and is what the mirror serves; when no JWKS URL or key is configured, its key source reads the
  // JWKS URL from the same discovery. Started here, next to the keys' warm-up: one attempt, under one
  // deadline (jwks.timeout), for all of them.
  const first = mountDev ? undefined : issuers[0];
  const needsAuthorizationUri =
    first !== undefined && first.authorizationEndpoint === undefined && first.kind !== "auth0";
  const dependents =
    wantsOAuth && first ? { authorizationUri: needsAuthorizationUri, mirror: config.metadataMirror } : undefined;
  const keysByDiscovery =
    first !== undefined &&
    first.jwksUri === undefined &&
    first.publicKeyFile === undefined &&
    first.sharedSecret === undefined;
  const metadata =
    first && dependents && (dependents.authorizationUri || dependents.mirror || keysByDiscovery)
      ? new IssuerMetadata(first.issuer, config.jwks.timeoutMs)
      : undefined;
  const firstDiscovery = metadata?.discover().then(
    () => undefined,
    (err: unknown) => err,
  );
  let verifier: JwtVerifier | undefined;
  if (wantsOAuth && issuers.length > 0) {
    verifier = await createJwtVerifier({
      issuers: issuers.map(({ kind: _kind, authorizationEndpoint: _a, ...rest }) =>
        rest.issuer === metadata?.issuer ? { ...rest, metadata } : rest,
      ),
      jwks: config.jwks,
      tokenCache: config.tokenCache,
      logger,
    });
  }
  const discoveryFailure = await firstDiscovery;
  if (first && metadata && dependents && metadata.document === undefined) {
    // Not found by the deadline: challenges and the mirror do without until a background attempt finds it.
    const candidates = (err: unknown) =>
      err instanceof JwksFault && err.candidates ? { candidates: err.candidates } : {};
    const missing = [
      ...(dependents.authorizationUri
        ? [
            "challenges carry no authorization_uri (setting authorizationEndpoint for this issuer in auth.yaml removes that dependency)",
          ]
        : []),
      ...(dependents.mirror ? [`${MIRROR_PATH} (authorizationServerMetadataMirror) answers 404`] : []),
    ];
    if (missing.length > 0) {
      logger.warn(
        { issuer: first.issuer, ...candidates(discoveryFailure), retryEveryMsAtMost: config.jwks.cooldownMs },
        `could not read the authorization server's metadata at startup; until it can be read, ${missing.join(", and ")}. Retrying in the background`,
      );
      metadata.retryUntilFound(config.jwks.cooldownMs, {
        found: () =>
          logger.info(
            { issuer: first.issuer },
            "authorization server's metadata read: challenges and the mirror now use it",
          ),
        failed: (err) =>
          logger.debug(
            { issuer: first.issuer, ...candidates(err) },
            "authorization server's metadata still unreadable",
          ),
      });
    }
  }

  // Read at every challenge: the metadata may be found after startup.
  // Every URL a challenge carries goes through challengeUrl: the discovered one is the authorization
  // server's word (not an http(s) URL: left out), and any of them may hold characters a header cannot.
  const fixed = authorizationUri ?? first?.authorizationEndpoint;
  const fixedAuthorizationUri = fixed === undefined ? undefined : challengeUrl(fixed);
  const auth0AuthorizationUri = first?.kind === "auth0" ? challengeUrl(`${first.issuer}authorize`) : undefined;
  const prmUrl = protectedResourceMetadataUrl(config.resource);
  let discoveredRaw: unknown;
  let discoveredUri: string | undefined;
  const challenge: ChallengeContext = {
    resourceMetadataUrl: challengeUrl(prmUrl) ?? prmUrl,
    get authorizationUri() {
      if (fixedAuthorizationUri) return fixedAuthorizationUri;
      const discovered = metadata?.document?.authorization_endpoint;
      if (discovered !== discoveredRaw) {
        discoveredRaw = discovered;
        discoveredUri = typeof discovered === "string" ? challengeUrl(discovered) : undefined;
      }
      return discoveredUri ?? auth0AuthorizationUri;
    },
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
  // The authorization server's metadata, served on this origin too (metadataMirror): 404 until it was read.
  const mirror = config.metadataMirror && metadata ? () => metadata.document : undefined;
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
      audit: createAuditLog(logger, config, options.clientAddress),
      clientAddress: options.clientAddress,
    }),
    documents: new Map<string, ServedDocument>(
      wantsOAuth
        ? [...prmPaths.map((path) => [path, prm] as const), ...(mirror ? [[MIRROR_PATH, mirror] as const] : [])]
        : [],
    ),
    ...(fallback ? { fallback } : {}),
    issuers: issuers.map((i) => i.issuer),
    ...(verifier ? { verifier } : {}),
    async close() {
      metadata?.close();
      verifier?.close();
      await closeDev?.();
    },
  };
}
