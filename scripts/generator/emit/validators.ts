import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import addFormats from "ajv-formats";
import type { Model } from "../normalise.js";
import { CompiledToolSchemas, createToolAjv } from "../rules.js";
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
  const code = standaloneCode.default(ajv, exports).replace(/^"use strict";/, "");
  // One statement per line keeps diffs of generated/ reviewable.
  return code.replace(/;(?=(export |const |function ))/g, ";\n");
}

/**
 * `generated/validators.ts`: every tool's input and output schema compiled once, here, into plain
 * functions, so the server compiles no schema at run time. Export names: `<Ident>Input` / `<Ident>Output`.
 */
export function emitToolValidators(model: Model, compiled?: CompiledToolSchemas): string {
  const keys = model.tools.flatMap((t) => [
    CompiledToolSchemas.key(t.name, "input"),
    ...(t.output ? [CompiledToolSchemas.key(t.name, "output")] : []),
  ]);
  if (compiled && keys.every((k) => compiled.keys.has(k))) {
    // Every schema was compiled by the TOOLS004 check of this run, with these very options.
    const exports: Record<string, string> = {};
    for (const tool of model.tools) {
      exports[`${tool.ident}Input`] = CompiledToolSchemas.key(tool.name, "input");
      if (tool.output) exports[`${tool.ident}Output`] = CompiledToolSchemas.key(tool.name, "output");
    }
    return `${header(model, "Precompiled ajv validators of every tool's input and output schema.")}${PRELUDE}${standalone(compiled.ajv, exports)}\n`;
  }
  const ajv = createToolAjv({ code: { source: true, esm: true, optimize: 1 } });
  const exports: Record<string, string> = {};
  for (const tool of model.tools) {
    ajv.addSchema(tool.input, `tool:${tool.name}#input`);
    exports[`${tool.ident}Input`] = `tool:${tool.name}#input`;
    if (tool.output) {
      ajv.addSchema(tool.output, `tool:${tool.name}#output`);
      exports[`${tool.ident}Output`] = `tool:${tool.name}#output`;
    }
  }
  return `${header(model, "Precompiled ajv validators of every tool's input and output schema.")}${PRELUDE}${standalone(ajv, exports)}\n`;
}

/** `generated/auth-schema.ts`: the auth.yaml schema, precompiled for the server's startup check. */
export function emitAuthValidator(model: Model, authSchema: object): string {
  const ajv = new Ajv2020({ ...CONFIG_AJV_OPTIONS, code: { source: true, esm: true, optimize: 1 } });
  addFormats.default(ajv);
  ajv.addSchema(authSchema, "auth");
  return `${header(model, "The auth.yaml schema (schema/auth.schema.json), precompiled.")}${PRELUDE}${standalone(ajv, { validateAuthFile: "auth" })}\n`;
}

/**
 * `generated/schemas.ts`: each tool's validators as Standard Schema objects (what the SDK takes),
 * whose JSON Schema is the very schema published in `tools/list`.
 */
export function emitStandardSchemas(model: Model): string {
  const entries = model.tools.map((t, i) => {
    const input = `standardSchema<ToolTypes[${JSON.stringify(t.name)}]["input"]>(validators.${t.ident}Input, tools[${i}]!.inputSchema)`;
    const output = t.output
      ? `standardSchema<ToolTypes[${JSON.stringify(t.name)}]["output"]>(validators.${t.ident}Output, tools[${i}]!.outputSchema)`
      : "undefined";
    return `  ${JSON.stringify(t.name)}: {\n    input: ${input},\n    output: ${output},\n  },`;
  });
  return `${header(model, "Standard Schema objects over the precompiled validators.")}import { standardSchema } from "${model.runtime}/src/tools/standard-schema.js";
import { tools } from "./tools-list.js";
import type { ToolTypes } from "./types.js";
import * as validators from "./validators.js";

export const schemas = {
${entries.join("\n")}
} as const;
`;
}
