/**
 * auth.yaml as the generator and the server see it: an unset variable is a warning when generating
 * (generating needs no secrets), never a "missing key" too; the server stops with ENV002.
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
