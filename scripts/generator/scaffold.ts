import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { handlerPath } from "./emit/handlers.js";
import type { Model, ToolModel } from "./normalise.js";
import { deadLeftovers, fileSystem, inParallel, temporaryPattern } from "./output-dir.js";

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

/**
 * Handler files that would be created (missing) and handler files whose tool is gone (orphans). An
 * empty handler file counts as missing, and is among `empty` too: no one writes an empty handler,
 * but a run killed before link() existed left stubs created and never written. Only a file that
 * calls `defineHandler(` is a handler: another module beside them (a helper the handlers import)
 * is no orphan.
 */
export async function planHandlers(
  root: string,
  model: Model,
): Promise<{ missing: ToolModel[]; empty: ToolModel[]; orphans: string[] }> {
  const dir = join(root, "src", "handlers");
  const existing = new Set(await readdir(dir).catch(() => [] as string[]));
  const wanted = new Set(model.tools.map((t) => `${t.name}.ts`));
  const empty = new Set<ToolModel>();
  await inParallel(
    model.tools.filter((t) => existing.has(`${t.name}.ts`)),
    async (tool) => {
      const info = await stat(join(dir, `${tool.name}.ts`)).catch(() => undefined);
      if (info?.isFile() && info.size === 0) empty.add(tool);
    },
  );
  const orphans: string[] = [];
  await inParallel(
    [...existing].filter((f) => f.endsWith(".ts") && !wanted.has(f)),
    async (file) => {
      const text = await readFile(join(dir, file), "utf8").catch(() => "");
      if (/\bdefineHandler\s*\(/.test(text)) orphans.push(file);
    },
  );
  return {
    missing: model.tools.filter((t) => !existing.has(`${t.name}.ts`) || empty.has(t)),
    empty: model.tools.filter((t) => empty.has(t)),
    orphans: orphans.sort(),
  };
}

/**
 * HANDLER001 for each orphan. When this run has new stubs too (`created`, the tools whose handler is
 * missing), a tool was likely renamed: the warning then says to move the code into the new stub
 * rather than to delete it.
 */
export function orphanDiagnostics(
  orphans: string[],
  toolsFile: string,
  created: readonly ToolModel[] = [],
): Diagnostic[] {
  const stubs = created.map((t) => handlerPath(t.name));
  const renamed =
    created.length === 1
      ? `if the tool was renamed to "${created[0]!.name}", move this file's code into its stub ${stubs[0]} (with "${created[0]!.name}" in defineHandler) and delete this file; otherwise delete it or restore the tool`
      : `if the tool was renamed, move this file's code into the new tool's stub (${
          stubs.length <= 3 ? stubs.join(", ") : `one of the ${stubs.length} new stubs in src/handlers/`
        }, with its name in defineHandler) and delete this file; otherwise delete it or restore the tool`;
  return orphans.map((f) => ({
    file: `src/handlers/${f}`,
    line: 1,
    col: 1,
    severity: "warning",
    code: "HANDLER001",
    message: `no tool "${f.replace(/\.ts$/, "")}" in ${toolsFile}: this handler is kept, but no longer type-checks; ${
      created.length === 0 ? "delete it or restore the tool" : renamed
    }`,
  }));
}

/** link() fails so on file systems without hard links (FAT, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"]);

/**
 * Stage 6 — scaffold: create missing handler stubs (and src/handlers/ itself when absent), never
 * opening an existing file for writing. Each stub is written whole to a temporary sibling
 * (`.<tool>.ts.new-<pid>-<hex>`, no `.ts` at the end: TypeScript never sees it), then linked to its
 * name, which fails if the file appeared meanwhile: a kill at any moment leaves no half-written or
 * empty handler, and user code is never overwritten. Only an empty handler file (see planHandlers)
 * is replaced. Temporaries a killed run left are removed first. Each created path is pushed to
 * `created` as soon as it exists, so a failure halfway still tells what was written. Returns `created`.
 */
export async function scaffold(root: string, missing: ToolModel[], created: string[] = []): Promise<string[]> {
  const dir = join(root, "src", "handlers");
  for (const stale of await deadLeftovers(dir, temporaryPattern(".+\\.ts")))
    await rm(join(dir, stale[0]), { force: true }).catch(() => undefined); // tidying only
  if (missing.length > 0) await mkdir(dir, { recursive: true });
  await inParallel(missing, async (tool) => {
    const path = handlerPath(tool.name);
    const target = join(root, path);
    const temporary = join(dir, `.${tool.name}.ts.new-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      await fileSystem.writeFile(temporary, handlerStub(tool), { flag: "wx", mode: 0o644 });
      try {
        await link(temporary, target).catch((error: NodeJS.ErrnoException) => {
          if (!NO_HARD_LINKS.has(error.code ?? "")) throw error;
          // No hard links: an exclusive copy, which a kill can still interrupt halfway (the next run repairs an empty one).
          return copyFile(temporary, target, constants.COPYFILE_EXCL);
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        // Someone's file: left alone, unless it is empty (an interrupted run's stub).
        const info = await stat(target).catch(() => undefined);
        if (!info?.isFile() || info.size > 0) return;
        await rename(temporary, target);
      }
      created.push(path);
    } finally {
      await rm(temporary, { force: true });
    }
  });
  // Written in parallel: report them in tools.yaml order, as before.
  const order = new Map(missing.map((tool, i) => [handlerPath(tool.name), i]));
  created.sort((a, b) => (order.get(a) ?? -1) - (order.get(b) ?? -1));
  return created;
}
