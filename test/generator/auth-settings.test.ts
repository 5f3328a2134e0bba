/**
 * auth.yaml as the generator and the server see it. `npm run lint:schema` (what CI runs) reports
 * what the server would refuse to start with in any environment, by the server's own rules and at
 * the same place; what depends on a `${VAR}` placeholder, or on production, is left to startup. An
 * unset variable is a warning when generating, never a "missing key" too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthConfigContext, loadAuthConfig } from "../../src/config/auth-config.js";
import { ConfigError, type Diagnostic, formatDiagnostic } from "../../src/config/diagnostics.js";
import { createTempProject, type TempProject } from "../helpers/temp-project.js";
import { generate } from "./harness.js";

const TOOLS = `tools:
  docs.create:
    title: Create a document
    description: Write a Markdown document.
    input: {type: object}
    securitySchemes: [{type: oauth2, scopes: [docs.write]}]
`;

let project: TempProject;
beforeAll(async () => {
  project = await createTempProject({ handlersDir: false });
});
afterAll(() => project?.remove());

const lint = async (authText: string, env: Record<string, string> = {}) =>
  (await generate(project.root, { mode: "lint", toolsText: TOOLS, authText, env })).diagnostics;

/** The server's diagnostics for `text`, empty when it would start. */
function startup(text: string, env: Record<string, string> = {}, production = false): Diagnostic[] {
  const context: AuthConfigContext = { env, listen: { host: "127.0.0.1", port: 3000 }, production };
  try {
    loadAuthConfig("auth.yaml", context, text);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.diagnostics;
    throw error;
  }
}

const errors = (list: readonly Diagnostic[]) => list.filter((d) => d.severity === "error").map(formatDiagnostic);

const SCOPES = "scopes: {docs.write: a, memory.read: b}\n";

describe("lint:schema reports what the server refuses in any environment", () => {
  // The reviewer's file: lint said "no errors", the server exited 1.
  const refused = `mode: api-key
${SCOPES}apiKeys:
  keys:
    - name: a
      sha256: abc
      scopes: "docs.write, memory.read"
authorizationServers:
  - type: oidc
    issuer: "not a url"
`;

  it("the same errors at the same places as the server, for a file without placeholders", async () => {
    const server = errors(startup(refused));
    expect(server.map((l) => l.replace(/:.*error /, " "))).toEqual([
      'auth.yaml AUTH009: mode "api-key" needs at least one key under apiKeys.keys (the shipped auth.yaml\'s entry takes it from MCP_API_KEY)',
      "auth.yaml AUTH007: sha256 must be 64 hex digits",
      expect.stringMatching(/^auth\.yaml AUTH014: apiKeys\.keys\.0\.scopes holds "docs\.write,"/),
      "auth.yaml AUTH004: issuer is not a valid URL",
    ]);
    expect(errors(await lint(refused))).toEqual(server);
  });

  it("a comma-separated requiredScopes is one error (AUTH014), not also an undeclared-scope warning", async () => {
    const found = await lint(`mode: oauth2\n${SCOPES}requiredScopes: "docs.write,memory.read"\n`);
    expect(found.map((d) => d.code)).toEqual(["AUTH014"]);
  });

  it.each([
    ["resource with a #fragment", "resource: https://mcp.example.com/mcp#x\n"],
    ["an Auth0 domain with a scheme", "authorizationServers: [{type: auth0, domain: https://t.eu.auth0.com/}]\n"],
    ["a short literal API key", "apiKeys: {keys: [{name: k, key: tooshort}]}\n"],
    [
      "a short literal shared secret",
      "authorizationServers: [{type: oidc, issuer: https://l.example.com/, sharedSecret: sh0rt-secret}]\n",
    ],
    [
      "an audience other than the resource",
      "resource: https://mcp.example.com/mcp\nauthorizationServers: [{type: oidc, issuer: https://l.example.com/, audience: https://api.example.com}]\n",
    ],
    [
      "the development server beside an issuer",
      "authorizationServers: [{type: oidc, issuer: https://l.example.com/}]\ndevelopmentServer: {enabled: true}\n",
    ],
  ])("%s: the server's error, from lint too, and no secret in it", async (_, settings) => {
    const text = `mode: optional\n${SCOPES}${settings}`;
    const server = errors(startup(text));
    expect(server).toHaveLength(1);
    const linted = await lint(text);
    expect(errors(linted)).toEqual(server);
    for (const secret of ["tooshort", "sh0rt"]) expect(linted.map(formatDiagnostic).join("\n")).not.toContain(secret);
  });

  it("a value from a placeholder is left to startup, set, defaulted or unset; production-only checks too", async () => {
    const text = `mode: \${AUTH_MODE:-api-key}
resource: \${MCP_RESOURCE_URL:-http://mcp.example.com/mcp}
${SCOPES}apiKeys:
  keys:
    - name: env
      key: "\${MCP_API_KEY}"
      scopes: \${KEY_SCOPES:-docs.write,memory.read}
authorizationServers:
  - type: oidc
    issuer: \${ISSUER}
    sharedSecret: \${HS_SECRET}
    audience: \${AUDIENCE:-https://api.example.com}
`;
    const env = { ISSUER: "not a url", HS_SECRET: "s3cr3t-but-short" };
    const linted = await lint(text, env);
    expect(errors(linted)).toEqual([]);
    expect(linted.map((d) => d.code)).toEqual(["ENV002"]); // MCP_API_KEY
    expect(linted.map(formatDiagnostic).join("\n")).not.toContain("s3cr3t");
    // The server, in that environment, refuses it: the checks ran where they could.
    const server = startup(text, { ...env, MCP_API_KEY: "tgk_0123456789abcdef" }, true).map((d) => d.code);
    expect(server).toEqual(expect.arrayContaining(["AUTH002", "AUTH004", "AUTH014"]));
  });

  it("an API key from a variable may exist on the server: mode api-key without a literal key is no error", async () => {
    const text = `mode: api-key\n${SCOPES}apiKeys: {keys: [{name: env, key: "\${MCP_API_KEY:-}"}]}\n`;
    expect(errors(await lint(text))).toEqual([]);
    expect(startup(text).map((d) => d.code)).toEqual(["AUTH009"]);
    expect(startup(text, { MCP_API_KEY: "tgk_0123456789abcdef" })).toEqual([]);
  });
});

describe("a required setting from an unset variable", () => {
  const text = `# line 1
# line 2
${SCOPES}mode: \${AUTH_MODE}
`;

  it("is a warning at its placeholder when generating, not a missing key", async () => {
    const result = await generate(project.root, { mode: "lint", toolsText: TOOLS, authText: text, env: {} });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      `auth.yaml:4:7: warning ENV002: environment variable AUTH_MODE is not set (and \${AUTH_MODE} has no default; write \${AUTH_MODE:-default} for one)`,
    ]);
    expect(result.ok).toBe(true);
  });

  it("stops the server with ENV002 naming the variable", () => {
    expect(startup(text).map(formatDiagnostic)).toEqual([
      `auth.yaml:4:7: error ENV002: environment variable AUTH_MODE is not set (and \${AUTH_MODE} has no default; write \${AUTH_MODE:-default} for one)`,
    ]);
  });

  it("set empty on purpose (a `:-` default that is empty), it is missing, said at its placeholder", async () => {
    const empty = text.replace(`\${AUTH_MODE}`, `\${AUTH_MODE:-}`);
    const expected = [
      'auth.yaml:4:7: error SCHEMA002: missing required key "mode" in the top level: its placeholder came out empty, which counts as not written',
    ];
    expect(errors(await lint(empty))).toEqual(expected);
    expect(startup(empty).map(formatDiagnostic)).toEqual(expected);
  });
});

// Was a bug: YAML merge keys were read as a key named "<<" (SCHEMA001 in auth.yaml, TOOLS004 in
// tools.yaml). They are read as yaml's `merge` option reads them, by the generator and the server alike.
describe("merge keys in auth.yaml", () => {
  const merged = (issuer: string) => `mode: oauth2
${SCOPES}authorizationServers:
  - &first
    type: oidc
    issuer: https://a.example.com/
    audience: \${AUDIENCE:-https://api.example.com}
    audienceIsNotResource: true
  - <<: *first
    issuer: ${issuer}
apiKeys:
  keys:
    - &key
      name: a
      sha256: ${"ab".repeat(32)}
      scopes: docs.write
    - <<: *key
      name: b
`;

  it("are read alike by the generator and the server; a mistake brought in is reported where it is merged", async () => {
    expect(errors(startup(merged("https://b.example.com/")))).toEqual([]);
    expect(errors(await lint(merged("https://b.example.com/")))).toEqual([]);
    const bad = merged('"not a url"').replace("issuer: https://a.example.com/", 'issuer: "not a url either"');
    const server = errors(startup(bad));
    expect(server).toEqual([
      "auth.yaml:6:13: error AUTH004: issuer is not a valid URL",
      "auth.yaml:10:13: error AUTH004: issuer is not a valid URL",
    ]);
    expect(errors(await lint(bad))).toEqual(server);
    const key = errors(startup(merged("https://b.example.com/").replace("sha256: ab", "sha256: zz")));
    expect(key).toEqual([
      "auth.yaml:15:15: error AUTH007: sha256 must be 64 hex digits",
      "auth.yaml:17:11: error AUTH007: sha256 must be 64 hex digits",
    ]);
  });
});
