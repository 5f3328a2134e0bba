/**
 * Issue 11, item 2: the ChatGPT path. ChatGPT marks its tools/call with `openai/*` keys in
 * `params._meta` and opens its sign-in UI only for an HTTP 200 tool result with `isError` and
 * `_meta["mcp/www_authenticate"]`. The challenge delivered that way must be the one the HTTP 401/403
 * of the same call carries for every other client: same `resource_metadata`, same `scope`.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOAuthFlow } from "../helpers/oauth-flow.js";
import { legacy, modern, rpc } from "../helpers/server.js";
import {
  bearerChallenge,
  expectReachedHandler,
  parseWwwAuthenticate,
  scopeSet,
  type ToolResultLike,
} from "./helpers/results.js";
import { type E2eServer, startE2eServer } from "./helpers/servers.js";

/** What ChatGPT puts in a tools/call's `_meta` (the keys vary; the `openai/` namespace is the mark). */
const OPENAI_META = {
  "openai/userAgent": "ChatGPT/1.2026.320 (Mac OS X 15.1; arm64; build 1234)",
  "openai/locale": "en-US",
  "openai/userLocation": { city: "Berlin", country: "DE", timezone: "Europe/Berlin" },
  "openai/subject": "v1/e2e-chatgpt-user",
};

const ERAS = {
  "2026-07-28": modern,
  "2025-11-25": legacy,
} as const;

const ARGS = { title: "From ChatGPT", body: "Hello" };

let server: E2eServer;
let searchToken: string;

beforeAll(async () => {
  server = await startE2eServer({ mode: "optional" });
  const flow = await runOAuthFlow({
    issuer: server.origin,
    resource: server.mcpUrl.href,
    scope: "search.read",
    login: "chatgpt-user",
  });
  searchToken = flow.accessToken;
});
afterAll(() => server?.close());

/** The challenges of `_meta["mcp/www_authenticate"]` (a string or an array of strings). */
function inBandChallenge(result: ToolResultLike): Record<string, string> {
  const value = result._meta?.["mcp/www_authenticate"];
  const list = Array.isArray(value) ? value : [value];
  expect(list.length).toBeGreaterThan(0);
  expect(list.every((v) => typeof v === "string")).toBe(true);
  return bearerChallenge(list[0] as string);
}

for (const [era, build] of Object.entries(ERAS)) {
  describe(`tools/call on ${era}`, () => {
    const call = (meta: Record<string, unknown> | undefined, headers: Record<string, string> = {}, id = 7) => {
      const { message, headers: eraHeaders } = build(
        "tools/call",
        { name: "docs.create", arguments: ARGS, ...(meta ? { _meta: meta } : {}) },
        id,
      );
      return rpc(server.mcpUrl, message, { ...eraHeaders, ...headers });
    };

    it("anonymous, with openai/* _meta: HTTP 200, isError, and the same challenge as the 401 in _meta.mcp/www_authenticate", async () => {
      const inBand = await call(OPENAI_META);
      expect(inBand.status).toBe(200);
      expect(inBand.headers.get("www-authenticate")).toBeNull();
      expect(inBand.body.id).toBe(7);
      const result = inBand.body.result as ToolResultLike;
      expect(result.isError).toBe(true);
      const inBandParams = inBandChallenge(result);
      // ChatGPT opens its sign-in UI only for a challenge with both of these.
      expect(inBandParams.error).toBeTruthy();
      expect(inBandParams.error_description).toBeTruthy();

      const overHttp = await call(undefined);
      expect(overHttp.status).toBe(401);
      const httpParams = bearerChallenge(overHttp.headers.get("www-authenticate"));
      expect(httpParams.error).toBeUndefined(); // no credential sent: RFC 6750 §3.1

      expect(inBandParams.resource_metadata).toBe(httpParams.resource_metadata);
      expect(scopeSet(inBandParams.scope)).toEqual(scopeSet(httpParams.scope));
      expect(scopeSet(httpParams.scope)).toEqual(["docs.write"]);

      // The metadata URL in both is the server's RFC 9728 document for this resource.
      const prm = await (await fetch(httpParams.resource_metadata ?? "")).json();
      expect(prm.resource).toBe(server.mcpUrl.href);
      expect(prm.authorization_servers).toEqual([server.origin]);
    });

    it("signed in with search.read, with openai/* _meta: the in-band insufficient_scope challenge equals the 403's", async () => {
      const auth = { authorization: `Bearer ${searchToken}` };
      const inBand = await call(OPENAI_META, auth);
      expect(inBand.status).toBe(200);
      const inBandParams = inBandChallenge(inBand.body.result);
      const overHttp = await call(undefined, auth);
      expect(overHttp.status).toBe(403);
      const httpParams = bearerChallenge(overHttp.headers.get("www-authenticate"));
      expect(inBandParams.error).toBe("insufficient_scope");
      expect(httpParams.error).toBe("insufficient_scope");
      expect(inBandParams.resource_metadata).toBe(httpParams.resource_metadata);
      expect(scopeSet(inBandParams.scope)).toEqual(scopeSet(httpParams.scope));
      expect(scopeSet(httpParams.scope)).toEqual(["docs.write", "search.read"]);
    });

    it("ChatGPT's user agent (openai-mcp) alone also selects the in-band delivery", async () => {
      const inBand = await call(undefined, { "user-agent": "openai-mcp/1.0.0" });
      expect(inBand.status).toBe(200);
      expect(inBandChallenge(inBand.body.result).resource_metadata).toMatch(/oauth-protected-resource/);
    });

    it("an anonymous ChatGPT call of a noauth tool is not refused: codebase.search reaches the handler", async () => {
      const { message, headers } = build(
        "tools/call",
        { name: "codebase.search", arguments: { query: "toolgate" }, _meta: OPENAI_META },
        8,
      );
      const response = await rpc(server.mcpUrl, message, headers);
      expect(response.status).toBe(200);
      expectReachedHandler(response.body.result);
    });
  });
}

describe("the WWW-Authenticate parser these tests use", () => {
  it("reads quoted values with commas and escapes, unquoted values, and several challenges", () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="mcp", scope="a b", error_description="x, \\"y\\"", max_age=30, DPoP algs="ES256", Basic realm=r',
      ),
    ).toEqual([
      { scheme: "Bearer", params: { realm: "mcp", scope: "a b", error_description: 'x, "y"', max_age: "30" } },
      { scheme: "DPoP", params: { algs: "ES256" } },
      { scheme: "Basic", params: { realm: "r" } },
    ]);
  });
});
