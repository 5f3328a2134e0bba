import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type Diagnostic, hasErrors, sortDiagnostics } from "../../src/config/diagnostics.js";
import { emitHandlerMap } from "./emit/handlers.js";
import { emitRegistry, emitToolsList } from "./emit/registry.js";
import { emitTypes } from "./emit/types.js";
import { emitAuthValidator, emitStandardSchemas, emitToolValidators } from "./emit/validators.js";
import { load } from "./load.js";
import { type Model, normalise } from "./normalise.js";
import { compareWithDisk, type Drift, type RenderedFiles, replaceDirectory } from "./output-dir.js";
import { checkRules } from "./rules.js";
import { orphanDiagnostics, planHandlers, scaffold } from "./scaffold.js";
import { validate } from "./validate.js";

export type GeneratorMode = "write" | "check" | "lint";

export interface GeneratorOptions {
  /** The project root (holds tools.yaml, auth.yaml, schema/, generated/, src/handlers/). */
  root: string;
  mode: GeneratorMode;
  env?: Readonly<Record<string, string | undefined>>;
  /** Override file contents (tests); otherwise read from `root`. */
  toolsText?: string;
  authText?: string;
  toolsFile?: string;
  authFile?: string;
  /** Where generated files go, relative to root. Default `generated`. */
  outDir?: string;
}

export interface GeneratorResult {
  ok: boolean;
  diagnostics: Diagnostic[];
  files?: RenderedFiles;
  drift?: Drift;
  /** Handler stubs created (write) or missing (check). */
  handlers: string[];
}

/** Stage 5 — emit: every generated file, rendered in memory from the one model. */
export async function render(model: Model, authSchema: object): Promise<RenderedFiles> {
  return new Map([
    ["types.ts", await emitTypes(model)],
    ["registry.ts", emitRegistry(model)],
    ["tools-list.ts", emitToolsList(model)],
    ["validators.ts", emitToolValidators(model)],
    ["schemas.ts", emitStandardSchemas(model)],
    ["handlers.ts", emitHandlerMap(model)],
    ["auth-schema.ts", emitAuthValidator(model, authSchema)],
  ]);
}

/**
 * load → validate → rules → normalise → emit → scaffold. Writes nothing unless every check passed
 * and mode is "write". Never throws: an unexpected failure becomes diagnostic GEN000.
 */
export async function runGenerator(options: GeneratorOptions): Promise<GeneratorResult> {
  const diagnostics: Diagnostic[] = [];
  const finish = (extra: Partial<GeneratorResult> = {}): GeneratorResult => {
    const sorted = sortDiagnostics(diagnostics);
    return { ok: !hasErrors(sorted) && !driftFound(extra.drift), diagnostics: sorted, handlers: [], ...extra };
  };
  try {
    const toolsFile = options.toolsFile ?? "tools.yaml";
    const authFile = options.authFile ?? "auth.yaml";
    const read = (file: string) => readFile(join(options.root, file), "utf8");
    const [toolsText, authText, toolsSchema, authSchema] = await Promise.all([
      options.toolsText ?? read(toolsFile),
      options.authText ?? read(authFile),
      read("schema/tools.schema.json").then(JSON.parse),
      read("schema/auth.schema.json").then(JSON.parse),
    ]);
    const sources = load({ toolsFile, toolsText, authFile, authText, env: options.env ?? process.env });
    diagnostics.push(...sources.diagnostics);
    diagnostics.push(...validate(sources, { tools: toolsSchema, auth: authSchema }));
    diagnostics.push(...checkRules(sources));
    if (hasErrors(diagnostics) || sources.tools.value === undefined || sources.auth.value === undefined)
      return finish();

    const model = normalise(sources);
    const plan = await planHandlers(options.root, model);
    diagnostics.push(...orphanDiagnostics(plan.orphans, toolsFile));
    if (options.mode === "lint") return finish();

    const files = await render(model, authSchema);
    const outDir = join(options.root, options.outDir ?? "generated");
    if (options.mode === "check") {
      const drift = await compareWithDisk(outDir, files);
      return finish({ files, drift, handlers: plan.missing.map((t) => `src/handlers/${t.name}.ts`) });
    }
    await replaceDirectory(outDir, files);
    const created = await scaffold(options.root, plan.missing);
    return finish({ files, handlers: created });
  } catch (error) {
    diagnostics.push({
      file: options.toolsFile ?? "tools.yaml",
      line: 1,
      col: 1,
      severity: "error",
      code: "GEN000",
      message: `the generator failed unexpectedly (nothing was written): ${(error as Error).message?.split("\n")[0] ?? String(error)}`,
    });
    return finish();
  }
}

function driftFound(drift: Drift | undefined): boolean {
  return !!drift && drift.stale.length + drift.missing.length + drift.extra.length > 0;
}
