import type { AuthMode } from "../config/auth-config.js";
import type { RpcCall } from "../http/jsonrpc.js";
import type { ToolInfo } from "../tools/catalogue.js";
import type { Principal } from "../tools/handler-api.js";
import type { Refusal } from "./challenge.js";

/** What authentication found, before any authorization. */
export type CallerState =
  | { kind: "anonymous" }
  | { kind: "authenticated"; principal: Principal }
  /**
   * A credential this mode cannot use: an API key in oauth2 mode, a JWT in api-key mode, another
   * authorization scheme. Never downgraded to anonymous; answered like "no credential" with a
   * challenge and no error code (RFC 6750 §3.1: "attempted using an unsupported authentication method").
   */
  | { kind: "unsupported" }
  /** A credential that does not authenticate: which kind, for the message. */
  | { kind: "invalid"; credential: "token" | "api-key" }
  | { kind: "malformed"; reason: string }
  | { kind: "unavailable"; retryAfterSec: number };

export interface DecisionInput {
  mode: AuthMode;
  caller: CallerState;
  calls: readonly RpcCall[];
  tool(name: string): ToolInfo | undefined;
  requiredScopes: readonly string[];
  requiredScopesEnforce: boolean;
}

export type Decision = { allow: true; principal: Principal | undefined } | { allow: false; refusal: Refusal };

const union = (...lists: (readonly string[])[]) => [...new Set(lists.flat())];

/**
 * The one authorization decision of toolgate (DESIGN §3): from the mode, what authentication found,
 * and every message of the body. Deny by default: anything not explicitly allowed is refused.
 */
export function decide(input: DecisionInput): Decision {
  const { mode, caller } = input;
  if (mode === "anonymous") return { allow: true, principal: undefined };
  // The common case first, without building the refusal helpers below.
  if (caller.kind === "authenticated") return decideSignedIn(input, caller.principal);
  return decideOthers(input);
}

/** Scope sets per principal: principals are frozen and shared while their token is cached. */
const heldScopes = new WeakMap<Principal, ReadonlySet<string>>();
function scopesHeld(principal: Principal): ReadonlySet<string> {
  let held = heldScopes.get(principal);
  if (held === undefined) {
    held = new Set(principal.scopes);
    heldScopes.set(principal, held);
  }
  return held;
}

/** 403 for a signed-in caller: the challenge names the scopes needed and those already granted. */
function stepUp(
  input: DecisionInput,
  principal: Principal,
  scopes: readonly string[],
  missing: string[],
  tool?: string,
): Decision {
  return {
    allow: false,
    refusal: {
      bearer: input.mode !== "api-key",
      status: 403,
      error: "insufficient_scope",
      scope: union(scopes, principal.scopes),
      message: `Unauthorized: scope ${missing.join(" ")} required`,
      ...(tool ? { tool } : {}),
      missing,
    },
  };
}

/** The scopes of every tool called that needs a signed-in caller. */
function protectedScopes(input: DecisionInput): (readonly string[])[] {
  return input.calls.map((call) => {
    const tool = call.method === "tools/call" ? input.tool(call.target ?? "") : undefined;
    return tool && !tool.allowsAnonymous ? tool.scopes : [];
  });
}

function holdsAll(held: ReadonlySet<string>, scopes: readonly string[]): boolean {
  for (const scope of scopes) if (!held.has(scope)) return false;
  return true;
}

/**
 * A signed-in caller needs the required scopes (when enforced) and those of every tool it calls. A
 * refusal names all of them at once, plus those already granted (DESIGN §3), so one step-up is enough
 * — not one for the required scopes and another for the tool, or one per tool of a batch.
 */
function decideSignedIn(input: DecisionInput, principal: Principal): Decision {
  const held = scopesHeld(principal);
  let short = input.requiredScopesEnforce && !holdsAll(held, input.requiredScopes);
  let firstShort: string | undefined;
  for (const call of input.calls) {
    if (call.method !== "tools/call") continue;
    const tool = input.tool(call.target ?? "");
    // Unknown tools are answered by the tool layer; tools allowing noauth decide inside the handler.
    if (!tool || tool.allowsAnonymous || holdsAll(held, tool.scopes)) continue;
    short = true;
    firstShort ??= tool.name;
  }
  if (!short) return { allow: true, principal };
  const needed = union(input.requiredScopesEnforce ? input.requiredScopes : [], ...protectedScopes(input));
  // The challenge asks for the required scopes enforced or not (advertised, as in every challenge);
  // only enforced ones are missing.
  return stepUp(
    input,
    principal,
    union(input.requiredScopes, needed),
    needed.filter((s) => !held.has(s)),
    firstShort,
  );
}

/** Every caller but a signed-in one, in modes oauth2, optional and api-key. */
function decideOthers(input: DecisionInput): Decision {
  const { mode, caller, requiredScopes } = input;
  const bearer = mode !== "api-key";
  const refuse = (r: Omit<Refusal, "bearer"> & { bearer?: boolean }): Decision => ({
    allow: false,
    refusal: { bearer, ...r },
  });
  const toolCalls = input.calls.filter((c) => c.method === "tools/call");
  const firstTool = toolCalls[0]?.target;
  // What a sign-in must ask for: the server's required scopes and those of every tool called.
  // Computed only on refusal: an allowed request never needs it.
  const needed = () => union(requiredScopes, ...toolCalls.map((c) => input.tool(c.target ?? "")?.scopes ?? []));
  const signIn = (message: string): Decision =>
    mode === "api-key"
      ? refuse({ status: 401, scope: [], message: "Unauthorized: an API key is required" })
      : refuse({ status: 401, scope: needed(), message, ...(firstTool ? { tool: firstTool } : {}) });

  switch (caller.kind) {
    case "malformed":
      return refuse({ status: 400, error: "invalid_request", scope: [], message: `Bad request: ${caller.reason}` });
    case "unavailable":
      return refuse({
        status: 503,
        scope: [],
        message: "The authorization server cannot be reached; try again later",
        retryAfterSec: caller.retryAfterSec,
        bearer: false,
      });
    case "invalid":
      return mode === "api-key"
        ? refuse({ status: 401, scope: [], message: "Unauthorized: the API key is not valid" })
        : refuse({
            status: 401,
            error: "invalid_token",
            scope: needed(),
            // Mode optional takes both kinds; the challenge still starts an OAuth sign-in.
            message:
              caller.credential === "api-key"
                ? "Unauthorized: the API key is not valid"
                : "Unauthorized: the access token is invalid or expired",
            ...(firstTool ? { tool: firstTool } : {}),
          });
    case "unsupported":
      return signIn(
        mode === "oauth2"
          ? "Unauthorized: sign in with an OAuth access token"
          : "Unauthorized: use a Bearer access token or an API key",
      );
    case "anonymous": {
      if (mode === "api-key") return signIn("");
      if (mode === "oauth2") return signIn("Unauthorized: sign in to use this server");
      // optional: anonymous callers may do anything but call a tool that needs a signed-in caller.
      // The challenge asks for what the sign-in needs: the required scopes and those of every tool
      // called that needs a signed-in caller, so the new token is not refused a step later.
      for (const call of toolCalls) {
        const tool = input.tool(call.target ?? "");
        if (tool && !tool.allowsAnonymous) {
          const scopes = protectedScopes(input);
          return refuse({
            status: 401,
            scope: union(requiredScopes, ...scopes),
            message: `Unauthorized: sign in to use ${tool.name}`,
            tool: tool.name,
            missing: union(input.requiredScopesEnforce ? requiredScopes : [], ...scopes),
          });
        }
      }
      return { allow: true, principal: undefined };
    }
    case "authenticated":
      return decideSignedIn(input, caller.principal);
  }
}
