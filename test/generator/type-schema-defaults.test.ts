/**
 * Which defaulted properties the input types have as present (scripts/generator/type-schema.ts,
 * `filledDefaults`): exactly where ajv's `useDefaults`, with the validators' own options, always
 * fills the default in. tsc's view of it is in typecheck.test.ts ("defaults the input validator fills in").
 */
import { describe, expect, it } from "vitest";
import { createToolAjv } from "../../scripts/generator/rules.js";
import { typeSchema } from "../../scripts/generator/type-schema.js";

type Node = Record<string, unknown>;
const input = (schema: unknown) => typeSchema(schema, "TInput", { filledDefaults: true }).schema as Node;
const at = (node: Node, ...path: (string | number)[]): Node =>
  path.reduce<Node>((n, k) => (n as Record<string | number, Node>)[k]!, node);

/** The data after the tool's input validator ran on it (it fills defaults in place). */
function validated(schema: unknown, data: unknown): unknown {
  const validate = createToolAjv().compile(schema as never);
  const copy = structuredClone(data);
  expect(validate(copy), JSON.stringify(validate.errors)).toBe(true);
  return copy;
}

describe("defaulted input properties", () => {
  it("are required in the arguments and in nested objects, items, allOf and $ref'd subschemas", () => {
    const schema = {
      type: "object",
      required: ["query", "already"],
      $defs: { page: { type: "object", properties: { size: { type: "integer", default: 20 } } } },
      properties: {
        query: { type: "string" },
        limit: { type: "integer", default: 10 },
        already: { type: "integer", default: 1 },
        nothing: { type: ["string", "null"], default: null },
        options: { type: "object", properties: { verbose: { type: "boolean", default: false } } },
        list: { type: "array", items: { type: "object", properties: { w: { type: "number", default: 1 } } } },
        map: { type: "object", additionalProperties: { type: "object", properties: { n: { default: 0 } } } },
        both: { allOf: [{ type: "object", properties: { a: { type: "string", default: "x" } } }] },
        page: { $ref: "#/$defs/page" },
      },
    };
    const copy = input(schema);
    expect(copy.required).toEqual(["query", "already", "limit", "nothing"]);
    expect(at(copy, "properties", "options").required).toEqual(["verbose"]);
    expect(at(copy, "properties", "list", "items").required).toEqual(["w"]);
    expect(at(copy, "properties", "map", "additionalProperties").required).toEqual(["n"]);
    expect(at(copy, "properties", "both", "allOf", 0).required).toEqual(["a"]);
    expect(at(copy, "$defs", "page").required).toEqual(["size"]);

    // what the validator does with the same schema: each of them filled in, nested ones where their object is
    expect(validated(schema, { query: "q", already: 2 })).toEqual({ query: "q", already: 2, limit: 10, nothing: null });
    expect(
      validated(schema, { query: "q", already: 2, options: {}, list: [{}], map: { k: {} }, both: {}, page: {} }),
    ).toEqual({
      query: "q",
      already: 2,
      limit: 10,
      nothing: null,
      options: { verbose: false },
      list: [{ w: 1 }],
      map: { k: { n: 0 } },
      both: { a: "x" },
      page: { size: 20 },
    });
  });

  it("stay optional under anyOf and oneOf (ajv refuses a default there in strict mode) and in conditionals", () => {
    const branch = { type: "object", properties: { x: { type: "integer", default: 1 } } };
    const schema = {
      type: "object",
      properties: { u: { anyOf: [branch, { type: "string" }] }, o: { oneOf: [branch, { type: "string" }] } },
      not: branch,
      if: branch,
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, not a thenable
      then: branch,
      else: branch,
      dependentSchemas: { k: branch },
    };
    const copy = input(schema);
    for (const path of [
      ["properties", "u", "anyOf", 0],
      ["properties", "o", "oneOf", 0],
      ["not"],
      ["if"],
      ["then"],
      ["else"],
      ["dependentSchemas", "k"],
    ])
      expect(at(copy, ...path).required, path.join("/")).toBeUndefined();
    expect(copy.required).toBeUndefined();
    expect(() => createToolAjv().compile({ type: "object", properties: { u: schema.properties.u } })).toThrow(
      /default is ignored/,
    );
  });

  it("stay optional in a $ref'd subschema also reached from under anyOf (one type for both places)", () => {
    // `tree` has a $ref in it, so ajv compiles it apart and it compiles under anyOf too (an inlined
    // branch with a default does not); whether a branch's defaults are filled in then depends on how
    // ajv compiles and tries the branches, and the union member also types data another branch took.
    const tree = {
      type: "object",
      properties: { depth: { type: "integer", default: 1 }, child: { $ref: "#/$defs/tree" } },
    };
    const onlyDirect = { type: "object", $defs: { tree }, properties: { t: { $ref: "#/$defs/tree" } } };
    expect(at(input(onlyDirect), "$defs", "tree").required).toEqual(["depth"]);
    const alsoAnyOf = {
      ...onlyDirect,
      properties: { ...onlyDirect.properties, c: { anyOf: [{ type: "object" }, { $ref: "#/$defs/tree" }] } },
    };
    expect(at(input(alsoAnyOf), "$defs", "tree").required).toBeUndefined();
    expect(() => createToolAjv().compile(alsoAnyOf)).not.toThrow();
    const rootFromAnyOf = { type: "object", properties: { d: { default: 1 } }, anyOf: [{ $ref: "#" }, true] };
    expect(input(rootFromAnyOf).required).toBeUndefined();
  });

  it("change nothing else: an output schema, a schema without defaults and __proto__ are copied as before", () => {
    const schema = {
      type: "object",
      required: ["a"],
      properties: { a: { type: "string" }, b: { type: "integer", default: 3 }, ["__proto__"]: { default: 1 } },
    };
    expect(Object.keys(schema.properties)).toContain("__proto__"); // an own key, as YAML gives it
    const plain = typeSchema(schema, "TOutput");
    expect(typeSchema(schema, "TOutput", { filledDefaults: false })).toEqual(plain);
    expect((plain.schema as Node).required).toEqual(["a"]);
    expect(input(schema).required).toEqual(["a", "b"]);
    const none = { type: "object", properties: { a: { type: "object", properties: { b: { type: "string" } } } } };
    expect(JSON.stringify(input(none))).toBe(JSON.stringify(typeSchema(none, "TInput").schema));
  });
});

describe("defaulted output properties", () => {
  const output = (schema: unknown) => typeSchema(schema, "TOutput", { optionalDefaults: true }).schema as Node;

  it("are not required where the validator fills them in after the handler returns (not constructor: never)", () => {
    const schema = {
      type: "object",
      additionalProperties: false,
      required: ["status", "count", "nested", "constructor"],
      properties: {
        status: { enum: ["ok", "warn"], default: "ok" },
        count: { type: "integer" },
        nested: { type: "object", required: ["n", "m"], properties: { n: { default: 0 }, m: { type: "string" } } },
        constructor: { type: "string", default: "never filled in" },
      },
    };
    const copy = output(schema);
    expect(copy.required).toEqual(["count", "nested", "constructor"]);
    expect(at(copy, "properties", "nested").required).toEqual(["m"]);
    // what the output validator does with a result that leaves them out
    expect(validated(schema, { count: 1, nested: { m: "m" }, constructor: "c" })).toEqual({
      status: "ok",
      count: 1,
      nested: { n: 0, m: "m" },
      constructor: "c",
    });
  });
});
