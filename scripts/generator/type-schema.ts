import { OBJECT_PROTOTYPE_NAMES } from "./identifiers.js";
import { LIST_OF_SUBSCHEMAS, MAP_OF_SUBSCHEMAS, ONE_SUBSCHEMA, subschemas } from "./subschemas.js";

export type SchemaPath = (string | number)[];

/** A tool schema made ready for json-schema-to-typescript (16), with the type names it declares. */
export interface TypeSchema {
  /** The copy json-schema-to-typescript compiles. */
  schema: unknown;
  /**
   * Every type name the copy declares by `title`, the root's first, each with the subschema (a path
   * in the original schema) it names: what TOOLS005 compares across tools.
   */
  names: { name: string; path: SchemaPath }[];
  /** What the copy cannot express, at the `$ref` concerned (TOOLS014). */
  problems: { path: SchemaPath; message: string }[];
}

/**
 * A name as json-schema-to-typescript declares it: its `toSafeString`, which for the ASCII letters
 * and digits of generated names upper-cases each letter after a digit (`Report2goInput` becomes
 * `Report2GoInput`).
 */
export function typeName(name: string): string {
  return name.replace(/(\d)([a-z])/g, (_, digit: string, letter: string) => digit + letter.toUpperCase());
}

/** The name of a tool's argument (`input`) or result (`output`) type. */
export const rootTypeName = (ident: string, part: "input" | "output"): string =>
  typeName(`${ident}${part === "input" ? "Input" : "Output"}`);

const pascal = (s: string) =>
  s
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("") || "Def";

/** JSON Schema's annotation keywords: they constrain no value (a subschema of only these accepts any). */
export const ANNOTATION_KEYWORDS: ReadonlySet<string> = new Set([
  "title",
  "description",
  "$comment",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
]);

/** Keywords beside a `$ref` that constrain nothing: the `$ref` keeps them (and its old typing). */
const ANNOTATIONS = new Set([
  ...ANNOTATION_KEYWORDS,
  "$id",
  "$schema",
  "$anchor",
  "$dynamicAnchor",
  "$defs",
  "definitions",
  "x-mcp-header",
]);

/**
 * The keywords a subschema's TypeScript type can come from: those json-schema-to-typescript 16 derives
 * a type from (its `typesOfSchema` matchers, and `prefixItems`, which the copy turns into `items`),
 * except `default`. A subschema with none of them constrains no type, whatever else it says
 * (`description`, `not`, `minLength`…): the validator accepts any JSON value there, so its type is
 * `unknown`. Left alone, json-schema-to-typescript typed it `{[k: string]: unknown}`, or from its
 * `default` (`{default: 3}` became `number`), and a handler returning a string there failed tsc.
 */
const TYPING_KEYWORDS = new Set([
  "type",
  "enum",
  "const",
  "$ref",
  "allOf",
  "anyOf",
  "oneOf",
  "items",
  "prefixItems",
  "properties",
  "patternProperties",
  "additionalProperties",
  "required",
]);

/**
 * The keywords under which ajv's `useDefaults` fills in the `properties` defaults of every object it
 * validates there, unconditionally (and which are not `$defs`, validated only through a `$ref`).
 * Under `anyOf`, `oneOf`, `not`, `if` and `contains` ajv fills in none: in strict mode a default
 * there does not compile ("default is ignored"), except in a `$ref`'d subschema ajv compiles on its
 * own (one with a `$ref` in it), whose defaults depend on how ajv tries the branches (and a union
 * member also types data another branch took). Under `then`, `else` and `dependentSchemas` it fills
 * them in only when the condition holds. Under these and the rest (`propertyNames`, `unevaluated*`…)
 * a default is therefore not guaranteed. (Tuples: ajv fills in defaults of draft-07 `items` arrays
 * only, not of `prefixItems`; strictTuples makes every `prefixItems` entry required anyway.)
 */
const DEFAULTS_APPLIED_UNDER = new Set([
  "properties",
  "patternProperties",
  "additionalProperties",
  "items",
  "prefixItems",
  "allOf",
]);

/** The base URI of a schema without `$id`: any absolute URI with a path, so relative references resolve. */
const ROOT_URI = "toolgate://schema/root.json";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const keyOf = (path: SchemaPath) => JSON.stringify(path.map(String));

function resolveUri(ref: string, base: string): string | undefined {
  try {
    return new URL(ref, base).href;
  } catch {
    return undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function valueAt(node: unknown, path: SchemaPath): unknown {
  let current = node;
  for (const segment of path) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** `#/a/b~1c` for the path ["a", "b/c"], each token percent-encoded as json-schema-ref-parser decodes it. */
const pointer = (path: SchemaPath) =>
  `#${path.map((s) => `/${encodeURIComponent(String(s).replace(/~/g, "~0").replace(/\//g, "~1"))}`).join("")}`;

/** Where every `$id`, `$anchor` and `$ref` of a schema is: JSON Schema 2020-12 resolution, as ajv does it. */
interface SchemaIndex {
  /** Resource URI (`$id`, resolved against the enclosing one; the root's is ROOT_URI) → path. */
  resources: Map<string, SchemaPath>;
  /** `<resource URI>#<anchor>` → path. */
  anchors: Map<string, SchemaPath>;
  refs: { path: SchemaPath; ref: string; base: string }[];
}

function indexSchema(root: unknown): SchemaIndex {
  const index: SchemaIndex = { resources: new Map([[ROOT_URI, []]]), anchors: new Map(), refs: [] };
  const walk = (node: unknown, path: SchemaPath, base: string) => {
    if (!isObject(node)) return;
    let here = base;
    if (typeof node.$id === "string") {
      const id = resolveUri(node.$id, base);
      if (id !== undefined) {
        here = id.replace(/#.*$/s, "");
        index.resources.set(here, path);
      }
    }
    for (const keyword of ["$anchor", "$dynamicAnchor"])
      if (typeof node[keyword] === "string") index.anchors.set(`${here}#${node[keyword]}`, path);
    if (typeof node.$ref === "string") index.refs.push({ path, ref: node.$ref, base: here });
    for (const [below, sub] of subschemas(node)) walk(sub, [...path, ...below], here);
  };
  walk(root, [], ROOT_URI);
  return index;
}

/** The path of the subschema `ref` (written where the base URI is `base`) refers to, if it is inside `root`. */
function resolveRef(index: SchemaIndex, root: unknown, ref: string, base: string): SchemaPath | undefined {
  const uri = resolveUri(ref, base);
  if (uri === undefined) return undefined;
  const hash = uri.indexOf("#");
  const resourceUri = hash < 0 ? uri : uri.slice(0, hash);
  const fragment = hash < 0 ? "" : uri.slice(hash + 1);
  const resource = index.resources.get(resourceUri);
  if (resource === undefined) return undefined;
  if (fragment === "") return resource;
  if (!fragment.startsWith("/")) return index.anchors.get(`${resourceUri}#${safeDecode(fragment)}`);
  const path = [
    ...resource,
    ...fragment
      .slice(1)
      .split("/")
      .map((s) => safeDecode(s).replace(/~1/g, "/").replace(/~0/g, "~")),
  ];
  const target = valueAt(root, path);
  return isObject(target) || typeof target === "boolean" ? path : undefined;
}

/**
 * The subschemas (keys of their paths) whose `properties` defaults the validator always fills in
 * (ajv `useDefaults`): those reached from the root through DEFAULTS_APPLIED_UNDER keywords and
 * `$ref`s only. A subschema also reached another way (a `$ref` from under `anyOf`, say) has one
 * type for both places, so its defaults are not guaranteed.
 */
function defaultsApplied(root: unknown, targets: Map<string, SchemaPath>): Set<string> {
  const always = new Set<string>();
  const notAlways = new Set<string>();
  const walk = (node: unknown, path: SchemaPath, sure: boolean) => {
    if (!isObject(node)) return;
    const key = keyOf(path);
    const seen = sure ? always : notAlways;
    if (seen.has(key)) return;
    seen.add(key);
    const target = targets.get(key);
    if (target !== undefined) walk(valueAt(root, target), target, sure);
    for (const [below, sub] of subschemas(node)) {
      const keyword = String(below[0]);
      if (keyword === "$defs" || keyword === "definitions") continue;
      walk(sub, [...path, ...below], sure && DEFAULTS_APPLIED_UNDER.has(keyword));
    }
  };
  walk(root, [], true);
  for (const key of notAlways) always.delete(key);
  return always;
}

/**
 * The properties of `node` whose subschema has a `default`: the ones ajv's `useDefaults` fills in
 * when absent (not `__proto__`, `constructor` or another name every object inherits: ajv's
 * `data.constructor === undefined` never holds; TOOLS004 refuses such a default).
 */
function defaulted(node: Record<string, unknown>): string[] {
  if (!isObject(node.properties)) return [];
  return Object.entries(node.properties)
    .filter(([key, sub]) => !OBJECT_PROTOTYPE_NAMES.has(key) && isObject(sub) && Object.hasOwn(sub, "default"))
    .map(([key]) => key);
}

/** Defines a property (a schema's keys are data: `__proto__` must not set the prototype). */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * The copy of a tool schema json-schema-to-typescript compiles, whose root type is `rootName`:
 * - every `$ref` is rewritten to a JSON pointer from the root: json-schema-to-typescript follows no
 *   `$anchor` and no `$id` (it crashed on `$ref: "#name"`), and `$id`, `$schema` and `title` are dropped;
 * - each `$defs` entry, and each other subschema a `$ref` points at, is titled `<rootName><Key>`
 *   (numbered when taken): a title names the type, and prefixed names are unique per tool and stable
 *   (its own naming used the bare key, `A`, which two tools could both declare);
 * - `prefixItems` (2020-12 tuples, which it does not know: `never[]`) becomes draft-07 `items: […]` with
 *   `additionalItems`, which it turns into `[A, B]` or `[A, B, ...C[]]`;
 * - a `$ref` with constraints beside it becomes `allOf: [{$ref}, {the rest}]`: it typed the `$ref`
 *   alone, looser than the validator, which applies both;
 * - a subschema without any of the TYPING_KEYWORDS gets `tsType: "unknown"`;
 * - with `filledDefaults` (an input schema: its validator fills defaults in before the handler runs),
 *   a property with a `default` is `required` where the validator always fills it in (see
 *   defaultsApplied): the handler then never sees it absent;
 * - with `optionalDefaults` (an output schema: its validator fills defaults in after the handler
 *   returns), a property with a `default` is no longer `required` where the validator always fills it
 *   in: the handler may leave it out, and the result still passes.
 */
export function typeSchema(
  root: unknown,
  rootName: string,
  options: { filledDefaults?: boolean; optionalDefaults?: boolean } = {},
): TypeSchema {
  const index = indexSchema(root);
  const problems: TypeSchema["problems"] = [];
  const targets = new Map<string, SchemaPath>();
  for (const { path, ref, base } of index.refs) {
    const target = resolveRef(index, root, ref, base);
    if (target !== undefined) targets.set(keyOf(path), target);
    else
      problems.push({
        path: [...path, "$ref"],
        message: `$ref "${ref}" does not resolve inside this schema (each input and output schema is typed on its own), so its type cannot be generated: refer to a $defs entry, a JSON pointer, an $anchor or an $id of this schema`,
      });
  }
  const targeted = new Set([...targets.values()].map(keyOf));
  const applied =
    options.filledDefaults || options.optionalDefaults ? defaultsApplied(root, targets) : new Set<string>();
  const filled = options.filledDefaults ? applied : new Set<string>();
  const leftOut = options.optionalDefaults ? applied : new Set<string>();

  const names: TypeSchema["names"] = [{ name: typeName(rootName), path: [] }];
  const used = new Set([typeName(rootName)]);
  const title = (wanted: string, path: SchemaPath): string => {
    let name = typeName(wanted);
    if (used.has(name)) {
      let i = 1;
      while (used.has(`${name}${i}`)) i++;
      name = `${name}${i}`;
    }
    used.add(name);
    names.push({ name, path });
    return name;
  };

  /** Old path → path in the copy (prefixItems, allOf-wrapped $refs move subschemas). */
  const moved = new Map<string, SchemaPath>();
  const refs: { holder: Record<string, unknown>; target: SchemaPath; ref: string; path: SchemaPath }[] = [];

  const copyKeys = (node: Record<string, unknown>, from: SchemaPath, to: SchemaPath): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    const tuple = Array.isArray(node.prefixItems);
    for (const [key, value] of Object.entries(node)) {
      if (key === "title" || key === "$id" || key === "$schema") continue;
      if (key === "items" && tuple) continue; // became additionalItems
      if (key === "prefixItems" && Array.isArray(value)) {
        put(
          out,
          "items",
          (value as unknown[]).map((v, i) => copy(v, [...from, key, i], [...to, "items", i])),
        );
        const rest =
          node.items === undefined || node.items === true
            ? true
            : copy(node.items, [...from, "items"], [...to, "additionalItems"]);
        // No item past the tuple when maxItems says so (json-schema-to-typescript reads maxItems only without a rest).
        const full = typeof node.maxItems === "number" && node.maxItems <= value.length;
        put(out, "additionalItems", full ? false : rest);
      } else if (ONE_SUBSCHEMA.has(key) && !Array.isArray(value))
        put(out, key, copy(value, [...from, key], [...to, key]));
      else if (LIST_OF_SUBSCHEMAS.has(key) && Array.isArray(value))
        put(
          out,
          key,
          value.map((v, i) => copy(v, [...from, key, i], [...to, key, i])),
        );
      else if (MAP_OF_SUBSCHEMAS.has(key) && isObject(value)) {
        const map: Record<string, unknown> = {};
        const defs = key === "$defs" || key === "definitions";
        for (const [k, v] of Object.entries(value))
          put(map, k, copy(v, [...from, key, k], [...to, key, k], defs ? k : undefined));
        put(out, key, map);
      } else put(out, key, value);
    }
    if (filled.has(keyOf(from))) {
      const required = node.required === undefined ? [] : node.required;
      const added = Array.isArray(required) ? defaulted(node).filter((k) => !required.includes(k)) : [];
      if (added.length > 0) put(out, "required", [...(required as unknown[]), ...added]);
    }
    if (leftOut.has(keyOf(from)) && Array.isArray(node.required)) {
      const optional = new Set(defaulted(node));
      const kept = node.required.filter((k) => !optional.has(k as string));
      if (kept.length < node.required.length) put(out, "required", kept);
    }
    return out;
  };

  const copy = (node: unknown, from: SchemaPath, to: SchemaPath, defKey?: string): unknown => {
    const here = keyOf(from);
    moved.set(here, to);
    if (!isObject(node)) return node;
    const name =
      defKey !== undefined
        ? title(`${rootName}${pascal(defKey)}`, from)
        : from.length > 0 && targeted.has(here)
          ? title(`${rootName}${pascal(refName(from))}`, from)
          : undefined;
    const target = targets.get(here);
    const constrained = target !== undefined && Object.keys(node).some((k) => k !== "$ref" && !ANNOTATIONS.has(k));
    // A $ref to `true` or `false` is that schema (json-schema-to-typescript cannot dereference to a boolean).
    const booleanTarget = target === undefined ? undefined : valueAt(root, target);
    if (typeof booleanTarget === "boolean" && !constrained) return booleanTarget;
    let out: Record<string, unknown>;
    if (constrained) {
      const outer: Record<string, unknown> = {};
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) if (k !== "$ref") put(ANNOTATIONS.has(k) ? outer : rest, k, v);
      out = copyKeys(outer, from, to);
      const holder: Record<string, unknown> = { $ref: node.$ref };
      if (typeof booleanTarget !== "boolean")
        refs.push({ holder, target: target!, ref: node.$ref as string, path: from });
      put(out, "allOf", [booleanTarget ?? holder, copyKeys(rest, from, [...to, "allOf", 1])]);
    } else {
      out = copyKeys(node, from, to);
      if (target !== undefined) refs.push({ holder: out, target, ref: node.$ref as string, path: from });
    }
    if (!Object.keys(node).some((k) => TYPING_KEYWORDS.has(k))) put(out, "tsType", "unknown");
    if (name !== undefined) put(out, "title", name);
    return out;
  };

  const schema = copy(root, [], []);
  for (const { holder, target, ref, path } of refs) {
    const there = moved.get(keyOf(target));
    if (there !== undefined) holder.$ref = pointer(there);
    else
      problems.push({
        path: [...path, "$ref"],
        message: `$ref "${ref}" points into a part of the schema the types generator does not read, so its type cannot be generated: refer to a $defs entry`,
      });
  }
  return { schema, names, problems };
}

/** The key a subschema is named after: its last path segment, with the list it is in for an index (`OneOf1`). */
function refName(path: SchemaPath): string {
  let i = path.length - 1;
  while (i > 0 && typeof path[i] === "number") i--;
  return path.slice(i).join(" ");
}
