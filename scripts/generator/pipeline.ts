import { readFile } from "node:fs/promises";
import defaultPath, { join, type PlatformPath, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type Diagnostic, hasErrors, sortDiagnostics } from "../../src/config/diagnostics.js";
import { CONFIGURATION_DOCS, type ConfigurationSources, emitConfigurationDocs } from "./emit/configuration-docs.js";
import { DIAGNOSTICS_DOCS, emitDiagnosticsDocs } from "./emit/diagnostics-docs.js";
import { ENV_EXAMPLE, emitEnvExample } from "./emit/env-example.js";
import { emitDefineHandler, emitHandlerMap, emitProject, handlerPath } from "./emit/handlers.js";
import { emitRegistry, emitToolsList } from "./emit/registry.js";
import { emitTypes, ToolSchemaError } from "./emit/types.js";
import { emitAuthValidator, emitStandardSchemas, emitToolValidators } from "./emit/validators.js";
import { ENVIRONMENT_FILE, loadEnvironment } from "./environment.js";
import { checkAuthSettings, load } from "./load.js";
import { type Model, normalise } from "./normalise.js";
import {
  compareFiles,
  compareWithDisk,
  type Drift,
  outputFolderProblem,
  type RenderedFiles,
  recoverDirectory,
  replaceDirectory,
  tidyFileLeftovers,
  writeFileAtomic,
} from "./output-dir.js";
import { CompiledToolSchemas, checkRules } from "./rules.js";
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
  /** The toolgate checkout whose schema/ and runtime (src/) the project uses. Default: `root`. */
  toolgateRoot?: string;
  /** Write docs/configuration.md, docs/diagnostics.md and .env.example (the toolgate project itself). Default: true. */
  configurationDocs?: boolean;
}

export interface GeneratorResult {
  /** No error, and in check mode no drift and no missing handler stub. */
  ok: boolean;
  diagnostics: Diagnostic[];
  /** The files of generated/, by path relative to it. */
  files?: RenderedFiles;
  /** Check mode: how generated/ differs from `files`. */
  drift?: Drift;
  /** Rendered files outside generated/ (docs/configuration.md, docs/diagnostics.md, .env.example), by path relative to the root. */
  docs?: RenderedFiles;
  /** Check mode: which of `docs` are stale or missing on disk. */
  docsDrift?: Omit<Drift, "extra">;
  /** Handler stubs created (write) or missing (check); an empty handler file counts as missing. */
  handlers: string[];
  /** Check mode: which of `handlers` exist but are empty (a run was killed while creating them). */
  emptyHandlers?: string[];
  /** Only with GEN000: what had been written before the failure. */
  written?: string[];
  /** Write mode: what an interrupted earlier run had left beside generated/ and was tidied (recoverDirectory). */
  recovered?: string[];
  /** Write mode: what this run could not tidy (a leftover of an earlier run, the previous generated/); not errors. */
  warnings?: string[];
  /** Write mode: what was already as rendered and left untouched (`generated/`, docs/configuration.md, docs/diagnostics.md, .env.example). */
  unchanged?: string[];
}

/** Stage 5 — emit: every generated file, rendered in memory from the one model. */
export async function render(model: Model, authSchema: object, compiled?: CompiledToolSchemas): Promise<RenderedFiles> {
  return new Map([
    ["types.ts", await emitTypes(model)],
    ["registry.ts", emitRegistry(model)],
    ["tools-list.ts", emitToolsList(model)],
    ...emitToolValidators(model, compiled),
    ["schemas.ts", emitStandardSchemas(model)],
    ["handlers.ts", emitHandlerMap(model)],
    ["define-handler.ts", emitDefineHandler(model)],
    ["project.ts", emitProject(model)],
    ["auth-schema.ts", emitAuthValidator(model, authSchema)],
  ]);
}

/** Stage 5 — emit, for the files outside generated/: the configuration and diagnostics references and `.env.example`. */
export function renderDocs(sources: ConfigurationSources): RenderedFiles {
  return new Map([
    [CONFIGURATION_DOCS, emitConfigurationDocs(sources)],
    [DIAGNOSTICS_DOCS, emitDiagnosticsDocs()],
    [ENV_EXAMPLE, emitEnvExample(sources.environment)],
  ]);
}

/**
 * load → validate → rules → normalise → emit → scaffold. Writes nothing unless every check passed
 * and mode is "write"; then generated/ (swapped in whole), docs/configuration.md, docs/diagnostics.md and .env.example (each atomically) and
 * missing handler stubs, in that order. Never throws: an unexpected failure becomes diagnostic
 * GEN000, which says what had been written by then and holds no absolute path.
 */
export async function runGenerator(options: GeneratorOptions): Promise<GeneratorResult> {
  const diagnostics: Diagnostic[] = [];
  const written: string[] = [];
  const recovered: string[] = [];
  const warnings: string[] = [];
  const finish = (extra: Partial<GeneratorResult> = {}): GeneratorResult => {
    const sorted = sortDiagnostics(diagnostics);
    const drifted =
      driftFound(extra.drift) ||
      driftFound(extra.docsDrift) ||
      (options.mode === "check" && (extra.handlers?.length ?? 0) > 0);
    return {
      ok: !hasErrors(sorted) && !drifted,
      diagnostics: sorted,
      handlers: [],
      ...(recovered.length > 0 ? { recovered } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
      ...extra,
    };
  };
  try {
    const outDirName = options.outDir ?? "generated";
    const outDirProblem =
      options.mode === "lint" ? undefined : await outputFolderProblem(join(options.root, outDirName));
    if (outDirProblem)
      diagnostics.push({
        file: outDirName,
        line: 1,
        col: 1,
        severity: "error",
        code: "GEN001",
        message: outDirProblem,
      });
    // First, even when the YAML turns out to have errors: a run killed mid-swap left no generated/.
    // Not beside a generated/ that is no folder: a dangling link would be replaced.
    if (options.mode === "write" && !outDirProblem) {
      const tidied = await recoverDirectory(join(options.root, options.outDir ?? "generated"));
      recovered.push(...tidied.recovered);
      warnings.push(...tidied.warnings);
    }
    const toolsFile = options.toolsFile ?? "tools.yaml";
    const authFile = options.authFile ?? "auth.yaml";
    const toolgateRoot = options.toolgateRoot ?? options.root;
    const read = (file: string) => readFile(join(options.root, file), "utf8");
    const readToolgate = (file: string) => readFile(join(toolgateRoot, file), "utf8");
    const [toolsText, authText, toolsSchema, authSchema, environmentText] = await Promise.all([
      options.toolsText ?? read(toolsFile),
      options.authText ?? read(authFile),
      readToolgate("schema/tools.schema.json").then(JSON.parse),
      readToolgate("schema/auth.schema.json").then(JSON.parse),
      readToolgate(ENVIRONMENT_FILE),
    ]);
    const sources = load({ toolsFile, toolsText, authFile, authText, env: options.env ?? process.env, authSchema });
    const environment = loadEnvironment(environmentText);
    diagnostics.push(...sources.diagnostics, ...environment.diagnostics);
    diagnostics.push(...validate(sources, { tools: toolsSchema, auth: authSchema }));
    diagnostics.push(...checkAuthSettings(sources, diagnostics));
    const compiled = new CompiledToolSchemas();
    diagnostics.push(...checkRules(sources, compiled));
    if (
      hasErrors(diagnostics) ||
      sources.tools.value === undefined ||
      sources.auth.value === undefined ||
      environment.value === undefined
    )
      return finish();

    const model = normalise(sources, runtimeSpecifier(join(options.root, outDirName), toolgateRoot));
    const plan = await planHandlers(options.root, model);
    diagnostics.push(...orphanDiagnostics(plan.orphans, toolsFile, plan.missing));
    if (options.mode === "lint") return finish();

    let files: RenderedFiles;
    try {
      files = await render(model, authSchema, compiled);
    } catch (error) {
      if (!(error instanceof ToolSchemaError)) throw error;
      // What only emitting found (a type name json-schema-to-typescript numbered into a clash…): at its place.
      for (const p of error.problems)
        diagnostics.push({
          file: sources.tools.file,
          ...sources.tools.locate(p.path, { key: p.key ?? false }),
          severity: "error",
          code: p.code,
          message: p.message,
        });
      return finish();
    }
    const docs: RenderedFiles =
      options.configurationDocs === false
        ? new Map()
        : renderDocs({ toolsSchema, authSchema, environment: environment.value });
    const outDir = join(options.root, options.outDir ?? "generated");
    if (options.mode === "check") {
      const drift = await compareWithDisk(outDir, files);
      const docsDrift = await compareFiles(options.root, docs);
      return finish({
        files,
        drift,
        docs,
        docsDrift,
        handlers: plan.missing.map((t) => handlerPath(t.name)),
        ...(plan.empty.length > 0 ? { emptyHandlers: plan.empty.map((t) => handlerPath(t.name)) } : {}),
      });
    }
    // What is on disk already, byte for byte (line ends aside), is left as it is: said "up to date",
    // not "wrote" (a run that changed nothing touched generated/ and every example project).
    const unchanged: string[] = [];
    if (driftFound(await compareWithDisk(outDir, files))) {
      warnings.push(...(await replaceDirectory(outDir, files)));
      written.push(`${options.outDir ?? "generated"}/`);
    } else unchanged.push(`${options.outDir ?? "generated"}/`);
    const docsDrift = await compareFiles(options.root, docs);
    for (const [name, content] of docs) {
      if (!docsDrift.stale.includes(name) && !docsDrift.missing.includes(name)) {
        await tidyFileLeftovers(join(options.root, name));
        unchanged.push(name);
        continue;
      }
      await writeFileAtomic(join(options.root, name), content);
      written.push(name);
    }
    const created: string[] = [];
    await scaffold(options.root, plan.missing, created).finally(() => written.push(...created));
    return finish({ files, docs, handlers: created, unchanged });
  } catch (error) {
    const reason = withoutAbsolutePaths((error as Error)?.message?.split("\n")[0] ?? String(error), options.root);
    diagnostics.push({
      file: options.toolsFile ?? "tools.yaml",
      line: 1,
      col: 1,
      severity: "error",
      code: "GEN000",
      message:
        written.length === 0
          ? `the generator failed unexpectedly (nothing was written): ${reason}`
          : `the generator failed unexpectedly after writing ${written.join(", ")} (the rest was not written): ${reason}`,
    });
    return finish(written.length > 0 ? { written } : {});
  }
}

/**
 * How generated code in `outDir` imports the toolgate runtime at `toolgateRoot`: by a relative path
 * with `/`, so a project may live anywhere inside a checkout; by a file: URL when there is none (on
 * Windows, another drive: path.relative gives an absolute path, `D:\toolgate`, which ESM refuses).
 * `path` is the platform's path module (path.win32 in tests).
 */
export function runtimeSpecifier(outDir: string, toolgateRoot: string, path: PlatformPath = defaultPath): string {
  const relative = path.relative(outDir, toolgateRoot);
  if (path.isAbsolute(relative)) return pathToFileURL(toolgateRoot, { windows: path.sep === "\\" }).href;
  return relative.split(path.sep).join("/") || ".";
}

/**
 * What the CLI puts before a project's file names: nothing for toolgate itself, otherwise the
 * project's folder relative to toolgate's, with `/` on every platform (`examples/conformance/`).
 */
export function projectPrefix(toolgateRoot: string, root: string, path: PlatformPath = defaultPath): string {
  const relative = path.relative(toolgateRoot, root);
  return relative === "" ? "" : `${relative.split(path.sep).join("/")}/`;
}

/**
 * What check mode found, one line per file, each naming the fix where the file alone needs one:
 * what the CLI prints before failing. Empty when everything is up to date.
 */
export function describeDrift(result: GeneratorResult): string[] {
  const { stale = [], missing = [], extra = [] } = result.drift ?? {};
  const docs = result.docsDrift ?? { stale: [], missing: [] };
  return [
    ...stale.map((f) => `generated/${f} is stale`),
    ...missing.map((f) => `generated/${f} is missing`),
    ...extra.map((f) => `generated/${f} should not exist`),
    ...docs.stale.map((f) => `${f} is stale — run \`npm run generate\` and commit`),
    ...docs.missing.map((f) => `${f} is missing — run \`npm run generate\` and commit`),
    ...result.handlers.map((f) =>
      result.emptyHandlers?.includes(f)
        ? `${f} is empty (left by an interrupted run; generate replaces it with its stub)`
        : `${f} is missing (its stub is created by generate)`,
    ),
  ];
}

function driftFound(drift: Partial<Drift> | undefined): boolean {
  return !!drift && (drift.stale?.length ?? 0) + (drift.missing?.length ?? 0) + (drift.extra?.length ?? 0) > 0;
}

/**
 * An error message with paths below `root` made relative and any other absolute path cut to its
 * last segment: diagnostics name files as the user sees them, and output stays the same wherever
 * the project lives.
 */
export function withoutAbsolutePaths(message: string, root: string): string {
  const base = resolve(root).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return message
    .replace(new RegExp(`${base}[\\\\/]`, "g"), "")
    .replace(new RegExp(`${base}(?=$|[\\s'"\`)])`, "g"), ".")
    .replace(
      /(^|[\s'"(`])((?:\/|[A-Za-z]:\\)(?:[^\s'"()`\\/]+[\\/])*([^\s'"()`\\/]+))/g,
      (_, lead: string, _path: string, last: string) => `${lead}…/${last}`,
    );
}
