import { compile } from "json-schema-to-typescript";
import type { Model, ToolModel } from "../normalise.js";
import { LIST_OF_SUBSCHEMAS, MAP_OF_SUBSCHEMAS, ONE_SUBSCHEMA } from "../rules.js";
import { header, str } from "./header.js";

// The same subschema positions the TOOLS004 walk uses; `items` may be one schema or (old style) a list.
const SCHEMA_MAPS = [...MAP_OF_SUBSCHEMAS].filter((k) => k !== "dependencies");
const SCHEMA_LISTS = [...LIST_OF_SUBSCHEMAS].filter((k) => k !== "items");
const SCHEMA_ONE = [...ONE_SUBSCHEMA].filter((k) => k !== "contentSchema");

/**
 * A copy of a tool schema prepared for json-schema-to-typescript: `title`s are dropped (it would
 * turn each into a top-level type whose name can collide across tools) and each `$defs` entry gets a
 * name prefixed with the tool's identifier, so generated names are unique per tool and stable.
 */
function forTypes(schema: unknown, prefix: string): unknown {
  if (typeof schema !== "object" || schema === null || Array.isArray(schema)) return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === "title" || key === "$id" || key === "$schema") continue;
    if (SCHEMA_MAPS.includes(key) && value && typeof value === "object") {
      out[key] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => {
          const sub = forTypes(v, prefix);
          const named = (key === "$defs" || key === "definitions") && sub && typeof sub === "object";
          return [k, named ? { ...(sub as object), title: `${prefix}${pascal(k)}` } : sub];
        }),
      );
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((v) => forTypes(v, prefix));
    } else if (SCHEMA_ONE.includes(key)) {
      out[key] = forTypes(value, prefix);
    } else {
      out[key] = value;
    }
  }
  return out;
}

const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("") || "Def";

/** json-schema-to-typescript's prettier pass costs ~10 ms a schema; this indenter is enough for its unformatted output. */
function indent(code: string): string {
  let depth = 0;
  const lines: string[] = [];
  for (const raw of code.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (/^[}\])]/.test(line)) depth = Math.max(0, depth - 1);
    const pad = "  ".repeat(depth);
    lines.push(line.startsWith("*") ? `${pad} ${line}` : `${pad}${line}`);
    if (!line.startsWith("*") && !line.startsWith("/*") && !line.startsWith("//")) {
      const opens = (line.match(/[{[(]/g) ?? []).length;
      const closes = (line.match(/[}\])]/g) ?? []).length;
      const leadingClose = /^[}\])]/.test(line) ? 1 : 0;
      depth = Math.max(0, depth + opens - (closes - leadingClose));
    }
  }
  return lines.join("\n");
}

async function toType(schema: Record<string, unknown>, name: string): Promise<string> {
  const code = await compile(forTypes(schema, name) as never, name, {
    bannerComment: "",
    format: false,
    additionalProperties: true,
    strictIndexSignatures: true,
    unknownAny: true,
    declareExternallyReferenced: true,
    $refOptions: { resolve: { file: false, http: false } } as never,
  });
  return indent(code);
}

async function toolTypes(tool: ToolModel): Promise<string> {
  const parts = [
    `/** Arguments of \`${tool.name}\` (${tool.source}/input) */`,
    await toType(tool.input, `${tool.ident}Input`),
  ];
  if (tool.output)
    parts.push(
      `/** Structured result of \`${tool.name}\` (${tool.source}/output) */`,
      await toType(tool.output, `${tool.ident}Output`),
    );
  return parts.join("\n");
}

/** `generated/types.ts`: argument and result types per tool, and the map from tool name to both. */
export async function emitTypes(model: Model): Promise<string> {
  const blocks = [];
  for (const tool of model.tools) blocks.push(await toolTypes(tool));
  const map = model.tools
    .map((t) => `  ${str(t.name)}: { input: ${t.ident}Input; output: ${t.output ? `${t.ident}Output` : "undefined"} };`)
    .join("\n");
  return `${header(model, "Argument and result types of every tool.")}
${blocks.join("\n\n")}

/** Tool name → its argument type and its structured result type (\`undefined\`: no output schema). */
export interface ToolTypes {
${map}
}
`;
}
