import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { type SchemaError, schemaErrorsToDiagnostics } from "../../src/config/schema-diagnostics.js";
import type { LoadedSources } from "./load.js";

export interface FileSchemas {
  tools: object;
  auth: object;
}

/** Options shared by every ajv instance that checks toolgate's own files. */
export const CONFIG_AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  verbose: true,
  discriminator: true,
  allowUnionTypes: true,
} as const;

/** Stage 2 — validate: both files against schema/*.schema.json (ajv 2020, strict, every error). */
export function validate(sources: LoadedSources, schemas: FileSchemas): Diagnostic[] {
  const ajv = new Ajv2020(CONFIG_AJV_OPTIONS);
  addFormats.default(ajv);
  const out: Diagnostic[] = [];
  for (const [source, schema] of [
    [sources.tools, schemas.tools],
    [sources.auth, schemas.auth],
  ] as const) {
    if (source.value === undefined) continue;
    const check = ajv.compile(schema);
    if (!check(source.value)) out.push(...schemaErrorsToDiagnostics(source, (check.errors ?? []) as SchemaError[]));
  }
  return out;
}
