/**
 * Generator bugs found while writing these tests, each pinned as the behaviour that should hold.
 * `it.fails` passes while the bug is there; when a fix lands it fails, and should become `it`.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/config/diagnostics.js";
import { createTempProject, hashTree, listTree, readRepoFile, type TempProject } from "../helpers/temp-project.js";
import { generate, OPTIONAL_ENV } from "./harness.js";

const tool = (name: string, extra = "") => `  ${name}:
    title: T
    description: D
    input: {type: object${extra}}
    securitySchemes: [{type: noauth}]
`;

let project: TempProject;
beforeAll(async () => {
  project = await createTempProject();
});
afterAll(() => project?.remove());

const lint = async (toolsText: string, authText?: string) =>
  (
    await generate(project.root, {
      mode: "lint",
      toolsText,
      authText: authText ?? (await readRepoFile("auth.yaml")),
      env: OPTIONAL_ENV,
    })
  ).diagnostics.map(formatDiagnostic);

describe("known generator bugs", () => {
  // scripts/generator/emit/registry.ts (and handlers.ts): keys are emitted as `"__proto__": {...}` in
  // an object literal, which sets the prototype instead of adding a key. Actual: toolNames is
  // ["ok.tool"] although tools/list publishes both. Expected: the name is rejected (TOOLS001) or kept.
  it.fails("a tool named __proto__ is rejected or becomes a real registry entry", async () => {
    const own = await createTempProject();
    try {
      const result = await generate(own.root, { toolsText: `tools:\n${tool("__proto__")}${tool("ok.tool")}` });
      if (!result.ok) {
        expect(result.diagnostics.map((d) => d.code)).toContain("TOOLS001");
        return;
      }
      const registry = await import(pathToFileURL(join(own.root, "generated", "registry.ts")).href);
      expect(registry.toolNames).toEqual(["__proto__", "ok.tool"]);
    } finally {
      await own.remove();
    }
  });

  // scripts/generator/scaffold.ts + pipeline.ts: without src/handlers/, scaffold's open() fails with
  // ENOENT after replaceDirectory() already wrote generated/. Actual: GEN000 "…(nothing was written):
  // ENOENT: …open '/tmp/…/src/handlers/codebase.search.ts'" (an absolute path), generated/ written.
  // Expected: the folder is created and the stubs with it (or, at least, nothing written).
  it.fails("a project without src/handlers/ gets the folder and its stubs", async () => {
    const bare = await createTempProject({ handlersDir: false });
    try {
      const result = await generate(bare.root);
      expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(result.handlers).toHaveLength(5);
    } finally {
      await bare.remove();
    }
  });

  it("(the same bug) GEN000 claims nothing was written, but generated/ was", async () => {
    const bare = await createTempProject({ handlersDir: false });
    try {
      const before = await hashTree(join(bare.root, "generated"));
      const result = await generate(bare.root);
      expect(result.diagnostics.map((d) => d.code)).toEqual(["GEN000"]);
      expect(result.diagnostics[0]!.message).toContain("nothing was written");
      expect(await hashTree(join(bare.root, "generated"))).not.toBe(before);
      expect((await listTree(join(bare.root, "generated"))).length).toBe(7);
    } finally {
      await bare.remove();
    }
  });

  // src/config/yaml-source.ts: `doc.toJS({ maxAliasCount: 100 })` throws past 100 uses of one anchor,
  // outside any diagnostic. Actual: "tools.yaml:1:1: error GEN000: the generator failed unexpectedly
  // (nothing was written): Excessive alias count indicates a resource exhaustion attack" for 120 tools
  // sharing `securitySchemes: *public`. Expected: accepted (a legitimate file), or at worst a YAML001
  // at the alias that crossed the limit.
  it.fails("120 tools sharing one anchored securitySchemes list are not a GEN000", async () => {
    let text = "tools:\n";
    for (let i = 0; i < 120; i++)
      text += `  t${i}:\n    title: T\n    description: D\n    input: {type: object}\n    securitySchemes: ${i === 0 ? "&public [{type: noauth}]" : "*public"}\n`;
    const printed = await lint(text);
    expect(printed.filter((l) => l.includes("GEN000"))).toEqual([]);
  });

  // src/config/yaml-source.ts: positions come from yaml's LineCounter, which only learns the line
  // starts the lexer reports; after a syntax error a multi-line scalar is one token, so every later
  // position drifts. Actual: `Unexpected scalar token in YAML stream: "input"` at 6:25 (line 6 is
  // "      one", 9 characters). Expected: 8:5, where `input` is.
  it.fails("YAML001 positions after a multi-line scalar point at the token", async () => {
    const text = "  server:\n  name: x\ntools:\n  a:\n    description: >-\n      one\n      two\n    input: 1\n";
    const printed = await lint(text);
    const input = printed.find((l) => l.includes('Unexpected scalar token in YAML stream: "input"'));
    expect(input).toMatch(/^tools\.yaml:8:5: /);
  });

  // src/config/schema-diagnostics.ts: a `propertyNames` failure is reported twice, neither time at the
  // offending key nor naming it. Actual for the key `"bad scope"` (auth.yaml line 4):
  //   auth.yaml:2:1: error SCHEMA004: scopes property name must be valid
  //   auth.yaml:3:3: error SCHEMA004: scopes must match pattern "^[\x21\x23-\x5B\x5D-\x7E]+$"   (the *valid* first key)
  // Expected: one diagnostic at 4:3 that names "bad scope".
  it.fails("an invalid scope name is reported once, at its key, by name", async () => {
    const auth = 'mode: optional\nscopes:\n  docs.write: Write.\n  "bad scope": Has a space.\n';
    const printed = (await lint(`tools:\n${tool("x")}`, auth)).filter((l) => l.startsWith("auth.yaml"));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^auth\.yaml:4:3: error SCHEMA004: .*bad scope/);
  });

  // Same cause in tools.yaml: a reserved `meta` key. Actual: "tools.yaml:4:5 … meta property name must
  // be valid" and "tools.yaml:5:7 … meta must NOT be valid" (pointing at the valid first key).
  // Expected: one diagnostic at 6:7, the `securitySchemes` key, naming it.
  it.fails("a reserved meta key is reported once, at its key, by name", async () => {
    const text = `tools:\n  x:\n    title: T\n    meta:\n      openai/widget: yes\n      securitySchemes: []\n    description: D\n    input: {type: object}\n    securitySchemes: [{type: noauth}]\n`;
    const printed = await lint(text);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^tools\.yaml:6:7: error SCHEMA004: .*securitySchemes/);
  });

  // src/config/diagnostics.ts didYouMean: on a tie the first candidate wins, so `type: oauth`
  // suggests "noauth" (which would make the tool public) rather than "oauth2". Both are 1 edit away.
  it.fails('`type: oauth` suggests "oauth2", not "noauth"', async () => {
    const text =
      "tools:\n  x:\n    title: T\n    description: D\n    input: {type: object}\n    securitySchemes: [{type: oauth, scopes: [docs.write]}]\n";
    const printed = await lint(text);
    expect(printed.join("\n")).toContain('(did you mean "oauth2"?)');
  });

  // scripts/generator/rules.ts TOOLS004: ajv's compile stops at the first problem, so a schema with two
  // mistakes shows only one; the user fixes it, runs again, and meets the next. DESIGN §2 / STYLE 4:
  // "every error at once". Actual: only `requried`. Expected: both `requried` and `format: dat`.
  it.fails("two problems in one tool schema are both reported", async () => {
    const printed = await lint(`tools:\n${tool("x", ", requried: [a], properties: {a: {type: string, format: dat}}")}`);
    expect(printed.filter((l) => l.includes("TOOLS004"))).toHaveLength(2);
  });
});
