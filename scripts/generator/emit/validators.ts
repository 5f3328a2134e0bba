import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import addFormats from "ajv-formats";
import { validatorModule } from "../identifiers.js";
import type { Model } from "../normalise.js";
import { CompiledToolSchemas, createToolValidatorAjv } from "../rules.js";
import { CONFIG_AJV_OPTIONS } from "../validate.js";
import { header } from "./header.js";

/**
 * ajv's standalone ESM output still `require`s its runtime helpers (ucs2length, equal, formats);
 * this prelude gives an ES module a `require` that resolves them from node_modules.
 */
const PRELUDE = `// @ts-nocheck — ajv standalone output, checked by the tests instead.
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
`;

function standalone(ajv: Ajv2020, exports: Record<string, string>): string {
  return tidy(standaloneCode.default(ajv, exports));
}

/** ajv's standalone output as written to generated/. */
function tidy(raw: string): string {
  const code = raw.replace(/^"use strict";/, "");
  // One statement per line keeps diffs of generated/ reviewable.
  return code.replace(/;(?=(export |const |function ))/g, ";\n");
}

/**
 * `generated/validators/<Tool>.ts`, one module per tool: its input and output schema compiled once,
 * here, into plain functions (exports `input` and `output`), so the server compiles no schema at run
 * time. One module per tool, so a server loads the validators of the tools that are called, when
 * they are first called, not the whole project's at start; each from the tool's own ajv, so the
 * `$id`s of different tools never meet.
 */
export function emitToolValidators(model: Model, compiled?: CompiledToolSchemas): Map<string, string> {
  const files = new Map<string, string>();
  for (const tool of model.tools) {
    const exports: Record<string, string> = { input: CompiledToolSchemas.key(tool.name, "input") };
    if (tool.output) exports.output = CompiledToolSchemas.key(tool.name, "output");
    // Compiled by the TOOLS004 check of this run, with these very options, and sealed there.
    const sealed = compiled?.code(tool.name, exports);
    let code: string;
    if (sealed !== undefined) code = tidy(sealed);
    else {
      const ajv = createToolValidatorAjv();
      ajv.addSchema(tool.input, exports.input);
      if (tool.output) ajv.addSchema(tool.output, exports.output);
      code = standalone(ajv, exports);
    }
    files.set(
      validatorModule(tool.ident),
      `${header(model, `Precompiled ajv validators of ${tool.name}'s input and output schema (${tool.source}).`)}${PRELUDE}${code}\n`,
    );
  }
  return files;
}

/** `generated/auth-schema.ts`: the auth.yaml schema, precompiled for the server's startup check. */
export function emitAuthValidator(model: Model, authSchema: object): string {
  const ajv = new Ajv2020({ ...CONFIG_AJV_OPTIONS, code: { source: true, esm: true, optimize: 1 } });
  addFormats.default(ajv);
  ajv.addSchema(authSchema, "auth");
  // The schema itself too: substitution reads from it which settings may become booleans or numbers.
  return `${header(model, "The auth.yaml schema (schema/auth.schema.json), precompiled.")}${PRELUDE}${standalone(ajv, { validateAuthFile: "auth" })}\nexport const authSchema = ${JSON.stringify(authSchema)};\n`;
}

/**
 * `generated/schemas.ts`: for each tool, a loader of its validators as Standard Schema objects (what
 * the SDK takes), whose JSON Schema is the very schema published in `tools/list`. The runtime calls a
 * tool's loader on the tool's first call.
 */
export function emitStandardSchemas(model: Model): string {
  const entries = model.tools.map((t, i) => {
    const types = `ToolTypes[${JSON.stringify(t.name)}]`;
    const module = JSON.stringify(`./${validatorModule(t.ident).replace(/\.ts$/, ".js")}`);
    const output = t.output ? `standardSchema<${types}["output"]>(v.output, tools[${i}]!.outputSchema)` : "undefined";
    return `  ${JSON.stringify(t.name)}: async () => {
    const v = await import(${module});
    return {
      input: standardSchema<${types}["input"]>(v.input, tools[${i}]!.inputSchema),
      output: ${output},
    };
  },`;
  });
  return `${header(model, "Each tool's validators as Standard Schema objects, loaded on the tool's first call.")}import { standardSchema } from "${model.runtime}/src/tools/standard-schema.js";
import { tools } from "./tools-list.js";
import type { ToolTypes } from "./types.js";

export const schemas = {
${entries.join("\n")}
} as const;
`;
}
