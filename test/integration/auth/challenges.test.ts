/**
 * Challenges (RFC 6750 §3, RFC 9728 §5.1, MCP 2025-11-25 authorization), Protected Resource Metadata
 * (RFC 9728), the two deliveries of a refusal (http / tool-result for ChatGPT), REQUIRED_SCOPES,
 * malformed requests and batches — DESIGN §3, through the real server.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { type Refusal, refusalToolResult, wwwAuthenticate } from "../../../src/auth/challenge.js";
import { fetchAuthorizationServerMetadata } from "../../helpers/oauth-flow.js";
import { rpc } from "../../helpers/server.js";
import { nowSec, startTestIssuer, type TestIssuer } from "../../helpers/test-issuer.js";
import {
  API_KEY,
  type AuthTestServer,
  authYaml,
  type Challenge,
  call,
  devToken,
  ERAS,
  expectReachedHandler,
  forgedToken,
  legacyOrModern,
  parseChallenge,
  placeholder,
  rawRequest,
  scopeSet,
  startAuthServer,
  toolCall,
  useTemporaryToolFolders,
} from "./support.js";

/** What tools.yaml declares: tool → scopes of its oauth2 scheme. */
const TOOL_SCOPES: Record<string, string[]> = Object.fromEntries(
  Object.entries(
    (
      parseYaml(readFileSync(new URL("../../../tools.yaml", import.meta.url), "utf8")) as {
        tools: Record<string, { securitySchemes: { type: string; scopes?: string[] }[] }>;
      }
    ).tools,
  ).map(([name, tool]) => [name, tool.securitySchemes.find((s) => s.type === "oauth2")?.scopes ?? []]),
);
const ALL_TOOL_SCOPES = [...new Set(Object.values(TOOL_SCOPES).flat())];
const PRM_FIELDS = [
  "authorization_servers",
  "bearer_methods_supported",
  "resource",
  "resource_name",
  "scopes",
  "scopes_supported",
].sort();

/** An `openai/*` key in `params._meta` is how ChatGPT marks its tools/call. */
const CHATGPT_META = { "openai/locale": "en-US", "openai/userAgent": "ChatGPT/1.2026.300 (acceptance test)" };

const header = (res: { headers: Headers }) => res.headers.get("www-authenticate");
const challengeOf = (res: { headers: Headers }): Challenge => {
  const value = header(res);
  expect(value, "WWW-Authenticate").not.toBeNull();
  return parseChallenge(value as string);
};
/** The challenge carried in-band by a tool result (`_meta["mcp/www_authenticate"]`, string or array). */
function inBandChallenge(res: { status: number; headers: Headers; body: any }): Challenge {
  expect(res.status).toBe(200);
  expect(header(res)).toBeNull();
  const result = res.body.result;
  expect(result.isError).toBe(true);
  const carried = result._meta?.["mcp/www_authenticate"];
  const list: string[] = Array.isArray(carried) ? carried : [carried];
  expect(list).toHaveLength(1);
  expect(list[0]).toBeTypeOf("string");
  return parseChallenge(list[0] as string);
}

// ---------------------------------------------------------------------------------------------
// Server A: mode optional, the repository's auth.yaml, development authorization server, API key.
// ---------------------------------------------------------------------------------------------
let a: AuthTestServer;
let aTokens: { full: string; search: string };
let aAuthorizationEndpoint: string;

// Servers B / C: oauth2 with REQUIRED_SCOPES=search.read, enforced / only advertised.
let enforced: AuthTestServer;
let advertised: AuthTestServer;
let enforcedDocsToken: string;
let advertisedDocsToken: string;
let enforcedMemoryToken: string;

// Servers D / E: an oidc issuer the test owns (issuer with a trailing slash, Auth0 style) and a
// resource with a port and a path; D forces `challengeDelivery: tool-result`, E forces `http`.
const RESOURCE = "http://localhost:8443/tenant-a/mcp";
const RESOURCE_PRM = "http://localhost:8443/.well-known/oauth-protected-resource/tenant-a/mcp";
const AUTHORIZE = "https://login.example.test/authorize";
let issuer: TestIssuer;
let forcedToolResult: AuthTestServer;
let forcedHttp: AuthTestServer;

useTemporaryToolFolders();

beforeAll(async () => {
  issuer = await startTestIssuer({ issuerPath: "/" });
  const custom = (challengeDelivery: string) =>
    startAuthServer({
      env: { MCP_RESOURCE_URL: RESOURCE, REQUIRED_SCOPES: "mcp.access offline_access" },
      authYaml: authYaml({
        mode: "optional",
        resource: placeholder("MCP_RESOURCE_URL"),
        resourceName: "Acceptance Resource",
        challengeDelivery,
        requiredScopes: placeholder("REQUIRED_SCOPES:-"),
        requiredScopesEnforce: false,
        authorizationServers: [
          {
            type: "oidc",
            issuer: issuer.issuer,
            jwksUri: issuer.jwksUri,
            authorizationEndpoint: AUTHORIZE,
          },
        ],
      }),
    });
  [a, enforced, advertised, forcedToolResult, forcedHttp] = await Promise.all([
    startAuthServer({ env: { AUTH_MODE: "optional", MCP_API_KEY: API_KEY } }),
    startAuthServer({ env: { AUTH_MODE: "oauth2", REQUIRED_SCOPES: "search.read" } }),
    startAuthServer({
      env: { AUTH_MODE: "oauth2", REQUIRED_SCOPES: "search.read", REQUIRED_SCOPES_ENFORCE: "false" },
    }),
    custom("tool-result"),
    custom("http"),
  ]);
  let full: string;
  let search: string;
  let as: Awaited<ReturnType<typeof fetchAuthorizationServerMetadata>>;
  [full, search, enforcedDocsToken, advertisedDocsToken, enforcedMemoryToken, as] = await Promise.all([
    devToken(a, "search.read docs.write"),
    devToken(a, "search.read"),
    devToken(enforced, "docs.write"),
    devToken(advertised, "docs.write"),
    devToken(enforced, "memory.read"),
    fetchAuthorizationServerMetadata(a.url),
  ]);
  aTokens = { full, search };
  aAuthorizationEndpoint = as.authorization_endpoint;
});

afterAll(async () => {
  await Promise.all([a, enforced, advertised, forcedToolResult, forcedHttp].map((s) => s?.stop()));
  await issuer?.close();
});

/** A token of the test-owned issuer for servers D / E. */
const ownToken = (claims: Record<string, unknown> = {}) =>
  issuer.token({ aud: RESOURCE, scope: "search.read docs.write", jti: crypto.randomUUID(), ...claims });

describe("Protected Resource Metadata (RFC 9728)", () => {
  it("is served at the root and at the path-inserted form, identical, with exactly DESIGN's fields", async () => {
    const root = await fetch(`${a.url}/.well-known/oauth-protected-resource`);
    const inserted = await fetch(`${a.url}/.well-known/oauth-protected-resource/mcp`);
    expect(root.status).toBe(200);
    expect(inserted.status).toBe(200);
    expect(root.headers.get("content-type")).toMatch(/^application\/json/);
    const doc = await root.json();
    expect(await inserted.json()).toEqual(doc);
    expect(Object.keys(doc).sort()).toEqual(PRM_FIELDS);
    expect(doc.resource).toBe(`${a.url}/mcp`);
    expect(doc.resource).toBe(a.auth.resource);
    expect(doc.bearer_methods_supported).toEqual(["header"]);
    expect(doc.resource_name).toBe("toolgate");
    expect(doc.scopes).toEqual(TOOL_SCOPES);
    expect(new Set(doc.scopes_supported)).toEqual(new Set(ALL_TOOL_SCOPES));
    expect(doc.scopes_supported).toHaveLength(ALL_TOOL_SCOPES.length);
    expect(doc.scopes_supported).not.toContain("offline_access");
  });

  it("names the development authorization server by its issuer, byte for byte", async () => {
    const doc = await (await fetch(`${a.url}/.well-known/oauth-protected-resource/mcp`)).json();
    const as = await fetchAuthorizationServerMetadata(a.url);
    expect(doc.authorization_servers).toEqual([as.issuer]);
    expect(doc.authorization_servers).toEqual([a.url]);
  });

  it("carries CORS headers (GET and preflight) so browser-based clients can read it", async () => {
    const get = await fetch(`${a.url}/.well-known/oauth-protected-resource/mcp`, {
      headers: { origin: "https://chatgpt.com" },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get("access-control-allow-origin")).toBe("*");
    const preflight = await fetch(`${a.url}/.well-known/oauth-protected-resource`, {
      method: "OPTIONS",
      headers: { origin: "https://claude.ai", "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("*");
  });

  it("uses MCP_RESOURCE_URL (port and path) exactly, the issuer string exactly (trailing slash), and unions REQUIRED_SCOPES without offline_access", async () => {
    const root = await (await fetch(`${forcedHttp.url}/.well-known/oauth-protected-resource`)).json();
    const res = await fetch(`${forcedHttp.url}/.well-known/oauth-protected-resource/tenant-a/mcp`);
    expect(res.status).toBe(200);
    const doc = await res.json();
    expect(doc).toEqual(root);
    expect(Object.keys(doc).sort()).toEqual(PRM_FIELDS);
    expect(doc.resource).toBe(RESOURCE);
    expect(doc.authorization_servers).toEqual([issuer.issuer]);
    expect(issuer.issuer.endsWith("/")).toBe(true);
    expect(doc.resource_name).toBe("Acceptance Resource");
    expect(doc.bearer_methods_supported).toEqual(["header"]);
    expect(new Set(doc.scopes_supported)).toEqual(new Set([...ALL_TOOL_SCOPES, "mcp.access"]));
    expect(doc.scopes_supported).not.toContain("offline_access");
    expect(doc.scopes).toEqual(TOOL_SCOPES);
    // and the challenges point to the RFC 9728 §3.1 URL of that resource
    const refused = await call(forcedHttp, "2025-11-25", "docs.create");
    expect(refused.status).toBe(401);
    expect(challengeOf(refused).params.resource_metadata).toBe(RESOURCE_PRM);
    expect(challengeOf(refused).params.authorization_uri).toBe(AUTHORIZE);
  });

  it("is not served under the default /mcp path when the resource says otherwise", async () => {
    // The path-inserted form follows the configured resource, not the local route.
    expect((await fetch(`${forcedHttp.url}/.well-known/oauth-protected-resource/mcp`)).status).toBe(404);
  });

  // The configured resource byte for byte in `resource` (a client compares it with the identifier it
  // used, RFC 9728 §3.3), and the metadata URL formed by RFC 9728 §3/§3.1:
  // - a resource ending in a slash: only a slash right after the host is dropped; a path keeps its
  //   own. Kills `input.resource.replace(/\/$/, "")` in protectedResourceMetadata and changes to the
  //   path in protectedResourceMetadataUrl.
  // - a resource with a query: the well-known segment goes between the host and "the path and/or
  //   query components", so the query stays in the URL the challenges name. The document is served
  //   by path, so the URL without the query (what toolgate advertised before) keeps answering. Kills
  //   dropping `url.search` in protectedResourceMetadataUrl.
  describe("resources ending in a slash or carrying a query", () => {
    const ROOT = "https://mcp.example.com/";
    const TENANT = "https://mcp.example.com/tenant/mcp/";
    const TENANT_QUERY = "https://mcp.example.com/tenant/mcp?tenant=a&v=2";
    const ROOT_QUERY = "https://mcp.example.com/?tenant=a";
    const servers = new Map<string, AuthTestServer>();
    beforeAll(async () => {
      const resources = [ROOT, TENANT, TENANT_QUERY, ROOT_QUERY];
      const started = await Promise.all(
        resources.map((resource) =>
          startAuthServer({
            env: { MCP_RESOURCE_URL: resource },
            authYaml: authYaml({
              mode: "oauth2",
              resource: placeholder("MCP_RESOURCE_URL"),
              authorizationServers: [
                { type: "oidc", issuer: issuer.issuer, jwksUri: issuer.jwksUri, authorizationEndpoint: AUTHORIZE },
              ],
            }),
          }),
        ),
      );
      for (const [i, resource] of resources.entries()) servers.set(resource, started[i] as AuthTestServer);
    });
    afterAll(async () => {
      await Promise.all([...servers.values()].map((s) => s.stop()));
    });

    it.each([
      [ROOT, "https://mcp.example.com/.well-known/oauth-protected-resource", ["/.well-known/oauth-protected-resource"]],
      [
        TENANT,
        "https://mcp.example.com/.well-known/oauth-protected-resource/tenant/mcp/",
        // also without the slash, the form the MCP SDK's discovery asks for
        ["/.well-known/oauth-protected-resource/tenant/mcp/", "/.well-known/oauth-protected-resource/tenant/mcp"],
      ],
      [
        TENANT_QUERY,
        "https://mcp.example.com/.well-known/oauth-protected-resource/tenant/mcp?tenant=a&v=2",
        [
          "/.well-known/oauth-protected-resource/tenant/mcp?tenant=a&v=2",
          "/.well-known/oauth-protected-resource/tenant/mcp",
        ],
      ],
      [
        ROOT_QUERY,
        "https://mcp.example.com/.well-known/oauth-protected-resource?tenant=a",
        ["/.well-known/oauth-protected-resource?tenant=a", "/.well-known/oauth-protected-resource"],
      ],
    ])(
      "%s: challenges name %s, served at each of its paths, whose document's resource is exactly the configured string",
      async (resource, prm, paths) => {
        const server = servers.get(resource) as AuthTestServer;
        expect(server.auth.resource).toBe(resource);
        const refused = await call(server, "2025-11-25", "docs.create");
        expect(refused.status).toBe(401);
        expect(challengeOf(refused).params.resource_metadata).toBe(prm);
        expect(server.prmUrl).toBe(prm);
        for (const path of paths) {
          const res = await fetch(`${server.url}${path}`);
          expect(res.status, path).toBe(200);
          const doc = await res.json();
          expect(doc.resource, path).toBe(resource);
          expect(doc.authorization_servers).toEqual([issuer.issuer]);
        }
      },
    );
  });
});

describe("challenges", () => {
  for (const era of ERAS) {
    it(`${era}: no credential → 401 without error, realm, absolute resource_metadata, scope, authorization_uri`, async () => {
      const res = await call(a, era, "docs.create");
      expect(res.status).toBe(401);
      const { scheme, params } = challengeOf(res);
      expect(scheme).toBe("Bearer");
      expect(params).toEqual({
        realm: "mcp",
        resource_metadata: a.prmUrl,
        scope: "docs.write",
        authorization_uri: aAuthorizationEndpoint,
      });
      expect(new URL(params.resource_metadata as string).origin).toBe(a.url);
      expect(res.body).toEqual({
        jsonrpc: "2.0",
        id: 7,
        error: { code: expect.any(Number), message: "Unauthorized: sign in to use docs.create" },
      });
    });

    it(`${era}: a bad token → 401 invalid_token with the fixed description, nothing of the token echoed`, async () => {
      const canary = "CANARY7c1e";
      const token = await forgedToken(a, { sub: `${canary}-sub`, client_id: `${canary}-client` });
      const res = await call(a, era, "docs.create", { authorization: `Bearer ${token}` });
      expect(res.status).toBe(401);
      const { params } = challengeOf(res);
      expect(params.error).toBe("invalid_token");
      expect(params.error_description).toBe("The access token is invalid or expired");
      expect(params.resource_metadata).toBe(a.prmUrl);
      const everything = JSON.stringify([...res.headers.entries()]) + JSON.stringify(res.body);
      expect(everything).not.toContain(canary);
      expect(everything).not.toContain(token.split(".")[1]);
      expect(everything).not.toContain(token.split(".")[2]);
    });

    it(`${era}: missing scope → 403 insufficient_scope, scope = tool scopes ∪ granted`, async () => {
      const res = await call(a, era, "docs.create", { authorization: `Bearer ${aTokens.search}` });
      expect(res.status).toBe(403);
      const { params } = challengeOf(res);
      expect(params.error).toBe("insufficient_scope");
      expect(params.error_description).toBe("The access token lacks a required scope");
      expect(scopeSet(params.scope)).toEqual(new Set(["docs.write", "search.read"]));
      expect(params.resource_metadata).toBe(a.prmUrl);
      expect(res.body.error.message).toBe("Unauthorized: scope docs.write required");
    });

    it(`${era}: an expired token and a token for another audience → 401 invalid_token`, async () => {
      for (const claims of [
        { exp: nowSec() - 3600, iat: nowSec() - 7200 },
        { aud: "http://localhost:8443/other/mcp" },
        { aud: `${forcedHttp.url}/mcp` },
      ]) {
        const res = await call(forcedHttp, era, "docs.create", { authorization: `Bearer ${ownToken(claims)}` });
        expect(res.status, JSON.stringify(claims)).toBe(401);
        expect(challengeOf(res).params.error).toBe("invalid_token");
        expect(challengeOf(res).params.resource_metadata).toBe(RESOURCE_PRM);
      }
      // the same issuer's valid token passes, so the refusals above are about exp / aud
      expectReachedHandler(
        await call(forcedHttp, era, "docs.create", { authorization: `Bearer ${ownToken()}` }),
        "docs.create",
      );
    });
  }
});

describe("malformed requests → 400 invalid_request", () => {
  const expectInvalidRequest = (status: number, www: string | null | undefined) => {
    expect(status).toBe(400);
    const { params } = parseChallenge(www as string);
    expect(params.error).toBe("invalid_request");
    expect(params.error_description).toBe("The request is malformed");
  };

  it("two Authorization headers (even two valid tokens)", async () => {
    const { message, headers } = toolCall("2025-11-25", "docs.create");
    const res = await rawRequest(a.mcpUrl, {
      headers: {
        ...headers,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: [`Bearer ${aTokens.full}`, `Bearer ${aTokens.search}`],
      },
      body: JSON.stringify(message),
    });
    expectInvalidRequest(res.status, res.headers["www-authenticate"] as string);
  });

  it("`Bearer a b` (not one RFC 6750 b64token)", async () => {
    const res = await call(a, "2025-11-25", "docs.create", { authorization: "Bearer a b" });
    expectInvalidRequest(res.status, header(res));
  });

  it("an Authorization header and an X-API-Key header together", async () => {
    const res = await call(a, "2025-11-25", "docs.create", {
      authorization: `Bearer ${aTokens.full}`,
      "x-api-key": API_KEY,
    });
    expectInvalidRequest(res.status, header(res));
  });

  it("the same with the header names as written on the wire (X-API-Key, Authorization)", async () => {
    const res = await rawToolCall({ Authorization: `Bearer ${aTokens.full}`, "X-API-Key": API_KEY });
    expectInvalidRequest(res.status, res.headers.get("www-authenticate"));
    expect(res.body.error.message).toBe("Bad request: send either an Authorization header or x-api-key, not both");
  });

  // DESIGN §3 lists "two Authorization headers, bad grammar, token in query" as malformed and "present
  // but invalid" as 401; a key header holding no key is the former: there is no key to find invalid.
  it("an empty X-API-Key header → 400, not 401 invalid_token", async () => {
    for (const value of ["", "   "]) {
      const res = await rawToolCall({ "X-API-Key": value });
      expectInvalidRequest(res.status, res.headers.get("www-authenticate"));
      expect(res.body.error.message, JSON.stringify(value)).toBe("Bad request: empty x-api-key header");
    }
  });

  for (const era of ERAS) {
    it(`${era}: a token in the query string is refused, never read — even a valid one, even for a noauth tool`, async () => {
      for (const tool of ["docs.create", "codebase.search"]) {
        const { message, headers } = toolCall(era, tool);
        const url = new URL(a.mcpUrl);
        url.searchParams.set("access_token", aTokens.full);
        const res = await rpc(url, message, headers);
        expectInvalidRequest(res.status, header(res));
        expect(res.body.result).toBeUndefined();
      }
    });
  }

  // DESIGN lists "two Authorization headers, bad grammar, token in query" as malformed; a different
  // scheme is not malformed. RFC 6750 §3.1: "If the request lacks any authentication information
  // (e.g., the client was unaware that authentication is necessary or attempted using an
  // unsupported authentication method), the resource server SHOULD NOT include an error code or
  // other error information." RFC 9110 §11.6.2: such a request SHOULD get 401 with a challenge.
  it("a non-Bearer scheme (Basic) → 401 challenge without error", async () => {
    const res = await call(a, "2025-11-25", "docs.create", { authorization: "Basic dXNlcjpwYXNz" });
    expect(res.status).toBe(401);
    const { params } = challengeOf(res);
    expect(params.error).toBeUndefined();
    expect(params.scope).toBe("docs.write");
    expect(params.resource_metadata).toBe(a.prmUrl);
  });

  it("a non-Bearer scheme is never served anonymously, even for a tool that allows noauth", async () => {
    const res = await call(a, "2025-11-25", "codebase.search", { authorization: "Basic dXNlcjpwYXNz" });
    expect(res.status).toBe(401);
    expect(res.body.result).toBeUndefined();
  });
});

/**
 * A tools/call of docs.create (2025-11-25) sent with node:http, which writes header names as given
 * (fetch lowercases them), answered in the shape `rpc()` gives.
 */
async function rawToolCall(credential: Record<string, string>, server: AuthTestServer = a) {
  const { message, headers } = toolCall("2025-11-25", "docs.create");
  const res = await rawRequest(server.mcpUrl, {
    headers: {
      ...headers,
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      ...credential,
    },
    body: JSON.stringify(message),
  });
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers))
    if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(", ") : value);
  return { status: res.status, headers: responseHeaders, body: JSON.parse(res.text) };
}

describe("credential forms that are accepted", () => {
  // Header names are case-insensitive (RFC 9110 §5.1); fetch lowercases them, many clients do not.
  it("X-API-Key and Authorization as written on the wire, in any case", async () => {
    for (const credential of [
      { "X-API-Key": API_KEY } as Record<string, string>,
      { "X-API-KEY": API_KEY },
      { Authorization: `Bearer ${aTokens.full}` },
      { AUTHORIZATION: `Bearer ${aTokens.full}` },
    ]) {
      const res = await rawToolCall(credential);
      expect(res.status, Object.keys(credential)[0]).toBe(200);
      expectReachedHandler(res, "docs.create");
    }
  });

  for (const scheme of ["bearer", "BEARER", "Bearer "]) {
    it(`scheme written ${JSON.stringify(scheme)} is accepted (case-insensitive, RFC 6750 §2.1 1*SP)`, async () => {
      const res = await call(a, "2025-11-25", "docs.create", { authorization: `${scheme} ${aTokens.full}` });
      expectReachedHandler(res, "docs.create");
    });
  }

  it("an API key as `Authorization: Bearer tgk_…` is routed to the API keys by its prefix", async () => {
    expectReachedHandler(
      await call(a, "2026-07-28", "docs.create", { authorization: `Bearer ${API_KEY}` }),
      "docs.create",
    );
  });
});

describe("oversized tokens", () => {
  it("a 10 KB token (over the verifier's 8 KiB cap, under Node's header limit) → 401 invalid_token", async () => {
    const token = `eyJ${"A".repeat(10 * 1024)}.eyJ${"B".repeat(100)}.${"C".repeat(300)}`;
    const res = await call(a, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
    expect(res.status).toBe(401);
    expect(challengeOf(res).params.error).toBe("invalid_token");
  });

  it("a 20 KB token → 431 from Node itself (headers over 16 KiB), before any toolgate code: no challenge", async () => {
    // Node's default --max-http-header-size is 16 KiB and startServer() does not raise it, so the
    // HTTP parser answers 431 Request Header Fields Too Large and closes the connection: neither
    // the gate nor a WWW-Authenticate header is involved. A 20 KB bearer token cannot be legitimate.
    const token = `eyJ${"A".repeat(20 * 1024)}.eyJ.sig`;
    const { message, headers } = toolCall("2025-11-25", "docs.create");
    const res = await rawRequest(a.mcpUrl, {
      headers: { ...headers, "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(message),
    });
    expect(res.status).toBe(431);
    expect(res.headers["www-authenticate"]).toBeUndefined();
    // toolgate's first middleware stamps every response with X-Request-Id: this one never got there
    expect(res.headers["x-request-id"]).toBeUndefined();
  });
});

// src/http/app.ts: a POST whose body was not read as JSON is refused 415 before the gate. In mode
// optional the gate let the empty list of calls through and the SDK answered 415 anyway; in mode oauth2
// the gate would answer a challenge instead. Kills replacing that check with `false`.
describe("a POST whose body is not JSON, mode oauth2", () => {
  it("→ 415, without a challenge, with or without a token", async () => {
    const { message, headers } = toolCall("2025-11-25", "docs.create");
    for (const credential of [{}, { authorization: `Bearer ${enforcedDocsToken}` }] as Record<string, string>[]) {
      const res = await fetch(enforced.mcpUrl, {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "text/plain",
          accept: "application/json, text/event-stream",
          ...credential,
        },
        body: JSON.stringify(message),
      });
      expect(res.status).toBe(415);
      expect(res.headers.get("www-authenticate")).toBeNull();
      expect(((await res.json()) as { error: unknown }).error).toEqual({
        code: -32000,
        message: "Unsupported Media Type: Content-Type must be application/json",
      });
    }
  });
});

describe("REQUIRED_SCOPES", () => {
  for (const era of ERAS) {
    it(`${era}: enforced → a token without search.read gets 403 insufficient_scope on any request`, async () => {
      const auth = { authorization: `Bearer ${enforcedDocsToken}` };
      const requests = [
        legacyOrModern(era, "tools/list"),
        legacyOrModern(era, "tools/call", { name: "docs.create", arguments: { title: "t", body: "b" } }),
        era === "2026-07-28"
          ? legacyOrModern(era, "server/discover")
          : legacyOrModern(era, "initialize", {
              protocolVersion: "2025-11-25",
              capabilities: {},
              clientInfo: { name: "acceptance", version: "1" },
            }),
      ];
      for (const { message, headers } of requests) {
        const res = await rpc(enforced.mcpUrl, message, { ...headers, ...auth });
        expect(res.status, message.method).toBe(403);
        const { params } = challengeOf(res);
        expect(params.error).toBe("insufficient_scope");
        expect(scopeSet(params.scope)).toEqual(new Set(["search.read", "docs.write"]));
        expect(params.resource_metadata).toBe(enforced.prmUrl);
        expect(res.body.error.message).toBe("Unauthorized: scope search.read required");
      }
    });

    it(`${era}: enforced → a token lacking the required scope and the tool's gets one 403 naming both`, async () => {
      const res = await call(enforced, era, "docs.create", { authorization: `Bearer ${enforcedMemoryToken}` });
      expect(res.status).toBe(403);
      const { params } = challengeOf(res);
      expect(scopeSet(params.scope)).toEqual(new Set(["search.read", "docs.write", "memory.read"]));
      expect(res.body.error.message).toBe("Unauthorized: scope search.read docs.write required");
    });

    it(`${era}: enforced → the 401 for no credential asks for the required scope`, async () => {
      const { message, headers } = legacyOrModern(era, "tools/list");
      const res = await rpc(enforced.mcpUrl, message, headers);
      expect(res.status).toBe(401);
      const { params } = challengeOf(res);
      expect(params.error).toBeUndefined();
      expect(params.scope).toBe("search.read");
    });

    it(`${era}: not enforced → the same token is served; the metadata still advertises the scope`, async () => {
      const auth = { authorization: `Bearer ${advertisedDocsToken}` };
      const { message, headers } = legacyOrModern(era, "tools/list");
      const listed = await rpc(advertised.mcpUrl, message, { ...headers, ...auth });
      expect(listed.status).toBe(200);
      expect(listed.body.result.tools.length).toBeGreaterThan(0);
      expectReachedHandler(await call(advertised, era, "docs.create", auth), "docs.create");
      const prm = await (await fetch(advertised.prmUrl)).json();
      expect(prm.scopes_supported).toContain("search.read");
    });
  }
});

describe("tool-result delivery (ChatGPT)", () => {
  for (const era of ERAS) {
    it(`${era}: anonymous docs.create with an openai/* _meta key → 200, isError, the same challenge in _meta`, async () => {
      const inBand = await call(a, era, "docs.create", {}, CHATGPT_META);
      const carried = inBandChallenge(inBand);
      expect(inBand.body.result.content).toEqual([{ type: "text", text: "Unauthorized: sign in to use docs.create" }]);
      // ChatGPT opens its sign-in UI only for a challenge with both error and error_description.
      expect(carried.params.error).toBeTruthy();
      expect(carried.params.error_description).toBeTruthy();

      const overHttp = await call(a, era, "docs.create");
      expect(overHttp.status).toBe(401);
      const http = challengeOf(overHttp);
      expect(carried.scheme).toBe(http.scheme);
      expect(carried.params.realm).toBe(http.params.realm);
      expect(carried.params.resource_metadata).toBe(http.params.resource_metadata);
      expect(carried.params.resource_metadata).toBe(a.prmUrl);
      expect(carried.params.scope).toBe(http.params.scope);
      expect(carried.params.authorization_uri).toBe(http.params.authorization_uri);
    });

    it(`${era}: ChatGPT with a token lacking the scope → 200 in-band insufficient_scope, same scope as the 403`, async () => {
      const auth = { authorization: `Bearer ${aTokens.search}` };
      const carried = inBandChallenge(await call(a, era, "docs.create", auth, CHATGPT_META));
      const overHttp = await call(a, era, "docs.create", auth);
      expect(overHttp.status).toBe(403);
      const http = challengeOf(overHttp);
      expect(carried.params).toEqual(http.params);
      expect(carried.params.error).toBe("insufficient_scope");
    });

    it(`${era}: ChatGPT with a bad token → 200 in-band invalid_token, same as the 401`, async () => {
      const auth = { authorization: `Bearer ${await forgedToken(a)}` };
      const carried = inBandChallenge(await call(a, era, "docs.create", auth, CHATGPT_META));
      const overHttp = await call(a, era, "docs.create", auth);
      expect(overHttp.status).toBe(401);
      expect(carried.params).toEqual(challengeOf(overHttp).params);
      expect(carried.params.error).toBe("invalid_token");
    });

    it(`${era}: ChatGPT anonymous on the noauth-capable tool reaches the handler`, async () => {
      expectReachedHandler(await call(a, era, "codebase.search", {}, CHATGPT_META), "codebase.search");
    });
  }

  it("ChatGPT recognised by its user agent (openai-mcp) without _meta keys", async () => {
    const res = await call(a, "2025-11-25", "docs.create", { "user-agent": "openai-mcp/1.0.0" });
    expect(inBandChallenge(res).params.resource_metadata).toBe(a.prmUrl);
  });

  it("a malformed request from ChatGPT stays a 400 (only 401/403 go in-band)", async () => {
    const res = await call(a, "2025-11-25", "docs.create", { authorization: "Bearer a b" }, CHATGPT_META);
    expect(res.status).toBe(400);
  });

  it("challengeDelivery: tool-result (auth.yaml) → in-band for every client, even without openai keys", async () => {
    for (const era of ERAS) {
      const carried = inBandChallenge(await call(forcedToolResult, era, "docs.create"));
      expect(carried.params.resource_metadata).toBe(RESOURCE_PRM);
      // the server's required scope too: the token the sign-in gets must pass both checks
      expect(carried.params.scope).toBe("mcp.access docs.write");
      expect(carried.params.authorization_uri).toBe(AUTHORIZE);
      expect(carried.params.error).toBeTruthy();
      expect(carried.params.error_description).toBeTruthy();
    }
    // not a tools/call: nothing to carry a result in, so HTTP
    const { message, headers } = legacyOrModern("2025-11-25", "tools/list");
    const bad = await rpc(forcedToolResult.mcpUrl, message, {
      ...headers,
      authorization: `Bearer ${ownToken({ exp: 1 })}`,
    });
    expect(bad.status).toBe(401);
  });

  it("challengeDelivery: http (auth.yaml) → a 401 even for ChatGPT", async () => {
    for (const era of ERAS) {
      const res = await call(forcedHttp, era, "docs.create", {}, CHATGPT_META);
      expect(res.status).toBe(401);
      expect(challengeOf(res).params.resource_metadata).toBe(RESOURCE_PRM);
    }
  });
});

describe("batches and headers", () => {
  const batchCall = (id: number, name: string, meta?: Record<string, unknown>) => ({
    jsonrpc: "2.0",
    id,
    method: "tools/call",
    params: {
      name,
      arguments: name === "docs.create" ? { title: "b", body: "b" } : { query: "x" },
      ...(meta ? { _meta: meta } : {}),
    },
  });
  const LEGACY = { "mcp-protocol-version": "2025-11-25" };

  it("a protected call cannot ride along an allowed one in a legacy batch (anonymous, optional mode)", async () => {
    for (const batch of [
      [batchCall(1, "codebase.search"), batchCall(2, "docs.create")],
      [batchCall(1, "docs.create"), batchCall(2, "codebase.search")],
      // ChatGPT's in-band delivery is for a single tools/call only
      [batchCall(1, "codebase.search", CHATGPT_META), batchCall(2, "docs.create", CHATGPT_META)],
    ]) {
      const res = await rpc(a.mcpUrl, batch, LEGACY);
      expect(res.status).toBe(401);
      const { params } = challengeOf(res);
      expect(params.error).toBeUndefined();
      expect(params.scope).toBe("docs.write");
      expect(JSON.stringify(res.body)).not.toContain("not implemented");
      expect(Array.isArray(res.body) ? res.body : [res.body]).not.toContainEqual(
        expect.objectContaining({ result: expect.anything() }),
      );
      // JSON-RPC 2.0 §6: a batch is answered with an array, an error for each request (was one error
      // object carrying the first message's id, that of the allowed call)
      expect(res.body).toEqual(
        batch.map(({ id }) => ({
          jsonrpc: "2.0",
          id,
          error: { code: -32001, message: "Unauthorized: sign in to use docs.create" },
        })),
      );
    }
  });

  it("a refused batch of one request is answered with an array of one (a batch is, JSON-RPC 2.0 §6)", async () => {
    const res = await rpc(a.mcpUrl, [batchCall(5, "docs.create")], LEGACY);
    expect(res.status).toBe(401);
    expect(res.body).toEqual([
      { jsonrpc: "2.0", id: 5, error: { code: -32001, message: "Unauthorized: sign in to use docs.create" } },
    ]);
    // a single message (no array) keeps its single answer
    const single = await rpc(a.mcpUrl, batchCall(6, "docs.create"), LEGACY);
    expect(single.body).toEqual({
      jsonrpc: "2.0",
      id: 6,
      error: { code: -32001, message: "Unauthorized: sign in to use docs.create" },
    });
  });

  it("the same batch with a token lacking docs.write → 403 for the whole batch", async () => {
    const res = await rpc(a.mcpUrl, [batchCall(1, "codebase.search"), batchCall(2, "docs.create")], {
      ...LEGACY,
      authorization: `Bearer ${aTokens.search}`,
    });
    expect(res.status).toBe(403);
    expect(challengeOf(res).params.error).toBe("insufficient_scope");
  });

  it("a batch of two protected tools, the token holding neither's scope → one 403 naming both (one step-up)", async () => {
    const memory = {
      jsonrpc: "2.0",
      id: 3,
      method: "tools/call",
      params: { name: "local_memory_search", arguments: { query: "x" } },
    };
    const res = await rpc(a.mcpUrl, [batchCall(1, "docs.create"), memory], {
      ...LEGACY,
      authorization: `Bearer ${aTokens.search}`,
    });
    expect(res.status).toBe(403);
    const { params } = challengeOf(res);
    expect(scopeSet(params.scope)).toEqual(new Set(["docs.write", "memory.read", "search.read"]));
    expect(Array.isArray(res.body) ? res.body[0].error.message : res.body.error.message).toBe(
      "Unauthorized: scope docs.write memory.read required",
    );
  });

  it("a JSON-RPC id that is not a string, number or null is not echoed in a refusal; a deeply nested one does not break it", async () => {
    const call = JSON.stringify(batchCall(1, "docs.create"));
    // Written by hand: JSON.stringify itself overflows the stack on 100,000 levels (as the server's did).
    const deep = `${"[".repeat(100_000)}1${"]".repeat(100_000)}`;
    for (const id of ['{"a":1}', deep]) {
      const res = await fetch(a.mcpUrl, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...LEGACY },
        body: call.replace('"id":1', `"id":${id}`),
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { id: unknown }).id).toBeNull();
    }
  });

  for (const era of ERAS) {
    it(`${era}: Mcp-Name naming the allowed tool while the body calls the protected one → 400, never served`, async () => {
      const { message, headers } = toolCall(era, "docs.create");
      const res = await rpc(a.mcpUrl, message, { ...headers, "mcp-name": "codebase.search" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(-32020);
      expect(res.body.result).toBeUndefined();
    });

    it(`${era}: Mcp-Method disagreeing with the body → 400`, async () => {
      const { message, headers } = toolCall(era, "docs.create");
      const res = await rpc(a.mcpUrl, message, { ...headers, "mcp-method": "tools/list" });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe(-32020);
    });
  }

  it("a legacy batch whose second call disagrees with Mcp-Name → 400", async () => {
    const res = await rpc(a.mcpUrl, [batchCall(1, "codebase.search"), batchCall(2, "docs.create")], {
      ...LEGACY,
      "mcp-name": "codebase.search",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(-32020);
  });
});

/**
 * Granted scopes come from the token's claims and are echoed in 403 challenges: a double quote or a
 * backslash in one must not end the quoted-string (RFC 9110 §5.6.4) and add parameters — kills
 * quoting without escaping, `quote = (v) => '"' + v + '"'`, in src/auth/challenge.ts — and a
 * character a header cannot carry (beyond latin1, a control character) must not turn the step-up
 * into a 500 (node refuses such a header). Neither is a scope-token (RFC 6749 §3.3), so neither can be
 * asked for again: such scopes are left out of the challenge, the others named as granted.
 */
describe("a granted scope outside the scope-token grammar", () => {
  const ADVERTISED_403 = ["docs.write", "search.read", "mcp.access"];
  const HOSTILE = ['x",error="invalid_request', "y\\", '\\"z', 'w",realm="evil'];
  /** Through a token's `permissions` (Auth0's claim, any string): a space would split a `scope` claim. */
  const UNSENDABLE = ["read:\u20ac", "a\u0000b", "tab\there", "cr\r\nlf", "caf\u00e9"];
  const PARAMETERS_403 = ["authorization_uri", "error", "error_description", "realm", "resource_metadata", "scope"];
  const expectOnlyOwnParameters = (
    challenge: Challenge,
    resourceMetadata: string,
    scopes = ["docs.write", "search.read"],
  ) => {
    expect(challenge.scheme).toBe("Bearer");
    expect(Object.keys(challenge.params).sort()).toEqual(PARAMETERS_403);
    expect(challenge.params.realm).toBe("mcp");
    expect(challenge.params.error).toBe("insufficient_scope");
    expect(challenge.params.error_description).toBe("The access token lacks a required scope");
    expect(challenge.params.resource_metadata).toBe(resourceMetadata);
    expect(scopeSet(challenge.params.scope)).toEqual(new Set(scopes));
  };

  it("the challenge builder: one error parameter, none injected, in both deliveries", () => {
    const refusal: Refusal = {
      status: 403,
      error: "insufficient_scope",
      scope: ["docs.write", "search.read", ...HOSTILE, ...UNSENDABLE],
      message: "Unauthorized: scope docs.write required",
      bearer: true,
    };
    const ctx = {
      resourceMetadataUrl: "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
      authorizationUri: AUTHORIZE,
    };
    const inBand = (refusalToolResult(refusal, ctx)._meta as Record<string, string[]>)["mcp/www_authenticate"];
    for (const header of [wwwAuthenticate(refusal, ctx), ...(inBand ?? [])])
      expectOnlyOwnParameters(parseChallenge(header), ctx.resourceMetadataUrl);
    expect(inBand).toHaveLength(1);
  });

  it("through the server: a token of the test issuer granting such scopes, refused a tool (403 and in-band)", async () => {
    const token = ownToken({ scope: ["search.read", ...HOSTILE].join(" ") });
    const refused = await call(forcedHttp, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(403);
    // these servers' REQUIRED_SCOPES (mcp.access, only advertised) are asked for in every challenge
    expectOnlyOwnParameters(challengeOf(refused), RESOURCE_PRM, ADVERTISED_403);
    const inBand = await call(forcedToolResult, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
    expectOnlyOwnParameters(inBandChallenge(inBand), RESOURCE_PRM, ADVERTISED_403);
  });

  // A granted offline_access came back in the step-up challenge with the other granted scopes.
  it("through the server: a granted offline_access is never asked for in a challenge (403 and in-band)", async () => {
    const token = ownToken({ scope: "search.read offline_access" });
    const refused = await call(forcedHttp, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
    expect(refused.status).toBe(403);
    expectOnlyOwnParameters(challengeOf(refused), RESOURCE_PRM, ADVERTISED_403);
    const inBand = await call(forcedToolResult, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
    expectOnlyOwnParameters(inBandChallenge(inBand), RESOURCE_PRM, ADVERTISED_403);
  });

  it("through the server: scopes a header cannot carry → still the 403 step-up (was a 500)", async () => {
    for (const granted of UNSENDABLE) {
      // `scp` as an array carries any string (`permissions` too, but `auto` reads `scope` first)
      const token = ownToken({ scope: undefined, scp: ["search.read", granted] });
      const refused = await call(forcedHttp, "2025-11-25", "docs.create", { authorization: `Bearer ${token}` });
      expect(refused.status, JSON.stringify(granted)).toBe(403);
      expectOnlyOwnParameters(challengeOf(refused), RESOURCE_PRM, ADVERTISED_403);
    }
  });
});

/**
 * The authorization_uri of a challenge comes from the issuer's metadata when auth.yaml names none: the
 * authorization server's word, so it is checked and serialised before it reaches a header. Non-ASCII
 * in it made node refuse every challenge (500 for every unauthenticated call); a non-http(s) value
 * was passed on as is.
 */
describe("an authorization_endpoint from the issuer's metadata", () => {
  it.each([
    [
      "non-ASCII in its query → percent-encoded",
      "https://login.example.test/authorize?ui=\u6388\u6743",
      "https://login.example.test/authorize?ui=%E6%8E%88%E6%9D%83",
    ],
    ["not an http(s) URL → left out", "javascript:alert(1)", undefined],
  ])("%s", async (_name, endpoint, expected) => {
    const served = await startTestIssuer({ discovery: "openid", authorizationEndpoint: endpoint });
    let server: AuthTestServer | undefined;
    try {
      server = await startAuthServer({
        authYaml: authYaml({ mode: "oauth2", authorizationServers: [{ type: "oidc", issuer: served.issuer }] }),
      });
      const refused = await call(server, "2025-11-25", "docs.create");
      expect(refused.status).toBe(401);
      const { params } = challengeOf(refused);
      expect(params.authorization_uri).toBe(expected);
      expect(params.resource_metadata).toBe(server.prmUrl);
    } finally {
      await server?.stop();
      await served.close();
    }
  });
});
