import { constants } from "node:fs";
import { mkdir, open, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { handlerPath } from "./emit/handlers.js";
import type { Model, ToolModel } from "./normalise.js";
import { inParallel } from "./output-dir.js";

/** The stub a new tool's handler starts as: it compiles, and answers a clear "not implemented" until filled in. */
export function handlerStub(tool: ToolModel): string {
  const ctx =
    tool.auth === "none"
      ? "ctx.log is a logger bound to this request; ctx.signal aborts with it."
      : tool.auth === "optional"
        ? "ctx.auth is the caller when one signed in (undefined for anonymous callers)."
        : "ctx.auth is the signed-in caller (subject, userId, scopes, ...).";
  return `import { defineHandler, ToolError } from "../toolgate.js";

/**
 * ${tool.name} — ${tool.title.replace(/\*\//g, "* /")}
 * Declared in ${tool.source}. This file is yours: \`npm run generate\` created it and never touches it again.
 * \`input\` is already validated against the tool's input schema. ${ctx}
 */
export default defineHandler(${JSON.stringify(tool.name)}, async (input, ctx) => {
  void input;
  void ctx;
  throw new ToolError(${JSON.stringify(`not implemented: ${tool.name}`)});
});
`;
}

/** Handler files that would be created (missing) and handler files whose tool is gone (orphans). */
export async function planHandlers(root: string, model: Model): Promise<{ missing: ToolModel[]; orphans: string[] }> {
  const dir = join(root, "src", "handlers");
  const existing = new Set(await readdir(dir).catch(() => [] as string[]));
  const wanted = new Set(model.tools.map((t) => `${t.name}.ts`));
  return {
    missing: model.tools.filter((t) => !existing.has(`${t.name}.ts`)),
    orphans: [...existing].filter((f) => f.endsWith(".ts") && !wanted.has(f)).sort(),
  };
}

export function orphanDiagnostics(orphans: string[], toolsFile: string): Diagnostic[] {
  return orphans.map((f) => ({
    file: `src/handlers/${f}`,
    line: 1,
    col: 1,
    severity: "warning",
    code: "HANDLER001",
    message: `no tool "${f.replace(/\.ts$/, "")}" in ${toolsFile}: this handler is kept, but no longer type-checks; delete it or restore the tool`,
  }));
}

/**
 * Stage 6 — scaffold: create missing handler stubs (and src/handlers/ itself when absent), never
 * opening an existing file for writing. Each created path is pushed to `created` as soon as it
 * exists, so a failure halfway still tells what was written. Returns `created`.
 */
export async function scaffold(root: string, missing: ToolModel[], created: string[] = []): Promise<string[]> {
  if (missing.length > 0) await mkdir(join(root, "src", "handlers"), { recursive: true });
  await inParallel(missing, async (tool) => {
    const path = handlerPath(tool.name);
    try {
      // O_EXCL: fails if the file appeared meanwhile, so user code is never overwritten.
      const file = await open(join(root, path), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      created.push(path);
      try {
        await file.writeFile(handlerStub(tool));
      } finally {
        await file.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  });
  // Written in parallel: report them in tools.yaml order, as before.
  const order = new Map(missing.map((tool, i) => [handlerPath(tool.name), i]));
  created.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
  return created;
}
