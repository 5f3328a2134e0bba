/**
 * Handlers are user-owned: generate creates a missing src/handlers/<tool>.ts once, never opens an
 * existing one for writing, and reports (never deletes) the handler of a removed tool (HANDLER001).
 */
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatDiagnostic } from "../../src/config/diagnostics.js";
import { createTempProject, fingerprint, listTree, readRepoFile, type TempProject } from "../helpers/temp-project.js";
import { generate } from "./harness.js";

const CUSTOM = `import { defineHandler } from "../toolgate.js";

// Hand-written: the generator must never touch this file.
export default defineHandler("docs.create", async (input) => ({ path: \`\${input.title}.md\`, created: true }));
`;
const OLD = new Date("2001-02-03T04:05:06Z");

let project: TempProject;
const handler = (tool: string) => join(project.root, "src", "handlers", `${tool}.ts`);

beforeEach(async () => {
  project = await createTempProject();
  await project.write("src/handlers/docs.create.ts", CUSTOM);
  await utimes(handler("docs.create"), OLD, OLD);
});
afterEach(() => project.remove());

/** The shipped tools.yaml without one tool's block. */
async function toolsWithout(tool: string): Promise<string> {
  const text = await readRepoFile("tools.yaml");
  const start = text.indexOf(`\n  ${tool}:\n`);
  const next = text.slice(start + 1).search(/\n {2}[A-Za-z0-9_.-]+:\n/);
  expect(start).toBeGreaterThan(0);
  return next < 0 ? text.slice(0, start + 1) : text.slice(0, start) + text.slice(start + 1 + next);
}

describe("handlers are user-owned", () => {
  it("never touches an existing handler and creates the missing ones as stubs", async () => {
    const before = await fingerprint(handler("docs.create"));
    const result = await generate(project.root);
    expect(result.ok).toBe(true);
    expect(await fingerprint(handler("docs.create"))).toEqual(before);
    expect(result.handlers).toEqual([
      "src/handlers/codebase.search.ts",
      "src/handlers/local_memory_store.ts",
      "src/handlers/local_memory_search.ts",
      "src/handlers/local_memory_delete.ts",
    ]);
    const stub = await project.read("src/handlers/local_memory_delete.ts");
    expect(stub).toContain('import { defineHandler, ToolError } from "../toolgate.js";');
    expect(stub).toContain('export default defineHandler("local_memory_delete", async (input, ctx) => {');
    expect(stub).toContain('throw new ToolError("not implemented: local_memory_delete");');
    expect(stub).toContain("Declared in tools.yaml#/tools/local_memory_delete.");
    // each stub says how its ctx.auth is typed
    expect(await project.read("src/handlers/codebase.search.ts")).toContain("undefined for anonymous callers");
    expect(stub).toContain("ctx.auth is the signed-in caller");
  });

  it("leaves stubs alone on the next run too (user edits survive)", async () => {
    await generate(project.root);
    await project.write("src/handlers/codebase.search.ts", "// edited\n");
    await utimes(handler("codebase.search"), OLD, OLD);
    const edited = await fingerprint(handler("codebase.search"));
    const stubs = await Promise.all(["local_memory_store", "local_memory_search"].map((t) => fingerprint(handler(t))));
    const again = await generate(project.root);
    expect(again.ok).toBe(true);
    expect(again.handlers).toEqual([]);
    expect(await fingerprint(handler("codebase.search"))).toEqual(edited);
    expect(
      await Promise.all(["local_memory_store", "local_memory_search"].map((t) => fingerprint(handler(t)))),
    ).toEqual(stubs);
  });

  it("reports the handler of a removed tool (HANDLER001) and keeps it", async () => {
    await generate(project.root);
    const before = await fingerprint(handler("docs.create"));
    const result = await generate(project.root, { toolsText: await toolsWithout("docs.create") });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map(formatDiagnostic)).toEqual([
      'src/handlers/docs.create.ts:1:1: warning HANDLER001: no tool "docs.create" in tools.yaml: this handler is kept, but no longer type-checks; delete it or restore the tool',
    ]);
    expect(await fingerprint(handler("docs.create"))).toEqual(before);
    expect(await project.read("generated/registry.ts")).not.toContain('"docs.create"');
    // lint and check report it too
    for (const mode of ["lint", "check"] as const) {
      const other = await generate(project.root, { mode, toolsText: await toolsWithout("docs.create") });
      expect(other.diagnostics.map((d) => d.code)).toEqual(["HANDLER001"]);
    }
  });

  it("does not count files other than .ts as handlers", async () => {
    await project.write("src/handlers/README.md", "notes\n");
    const result = await generate(project.root);
    expect(result.diagnostics).toEqual([]);
    expect(await listTree(join(project.root, "src", "handlers"))).toContain("README.md");
  });

  it("writes nothing in src/ when there are errors", async () => {
    const before = await listTree(join(project.root, "src"));
    const result = await generate(project.root, { toolsText: "tools:\n  new.tool: {}\n" });
    expect(result.ok).toBe(false);
    expect(await listTree(join(project.root, "src"))).toEqual(before);
    expect(await listTree(join(project.root, "generated"))).toEqual([]);
  });
});
