/**
 * auth.yaml's data, once it passed the schema, resolved into what the server runs with, and the
 * checks the schema cannot make (AUTH001-AUTH014). The server runs them all at startup
 * (loadAuthConfig); the generator runs those that hold in every environment (fixedAuthProblems),
 * so `npm run lint:schema` in CI catches what would stop the server anywhere. One copy of each rule.
 * Nothing here imports generated/: the generator that writes it loads this module.
 */
import { createHash } from "node:crypto";
import type { IssuerOptions } from "../auth/jwt-verifier.js";
import type { DiagnosticCode } from "./diagnostic-codes.js";
import type { Diagnostic } from "./diagnostics.js";
import type { YamlSource } from "./yaml-source.js";

export type AuthMode = "oauth2" | "optional" | "api-key" | "anonymous";
export type ChallengeDelivery = "auto" | "http" | "tool-result";

/** An authorization server whose tokens are accepted: the verifier's options plus what challenges need. */
export interface IssuerConfig extends IssuerOptions {
  kind: "auth0" | "oidc";
  /** Sent as `authorization_uri` in challenges; else read from the issuer metadata (at startup, retried until found). */
  authorizationEndpoint?: string;
}

export interface ApiKeyConfig {
  name: string;
  /** SHA-256 digests of the accepted keys. */
  digests: Buffer[];
  scopes: string[];
}

export interface AuthConfig {
  file: string;
  /** Problems that do not stop the server (AUTH012), logged at startup. */
  warnings: Diagnostic[];
  mode: AuthMode;
  /** The canonical MCP URL (PRM `resource`, default audience). */
  resource: string;
  resourceName?: string;
  challengeDelivery: ChallengeDelivery;
  scopes: Record<string, string>;
  requiredScopes: string[];
  requiredScopesEnforce: boolean;
  issuers: IssuerConfig[];
  jwks: { timeoutMs: number; cooldownMs: number; cacheMaxAgeMs: number; lastKnownGoodMs: number };
  tokenCache: { enabled: boolean; maxEntries: number };
  apiKeys: { header: string; bearerPrefix: string; keys: ApiKeyConfig[] };
  developmentServer: { enabled: "auto" | boolean; clientMetadataDocuments: Record<string, Record<string, unknown>> };
  metadataMirror: boolean;
}

/** Where auth.yaml is being resolved. */
export type ResolveStage =
  /** Server startup: the environment is the one served with; every check runs. */
  | { listen: { host: string; port: number }; production: boolean }
  /**
   * Generate time: the environment is not the server's. Only values that depend on no `${VAR}`
   * placeholder are checked (YamlSource.fromEnvironment), and nothing that depends on the listen
   * address (the default `resource`) or on production.
   */
  | "generate";

/** A DNS host name of at least two labels, nothing else. */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;
/** An OAuth scope token (RFC 6749 §3.3), as `$defs.scope` in schema/auth.schema.json. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"];
const words = (v: unknown): string[] =>
  typeof v === "string"
    ? v.split(/\s+/).filter(Boolean)
    : Array.isArray(v)
      ? v.filter((s): s is string => typeof s === "string")
      : [];

/**
 * The problems of an auth.yaml (already valid against the schema) that no environment can cure:
 * what the server would refuse at startup whatever its variables and NODE_ENV. A value written with
 * a placeholder is not judged, nor anything that depends on one (an entry whose issuer comes from a
 * variable may be off on the server).
 */
export function fixedAuthProblems(source: YamlSource): Diagnostic[] {
  return resolveAuth(source, "generate").diagnostics;
}

type Raw = any;

/**
 * auth.yaml's data resolved into the server's settings, with every problem found. At the "generate"
 * stage the config is not meant to be used (what depends on the environment is left at a default),
 * only the diagnostics.
 */
export function resolveAuth(
  source: YamlSource,
  stage: ResolveStage,
): { config: Omit<AuthConfig, "warnings">; diagnostics: Diagnostic[] } {
  const raw: Raw = source.value;
  const diagnostics: Diagnostic[] = [];
  const error = (path: (string | number)[], code: DiagnosticCode, message: string) =>
    diagnostics.push({ file: source.file, ...position(path), severity: "error", code, message });
  // A setting whose placeholder came out empty is absent from the data: pointed at that placeholder,
  // not at the nearest ancestor (for a top-level key, the file's first line).
  const position = (path: (string | number)[]) => {
    const dropped = source.droppedPlaceholder(path);
    return dropped ? { line: dropped.line, col: dropped.col } : source.locate(path);
  };
  const generating = stage === "generate";
  const production = !generating && stage.production;
  /** Whether the value at `path` (absent or not) is the same in every environment; at startup, all are judged. */
  const fixed = (path: (string | number)[]) => !generating || !source.fromEnvironment(path);

  // At generate time, the default resource (from the listen address) is unknown, and so is one
  // from a placeholder: the checks that need it are skipped.
  let resource: string | undefined;
  if (raw.resource && fixed(["resource"])) resource = raw.resource;
  else if (!generating) {
    const listenHost =
      stage.listen.host === "0.0.0.0" || stage.listen.host === "::"
        ? "localhost"
        : stage.listen.host.includes(":")
          ? `[${stage.listen.host}]`
          : stage.listen.host;
    resource = `http://${listenHost}:${stage.listen.port}/mcp`;
  }
  if (resource !== undefined) {
    try {
      const url = new URL(resource);
      if (url.hash) error(["resource"], "AUTH001", "resource must not have a #fragment (RFC 9728)");
      if (production && url.protocol !== "https:")
        error(
          ["resource"],
          "AUTH002",
          "resource must be an https URL in production: set resource to the URL clients reach (the shipped auth.yaml takes it from MCP_RESOURCE_URL)",
        );
    } catch {
      error(["resource"], "AUTH001", `resource must be an absolute URL, not "${String(resource).slice(0, 60)}"`);
    }
  }

  const issuers: IssuerConfig[] = [];
  (raw.authorizationServers ?? []).forEach((entry: Raw, i: number) => {
    const at = (key: string) => ["authorizationServers", i, key];
    // Whether the entry is on, and what its issuer is, may depend on a variable: then nothing of it
    // is judged at generate time (its other settings are not used when it is off).
    if (!fixed(at("type")) || !fixed(at(entry.type === "auth0" ? "domain" : "issuer"))) return;
    const issuer: string | undefined =
      entry.type === "auth0" ? (entry.domain ? `https://${entry.domain}/` : undefined) : entry.issuer;
    if (!issuer) return; // an entry whose variable is unset is off
    // A plain host name: anything else (a scheme, path, `user@`, `:port`, `?query`) would make the
    // issuer URL name another host than the one written (`tenant.auth0.com@evil.example`).
    if (entry.type === "auth0" && !HOST_NAME.test(entry.domain)) {
      error(
        at("domain"),
        "AUTH003",
        `domain is a host name without protocol or path (e.g. example.eu.auth0.com), not "${String(entry.domain).slice(0, 60)}"`,
      );
      return;
    }
    try {
      const url = new URL(issuer);
      // As the verifier requires (it refused ftp:// at startup with neither code nor position).
      if (url.protocol !== "https:" && url.protocol !== "http:")
        error(at("issuer"), "AUTH004", `issuer must be an http(s) URL, not "${String(issuer).slice(0, 60)}"`);
      else if (production && url.protocol !== "https:")
        error(at("issuer"), "AUTH004", "issuer must be an https URL in production");
    } catch {
      error(at(entry.type === "auth0" ? "domain" : "issuer"), "AUTH004", "issuer is not a valid URL");
      return;
    }
    for (const key of ["jwksUri", "authorizationEndpoint"] as const) {
      if (!entry[key] || !fixed(at(key))) continue;
      let protocol: string | undefined;
      try {
        protocol = new URL(entry[key]).protocol;
      } catch {}
      if (protocol !== "https:" && protocol !== "http:")
        error(at(key), "AUTH004", `${key} must be an http(s) URL, not "${String(entry[key]).slice(0, 60)}"`);
      else if (production && protocol !== "https:")
        error(at(key), "AUTH004", `${key} must be an https URL in production`);
    }
    const audience = words(entry.audience ?? []);
    // Any accepted audience other than the resource must be confirmed: a list that also holds the
    // resource still accepts tokens minted for the other API.
    const others = audience.filter((a) => a !== resource);
    if (
      others.length > 0 &&
      entry.audienceIsNotResource !== true &&
      resource !== undefined &&
      fixed(at("audience")) &&
      fixed(at("audienceIsNotResource"))
    ) {
      error(
        at("audience"),
        "AUTH005",
        `audience ${JSON.stringify(others.join(" "))} differs from resource "${resource}": MCP clients request tokens for the resource; make them equal, or set audienceIsNotResource: true`,
      );
    }
    if (entry.sharedSecret !== undefined && fixed(at("sharedSecret")) && Buffer.byteLength(entry.sharedSecret) < 32)
      error(at("sharedSecret"), "AUTH006", "sharedSecret must be at least 32 bytes");
    issuers.push({
      kind: entry.type,
      issuer,
      ...(entry.jwksUri ? { jwksUri: entry.jwksUri } : {}),
      audience: audience.length > 0 ? audience : resource !== undefined ? [resource] : [],
      algorithms: entry.sharedSecret
        ? ["HS256"]
        : (entry.algorithms ?? DEFAULT_ALGORITHMS).filter((a: string) => a !== "HS256"),
      scopeClaim: entry.scopeClaim ?? "auto",
      requireAccessTokenType: entry.requireAccessTokenType ?? entry.type === "oidc",
      ...(entry.maxTokenAge ? { maxTokenAgeSec: entry.maxTokenAge } : {}),
      clockToleranceSec: entry.clockTolerance ?? 30,
      ...(entry.publicKeyFile ? { publicKeyFile: entry.publicKeyFile } : {}),
      ...(entry.sharedSecret ? { sharedSecret: entry.sharedSecret } : {}),
      ...(entry.authorizationEndpoint ? { authorizationEndpoint: entry.authorizationEndpoint } : {}),
    });
    if (
      !entry.sharedSecret &&
      (entry.algorithms ?? []).includes("HS256") &&
      fixed(at("sharedSecret")) &&
      fixed(at("algorithms"))
    )
      error(at("algorithms"), "AUTH006", "HS256 is accepted only with a sharedSecret; remove it from algorithms");
  });

  // The string form of a scope list is split here, after the schema check: its words get the check
  // the list form's items get from the schema, and a comma-separated list is caught (a comma is legal
  // in a scope token, but an undeclared "a,b" is one scope nobody grants: every token would get 403).
  const checkScopes = (path: (string | number)[], value: unknown) => {
    if (!fixed(path)) return;
    const where = path.join(".");
    for (const scope of words(value)) {
      if (typeof value === "string" && !SCOPE_TOKEN.test(scope))
        error(
          path,
          "SCHEMA004",
          `${where} holds ${JSON.stringify(scope.slice(0, 60))}, not a scope: each space-separated word must be printable ASCII without double quotes or backslashes (an OAuth scope token, RFC 6749 §3.3)`,
        );
      else if (scope.includes(",") && !Object.hasOwn(raw.scopes ?? {}, scope))
        error(
          path,
          "AUTH014",
          `${where} holds ${JSON.stringify(scope.slice(0, 60))}, one scope with commas in it that the scope catalogue does not declare: separate scopes with spaces (${scope.split(",").filter(Boolean).join(" ")}) or write a list`,
        );
    }
  };
  checkScopes(["requiredScopes"], raw.requiredScopes);
  (raw.apiKeys?.keys ?? []).forEach((entry: Raw, i: number) => {
    checkScopes(["apiKeys", "keys", i, "scopes"], entry.scopes);
  });

  const keys: ApiKeyConfig[] = [];
  /** At generate time: whether a key may come from a variable (then "no key" is not known). */
  let keysFromEnvironment = false;
  (raw.apiKeys?.keys ?? []).forEach((entry: Raw, i: number) => {
    const at = (key: string) => ["apiKeys", "keys", i, key];
    const digests: Buffer[] = [];
    if (!fixed(at("sha256")) || !fixed(at("key"))) keysFromEnvironment = true;
    if (entry.sha256 !== undefined && fixed(at("sha256"))) {
      if (!/^[0-9a-fA-F]{64}$/.test(entry.sha256)) error(at("sha256"), "AUTH007", "sha256 must be 64 hex digits");
      else digests.push(Buffer.from(entry.sha256, "hex"));
    }
    // A literal key is a secret: the messages never show it.
    for (const key of String((fixed(at("key")) && entry.key) || "")
      .split(",")
      .map((k) => k.trim())
      .filter(Boolean)) {
      if (key.length < 16) error(at("key"), "AUTH008", "an API key must be at least 16 characters");
      digests.push(sha256(key));
    }
    if (digests.length > 0) keys.push({ name: entry.name, digests, scopes: words(entry.scopes) });
  });

  const mode = raw.mode as AuthMode;
  if (mode === "api-key" && keys.length === 0 && fixed(["mode"]) && !keysFromEnvironment)
    error(
      ["mode"],
      "AUTH009",
      'mode "api-key" needs at least one key under apiKeys.keys (the shipped auth.yaml\'s entry takes it from MCP_API_KEY)',
    );
  const devEnabled = raw.developmentServer?.enabled ?? "auto";
  // It accepts any login name: beside a real authorization server it would let anyone mint tokens the
  // resource server trusts. `auto` already leaves it out when one is configured; `true` must not force it in.
  // Nor in production, where `auto` leaves it out too: `true` there is a mistake to report where it is
  // written, not a runtime error after the rest has started.
  if (devEnabled === true && production)
    error(
      ["developmentServer", "enabled"],
      "AUTH013",
      "developmentServer.enabled is true, but NODE_ENV is production: the development server accepts any login name, so it never runs in production; remove the setting (auto) and configure an authorization server",
    );
  else if (devEnabled === true && issuers.length > 0 && fixed(["developmentServer", "enabled"]))
    error(
      ["developmentServer", "enabled"],
      "AUTH013",
      "developmentServer.enabled is true while an authorization server is configured: the development server accepts any login name, so it never runs beside a real one; remove the setting (auto) or the authorization server",
    );
  if (production && (mode === "oauth2" || mode === "optional") && issuers.length === 0)
    error(
      ["authorizationServers"],
      "AUTH010",
      `mode "${mode}" needs an authorization server in production: add one under authorizationServers (the shipped auth.yaml's auth0 entry is turned on by AUTH0_DOMAIN)`,
    );

  const j = raw.jwks ?? {};
  return {
    diagnostics,
    config: {
      file: source.file,
      mode,
      resource: resource ?? "",
      ...(raw.resourceName ? { resourceName: raw.resourceName } : {}),
      challengeDelivery: raw.challengeDelivery ?? "auto",
      scopes: raw.scopes,
      requiredScopes: words(raw.requiredScopes).filter((s) => s !== "offline_access"),
      requiredScopesEnforce: raw.requiredScopesEnforce ?? true,
      issuers,
      jwks: {
        timeoutMs: j.timeout ?? 5000,
        cooldownMs: j.cooldown ?? 30_000,
        cacheMaxAgeMs: j.cacheMaxAge ?? 600_000,
        lastKnownGoodMs: j.lastKnownGood ?? 3_600_000,
      },
      tokenCache: { enabled: raw.tokenCache?.enabled ?? true, maxEntries: raw.tokenCache?.maxEntries ?? 10_000 },
      apiKeys: {
        header: (raw.apiKeys?.header ?? "X-API-Key").toLowerCase(),
        bearerPrefix: raw.apiKeys?.bearerPrefix ?? "tgk_",
        keys,
      },
      developmentServer: {
        enabled: devEnabled,
        clientMetadataDocuments: raw.developmentServer?.clientMetadataDocuments ?? {},
      },
      metadataMirror: raw.authorizationServerMetadataMirror ?? false,
    },
  };
}

export const sha256 = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();
