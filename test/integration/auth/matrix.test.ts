/**
 * Acceptance matrix of DESIGN §3, through the real server: mode × credential × tool × protocol era.
 *
 * One toolgate per mode (AUTH_MODE=…, the repository's auth.yaml and generated tools, API keys from
 * MCP_API_KEY), tokens obtained once per scope set from the development authorization server over
 * HTTP (DCR, authorization code + PKCE through the dev login page). Every cell asserts the HTTP
 * status, the WWW-Authenticate challenge (scheme, error, error_description, scope, resource_metadata,
 * authorization_uri) and the JSON-RPC answer.
 *
 * Tools: the runtime serves the repository's generated tools only, so there is no pure `[noauth]`
 * tool to call. The noauth scheme is covered by the mixed tool `codebase.search`
 * ([noauth, oauth2(search.read)]) called anonymously; `docs.create` is oauth2-only (docs.write).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAuthorizationServerMetadata } from "../../helpers/oauth-flow.js";
import { rpc } from "../../helpers/server.js";
import {
  API_KEY,
  type AuthTestServer,
  call,
  devToken,
  ERAS,
  expectReachedHandler,
  forgedToken,
  legacyOrModern,
  parseChallenge,
  scopeSet,
  startAuthServer,
  useTemporaryToolFolders,
  WRONG_API_KEY,
} from "./support.js";

type Mode = "oauth2" | "optional" | "api-key" | "anonymous";
type Cred = "none" | "jwt" | "jwt-lacking-scope" | "jwt-invalid" | "api-key" | "api-key-invalid";
type Tool = "codebase.search" | "docs.create";

const MODES: readonly Mode[] = ["oauth2", "optional", "api-key", "anonymous"];
const CREDS: readonly Cred[] = ["none", "jwt", "jwt-lacking-scope", "jwt-invalid", "api-key", "api-key-invalid"];
const TOOLS: readonly Tool[] = ["codebase.search", "docs.create"];

/** What a cell must produce. */
type Outcome =
  /** Authorized: the handler ran (stub or real). */
  | { kind: "handler" }
  /** Mode `anonymous` hides tools that need a signed-in caller: answered like an unknown tool. */
  | { kind: "unknown-tool" }
  /** An RFC 6750 Bearer challenge. `scope` undefined = no scope parameter. */
  | {
      kind: "bearer";
      status: 401 | 403;
      error?: "invalid_token" | "insufficient_scope";
      scope?: readonly string[];
      message: string | RegExp;
    }
  /** Mode `api-key`: 401 with an `ApiKey` challenge (there is no OAuth metadata to point to). */
  | { kind: "api-key-401"; message: string };

const handler: Outcome = { kind: "handler" };
const unknownTool: Outcome = { kind: "unknown-tool" };
/**
 * Mode api-key: no key, or a Bearer JWT (a credential this mode does not take: src/auth/gate.ts
 * answers it as "unsupported", never verifying it) → "an API key is required"; a wrong key → "not valid".
 */
const keyRequired: Outcome = { kind: "api-key-401", message: "Unauthorized: an API key is required" };
const keyNotValid: Outcome = { kind: "api-key-401", message: "Unauthorized: the API key is not valid" };
const signIn = (scope: string[], message: string): Outcome => ({ kind: "bearer", status: 401, scope, message });
/** MCP 2025-11-25: servers SHOULD include `scope` on 401s — the scopes the call needs. */
const invalid = (scope: string[], message: string): Outcome => ({
  kind: "bearer",
  status: 401,
  error: "invalid_token",
  scope,
  message,
});
const invalidToken = (scope: string[]) => invalid(scope, "Unauthorized: the access token is invalid or expired");
/**
 * Mode optional, a wrong API key: refused like an invalid token (a Bearer challenge, so an OAuth
 * client can still sign in), in words about the credential that was sent.
 */
const invalidKey = (scope: string[]) => invalid(scope, "Unauthorized: the API key is not valid");
const stepUp = (scope: string[], missing: string): Outcome => ({
  kind: "bearer",
  status: 403,
  error: "insufficient_scope",
  scope,
  message: `Unauthorized: scope ${missing} required`,
});
/**
 * An API key in X-API-Key sent to an oauth2-only server. DESIGN: 401. RFC 6750 §3.1: "If the request
 * lacks any authentication information (e.g., the client was unaware that authentication is
 * necessary or attempted using an unsupported authentication method), the resource server SHOULD
 * NOT include an error code or other error information."
 */
const oauth2ApiKey = (scope: string[]): Outcome => ({
  kind: "bearer",
  status: 401,
  scope,
  message: "Unauthorized: sign in with an OAuth access token",
});

/**
 * The table, read like DESIGN §3's. Per tool: [codebase.search, docs.create].
 * "jwt" holds both search.read and docs.write; "jwt-lacking-scope" holds the *other* tool's scope.
 */
const EXPECTED: Record<Mode, Record<Cred, [Outcome, Outcome]>> = {
  oauth2: {
    none: [
      signIn(["search.read"], "Unauthorized: sign in to use this server"),
      signIn(["docs.write"], "Unauthorized: sign in to use this server"),
    ],
    jwt: [handler, handler],
    // codebase.search allows noauth, so a token without search.read still reaches its handler.
    "jwt-lacking-scope": [handler, stepUp(["docs.write", "search.read"], "docs.write")],
    "jwt-invalid": [invalidToken(["search.read"]), invalidToken(["docs.write"])],
    "api-key": [oauth2ApiKey(["search.read"]), oauth2ApiKey(["docs.write"])],
    "api-key-invalid": [oauth2ApiKey(["search.read"]), oauth2ApiKey(["docs.write"])],
  },
  optional: {
    none: [handler, signIn(["docs.write"], "Unauthorized: sign in to use docs.create")],
    jwt: [handler, handler],
    "jwt-lacking-scope": [handler, stepUp(["docs.write", "search.read"], "docs.write")],
    // never downgraded to anonymous, even for the tool anonymous callers may use
    "jwt-invalid": [invalidToken(["search.read"]), invalidToken(["docs.write"])],
    "api-key": [handler, handler],
    "api-key-invalid": [invalidKey(["search.read"]), invalidKey(["docs.write"])],
  },
  "api-key": {
    none: [keyRequired, keyRequired],
    jwt: [keyRequired, keyRequired],
    "jwt-lacking-scope": [keyRequired, keyRequired],
    "jwt-invalid": [keyRequired, keyRequired],
    "api-key": [handler, handler],
    "api-key-invalid": [keyNotValid, keyNotValid],
  },
  // credentials are not read at all
  anonymous: {
    none: [handler, unknownTool],
    jwt: [handler, unknownTool],
    "jwt-lacking-scope": [handler, unknownTool],
    "jwt-invalid": [handler, unknownTool],
    "api-key": [handler, unknownTool],
    "api-key-invalid": [handler, unknownTool],
  },
};

const servers = {} as Record<Mode, AuthTestServer>;
/** Tokens per issuing server: full = both scopes, plus one token per single scope. */
const tokens = {} as Record<"oauth2" | "optional", { full: string; search: string; docs: string; forged: string }>;
const authorizationEndpoint = {} as Record<"oauth2" | "optional", string>;

useTemporaryToolFolders();

beforeAll(async () => {
  const started = await Promise.all(
    MODES.map((mode) => startAuthServer({ env: { AUTH_MODE: mode, MCP_API_KEY: API_KEY } })),
  );
  MODES.forEach((mode, i) => {
    servers[mode] = started[i] as AuthTestServer;
  });
  await Promise.all(
    (["oauth2", "optional"] as const).map(async (mode) => {
      const server = servers[mode];
      const [full, search, docs, forged, as] = await Promise.all([
        devToken(server, "search.read docs.write"),
        devToken(server, "search.read"),
        devToken(server, "docs.write"),
        forgedToken(server),
        fetchAuthorizationServerMetadata(server.url),
      ]);
      tokens[mode] = { full, search, docs, forged };
      authorizationEndpoint[mode] = as.authorization_endpoint;
    }),
  );
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((s) => s?.stop()));
});

/**
 * The request headers for a credential. Modes without an authorization server of their own
 * (api-key, anonymous) are shown tokens from the oauth2 server's development authorization server.
 */
function credentialHeaders(mode: Mode, cred: Cred, tool: Tool): Record<string, string> {
  const t = tokens[mode === "optional" ? "optional" : "oauth2"];
  switch (cred) {
    case "none":
      return {};
    case "jwt":
      return { authorization: `Bearer ${t.full}` };
    case "jwt-lacking-scope":
      return { authorization: `Bearer ${tool === "docs.create" ? t.search : t.docs}` };
    case "jwt-invalid":
      return { authorization: `Bearer ${t.forged}` };
    case "api-key":
      return { "x-api-key": API_KEY };
    case "api-key-invalid":
      return { "x-api-key": WRONG_API_KEY };
  }
}

async function assertCell(mode: Mode, cred: Cred, tool: Tool, era: (typeof ERAS)[number], outcome: Outcome) {
  const server = servers[mode];
  const res = await call(server, era, tool, credentialHeaders(mode, cred, tool));
  const www = res.headers.get("www-authenticate");
  switch (outcome.kind) {
    case "handler":
      expectReachedHandler(res, tool);
      return;
    case "unknown-tool":
      // A JSON-RPC error, as the spec's tools "Error Handling" lists unknown tools (was an isError result).
      expect(res.status).toBe(200);
      expect(www).toBeNull();
      expect(res.body.result).toBeUndefined();
      expect(res.body.error).toEqual({ code: -32602, message: `Unknown tool: "${tool}"` });
      return;
    case "api-key-401":
      expect(res.status).toBe(401);
      expect(www).toBe('ApiKey realm="mcp"');
      expect(res.body).toMatchObject({ jsonrpc: "2.0", id: 7, error: { message: outcome.message } });
      expect(res.body.result).toBeUndefined();
      return;
    case "bearer": {
      expect(res.status).toBe(outcome.status);
      expect(www, "WWW-Authenticate").not.toBeNull();
      const { scheme, params } = parseChallenge(www as string);
      expect(scheme).toBe("Bearer");
      expect(params.realm).toBe("mcp");
      // absolute, and the very URL the metadata is served at
      expect(new URL(params.resource_metadata as string).href).toBe(params.resource_metadata);
      expect(params.resource_metadata).toBe(server.prmUrl);
      expect(params.authorization_uri).toBe(authorizationEndpoint[mode as "oauth2" | "optional"]);
      expect(params.error).toBe(outcome.error);
      if (outcome.error === "invalid_token")
        expect(params.error_description).toBe("The access token is invalid or expired");
      else if (outcome.error === "insufficient_scope")
        expect(params.error_description).toBe("The access token lacks a required scope");
      else expect(params.error_description).toBeUndefined();
      if (outcome.scope === undefined) expect(params.scope).toBeUndefined();
      else expect(scopeSet(params.scope)).toEqual(new Set(outcome.scope));
      expect(res.body).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: expect.any(Number) } });
      if (typeof outcome.message === "string") expect(res.body.error.message).toBe(outcome.message);
      else expect(res.body.error.message).toMatch(outcome.message);
      expect(res.body.result).toBeUndefined();
      return;
    }
  }
}

describe("DESIGN §3 matrix: tools/call through the real server", () => {
  for (const mode of MODES) {
    describe(`mode ${mode}`, () => {
      for (const cred of CREDS) {
        for (const [i, tool] of TOOLS.entries()) {
          const outcome = EXPECTED[mode][cred][i] as Outcome;
          const expectation =
            outcome.kind === "bearer"
              ? `${outcome.status}${outcome.error ? ` ${outcome.error}` : " challenge"}`
              : outcome.kind;
          for (const era of ERAS)
            it(`${cred} → ${tool} (${era}): ${expectation}`, () => assertCell(mode, cred, tool, era, outcome));
        }
      }
    });
  }
});

describe("non-tool requests without a credential", () => {
  const EXPECTED_LIST: Record<Mode, { status: number; tools?: string[] }> = {
    // "401 challenge on every /mcp request"
    oauth2: { status: 401 },
    // "anonymous: may initialize, list tools"
    optional: { status: 200, tools: ["codebase.search", "docs.create"] },
    "api-key": { status: 401 },
    // "only tools that allow noauth are listed"
    anonymous: { status: 200, tools: ["codebase.search"] },
  };
  for (const mode of MODES) {
    for (const era of ERAS) {
      it(`${mode}: tools/list (${era}) → ${EXPECTED_LIST[mode].status}`, async () => {
        const server = servers[mode];
        const { message, headers } = legacyOrModern(era, "tools/list");
        const res = await rpc(server.mcpUrl, message, headers);
        const expected = EXPECTED_LIST[mode];
        expect(res.status).toBe(expected.status);
        if (expected.tools) {
          const names: string[] = res.body.result.tools.map((t: { name: string }) => t.name);
          expect(names.filter((n) => n === "codebase.search" || n === "docs.create")).toEqual(expected.tools);
          return;
        }
        const www = res.headers.get("www-authenticate") as string;
        if (mode === "api-key") {
          expect(www).toBe('ApiKey realm="mcp"');
          return;
        }
        const { params } = parseChallenge(www);
        expect(params.error).toBeUndefined();
        expect(params.resource_metadata).toBe(server.prmUrl);
      });
    }
  }
});
