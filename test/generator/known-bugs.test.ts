/**
 * Generator bugs found while writing these tests, each pinned as the behaviour that holds since its
 * fix (regression tests). A new bug goes here as `it.fails` until it is fixed, then becomes `it`.
 */
import { symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/config/diagnostics.js";
import {
  createTempProject,
  hashTree,
  listTree,
  REPO,
  readRepoFile,
  type TempProject,
} from "../helpers/temp-project.js";
import { GENERATED_FILES, generate, OPTIONAL_ENV } from "./harness.js";

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

describe("fixed generator bugs", () => {
  // scripts/generator/emit/registry.ts (and handlers.ts): keys were emitted as `"__proto__": {...}` in
  // an object literal, which sets the prototype instead of adding a key: toolNames was ["ok.tool"]
  // although tools/list published both. Fixed by rejecting the name (TOOLS001, rules.ts).
  it("a tool named __proto__ is rejected or becomes a real registry entry", async () => {
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

  // scripts/generator/scaffold.ts + pipeline.ts: without src/handlers/, scaffold's open() failed with
  // ENOENT after replaceDirectory() had written generated/: GEN000 "…(nothing was written): ENOENT:
  // …open '/tmp/…/src/handlers/codebase.search.ts'" (false, and an absolute path). Fixed: the folder is created.
  it("a project without src/handlers/ gets the folder and its stubs", async () => {
    const bare = await createTempProject({ handlersDir: false });
    try {
      const result = await generate(bare.root);
      expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(result.handlers).toHaveLength(5);
      expect(await listTree(join(bare.root, "src", "handlers"))).toHaveLength(5);
    } finally {
      await bare.remove();
    }
  });

  it("(the same bug) a failure after the swap says what was written, with relative paths only", async () => {
    const broken = await createTempProject({ handlersDir: false });
    try {
      // src/handlers is a file: creating the stubs fails after generated/ and the docs were written
      await broken.write("src/handlers", "not a folder\n");
      const result = await generate(broken.root);
      expect(result.ok).toBe(false);
      expect(result.diagnostics.map((d) => d.code)).toEqual(["GEN000"]);
      const message = result.diagnostics[0]!.message;
      expect(message).toMatch(
        /^the generator failed unexpectedly after writing generated\/, docs\/configuration\.md, docs\/diagnostics\.md, \.env\.example /,
      );
      expect(message).not.toContain("nothing was written");
      expect(message).not.toContain(broken.root);
      expect(message).not.toMatch(/(^|[\s'"(])\/[^\s'"()]*\//);
      expect(result.written).toEqual(["generated/", "docs/configuration.md", "docs/diagnostics.md", ".env.example"]);
      expect((await listTree(join(broken.root, "generated"))).length).toBe(GENERATED_FILES.length);
    } finally {
      await broken.remove();
    }
  });

  it("(the same bug) a failure before the swap writes nothing and says so, with relative paths only", async () => {
    const blocked = await createTempProject();
    try {
      // the output folder's parent is a file: staging generated/ fails before anything is swapped in
      await writeFile(join(blocked.root, "blocker"), "a file\n");
      const before = await hashTree(blocked.root);
      const result = await generate(blocked.root, { outDir: "blocker/generated" });
      expect(result.diagnostics.map((d) => d.code)).toEqual(["GEN000"]);
      const message = result.diagnostics[0]!.message;
      expect(message).toMatch(/^the generator failed unexpectedly \(nothing was written\): ENOTDIR/);
      expect(message).toContain("blocker/");
      expect(message).not.toContain(blocked.root);
      expect(message).not.toMatch(/(^|[\s'"(])\/[^\s'"()]*\//);
      expect(result.written).toBeUndefined();
      expect(await hashTree(blocked.root)).toBe(before);
    } finally {
      await blocked.remove();
    }
  });

  // src/config/yaml-source.ts: `doc.toJS({ maxAliasCount: 100 })` threw past 100 uses of one anchor,
  // outside any diagnostic: "tools.yaml:1:1: error GEN000: … Excessive alias count indicates a resource
  // exhaustion attack" for 120 tools sharing `securitySchemes: *public`. Fixed: the loader bounds what
  // aliases expand to itself (YAML001 at the alias that crosses the limit) and accepts such files.
  it("120 tools sharing one anchored securitySchemes list are not a GEN000", async () => {
    let text = "tools:\n";
    for (let i = 0; i < 120; i++)
      text += `  t${i}:\n    title: T\n    description: D\n    input: {type: object}\n    securitySchemes: ${i === 0 ? "&public [{type: noauth}]" : "*public"}\n`;
    const printed = await lint(text);
    expect(printed.filter((l) => l.includes("GEN000"))).toEqual([]);
    expect(printed).toEqual([]);
  });

  it("10,000 uses of one anchor are accepted; a cycle and a billion-laughs file are a YAML001 at the alias", async () => {
    let text = "defs:\n  - &public {type: noauth}\n  - [";
    text += Array.from({ length: 10_000 }, () => "*public").join(", ");
    text += `]\ntools:\n${tool("a")}`;
    const lines = (await lint(text)).filter((l) => l.includes("YAML001") || l.includes("GEN000"));
    expect(lines).toEqual([]);

    expect(await lint(`tools: &t\n  a: *t\n`)).toEqual([
      "tools.yaml:2:6: error YAML001: alias *t is inside the value it stands for (a cycle)",
    ]);

    let laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
    for (let level = 1; level < 9; level++) {
      const [name, previous] = [String.fromCharCode(97 + level), String.fromCharCode(96 + level)];
      laughs += `${name}: &${name} [${Array.from({ length: 10 }, () => `*${previous}`).join(", ")}]\n`;
    }
    const started = performance.now();
    const printed = await lint(`${laughs}tools: *i\n`);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^tools\.yaml:5:36: error YAML001: with alias \*d, .*billion laughs/);
  });

  // src/config/yaml-source.ts: a YAML merge key was read as a key named "<<": `TOOLS004: unknown JSON
  // Schema keyword "<<" (did you mean "id"?)`. Fixed: merge keys are read (yaml's `merge` option); what
  // a merge brings in is reported at the alias that brought it.
  it("a schema that merges another's keys (<<: *paging) generates; a mistake in it is reported at the alias", async () => {
    const tools = (type: string) => `tools:
  a:
    title: A
    description: Declares the paging schema.
    input: &paging
      type: object
      properties:
        limit: {type: ${type}, default: 10}
    securitySchemes: [{type: noauth}]
  b:
    title: B
    description: Merges it, and requires its limit.
    input:
      <<: *paging
      required: [limit]
    securitySchemes: [{type: noauth}]
`;
    expect(await lint(tools("integer"))).toEqual([]);
    expect((await lint(tools("integr"))).map((l) => l.replace(/ must be one of .*/, ""))).toEqual([
      'tools.yaml:8:23: error TOOLS004: input of "a": properties.limit.type',
      'tools.yaml:14:11: error TOOLS004: input of "b": properties.limit.type',
    ]);
  });

  // src/config/yaml-source.ts: positions came from yaml's LineCounter, which only learns the line
  // starts the lexer reports; after a syntax error a multi-line scalar is one token, so every later
  // position drifted: `Unexpected scalar token in YAML stream: "input"` was printed at 4:13 (line 4 is
  // "  one", 5 characters). Fixed: positions come from the text's own line feeds.
  it("YAML001 positions after a multi-line scalar point at the token", async () => {
    const text = "  server:\n  name: x\ntools: >-\n  one\n  two\ninput: 1\n";
    const printed = await lint(text);
    const input = printed.find((l) => l.includes('Unexpected scalar token in YAML stream: "input"'));
    expect(input).toMatch(/^tools\.yaml:6:1: /);
  });

  it("a YAML001 cascade prints the first five errors and counts the rest in one line", async () => {
    // one top-level key indented: the shipped file then has about 700 syntax errors
    const text = (await readRepoFile("tools.yaml")).replace(/^server:/m, "  server:");
    const printed = (await lint(text)).filter((l) => l.includes("YAML001"));
    expect(printed).toHaveLength(6);
    expect(printed[5]).toMatch(/^tools\.yaml:\d+:\d+: error YAML001: … and \d+ more YAML syntax errors/);
    const lines = text.split("\n");
    for (const l of printed) {
      const [, line, col] = /^tools\.yaml:(\d+):(\d+):/.exec(l)!;
      expect(Number(col)).toBeLessThanOrEqual(lines[Number(line) - 1]!.length + 1);
    }
  });

  // src/config/schema-diagnostics.ts: a `propertyNames` failure was reported twice, neither time at the
  // offending key nor naming it. For the key `"bad scope"` (auth.yaml line 4):
  //   auth.yaml:2:1: error SCHEMA004: scopes property name must be valid
  //   auth.yaml:3:3: error SCHEMA004: scopes must match pattern "^[\x21\x23-\x5B\x5D-\x7E]+$"   (the *valid* first key)
  // Fixed: one diagnostic at 4:3 that names "bad scope".
  it("an invalid scope name is reported once, at its key, by name", async () => {
    const auth = 'mode: optional\nscopes:\n  docs.write: Write.\n  "bad scope": Has a space.\n';
    const printed = (await lint(`tools:\n${tool("x")}`, auth)).filter((l) => l.startsWith("auth.yaml"));
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^auth\.yaml:4:3: error SCHEMA004: .*bad scope/);
  });

  // Same cause in tools.yaml: a reserved `meta` key gave "tools.yaml:4:5 … meta property name must
  // be valid" and "tools.yaml:5:7 … meta must NOT be valid" (pointing at the valid first key).
  // Fixed: one diagnostic at 6:7, the `securitySchemes` key, naming it.
  it("a reserved meta key is reported once, at its key, by name", async () => {
    const text = `tools:\n  x:\n    title: T\n    meta:\n      openai/widget: yes\n      securitySchemes: []\n    description: D\n    input: {type: object}\n    securitySchemes: [{type: noauth}]\n`;
    const printed = await lint(text);
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^tools\.yaml:6:7: error SCHEMA004: .*securitySchemes/);
  });

  // src/config/diagnostics.ts didYouMean: on a tie the first candidate won, so `type: oauth`
  // suggested "noauth" (which would make the tool public) rather than "oauth2". Both are 1 edit away;
  // fixed: the longer common prefix wins a tie.
  it('`type: oauth` suggests "oauth2", not "noauth"', async () => {
    const text =
      "tools:\n  x:\n    title: T\n    description: D\n    input: {type: object}\n    securitySchemes: [{type: oauth, scopes: [docs.write]}]\n";
    const printed = await lint(text);
    expect(printed.join("\n")).toContain('(did you mean "oauth2"?)');
  });

  // scripts/generator/emit/types.ts + emit/validators.ts: schemas that pass every rule crashed the emit
  // step as "tools.yaml:1:1: error GEN000", naming no tool: json-schema-to-typescript followed no
  // `$ref: "#name"` ($anchor) and no `$ref` through an `$id`, and the one ajv of all tools refused a
  // second schema with the same `$id` ("schema with key or id … already exists"). Fixed: refs are
  // rewritten to JSON pointers for the types (type-schema.ts), each tool has its own ajv. (One root
  // `$id` for two tools' different schemas is refused since, TOOLS016: MCP clients cache by `$id`;
  // golden case shared-id.)
  it("an $anchor reference, a reference through $id and $ids in two tools generate (were GEN000)", async () => {
    const own = await createTempProject();
    try {
      const toolsText = `tools:
${tool("anchors", ', $defs: {nm: {$anchor: nm, type: string}}, properties: {name: {$ref: "#nm"}}')}${tool(
  "ids",
  ', $id: "https://example.com/s", $defs: {p: {$id: point, type: object, required: [x], properties: {x: {type: number}}}}, properties: {p: {$ref: point}, q: {$ref: "https://example.com/point#/properties/x"}}',
)}${tool("same.id", ', $id: "https://example.com/same", required: [s], properties: {s: {type: string}}')}`;
      const result = await generate(own.root, { toolsText, env: OPTIONAL_ENV });
      expect(result.diagnostics.map(formatDiagnostic)).toEqual([]);
      const types = await own.read("generated/types.ts");
      expect(types).toContain("name?: AnchorsInputNm\n");
      expect(types).toContain("export type AnchorsInputNm = string\n");
      expect(types).toContain("p?: IdsInputP\n");
      expect(types).toContain("q?: IdsInputX\n");
      expect(types).toMatch(/export interface IdsInputP \{\n {2}x: IdsInputX\n/);
      expect(types).toMatch(/export interface SameIdInput \{\n {2}s: string\n/);
      // and each tool's validators check its own schema
      await symlink(join(REPO, "node_modules"), join(own.root, "node_modules"), "junction");
      const validators = (ident: string) =>
        import(pathToFileURL(join(own.root, "generated", "validators", `${ident}.ts`)).href);
      const [ids, same] = await Promise.all([validators("Ids"), validators("SameId")]);
      expect([ids.input({ p: { x: 1 }, q: 2 }), ids.input({ p: {} }), ids.input({ q: "2" })]).toEqual([
        true,
        false,
        false,
      ]);
      expect([same.input({ s: "x" }), same.input({ p: { x: 1 } })]).toEqual([true, false]);
    } finally {
      await own.remove();
    }
  });

  // scripts/generator/rules.ts TOOL_AJV_OPTIONS: ajv checked multipleOf by floating-point division, so
  // `multipleOf: 0.01` refused 19.99 (19.99 / 0.01 is 1998.9999999999998), in arguments and results.
  // Fixed: multipleOfPrecision 6 (a quotient within 1e-6 of a whole number is one).
  it("a decimal multipleOf accepts the values that are multiples and refuses the others", async () => {
    const own = await createTempProject();
    try {
      const toolsText = `tools:
  price:
    title: Price
    description: Amounts to the cent.
    input:
      type: object
      required: [amount]
      properties:
        amount: {type: number, minimum: 0, multipleOf: 0.01}
        step: {type: number, multipleOf: 0.1, default: 0.3}
    output:
      type: object
      required: [total]
      properties:
        total: {type: number, multipleOf: 0.01}
    securitySchemes: [{type: noauth}]
`;
      const result = await generate(own.root, { toolsText, env: OPTIONAL_ENV });
      expect(result.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic)).toEqual([]);
      await symlink(join(REPO, "node_modules"), join(own.root, "node_modules"), "junction");
      const price = await import(pathToFileURL(join(own.root, "generated", "validators", "Price.ts")).href);
      const amounts = [19.99, 0.07, 1.1, 123456.78, 9876543.21, 19.995, 0.001, 1.000001];
      expect(amounts.map((amount) => price.input({ amount }))).toEqual([
        true,
        true,
        true,
        true,
        true,
        false,
        false,
        false,
      ]);
      expect([0.3, 0.7, 1.1, 0.35].map((step) => price.input({ amount: 1, step }))).toEqual([true, true, true, false]);
      expect([19.99, 0.07, 19.995].map((total) => price.output({ total }))).toEqual([true, true, false]);
    } finally {
      await own.remove();
    }
  });

  // scripts/generator/emit/types.ts: all tools' types share generated/types.ts; when two declared the
  // same name TypeScript merged the interfaces. TOOLS005 compares the names the generator gives (golden
  // case type-name-collision); json-schema-to-typescript also numbers a name it meets twice in one
  // schema (a `$ref` with a description is a copy: RInputAOutputB1), which the emitter checks.
  it("a type name json-schema-to-typescript numbers into another tool's is TOOLS005 at both tools", async () => {
    const toolsText = `tools:
${tool("r", ', $defs: {a.output.b: {type: object}}, properties: {home: {$ref: "#/$defs/a.output.b", description: Home}, work: {$ref: "#/$defs/a.output.b"}}')}  r.input.a:
    title: T
    description: D
    input: {type: object}
    output: {type: object, $defs: {b1: {type: string}}, properties: {v: {$ref: "#/$defs/b1"}}}
    securitySchemes: [{type: noauth}]
`;
    const result = await generate(project.root, { mode: "check", toolsText, env: OPTIONAL_ENV });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'tools.yaml:2:3: error TOOLS005: tool "r" and tool "r.input.a" both generate the type RInputAOutputB1: rename one',
      'tools.yaml:7:3: error TOOLS005: tool "r.input.a" and tool "r" both generate the type RInputAOutputB1: rename one',
    ]);
    expect(result.ok).toBe(false);
  });

  // scripts/generator/rules.ts TOOLS004: ajv's compile stops at the first problem, so a schema with two
  // mistakes showed only one; the user fixed it, ran again, and met the next. DESIGN §2 / STYLE 4:
  // "every error at once". Fixed: unknown keywords and formats are found by walking the schema.
  it("two problems in one tool schema are both reported", async () => {
    const printed = await lint(`tools:\n${tool("x", ", requried: [a], properties: {a: {type: string, format: dat}}")}`);
    expect(printed.filter((l) => l.includes("TOOLS004"))).toHaveLength(2);
  });
});
