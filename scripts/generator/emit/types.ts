import { compile } from "json-schema-to-typescript";
import type { DiagnosticCode } from "../../../src/config/diagnostic-codes.js";
import type { Model, ToolModel } from "../normalise.js";
import { rootTypeName, type SchemaPath, typeSchema } from "../type-schema.js";
import { header, str } from "./header.js";

/**
 * Problems in tools.yaml that only emitting found, each with its place: the pipeline reports them
 * as diagnostics (not as GEN000 at 1:1).
 */
export class ToolSchemaError extends Error {
  constructor(readonly problems: { path: SchemaPath; code: DiagnosticCode; message: string; key?: boolean }[]) {
    super(problems.map((p) => p.message).join("; "));
    this.name = "ToolSchemaError";
  }
}

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

/**
 * json-schema-to-typescript 16 calls `schema.hasOwnProperty(…)` on every object it walks (its linker),
 * so a key `hasOwnProperty` anywhere in a schema (a property, a `$defs` entry, a key inside a `const`)
 * made it throw "schema.hasOwnProperty is not a function". In the copy it compiles, the name is
 * replaced by a placeholder the schema does not hold wherever it is a whole string or a segment of
 * a `$ref` pointer (a key, a `required` entry, `#/$defs/hasOwnProperty`), and put back in the code it
 * returns: its output holds property names and literals as written, so every placeholder there
 * stands for the name.
 */
const SHADOWING_KEY = "hasOwnProperty";
const SHADOWING_KEY_IN_JSON = /(?<=["/])hasOwnProperty(?=["/])/g;

function withoutShadowingKey(schema: unknown): { schema: unknown; placeholder?: string } {
  const text = JSON.stringify(schema);
  if (text.search(SHADOWING_KEY_IN_JSON) < 0) return { schema };
  let n = 0;
  while (text.includes(`toolgateHasOwnProperty${n}`)) n++;
  const placeholder = `toolgateHasOwnProperty${n}`;
  // JSON.parse defines each key as an own property, `__proto__` too.
  return { schema: JSON.parse(text.replace(SHADOWING_KEY_IN_JSON, placeholder)), placeholder };
}

async function toType(tool: ToolModel, part: "input" | "output"): Promise<string> {
  const name = rootTypeName(tool.ident, part);
  // Input validators fill defaults in (useDefaults) before the handler runs: a defaulted argument is
  // there. Output ones fill them in after it returns: a defaulted result property may be left out.
  const prepared = typeSchema(part === "input" ? tool.input : tool.output, name, {
    filledDefaults: part === "input",
    optionalDefaults: part === "output",
  });
  const where = (path: SchemaPath) => ["tools", tool.name, part, ...path];
  // Reported by TOOLS014 already; here only when the rules did not run (render called alone).
  if (prepared.problems.length > 0)
    throw new ToolSchemaError(
      prepared.problems.map((p) => ({
        path: where(p.path),
        code: "TOOLS014",
        message: `${part} of "${tool.name}": ${p.message}`,
      })),
    );
  const { schema, placeholder } = withoutShadowingKey(prepared.schema);
  let code: string;
  try {
    code = await compile(schema as never, name, {
      bannerComment: "",
      format: false,
      additionalProperties: true,
      strictIndexSignatures: true,
      unknownAny: true,
      // An array with minItems or maxItems stays T[]: by default maxItems 20 became a union of 21
      // tuples ([] | [string] | …) and minItems 1 became [string, ...string[]], so a handler returning a
      // string[] failed tsc. The validators check the bounds. (prefixItems tuples are tuples still.)
      ignoreMinAndMaxItems: true,
      declareExternallyReferenced: true,
      $refOptions: { resolve: { file: false, http: false } } as never,
    });
  } catch (error) {
    const reason = (error as Error)?.message?.split("\n")[0] ?? String(error);
    throw new ToolSchemaError([
      {
        path: where([]),
        code: "TOOLS014",
        message: `${part} of "${tool.name}": json-schema-to-typescript cannot turn this schema into a type: ${reason}`,
      },
    ]);
  }
  if (placeholder !== undefined) code = code.replaceAll(placeholder, SHADOWING_KEY);
  return indent(code);
}

async function toolTypes(tool: ToolModel): Promise<string> {
  const parts = [`/** Arguments of \`${tool.name}\` (${tool.source}/input) */`, await toType(tool, "input")];
  if (tool.output)
    parts.push(`/** Structured result of \`${tool.name}\` (${tool.source}/output) */`, await toType(tool, "output"));
  return parts.join("\n");
}

/**
 * The exported names each tool's block declares, checked across tools: TOOLS005 compares the names
 * the generator gives, but json-schema-to-typescript numbers names it meets twice in one schema, and
 * TypeScript would silently merge two interfaces of one name.
 */
function checkDeclaredOnce(model: Model, blocks: string[]): void {
  const owners = new Map<string, string>();
  const problems: ToolSchemaError["problems"] = [];
  model.tools.forEach((tool, i) => {
    for (const [, name] of blocks[i]!.matchAll(
      /^export (?:declare )?(?:interface|type|enum|const enum|const|class) ([\w$]+)/gm,
    )) {
      const first = owners.get(name!);
      if (first === undefined) owners.set(name!, tool.name);
      else if (first !== tool.name)
        for (const [self, other] of [
          [tool.name, first],
          [first, tool.name],
        ] as const)
          problems.push({
            path: ["tools", self],
            key: true,
            code: "TOOLS005",
            message: `tool "${self}" and tool "${other}" both generate the type ${name}: rename one`,
          });
    }
  });
  if (problems.length > 0) throw new ToolSchemaError(problems);
}
/**
 * `generated/types.ts`: argument and result types per tool, and the map from tool name to both — a
 * type, not an interface: as ProjectTypes["types"] it needs the implicit index signature.
 */
export async function emitTypes(model: Model): Promise<string> {
  const blocks = [];
  for (const tool of model.tools) blocks.push(await toolTypes(tool));
  checkDeclaredOnce(model, blocks);
  const map = model.tools
    .map(
      (t) =>
        `  ${str(t.name)}: { input: ${rootTypeName(t.ident, "input")}; output: ${t.output ? rootTypeName(t.ident, "output") : "undefined"} };`,
    )
    .join("\n");
  return `${header(model, "Argument and result types of every tool.")}
${blocks.join("\n\n")}

/** Tool name → its argument type and its structured result type (\`undefined\`: no output schema). */
export type ToolTypes = {
${map}
};
`;
}
