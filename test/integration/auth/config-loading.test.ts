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

describe("nothing under apiKeys (but its header and prefix) is repeated in a message, nor a placeholder's default", () => {
  const SECRET = "tgk_SECRET_value_0123456789abcdefghij";
  const messages = (text: string, env: Record<string, string>) =>
    refused(text, env)
      .map((d) => `${d.code}: ${d.message}`)
      .join("\n");

  it.each([
    // a key put where its entry, the list or the section goes
    [
      "a key where its entry goes",
      `mode: api-key\napiKeys:\n  keys:\n    - ${placeholder("K")}\n`,
      /SCHEMA003: apiKeys\.keys\.0 must be a mapping, not a string$/m,
    ],
    [
      "a key as the whole list",
      `mode: api-key\napiKeys:\n  keys: ${placeholder("K")}\n`,
      /SCHEMA003: apiKeys\.keys must be a list, not a string$/m,
    ],
    [
      "a key as apiKeys",
      `mode: api-key\napiKeys: ${placeholder("K")}\n`,
      /SCHEMA003: apiKeys must be a mapping, not a string$/m,
    ],
  ])("%s", (_name, text, expected) => {
    const printed = messages(text, { K: SECRET });
    expect(printed).toMatch(expected);
    expect(printed).not.toContain(SECRET.slice(4, 16));
  });

  it("a malformed placeholder is quoted without its default", () => {
    const printed = messages(`mode: api-key\napiKeys: {keys: [{name: a, key: "\${MCP-KEY:-${SECRET}}"}]}\n`, {});
    expect(printed).toContain(`ENV001: malformed placeholder "${placeholder("MCP-KEY:-…")}"`);
    expect(printed).not.toContain(SECRET.slice(4, 16));
    const unterminated = messages(`mode: api-key\napiKeys: {keys: [{name: a, key: "\${MCP_KEY:-${SECRET}"}]}\n`, {});
    expect(unterminated).toContain(`ENV001: unterminated placeholder "${placeholder("MCP_KEY:-…").slice(0, -1)}"`);
    expect(unterminated).not.toContain(SECRET.slice(4, 16));
    // another shell's default forms are malformed here, their default a secret all the same
    for (const form of [`MCP_API_KEY-${SECRET}`, `MCP_API_KEY:=${SECRET}`, `MCP_API_KEY=${SECRET}`]) {
      const printed = messages(`mode: api-key\napiKeys: {keys: [{name: a, key: "${placeholder(form)}"}]}\n`, {});
      expect(printed).toContain(`ENV001: malformed placeholder "${placeholder("MCP_API_KEY…")}"`);
      expect(printed).not.toContain(SECRET.slice(4, 16));
    }
  });
});

describe("AUTH004: the URLs of an authorization server", () => {
  const oidc = (extra: Record<string, unknown>) =>
    authYaml({
      mode: "oauth2",
      resource: RESOURCE,
      authorizationServers: [{ type: "oidc", issuer: "https://login.example.com/", ...extra }],
    });

  it.each(["jwksUri", "authorizationEndpoint"])(
    "%s over http is refused in production, accepted in development",
    (key) => {
      const text = oidc({ [key]: "http://login.example.com/x" });
      expect(refused(text, {}, true)).toContainEqual(
        expect.objectContaining({ code: "AUTH004", message: `${key} must be an https URL in production` }),
      );
      expect(load(text).issuers[0]).toMatchObject({ [key]: "http://login.example.com/x" });
      expect(load(oidc({ [key]: "https://login.example.com/x" }), {}, true).issuers[0]).toMatchObject({
        [key]: "https://login.example.com/x",
      });
    },
  );

  it.each(["javascript:alert(1)", "data:text/html,x", "/authorize", "login.example.com/authorize"])(
    "authorizationEndpoint %j is refused always",
    (value) => {
      expect(refused(oidc({ authorizationEndpoint: value }))).toContainEqual(
        expect.objectContaining({
          code: "AUTH004",
          message: expect.stringMatching(/^authorizationEndpoint must be an http\(s\) URL, not/),
        }),
      );
    },
  );
});

describe("AUTH003: an Auth0 domain is a plain host name", () => {
  const auth0 = (domain: string) =>
    authYaml({ mode: "oauth2", resource: RESOURCE, authorizationServers: [{ type: "auth0", domain }] });

  it.each([
    "tenant.eu.auth0.com@evil.example",
    "user:pw@tenant.eu.auth0.com",
    "tenant.eu.auth0.com:8443",
    "tenant.eu.auth0.com?x=1",
    "tenant.eu.auth0.com#x",
    "https://tenant.eu.auth0.com",
    "tenant.eu.auth0.com/",
    "tenant eu.auth0.com",
  ])("%j is refused", (domain) => {
    expect(refused(auth0(domain))).toContainEqual(
      expect.objectContaining({
        code: "AUTH003",
        message: expect.stringContaining("domain is a host name without protocol or path"),
      }),
    );
  });

  it("a tenant domain loads, its issuer on that host", () => {
    expect(load(auth0("tenant-1.eu.auth0.com")).issuers[0]?.issuer).toBe("https://tenant-1.eu.auth0.com/");
    expect(load(auth0("login.example.com")).issuers[0]?.issuer).toBe("https://login.example.com/");
  });
});

describe("scopes written as a string get the checks of the list form", () => {
  const withScopes = (requiredScopes: unknown, keyScopes: unknown = "search.read") =>
    authYaml({
      mode: "optional",
      requiredScopes,
      apiKeys: { keys: [{ name: "ci", key: placeholder("MCP_API_KEY"), scopes: keyScopes }] },
    });
  const env = { MCP_API_KEY: "tgk_scopes0123456789abc" };

  it("REQUIRED_SCOPES=docs.write,memory.read through the shipped auth.yaml is refused, with the fix in the message", () => {
    const diagnostics = refused(SHIPPED, { REQUIRED_SCOPES: "docs.write,memory.read" });
    expect(diagnostics).toEqual([
      expect.objectContaining({
        code: "AUTH014",
        line: SHIPPED.split("\n").findIndex((l) => l.startsWith("requiredScopes:")) + 1,
        message:
          'requiredScopes holds "docs.write,memory.read", one scope with commas in it that the scope catalogue does not declare: separate scopes with spaces (docs.write memory.read) or write a list',
      }),
    ]);
    expect(load(SHIPPED, { REQUIRED_SCOPES: "docs.write memory.read" }).requiredScopes).toEqual([
      "docs.write",
      "memory.read",
    ]);
  });

  it("a comma list in a key's scopes, string or list form, is refused", () => {
    for (const scopes of ["search.read,docs.write", ["search.read,docs.write"]])
      expect(refused(withScopes(undefined, scopes), env).map((d) => d.code)).toEqual(["AUTH014"]);
  });

  it("a word that is no scope token is refused in the string form as in the list form", () => {
    const diagnostics = refused(withScopes('search.read "docs.write"'), env);
    expect(diagnostics).toEqual([
      expect.objectContaining({ code: "SCHEMA004", message: expect.stringMatching(/^requiredScopes holds "\\"docs/) }),
    ]);
    expect(refused(withScopes(undefined, "search.read docs\\write"), env)[0]?.code).toBe("SCHEMA004");
  });

  it("a scope with a comma that the catalogue declares is accepted", () => {
    const text = authYaml({ mode: "optional", requiredScopes: "a,b" }).replace(
      /^scopes:\n/m,
      'scopes:\n  "a,b": A B.\n',
    );
    expect(load(text).requiredScopes).toEqual(["a,b"]);
  });
});
