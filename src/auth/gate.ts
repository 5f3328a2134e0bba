import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AuthConfig } from "../config/auth-config.js";
import { isLoopbackHost } from "../dev-as/client-policy.js";
import type { McpGate } from "../http/app.js";
import type { ClientAddress } from "../http/client-address.js";
import { isBatch, type RpcCall } from "../http/jsonrpc.js";
import type { RequestLogger } from "../log.js";
import type { McpRequestState, ScopeAnswer } from "../mcp/endpoint.js";
import type { ToolInfo } from "../tools/catalogue.js";
import type { ScopeRequiredError } from "../tools/errors.js";
import type { Principal } from "../tools/handler-api.js";
import type { ApiKeyMatch } from "./api-keys.js";
import { type ChallengeContext, type Refusal, refusalHttp, refusalToolResult } from "./challenge.js";
import { ConnectionCallers } from "./connection-callers.js";
import { type CredentialOptions, credentialSource, parseCredential } from "./credentials.js";
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
  clientAddress: ClientAddress;
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
  credentialOptions: CredentialOptions,
  callers: ConnectionCallers,
  log: RequestLogger,
): CallerState | Promise<CallerState> {
  const { config, verifier } = options;
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
      if (!match) {
        // As a refused token is logged with its code: never the key, nor any part of it.
        log.info(
          {
            credential: source.header === "api-key" ? credentialOptions.apiKeyHeader : "authorization",
            ip: options.clientAddress(req),
          },
          "API key refused: no configured key matches",
        );
        return { kind: "invalid", credential: "api-key" };
      }
      const principal = principalOf(match, (m) => apiKeyPrincipal(m.name, m.scopes));
      callers.remember(req, source.header, source.value, principal, always);
      return { kind: "authenticated", principal };
    }
    case "bearer": {
      if (config.mode === "api-key") return { kind: "unsupported" };
      if (!verifier) return { kind: "invalid", credential: "token" };
      const remember = (token: VerifiedToken): CallerState => {
        const principal = principalOf(token, tokenPrincipal);
        // Only while the token cache is on: with it off, every request verifies its token.
        if (verifier.stillValid(token))
          callers.remember(req, source.header, source.value, principal, () => verifier.stillValid(token));
        return { kind: "authenticated", principal };
      };
      const known = verifier.cached(credential.token);
      if (known) return remember(known);
      return verifyBearer(verifier, credential.token, log, remember, () => options.clientAddress(req));
    }
  }
}

const always = () => true;

async function verifyBearer(
  verifier: JwtVerifier,
  raw: string,
  log: RequestLogger,
  verified: (token: VerifiedToken) => CallerState,
  ip: () => string | undefined,
): Promise<CallerState> {
  try {
    return verified(await verifier.verify(raw));
  } catch (error) {
    if (!(error instanceof TokenVerificationError)) throw error;
    // The stable code says why (expired, wrong audience, unknown issuer…); never the token.
    log.info({ tokenError: error.code, ip: ip() }, "access token refused");
    if (error.kind === "unavailable") return { kind: "unavailable", retryAfterSec: error.retryAfterSec ?? 30 };
    return { kind: "invalid", credential: "token" };
  }
}

/**
 * The refusal of the whole request over HTTP. Its body answers each request of a batch (JSON-RPC 2.0
 * §6: an array, one error per request id; notifications get none), a single message with its id.
 */
function sendHttp(res: ServerResponse, refusal: Refusal, challenge: ChallengeContext, calls: readonly RpcCall[]) {
  const { status, headers, body } = refusalHttp(refusal, challenge, calls[0]?.id);
  const requests = isBatch(calls) ? calls.filter((c) => c.id !== undefined) : [];
  const text = JSON.stringify(requests.length > 0 ? requests.map((c) => ({ ...body, id: c.id })) : body);
  res.writeHead(status, headers).end(text);
}

/** A refusal is delivered as a tool result (in-band) instead of over HTTP: asked only when refusing. */
function inBand(config: AuthConfig, single: RpcCall | undefined, req: IncomingMessage): boolean {
  return (
    single !== undefined &&
    (config.challengeDelivery === "tool-result" || (config.challengeDelivery === "auto" && fromChatGpt(single, req)))
  );
}

/**
 * The state of a request the auth gate let through (or refuses in-band). A class rather than a
 * literal spreading `base` with a closure for `onScopeRequired`: the spread and the closures were
 * ~4–6 µs of CPU per request under load (line ticks of `bench/profile.ts`), the class one allocation.
 */
class GateState implements McpRequestState {
  readonly requestId: string;
  readonly log: RequestLogger;
  readonly principal: Principal | undefined;
  readonly result: Record<string, unknown> | undefined;
  readonly #req: IncomingMessage;
  readonly #single: RpcCall | undefined;
  readonly #options: GateOptions;

  constructor(
    base: { requestId: string; log: RequestLogger },
    principal: Principal | undefined,
    result: Record<string, unknown> | undefined,
    req: IncomingMessage,
    single: RpcCall | undefined,
    options: GateOptions,
  ) {
    this.requestId = base.requestId;
    this.log = base.log;
    this.principal = principal;
    this.result = result;
    this.#req = req;
    this.#single = single;
    this.#options = options;
  }

  onScopeRequired(error: ScopeRequiredError): ScopeAnswer {
    const principal = this.principal;
    const { config, challenge } = this.#options;
    // As the gate's challenges (decide.ts): the required scopes too, enforced (so the token the client
    // gets next passes both checks) or only advertised (every challenge asks for them).
    const needed = [...new Set([...config.requiredScopes, ...error.scopes])];
    const refusal: Refusal = principal
      ? {
          status: 403,
          error: "insufficient_scope",
          scope: [...new Set([...needed, ...principal.scopes])],
          message: error.message,
          bearer: config.mode !== "api-key",
          tool: error.tool,
          missing: error.missing,
        }
      : {
          status: 401,
          scope: needed,
          message: error.message,
          bearer: config.mode !== "api-key",
          tool: error.tool,
          missing: error.missing,
        };
    this.log.info(
      { audit: "scope-required", tool: error.tool, subject: principal?.subject, missing: error.missing },
      "handler asked for step-up",
    );
    const result = refusalToolResult(refusal, challenge);
    const single = this.#single;
    return !single || inBand(config, single, this.#req)
      ? { result }
      : { result, http: refusalHttp(refusal, challenge, single.id) };
  }
}

/** The /mcp gate for modes oauth2, optional and api-key: authenticate, decide, deliver. */
export function createAuthGate(options: GateOptions): McpGate {
  const { config, challenge } = options;
  const callers = new ConnectionCallers();
  const credentialOptions = { apiKeyHeader: config.apiKeys.header, bearerPrefix: config.apiKeys.bearerPrefix };
  const otherName = otherLoopbackName(config.resource);
  return async (req, res, calls, base) => {
    const authenticated = authenticate(req, options, credentialOptions, callers, base.log);
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
    if (decision.allow) {
      options.audit(base, res, calls, decision.principal, undefined);
      return new GateState(base, decision.principal, undefined, req, single, options);
    }
    const { refusal } = decision;
    options.audit(base, res, calls, undefined, refusal);
    if (refusal.status === 401) otherName(req, base.log);
    if (!((refusal.status === 401 || refusal.status === 403) && inBand(config, single, req))) {
      sendHttp(res, refusal, challenge, calls);
      return undefined;
    }
    return new GateState(base, undefined, refusalToolResult(refusal, challenge), req, single, options);
  };
}

/**
 * Told once: a client reached a loopback resource (`http://127.0.0.1:3000/mcp`) through another
 * loopback name (`localhost`). Clients compare the resource in the metadata with the URL they were
 * given, so the sign-in this 401 starts will fail on the client's side ("does not match"), where the
 * server never hears of it.
 */
function otherLoopbackName(resource: string): (req: IncomingMessage, log: RequestLogger) => void {
  const url = URL.parse(resource);
  if (url?.protocol !== "http:" || !isLoopbackHost(url.hostname)) return () => {};
  let told = false;
  return (req, log) => {
    if (told) return;
    const reached = URL.parse(`http://${req.headers.host ?? ""}`);
    if (!reached || !isLoopbackHost(reached.hostname) || reached.host === url.host) return;
    told = true;
    log.warn(
      { resource, host: reached.host },
      `a client reached this server as http://${reached.host} but the resource is ${resource}: its sign-in will fail ("protected resource does not match"); connect to ${resource}, or set MCP_RESOURCE_URL to the URL clients use`,
    );
  };
}

/** What a handler asking for scopes gets in mode `anonymous`, where no caller can sign in. */
function anonymousScopeAnswer(error: ScopeRequiredError): ScopeAnswer {
  return { result: { content: [{ type: "text", text: error.message }], isError: true } };
}

/** Mode `anonymous`: credentials are not read; only tools allowing noauth exist in the catalogue. */
export function createAnonymousGate(audit: AuditLog): McpGate {
  return async (_req, res, calls, base) => {
    audit(base, res, calls, undefined, undefined);
    return {
      requestId: base.requestId,
      log: base.log,
      principal: undefined,
      result: undefined,
      onScopeRequired: anonymousScopeAnswer,
    };
  };
}

/**
 * One structured line per tools/call decision: never a token or a key. The fields that do not change
 * between requests (the mode; the caller's subject, client and credential kind) are pino bindings,
 * serialised once per caller instead of on every line.
 */
export function createAuditLog(logger: Logger, config: AuthConfig, clientAddress: ClientAddress) {
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
    // Read now: once the connection is gone its address may be too.
    const ip = clientAddress(res.req);
    res.once("close", () => {
      const log = loggerOf(principal);
      const ms = Math.round((performance.now() - started) * 10) / 10;
      for (const call of calls) {
        if (call.method !== "tools/call") continue;
        log.info(
          {
            reqId: base.requestId,
            ip,
            tool: loggedName(call.target),
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

/** Tool names are at most 128 characters: a longer one (no tool has it) is cut, so a line stays small. */
const MAX_LOGGED_NAME = 128;
function loggedName(name: string | undefined): string | undefined {
  return name === undefined || name.length <= MAX_LOGGED_NAME ? name : `${name.slice(0, MAX_LOGGED_NAME)}…`;
}
