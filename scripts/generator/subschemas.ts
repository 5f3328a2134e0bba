/** Where JSON Schema 2020-12 (and `definitions` / `dependencies`, which ajv 2020 still reads) holds subschemas. */
export const ONE_SUBSCHEMA = new Set([
  "additionalProperties",
  "items",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
  "unevaluatedProperties",
  "unevaluatedItems",
  "contentSchema",
]);
export const MAP_OF_SUBSCHEMAS = new Set([
  "properties",
  "patternProperties",
  "$defs",
  "definitions",
  "dependentSchemas",
  "dependencies",
]);
export const LIST_OF_SUBSCHEMAS = new Set(["allOf", "anyOf", "oneOf", "prefixItems", "items"]);

/** The subschemas of a schema object, each with its path below it: `["items"]`, `["properties", "a"]`, `["allOf", 0]`. */
export function* subschemas(node: Record<string, unknown>): Generator<[(string | number)[], unknown]> {
  for (const [key, value] of Object.entries(node)) {
    if (ONE_SUBSCHEMA.has(key) && !Array.isArray(value)) yield [[key], value];
    else if (LIST_OF_SUBSCHEMAS.has(key) && Array.isArray(value)) {
      for (const [i, v] of value.entries()) yield [[key, i], v];
    } else if (MAP_OF_SUBSCHEMAS.has(key) && typeof value === "object" && value !== null && !Array.isArray(value))
      for (const [k, v] of Object.entries(value)) yield [[key, k], v];
  }
}
