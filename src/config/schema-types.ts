/**
 * What JSON types a JSON Schema accepts at a path of the document, read from the schema itself:
 * substitution uses it to decide whether a `${VAR}` value may become a boolean, number or null, or
 * must stay the string it was set to (a secret that looks like a number is still a string).
 */

type Schema = boolean | Record<string, unknown>;

/** The types accepted at `path` ("integer" counts as "number"), or "any" where the schema does not say. */
export function typesAt(root: unknown, path: readonly (string | number)[]): Set<string> | "any" {
  let current: Schema[] = [root as Schema];
  for (const segment of path) {
    current = current.flatMap((s) => childSchemas(root, s, segment));
    if (current.length === 0) return new Set();
  }
  const types = new Set<string>();
  for (const s of current.flatMap((s) => branches(root, s))) {
    if (s === true) return "any";
    if (s === false) continue;
    const found = declaredTypes(s);
    if (found === "any") return "any";
    for (const t of found) types.add(t);
  }
  return types;
}

/** Whether the schema at `path` accepts a value of `value`'s JSON type. */
export function acceptsTypeAt(root: unknown, path: readonly (string | number)[], value: unknown): boolean {
  const types = typesAt(root, path);
  if (types === "any") return true;
  const type = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  return types.has(type === "bigint" ? "number" : type);
}

function resolveRef(root: unknown, schema: Schema): Schema {
  let s = schema;
  for (let depth = 0; depth < 32 && typeof s === "object" && typeof s.$ref === "string"; depth++) {
    const ref = s.$ref as string;
    if (!ref.startsWith("#/")) return true;
    let target: unknown = root;
    for (const part of ref.slice(2).split("/"))
      target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, "/").replace(/~0/g, "~")];
    if (target === undefined) return true;
    s = target as Schema;
  }
  return s;
}

/** The schema and, when it combines others (oneOf/anyOf/allOf), those: any of them may apply. */
function branches(root: unknown, schema: Schema): Schema[] {
  const s = resolveRef(root, schema);
  if (typeof s !== "object") return [s];
  const parts = ["oneOf", "anyOf", "allOf"].flatMap((k) => (Array.isArray(s[k]) ? (s[k] as Schema[]) : []));
  return parts.length === 0 ? [s] : [s, ...parts.flatMap((p) => branches(root, p))];
}

/** The subschemas that apply to `segment` of a value `schema` describes. */
function childSchemas(root: unknown, schema: Schema, segment: string | number): Schema[] {
  const all = branches(root, schema);
  const combined = all.length > 1;
  return all.flatMap((s, index): Schema[] => {
    if (typeof s !== "object") return [s];
    // The schema that holds oneOf/anyOf leaves the rest of the object to its branches.
    const defers = combined && index === 0;
    const properties = s.properties as Record<string, Schema> | undefined;
    if (typeof segment === "string" || !("items" in s)) {
      const own = properties?.[String(segment)];
      if (own !== undefined) return [own];
      if (defers) return [];
      if (s.additionalProperties !== undefined) return [s.additionalProperties as Schema];
    }
    if (typeof segment === "number" && s.items !== undefined) return [s.items as Schema];
    return defers ? [] : [true];
  });
}

function declaredTypes(s: Record<string, unknown>): Set<string> | "any" {
  const types = new Set<string>();
  const norm = (t: string) => (t === "integer" ? "number" : t);
  if (typeof s.type === "string") types.add(norm(s.type));
  else if (Array.isArray(s.type)) for (const t of s.type) types.add(norm(String(t)));
  const values = Array.isArray(s.enum) ? s.enum : "const" in s ? [s.const] : undefined;
  if (values) {
    const fromValues = new Set<string>(
      values.map((v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v)),
    );
    if (types.size === 0) return fromValues;
    return new Set([...types].filter((t) => fromValues.has(t)));
  }
  return types.size === 0 && !("oneOf" in s || "anyOf" in s || "allOf" in s) ? "any" : types;
}
