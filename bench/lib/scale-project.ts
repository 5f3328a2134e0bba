/**
 * Temp toolgate projects with N tools shaped like a realistic one (the shipped `codebase.search`:
 * five input properties with bounds and defaults, a nested output schema, annotations, noauth +
 * oauth2 security), each with bounds of its own, for the scale part of the benchmark.
 */
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDocument } from "yaml";
import { forget, REPO, scratchDir } from "./proc.js";

/** The template: the repository's `codebase.search` entry, read from tools.yaml. */
async function templateTool(): Promise<Record<string, unknown>> {
  const doc = parseDocument(await readFile(join(REPO, "tools.yaml"), "utf8")).toJS() as {
    tools: Record<string, Record<string, unknown>>;
  };
  const tool = doc.tools["codebase.search"];
  if (!tool) throw new Error("tools.yaml has no codebase.search: the scale template needs it");
  return tool;
}

export const scaleToolName = (i: number, n: number) => `bench.tool_${String(i).padStart(String(n).length, "0")}`;

/** tools.yaml text with `n` tools (JSON is YAML: one flow document, parsed by the same loader). */
export async function scaleToolsYaml(n: number): Promise<string> {
  const template = await templateTool();
  const tools: Record<string, unknown> = {};
  for (let i = 1; i <= n; i++) {
    // Each tool gets bounds of its own, so no two schemas are alike (nothing can be shared or cached).
    const tool = structuredClone(template) as {
      input: { properties: { query: { maxLength: number } } };
      output?: { properties: { filesSearched?: Record<string, unknown> } };
    };
    tool.input.properties.query.maxLength = 1000 + i;
    if (tool.output) tool.output.properties.filesSearched = { type: "integer", minimum: 0, maximum: 1_000_000 + i };
    tools[scaleToolName(i, n)] = { ...tool, title: `Tool ${i}`, description: `${template.description} (${i})` };
  }
  const doc = { server: { name: `toolgate-scale-${n}`, title: `${n} tools` }, tools };
  return `# ${n} copies of codebase.search, written by bench/lib/scale-project.ts\n${JSON.stringify(doc, null, 1)}\n`;
}

/**
 * A temp project root (schema/, tools.yaml, auth.yaml, src/handlers/, src/toolgate.ts) ready for
 * `runGenerator`, under `parent` (default: the system temp folder). `runtime` is the path from the
 * project's src/ to the toolgate runtime's root, for the `ToolError` its handler stubs import.
 */
export async function createScaleProject(n: number, parent = tmpdir(), runtime = "../.."): Promise<string> {
  // Removed on exit while it is being filled; once returned, the caller decides (codegen registers it
  // again unless --keep, in the same turn of the event loop: no signal can come in between).
  const root = scratchDir(`toolgate-bench-scale-${n}-`, parent);
  await cp(join(REPO, "schema"), join(root, "schema"), { recursive: true });
  await writeFile(join(root, "tools.yaml"), await scaleToolsYaml(n));
  await writeFile(join(root, "auth.yaml"), await readFile(join(REPO, "auth.yaml"), "utf8"));
  await mkdir(join(root, "src", "handlers"), { recursive: true });
  await writeFile(
    join(root, "src", "toolgate.ts"),
    `export { defineHandler } from "../generated/define-handler.js";\nexport { ToolError } from "${runtime}/src/tools/errors.js";\n`,
  );
  forget(root);
  return root;
}
