/** Shared helpers of the generator tests: run the pipeline in a temporary root and read what it said. */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { type GeneratorOptions, type GeneratorResult, runGenerator } from "../../scripts/generator/pipeline.js";
import { formatDiagnostic } from "../../src/config/diagnostics.js";
import { listTree, REPO } from "../helpers/temp-project.js";

export const FIXTURES = join(REPO, "test", "fixtures", "generator");
export const GOLDEN = join(REPO, "test", "golden", "generator");

/** The files `generate` writes into generated/, sorted. */
export const GENERATED_FILES = [
  "auth-schema.ts",
  "define-handler.ts",
  "handlers.ts",
  "project.ts",
  "registry.ts",
  "schemas.ts",
  "tools-list.ts",
  "types.ts",
  // one module of validators per tool of the shipped tools.yaml
  "validators/CodebaseSearch.ts",
  "validators/DocsCreate.ts",
  "validators/LocalMemoryDelete.ts",
  "validators/LocalMemorySearch.ts",
  "validators/LocalMemoryStore.ts",
];

/**
 * The environment `.ci` gives the generator: none of auth.yaml's variables set, so every
 * placeholder takes its default (`mode` is then "optional", from `${AUTH_MODE:-optional}`).
 */
export const CI_ENV: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** The environment of the diagnostics fixtures that use the shipped auth.yaml: all tools reachable. */
export const OPTIONAL_ENV: Readonly<Record<string, string | undefined>> = Object.freeze({ AUTH_MODE: "optional" });

/** runGenerator with an explicit environment, never process.env (the developer's shell must not leak in). */
export function generate(root: string, options: Partial<GeneratorOptions> = {}): Promise<GeneratorResult> {
  return runGenerator({ root, mode: "write", env: CI_ENV, ...options });
}

/** What the CLI prints for the diagnostics: one `file:line:col: severity CODE: message` line each. */
export const printed = (result: GeneratorResult): string =>
  result.diagnostics.map((d) => `${formatDiagnostic(d)}\n`).join("");

export interface DiagnosticCase {
  name: string;
  tools: string;
  /** Only when the case has its own auth.yaml; otherwise the shipped one. */
  auth?: string;
  env: Record<string, string>;
}

/** Every case folder under test/fixtures/generator that holds a tools.yaml. */
export async function diagnosticCases(): Promise<DiagnosticCase[]> {
  const names = (await readdir(FIXTURES, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && existsSync(join(FIXTURES, e.name, "tools.yaml")))
    .map((e) => e.name)
    .sort();
  const read = (name: string, file: string) =>
    readFile(join(FIXTURES, name, file), "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
  return Promise.all(
    names.map(async (name): Promise<DiagnosticCase> => {
      const [tools, auth, env] = await Promise.all([
        read(name, "tools.yaml"),
        read(name, "auth.yaml"),
        read(name, "env.json"),
      ]);
      return {
        name,
        tools: tools!,
        ...(auth !== undefined ? { auth } : {}),
        env: env !== undefined ? JSON.parse(env) : { ...OPTIONAL_ENV },
      };
    }),
  );
}

/** Every file below `dir`, by relative path, as text. */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of await listTree(dir)) out.set(file, await readFile(join(dir, file), "utf8"));
  return out;
}

/** The variables auth.yaml reads (`${NAME}` / `${NAME:-…}`), so a child process can run without them, as CI does. */
export function withoutAuthVariables(authText: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const names = new Set([...authText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!));
  return Object.fromEntries(
    Object.entries(env).filter(([name]) => !names.has(name) && name !== "GITHUB_ACTIONS"),
  ) as NodeJS.ProcessEnv;
}
