/**
 * toolgate's generator CLI. Without --root it handles the project itself and every example project
 * (`examples/<name>/tools.yaml`); with --root DIR, that project only.
 *   npm run generate          write generated/ (and docs/configuration.md, docs/diagnostics.md, .env.example), create missing handler stubs
 *   npm run lint:schema       diagnostics only (--lint)
 *   npm run check:generated   compare what would be generated with what is on disk (--check); writes nothing
 *   npm run generate -- --explain CODE   what a diagnostic code means and how to fix it (docs/diagnostics.md)
 */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { explainDiagnosticCode, isDiagnosticCode } from "../src/config/diagnostic-codes.js";
import { formatDiagnostic, formatGithubAnnotation } from "../src/config/diagnostics.js";
import { describeDrift, type GeneratorMode, projectPrefix, runGenerator } from "./generator/pipeline.js";

const USAGE = `usage: npm run generate [-- --root DIR]      check tools.yaml and auth.yaml, write generated/ and stubs
       npm run lint:schema [-- --root DIR]   the checks only (--lint)
       npm run check:generated [-- --root DIR]   whether generated/ and the stubs are up to date (--check)
       npm run generate -- --explain CODE   what a diagnostic code (TOOLS004, AUTH005…) means and how to fix it
  --root DIR  one project folder (tools.yaml, auth.yaml, generated/, src/handlers/); default: this
              project and every examples/<name>/ holding a tools.yaml`;

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        check: { type: "boolean" },
        lint: { type: "boolean" },
        root: { type: "string" },
        explain: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    // A mistyped option is one line, not a stack (nor parseArgs' three-line hint for `--explain --check`).
    console.error(
      `generate: ${(error as Error).message.split("\n")[0]} (options: --check, --lint, --root DIR, --explain CODE, --help)`,
    );
    process.exit(2);
  }
})();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (values.explain !== undefined) {
  const code = values.explain.trim().toUpperCase();
  if (!isDiagnosticCode(code)) {
    console.error(
      `generate: no diagnostic code ${JSON.stringify(values.explain)}; every code is in docs/diagnostics.md`,
    );
    process.exit(2);
  }
  console.log(explainDiagnosticCode(code));
  process.exit(0);
}
const mode: GeneratorMode = values.check ? "check" : values.lint ? "lint" : "write";
const toolgateRoot = fileURLToPath(new URL("..", import.meta.url));
const examples = join(toolgateRoot, "examples");
const roots = values.root
  ? [resolve(values.root)]
  : [
      toolgateRoot,
      ...(existsSync(examples) ? readdirSync(examples) : [])
        .sort()
        .map((name) => join(examples, name))
        .filter((dir) => existsSync(join(dir, "tools.yaml"))),
    ];

let failed = false;
let reported = false;
for (const root of roots) {
  const self = resolve(root) === resolve(toolgateRoot);
  const where = projectPrefix(toolgateRoot, root);
  const result = await runGenerator({ root, mode, toolgateRoot, configurationDocs: self });
  for (const note of result.recovered ?? []) console.error(`${where}${note}`);
  for (const warning of result.warnings ?? []) console.error(`${where}warning: ${warning}`);
  for (const d of result.diagnostics) {
    const shown = { ...d, file: `${where}${d.file}` };
    console.error(formatDiagnostic(shown));
    if (process.env.GITHUB_ACTIONS) console.error(formatGithubAnnotation(shown));
    reported = true;
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = result.diagnostics.length - errors;
  if (errors > 0) {
    const written = result.written?.length ? `only ${result.written.join(", ")} was written` : "nothing was written";
    console.error(`\n${where || "./"}: ${errors} error(s), ${warnings} warning(s); ${written}.`);
    failed = true;
    continue;
  }
  if (mode === "check") {
    const lines = describeDrift(result);
    if (lines.length > 0) {
      for (const l of lines) console.error(`${where}${l}`);
      console.error(
        `\nGenerated code does not match ${where}tools.yaml/auth.yaml: run \`npm run generate\` and commit the result.`,
      );
      failed = true;
      continue;
    }
    console.error(`${where}generated/ is up to date (${result.files?.size ?? 0} files).`);
    for (const f of result.docs?.keys() ?? []) console.error(`${where}${f} is up to date.`);
  } else if (mode === "lint") {
    console.error(`${where}tools.yaml and auth.yaml: no errors${warnings ? `, ${warnings} warning(s)` : ""}.`);
  } else {
    const same = new Set(result.unchanged ?? []);
    const files = `(${result.files?.size ?? 0} files)`;
    console.error(
      same.has("generated/") ? `${where}generated/ is up to date ${files}` : `wrote ${where}generated/ ${files}`,
    );
    for (const f of result.docs?.keys() ?? [])
      console.error(same.has(f) ? `${where}${f} is up to date` : `wrote ${where}${f}`);
    for (const f of result.handlers) console.error(`created ${where}${f}`);
  }
}
if (reported) console.error("Each code is explained in docs/diagnostics.md (npm run generate -- --explain CODE).");
process.exit(failed ? 1 : 0);
