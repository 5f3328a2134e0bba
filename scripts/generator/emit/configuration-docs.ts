import type { Environment, EnvironmentReader } from "../environment.js";

/** Where the configuration reference is written, relative to the project root (outside generated/). */
export const CONFIGURATION_DOCS = "docs/configuration.md";

export interface ConfigurationSources {
  toolsSchema: object;
  authSchema: object;
  environment: Environment;
}

type Schema = Record<string, unknown>;

interface Row {
  field: string;
  type: string;
  default: string;
  description: string;
}

interface Table {
  /** The object's path (`authorizationServers[]`), "" for the top level. */
  path: string;
  description: string;
  rows: Row[];
}

const isObject = (v: unknown): v is Schema => typeof v === "object" && v !== null && !Array.isArray(v);

/** Follows a local `$ref` (`#/$defs/tool`) within `root`. */
function resolve(schema: unknown, root: Schema): Schema {
  let current = isObject(schema) ? schema : {};
  for (let hops = 0; typeof current.$ref === "string" && current.$ref.startsWith("#/") && hops < 16; hops++) {
    let target: unknown = root;
    for (const segment of current.$ref.slice(2).split("/"))
      target = isObject(target) ? target[segment.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    const { $ref: _, ...rest } = current;
    current = { ...(isObject(target) ? target : {}), ...rest };
  }
  return current;
}

/**
 * The properties of an object schema. A `oneOf` of object variants told apart by a `const` tag (the
 * shape of `authorizationServers[]`) is merged into one list: a field found in some variants only
 * says which, e.g. "Only with `type: auth0`."
 */
function propertiesOf(schema: Schema, root: Schema): { name: string; schema: Schema; only?: string[] }[] {
  const own = isObject(schema.properties) ? schema.properties : {};
  const variants = (Array.isArray(schema.oneOf) ? schema.oneOf : []).map((v) => resolve(v, root));
  const tagName = isObject(schema.discriminator) ? String(schema.discriminator.propertyName) : undefined;
  const out = new Map<string, { name: string; schema: Schema; in: Set<number> }>();
  for (const [name, sub] of Object.entries(own)) out.set(name, { name, schema: resolve(sub, root), in: new Set() });
  variants.forEach((variant, i) => {
    for (const [name, sub] of Object.entries(isObject(variant.properties) ? variant.properties : {})) {
      const entry = out.get(name) ?? { name, schema: resolve(sub, root), in: new Set<number>() };
      entry.in.add(i);
      out.set(name, entry);
    }
  });
  return [...out.values()].map((entry) => {
    const partial = variants.length > 0 && !Object.hasOwn(own, entry.name) && entry.in.size < variants.length;
    if (!partial || !tagName) return { name: entry.name, schema: entry.schema };
    const tags = [...entry.in].map((i) => {
      const tag = resolve((variants[i]!.properties as Schema | undefined)?.[tagName], root).const;
      return `\`${tagName}: ${String(tag)}\``;
    });
    return { name: entry.name, schema: entry.schema, only: tags };
  });
}

function requiredOf(schema: Schema, root: Schema): Set<string> {
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const variants = (Array.isArray(schema.oneOf) ? schema.oneOf : []).map((v) => resolve(v, root));
  // a field every variant requires is required
  const [first, ...rest] = variants.map((v) => (Array.isArray(v.required) ? v.required.map(String) : []));
  for (const name of first ?? []) if (rest.every((r) => r.includes(name))) required.add(name);
  return required;
}

const code = (value: unknown): string => `\`${typeof value === "string" ? value : JSON.stringify(value)}\``;

function range(schema: Schema): string {
  const { minimum: min, maximum: max } = schema;
  if (typeof min === "number" && typeof max === "number") return ` (${min}-${max})`;
  if (typeof min === "number") return ` (at least ${min})`;
  if (typeof max === "number") return ` (at most ${max})`;
  return "";
}

/** The type of a field in the words of a YAML author: string, integer (0-300), list of string, `a` \| `b`. */
function typeText(input: unknown, root: Schema): string {
  const schema = resolve(input, root);
  if (schema.const !== undefined) return code(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(code).join(" \\| ");
  const types = Array.isArray(schema.type) ? schema.type.map(String) : [String(schema.type ?? "")];
  const words = types.map((type) => {
    switch (type) {
      case "integer":
      case "number":
        return `${type}${range(schema)}`;
      case "array":
        return `list of ${schema.items === undefined ? "values" : typeText(schema.items, root)}`;
      case "object":
        return isObject(schema.additionalProperties) && !isObject(schema.properties)
          ? `mapping of name → ${typeText(schema.additionalProperties, root)}`
          : "mapping";
      case "":
        return isObject(schema.properties) || Array.isArray(schema.oneOf) ? "mapping" : "any";
      default:
        return type;
    }
  });
  return words.join(" or ");
}

/**
 * Splits the "Default: …" sentence off a description (a sentence ends at a period followed by a
 * space or the end, outside backticks and parentheses), and drops a bare "Required." sentence: the
 * table has a column for each.
 */
export function splitDescription(description: string): { text: string; default?: string } {
  const sentences: string[] = [];
  let start = 0;
  let depth = 0;
  let inCode = false;
  for (let i = 0; i < description.length; i++) {
    const c = description[i];
    if (c === "`") inCode = !inCode;
    else if (!inCode && c === "(") depth++;
    else if (!inCode && c === ")") depth = Math.max(0, depth - 1);
    else if (!inCode && depth === 0 && c === "." && (i + 1 === description.length || /\s/.test(description[i + 1]!))) {
      sentences.push(description.slice(start, i + 1).trim());
      start = i + 1;
    }
  }
  if (description.slice(start).trim()) sentences.push(description.slice(start).trim());
  let defaultText: string | undefined;
  const kept = sentences.filter((sentence) => {
    const match = /^Default(?: \(([^)]*)\))?: (.*?)\.?$/s.exec(sentence);
    if (match && defaultText === undefined) {
      const value = /^(-?\d+|true|false)$/.test(match[2]!) ? code(match[2]) : match[2]!;
      defaultText = match[1] ? `${value} (${match[1]})` : value;
      return false;
    }
    return sentence !== "Required.";
  });
  return { text: kept.join(" "), ...(defaultText !== undefined ? { default: defaultText } : {}) };
}

/** One table per object, depth-first in schema order: the object's own fields, then its sub-objects'. */
function tables(schema: Schema, path: string, root: Schema, description: string): Table[] {
  const required = requiredOf(schema, root);
  const rows: Row[] = [];
  const nested: Table[] = [];
  for (const property of propertiesOf(schema, root)) {
    const field = path ? `${path}.${property.name}` : property.name;
    const { text, default: defaultValue } = splitDescription(String(property.schema.description ?? ""));
    const only = property.only ? ` Only with ${property.only.join(" or ")}.` : "";
    rows.push({
      field,
      type: typeText(property.schema, root),
      default: required.has(property.name) ? "*required*" : (defaultValue ?? ""),
      description: `${text}${only}`.trim(),
    });
    nested.push(...nestedTables(property.schema, field, root));
  }
  return [{ path, description, rows }, ...nested];
}

/** Tables for the objects inside a field: an object, a list of objects, or a mapping of name → object. */
function nestedTables(schema: Schema, field: string, root: Schema): Table[] {
  const hasFields = (s: Schema) => isObject(s.properties) || Array.isArray(s.oneOf);
  if (hasFields(schema)) return tables(schema, field, root, String(schema.description ?? ""));
  if (schema.items !== undefined) {
    const items = resolve(schema.items, root);
    if (hasFields(items)) return tables(items, `${field}[]`, root, String(items.description ?? ""));
  }
  if (isObject(schema.additionalProperties)) {
    const value = resolve(schema.additionalProperties, root);
    if (hasFields(value)) return tables(value, `${field}.<name>`, root, String(value.description ?? ""));
  }
  return [];
}

/** A Markdown table cell: one line, pipes escaped. */
const cell = (s: string): string => s.replace(/\s*\n\s*/g, " ").replace(/(?<!\\)\|/g, "\\|");

function renderTable(headers: string[], rows: string[][]): string {
  return [
    `| ${headers.join(" | ")} |`,
    `| ${headers.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

function renderFile(file: string, schemaFile: string, schema: Schema): string {
  const parts = [`## ${file}`, "", cell(String(schema.description ?? "")), "", `Schema: \`${schemaFile}\`.`];
  for (const table of tables(schema, "", schema, "")) {
    parts.push("", `### ${table.path ? `\`${table.path}\`` : "Top level"}`);
    if (table.description) parts.push("", cell(table.description));
    parts.push(
      "",
      renderTable(
        ["field", "type", "default", "description"],
        table.rows.map((r) => [`\`${r.field}\``, r.type, r.default, r.description]),
      ),
    );
  }
  return parts.join("\n");
}

const READERS: Record<EnvironmentReader, string> = {
  server: "the server",
  "auth.yaml": "`auth.yaml`",
  tools: "the shipped tools (`src/handlers`)",
};

function renderEnvironment(environment: Environment): string {
  return [
    "## Environment variables",
    "",
    ...(environment.description ? [cell(environment.description), ""] : []),
    "Source: `schema/environment.json`.",
    "",
    renderTable(
      ["variable", "default", "read by", "description"],
      environment.variables.map((v) => [
        `\`${v.name}\``,
        v.default !== undefined ? (v.default === "" ? "empty" : code(v.default)) : (v.defaultText ?? "none"),
        v.readBy.map((r) => READERS[r]).join(", "),
        v.description,
      ]),
    ),
  ].join("\n");
}

/**
 * `docs/configuration.md`: every field of tools.yaml and auth.yaml and every environment variable,
 * rendered from the schemas' descriptions (each states its default once, there), so the reference
 * cannot drift from what the generator and the server enforce.
 */
export function emitConfigurationDocs(sources: ConfigurationSources): string {
  return `${[
    "<!-- @generated by `npm run generate` from schema/tools.schema.json, schema/auth.schema.json and schema/environment.json. Do not edit: `npm run check:generated` fails when it is stale. -->",
    "",
    "# Configuration reference",
    "",
    "Every field of `tools.yaml` and `auth.yaml`, and every environment variable toolgate reads. This page is generated from the descriptions in `schema/tools.schema.json`, `schema/auth.schema.json` and `schema/environment.json`: to change it, edit those and run `npm run generate`.",
    "",
    "- [tools.yaml](#toolsyaml)",
    "- [auth.yaml](#authyaml)",
    "- [Environment variables](#environment-variables)",
    "",
    renderFile("tools.yaml", "schema/tools.schema.json", sources.toolsSchema as Schema),
    "",
    renderFile("auth.yaml", "schema/auth.schema.json", sources.authSchema as Schema),
    "",
    renderEnvironment(sources.environment),
  ].join("\n")}\n`;
}
