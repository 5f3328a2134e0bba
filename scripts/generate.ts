/**
 * toolgate's generator CLI.
 *   npm run generate          write generated/ and docs/configuration.md, create missing handler stubs
 *   npm run lint:schema       diagnostics only (--lint)
 *   npm run check:generated   compare what would be generated with generated/ and docs/configuration.md
 *                             (--check); writes nothing
 */
import { fileURLToPath } from "node:url";
import { formatDiagnostic, formatGithubAnnotation } from "../src/config/diagnostics.js";
import { describeDrift, type GeneratorMode, runGenerator } from "./generator/pipeline.js";

const args = process.argv.slice(2);
const mode: GeneratorMode = args.includes("--check") ? "check" : args.includes("--lint") ? "lint" : "write";
const root = fileURLToPath(new URL("..", import.meta.url));
const result = await runGenerator({ root, mode });

for (const d of result.diagnostics) {
  console.error(formatDiagnostic(d));
  if (process.env.GITHUB_ACTIONS) console.error(formatGithubAnnotation(d));
}
const errors = result.diagnostics.filter((d) => d.severity === "error").length;
const warnings = result.diagnostics.length - errors;
if (errors > 0) {
  const written = result.written?.length ? `only ${result.written.join(", ")} was written` : "nothing was written";
  console.error(`\n${errors} error(s), ${warnings} warning(s); ${written}.`);
  process.exit(1);
}

if (mode === "check") {
  const lines = describeDrift(result);
  if (lines.length > 0) {
    for (const l of lines) console.error(l);
    console.error(
      "\nGenerated code does not match tools.yaml/auth.yaml: run `npm run generate` and commit the result.",
    );
    process.exit(1);
  }
  console.error(`generated/ is up to date (${result.files?.size ?? 0} files).`);
  for (const f of result.docs?.keys() ?? []) console.error(`${f} is up to date.`);
} else if (mode === "lint") {
  console.error(`tools.yaml and auth.yaml: no errors${warnings ? `, ${warnings} warning(s)` : ""}.`);
} else {
  console.error(`wrote generated/ (${result.files?.size ?? 0} files)`);
  for (const f of result.docs?.keys() ?? []) console.error(`wrote ${f}`);
  for (const f of result.handlers) console.error(`created ${f}`);
}
