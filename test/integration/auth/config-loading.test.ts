/**
 * auth.yaml as the server loads it (loadAuthConfig): the checks that refuse a configuration which
 * would accept more than it says, and the substitution of `${VAR}` placeholders into secrets.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type AuthConfig, type AuthConfigContext, loadAuthConfig, sha256 } from "../../../src/config/auth-config.js";
import { ConfigError, type Diagnostic } from "../../../src/config/diagnostics.js";
import { authYaml, placeholder } from "./support.js";

const SHIPPED = readFileSync(new URL("../../../auth.yaml", import.meta.url), "utf8");
const RESOURCE = "https://mcp.example.com/mcp";

function load(text: string, env: Record<string, string> = {}, production = false): AuthConfig {
  const context: AuthConfigContext = { env, listen: { host: "127.0.0.1", port: 3000 }, production };
  return loadAuthConfig("auth.yaml", context, text);
}

/** The diagnostics of a refused configuration (fails the test when it loads). */
function refused(text: string, env: Record<string, string> = {}, production = false): Diagnostic[] {
  try {
    load(text, env, production);
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
  throw new Error("the configuration loaded");
}

describe("AUTH005: an audience other than the resource must be confirmed", () => {
  const auth0 = (extra: Record<string, unknown>) =>
    authYaml({
      mode: "oauth2",
      resource: RESOURCE,
      authorizationServers: [{ type: "auth0", domain: "tenant.eu.auth0.com", ...extra }],
    });

  it("a list holding the resource and another API is refused without audienceIsNotResource", () => {
    const diagnostics = refused(auth0({ audience: [RESOURCE, "https://billing.example.com/api"] }));
    expect(diagnostics).toContainEqual(
      expect.objectContaining({
        code: "AUTH005",
        severity: "error",
        message: expect.stringContaining('audience "https://billing.example.com/api" differs from resource'),
      }),
    );
  });

  it("the shipped file with AUTH0_AUDIENCE naming the resource and another API is refused", () => {
    const env = {
      AUTH_MODE: "oauth2",
      MCP_RESOURCE_URL: RESOURCE,
      AUTH0_DOMAIN: "tenant.eu.auth0.com",
      AUTH0_AUDIENCE: `${RESOURCE} https://billing.example.com/api`,
    };
    expect(refused(SHIPPED, env).map((d) => d.code)).toContain("AUTH005");
    const confirmed = load(SHIPPED, { ...env, AUTH0_AUDIENCE_IS_NOT_RESOURCE: "true" });
    expect(confirmed.issuers[0]?.audience).toEqual([RESOURCE, "https://billing.example.com/api"]);
  });

  it("with the confirmation it loads; the resource alone (string or list) needs none", () => {
    const both = [RESOURCE, "https://billing.example.com/api"];
    expect(load(auth0({ audience: both, audienceIsNotResource: true })).issuers[0]?.audience).toEqual(both);
    expect(load(auth0({ audience: [RESOURCE] })).issuers[0]?.audience).toEqual([RESOURCE]);
    expect(load(auth0({ audience: RESOURCE })).issuers[0]?.audience).toEqual([RESOURCE]);
    expect(load(auth0({})).issuers[0]?.audience).toEqual([RESOURCE]);
  });
});

describe("a secret from a placeholder is taken exactly as set", () => {
  const SECRETS = [
    ["looks like a number", "4829104758392016"],
    ["looks like a YAML tag", "!Tr0ub4dor&3horse"],
    ["looks quoted", "'tgk_quoted0123456789'"],
    ["holds ' #'", "tgk_hash0123456789 #tail"],
    ["looks like a boolean", "true-but-not-really-true"],
  ] as const;
  const HS_SECRET = "0x8f3a9c2b7d4e1f60a5b8c7d2e9f1a3b4c5d6";
  const unquoted = (key: string) => `mode: api-key
scopes:
  search.read: Search.
apiKeys:
  keys:
    - name: env
      key: ${key}
      scopes: search.read
`;
  const withSecret = (secret: string) => `mode: oauth2
resource: ${RESOURCE}
scopes:
  search.read: Search.
authorizationServers:
  - type: oidc
    issuer: https://login.example.com/
    sharedSecret: ${secret}
`;

  it.each(SECRETS)(
    "an API key that %s, through the shipped auth.yaml and through an unquoted placeholder",
    (_, key) => {
      for (const text of [SHIPPED, unquoted(placeholder("MCP_API_KEY"))]) {
        const config = load(text, { AUTH_MODE: "api-key", MCP_API_KEY: key });
        expect(config.apiKeys.keys).toHaveLength(1);
        expect(config.apiKeys.keys[0]?.digests).toEqual([sha256(key)]);
      }
    },
  );

  it("an HS256 secret that looks like a hex number, quoted or not", () => {
    for (const text of [withSecret(placeholder("HS_SECRET")), withSecret(`"${placeholder("HS_SECRET")}"`)])
      expect(load(text, { HS_SECRET }).issuers[0]?.sharedSecret).toBe(HS_SECRET);
  });

  it("settings that take a boolean or number still read one from a placeholder", () => {
    const config = load(SHIPPED, { REQUIRED_SCOPES_ENFORCE: "false" });
    expect(config.requiredScopesEnforce).toBe(false);
    const text = `mode: oauth2
scopes: {}
tokenCache:
  maxEntries: \${CACHE:-500}
authorizationServers:
  - type: oidc
    issuer: https://login.example.com/
    clockTolerance: \${SKEW}
`;
    const typed = load(text, { SKEW: "60" });
    expect(typed.tokenCache.maxEntries).toBe(500);
    expect(typed.issuers[0]?.clockToleranceSec).toBe(60);
  });

  it("a quoted placeholder that comes out empty turns its setting off, as an unquoted one does", () => {
    expect(refused(SHIPPED, { AUTH_MODE: "api-key" }).map((d) => d.code)).toEqual(["AUTH009"]);
    const config = load(withSecret(`"${placeholder("HS_SECRET:-")}"`));
    expect(config.issuers[0]?.sharedSecret).toBeUndefined();
    expect(config.issuers[0]?.algorithms).not.toContain("HS256");
  });

  it("a secret of the wrong type written in the file is reported without its value", () => {
    for (const [text, secret] of [
      [unquoted("4829104758392016"), "4829104758392016"],
      [withSecret(HS_SECRET), String(Number(HS_SECRET))],
      [withSecret(HS_SECRET), HS_SECRET],
    ] as const) {
      let printed = "";
      try {
        load(text);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        printed = `${error.message}\n${error.diagnostics.map((d) => `${d.code}: ${d.message}`).join("\n")}`;
      }
      expect(printed).toMatch(/SCHEMA003: .*(key|sharedSecret) must be a string, not a number/);
      expect(printed).not.toContain(secret);
      expect(printed).not.toContain(secret.slice(2, 12));
    }
  });
});
