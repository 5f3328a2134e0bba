import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AuthConfig } from "../config/auth-config.js";
import type { McpGate } from "../http/app.js";
import type { RpcCall } from "../http/jsonrpc.js";
import type { McpRequestState } from "../mcp/endpoint.js";
import type { ToolInfo } from "../tools/catalogue.js";
import type { ScopeRequiredError } from "../tools/errors.js";
import type { Principal } from "../tools/handler-api.js";
import type { ApiKeyMatch } from "./api-keys.js";
import { type ChallengeContext, type Refusal, refusalHttp, refusalToolResult } from "./challenge.js";
import { ConnectionCallers } from "./connection-callers.js";
import { credentialSource, parseCredential } from "./credentials.js";
import { type CallerState, decide } from "./decide.js";
import type { JwtVerifier, VerifiedToken } from "./jwt-verifier.js";
import { TokenVerificationError } from "./jwt-verifier.js";
import { apiKeyPrincipal, tokenPrincipal } from "./principal.js";

export interface GateOptions {
  config: AuthConfig;
  tool(name: string): ToolInfo | undefined;
  verifier: JwtVerifier | undefined;
  apiKey(key: string): ApiKeyMatch | undefined;
  challenge: ChallengeContext;
  audit: AuditLog;
}

/** ChatGPT marks its tools/call with `openai/*` keys in `_meta`; its user agent names it too. */
function fromChatGpt(call: RpcCall, req: IncomingMessage): boolean {
  return (
    Object.keys(call.meta ?? {}).some((k) => k.startsWith("openai/")) ||
    /openai-mcp|chatgpt/i.test(req.headers["user-agent"] ?? "")
  );
}

/**
 * Principals derived once per verified token (the verifier returns the same frozen object while the
 * token is cached) and once per API key, instead of hashing and copying on every request.
 */
const principals = new WeakMap<object, Principal>();
function principalOf<T extends object>(source: T, make: (source: T) => Principal): Principal {
  const known = principals.get(source);
  if (known) return known;
  const principal = make(source);
  principals.set(source, principal);
  return principal;
}

/** Synchronous for every credential but a bearer token that is neither remembered nor in the token cache. */
function authenticate(
  req: IncomingMessage,
  options: GateOptions,
  callers: ConnectionCallers,
  log: McpRequestState["log"],
): CallerState | Promise<CallerState> {
  const { config, verifier } = options;
  const credentialOptions = { apiKeyHeader: config.apiKeys.header, bearerPrefix: config.apiKeys.bearerPrefix };
  const source = credentialSource(req, credentialOptions);
  if (source.kind === "none") return { kind: "anonymous" };
  if (source.kind === "malformed") return source;
  const remembered = callers.recall(req, source.header, source.value);
  if (remembered) return { kind: "authenticated", principal: remembered };

  const credential = parseCredential(source, credentialOptions);
  switch (credential.kind) {
    case "unsupported":
      return { kind: "unsupported" };
    case "malformed":
      return { kind: "malformed", reason: credential.reason };
    case "api-key": {
      if (config.mode === "oauth2") return { kind: "unsupported" };
      const match = options.apiKey(credential.key);
      if (!match) return { kind: "invalid" };
      const principal = principalOf(match, (m) => apiKeyPrincipal(m.name, m.scopes));
      callers.remember(req, source.header, source.value, principal, always);
      return { kind: "authenticated", principal };
    }
    case "bearer": {
      if (config.mode === "api-key") return { kind: "unsupported" };
      if (!verifier) return { kind: "invalid" };
      const remember = (token: VerifiedToken): CallerState => {
        const principal = principalOf(token, tokenPrincipal);
        // Only while the token cache is on: with it off, every request verifies its token.
        if (verifier.stillValid(token))
          callers.remember(req, source.header, source.value, principal, () => verifier.stillValid(token));
        return { kind: "authenticated", principal };
      };
      const known = verifier.cached(credential.token);
      if (known) return remember(known);
      return verifyBearer(verifier, credential.token, log, remember);
    }
  }
}

const always = () => true;

async function verifyBearer(
  verifier: JwtVerifier,
  raw: string,
  log: McpRequestState["log"],
  verified: (token: VerifiedToken) => CallerState,
): Promise<CallerState> {
  try {
    return verified(await verifier.verify(raw));
  } catch (error) {
    if (!(error instanceof TokenVerificationError)) throw error;
    // The stable code says why (expired, wrong audience, unknown issuer…); never the token.
    log.info({ tokenError: error.code }, "access token refused");
    if (error.kind === "unavailable") return { kind: "unavailable", retryAfterSec: error.retryAfterSec ?? 30 };
    return { kind: "invalid" };
  }
}

function sendHttp(res: ServerResponse, refusal: Refusal, challenge: ChallengeContext, id: unknown) {
  const { status, headers, body } = refusalHttp(refusal, challenge, id);
  res.writeHead(status, headers).end(JSON.stringify(body));
}

/** The /mcp gate for modes oauth2, optional and api-key: authenticate, decide, deliver. */
export function createAuthGate(options: GateOptions): McpGate {
  const { config, challenge } = options;
  const callers = new ConnectionCallers();
  return async (req, res, calls, base) => {
    const authenticated = authenticate(req, options, callers, base.log);
    const caller = authenticated instanceof Promise ? await authenticated : authenticated;
    const decision = decide({
      mode: config.mode,
      caller,
      calls,
      tool: options.tool,
      requiredScopes: config.requiredScopes,
      requiredScopesEnforce: config.requiredScopesEnforce,
    });
    const single =
      calls.length === 1 && calls[0]?.method === "tools/call" && calls[0].id != null ? calls[0] : undefined;
    // Only a refusal needs to know how it is delivered: asked then, not on every allowed call.
    const inBand = () =>
      single !== undefined &&
      (config.challengeDelivery === "tool-result" || (config.challengeDelivery === "auto" && fromChatGpt(single, req)));
    const principal = decision.allow ? decision.principal : undefined;
    options.audit(base, res, calls, principal, decision.allow ? undefined : decision.refusal);

    if (!decision.allow) {
      const { refusal } = decision;
      if (!((refusal.status === 401 || refusal.status === 403) && inBand())) {
        sendHttp(res, refusal, challenge, calls[0]?.id);
        return undefined;
      }
    }
    const state: McpRequestState = {
      ...base,
      principal,
      ...(decision.allow ? {} : { result: refusalToolResult(decision.refusal, challenge) }),
      onScopeRequired: (error: ScopeRequiredError) => {
        const refusal: Refusal = principal
          ? {
              status: 403,
              error: "insufficient_scope",
              scope: [...new Set([...error.scopes, ...principal.scopes])],
              message: error.message,
              bearer: true,
              tool: error.tool,
              missing: error.missing,
            }
          : {
              status: 401,
              scope: error.scopes,
              message: error.message,
              bearer: true,
              tool: error.tool,
              missing: error.missing,
            };
        base.log.info(
          { audit: "scope-required", tool: error.tool, subject: principal?.subject, missing: error.missing },
          "handler asked for step-up",
        );
        const result = refusalToolResult(refusal, challenge);
        return !single || inBand() ? { result } : { result, http: refusalHttp(refusal, challenge, single.id) };
      },
    };
    return state;
  };
}

/** Mode `anonymous`: credentials are not read; only tools allowing noauth exist in the catalogue. */
export function createAnonymousGate(audit: AuditLog): McpGate {
  return async (_req, res, calls, base) => {
    audit(base, res, calls, undefined, undefined);
    return {
      ...base,
      principal: undefined,
      onScopeRequired: (error) => ({ result: { content: [{ type: "text", text: error.message }], isError: true } }),
    };
  };
}

/**
 * One structured line per tools/call decision: never a token or a key. The fields that do not change
 * between requests (the mode; the caller's subject, client and credential kind) are pino bindings,
 * serialised once per caller instead of on every line.
 */
export function createAuditLog(logger: Logger, config: AuthConfig) {
  const root = logger.child({ audit: "tools/call", mode: config.mode });
  const byPrincipal = new WeakMap<Principal, Logger>();
  const loggerOf = (principal: Principal | undefined): Logger => {
    if (!principal) return root;
    let bound = byPrincipal.get(principal);
    if (!bound) {
      bound = root.child({ subject: principal.subject, client: principal.clientId, via: principal.via });
      byPrincipal.set(principal, bound);
    }
    return bound;
  };
  return (
    base: { requestId: string },
    res: ServerResponse,
    calls: readonly RpcCall[],
    principal: Principal | undefined,
    refusal: Refusal | undefined,
  ): void => {
    if (!calls.some((c) => c.method === "tools/call") || !root.isLevelEnabled("info")) return;
    const started = performance.now();
    res.once("close", () => {
      const log = loggerOf(principal);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      for (const call of calls) {
        if (call.method !== "tools/call") continue;
        log.info(
          {
            reqId: base.requestId,
            tool: call.target,
            decision: refusal ? "deny" : "allow",
            status: refusal?.status,
            missing: refusal?.missing,
            ms,
          },
          "tool call decision",
        );
      }
    });
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
