/**
 * auth.yaml as the server loads it (loadAuthConfig): the checks that refuse a configuration which
 * would accept more than it says, and the substitution of `${VAR}` placeholders into secrets.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type AuthConfig, type AuthConfigContext, loadAuthConfig } from "../../../src/config/auth-config.js";
import { ConfigError, type Diagnostic } from "../../../src/config/diagnostics.js";
import { authYaml } from "./support.js";

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
