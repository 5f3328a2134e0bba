/**
 * Handlers are user-owned: generate creates a missing src/handlers/<tool>.ts once, never opens an
 * existing one for writing, and reports (never deletes) the handler of a removed tool (HANDLER001).
 */
import { readdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fileSystem } from "../../scripts/generator/output-dir.js";
import { describeDrift } from "../../scripts/generator/pipeline.js";
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
afterEach(async () => {
  vi.restoreAllMocks();
  await project.remove();
});

/** A pid no process has, as the temporaries of a killed run carry. */
const DEAD = 2147483646;

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

  it("does not count a module that defines no handler (a helper the handlers import) as an orphan", async () => {
    await project.write("src/handlers/util.ts", "export const clamp = (n: number, max: number) => Math.min(n, max);\n");
    await project.write("src/handlers/types.ts", "export type Page = { n: number };\n");
    const result = await generate(project.root);
    expect(result.diagnostics).toEqual([]);
    expect(result.ok).toBe(true);
    // a renamed tool's file is still one (it calls defineHandler), and so is one with a space before the parenthesis
    await project.write("src/handlers/gone.ts", CUSTOM.replace('defineHandler("docs.create"', 'defineHandler ("gone"'));
    expect((await generate(project.root)).diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual([
      "src/handlers/gone.ts HANDLER001",
    ]);
  });

  it("when a tool was renamed (an orphan and a new stub in one run), says to move the code into the new stub", async () => {
    await generate(project.root);
    const renamed = (await readRepoFile("tools.yaml")).replace("\n  docs.create:\n", "\n  docs.write_new:\n");
    expect(renamed).toContain("docs.write_new");
    const expected = [
      'src/handlers/docs.create.ts:1:1: warning HANDLER001: no tool "docs.create" in tools.yaml: this handler is kept, but no longer type-checks; if the tool was renamed to "docs.write_new", move this file\'s code into its stub src/handlers/docs.write_new.ts (with "docs.write_new" in defineHandler) and delete this file; otherwise delete it or restore the tool',
    ];
    const check = await generate(project.root, { mode: "check", toolsText: renamed });
    expect(check.diagnostics.map(formatDiagnostic)).toEqual(expected);
    const result = await generate(project.root, { toolsText: renamed });
    expect(result.diagnostics.map(formatDiagnostic)).toEqual(expected);
    expect(result.handlers).toEqual(["src/handlers/docs.write_new.ts"]);
    expect(await project.read("src/handlers/docs.create.ts")).toBe(CUSTOM);
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

describe("a run killed or failing while it creates stubs", () => {
  it("an empty handler file (a stub created, never written) is missing to check mode, and generate replaces it", async () => {
    await generate(project.root);
    await project.write("src/handlers/local_memory_store.ts", "");
    const check = await generate(project.root, { mode: "check" });
    expect(check.ok).toBe(false);
    expect(check.handlers).toEqual(["src/handlers/local_memory_store.ts"]);
    expect(describeDrift(check)).toEqual([
      "src/handlers/local_memory_store.ts is empty (left by an interrupted run; generate replaces it with its stub)",
    ]);
    const result = await generate(project.root);
    expect(result.ok).toBe(true);
    expect(result.handlers).toEqual(["src/handlers/local_memory_store.ts"]);
    expect(await project.read("src/handlers/local_memory_store.ts")).toContain(
      'export default defineHandler("local_memory_store"',
    );
    expect((await generate(project.root, { mode: "check" })).ok).toBe(true);
  });

  it("a stub whose write fails leaves no file at its path (not an empty one), and the next run creates it", async () => {
    const write = fileSystem.writeFile;
    vi.spyOn(fileSystem, "writeFile").mockImplementation(async (path, data, options) => {
      if (!String(path).includes("local_memory_delete")) return write(path, data, options);
      await write(path, String(data).slice(0, 40), options);
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: "ENOSPC" });
    });
    const failed = await generate(project.root);
    expect(failed.diagnostics.map((d) => d.code)).toEqual(["GEN000"]);
    const files = await readdir(join(project.root, "src", "handlers"));
    expect(files).not.toContain("local_memory_delete.ts");
    expect(files.filter((f) => f.startsWith("."))).toEqual([]);
    vi.restoreAllMocks();
    const again = await generate(project.root);
    expect(again.handlers).toContain("src/handlers/local_memory_delete.ts");
    expect(await project.read("src/handlers/local_memory_delete.ts")).toContain("not implemented: local_memory_delete");
  });

  it("removes the stub temporaries of a dead process, not those of a running one", async () => {
    const stale = `.local_memory_delete.ts.new-${DEAD}-0badcafe`;
    const live = `.local_memory_delete.ts.new-${process.ppid}-1234abcd`;
    for (const name of [stale, live]) await writeFile(join(project.root, "src", "handlers", name), "export default");
    expect((await generate(project.root)).ok).toBe(true);
    const files = await readdir(join(project.root, "src", "handlers"));
    expect(files).toContain(live);
    expect(files).not.toContain(stale);
  });
});
