/**
 * schemaErrorsToDiagnostics on a discriminated union (`discriminator` + `oneOf`): one diagnostic per
 * problem, at the tag. ajv reports a bad tag twice, once for the tag's own schema (enum, required)
 * and once for the discriminator; with no enum on the tag, the discriminator's error is the only one
 * and must say what is wrong.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { CONFIG_AJV_OPTIONS } from "../../scripts/generator/validate.js";
import { type SchemaError, schemaErrorsToDiagnostics } from "../../src/config/schema-diagnostics.js";
import { parseYamlSource } from "../../src/config/yaml-source.js";

const branches = [
  { type: "object", properties: { kind: { const: "a" }, x: { type: "string" } } },
  { type: "object", properties: { kind: { const: "b" }, y: { type: "string" } } },
];
const list = (item: object) => ({ type: "object", properties: { items: { type: "array", items: item } } });
/** The tag's values only in the branches' `const`s: the least ajv's discriminator needs. */
const WITHOUT_ENUM = list({
  type: "object",
  required: ["kind"],
  properties: { kind: { description: "a or b" } },
  discriminator: { propertyName: "kind" },
  oneOf: branches,
});
/** The tag also declared with an `enum`, as schema/auth.schema.json does. */
const WITH_ENUM = list({
  type: "object",
  required: ["kind"],
  properties: { kind: { enum: ["a", "b"] } },
  discriminator: { propertyName: "kind" },
  oneOf: branches,
});

function diagnose(schema: object, yaml: string): string[] {
  const check = new Ajv2020(CONFIG_AJV_OPTIONS).compile(schema);
  const source = parseYamlSource("f.yaml", yaml);
  expect(check(source.value)).toBe(false);
  return schemaErrorsToDiagnostics(source, (check.errors ?? []) as SchemaError[]).map(
    (d) => `${d.line}:${d.col} ${d.code} ${d.message}`,
  );
}

const YAML = "items:\n  - kind: c\n  - kind: 7\n  - x: s\n";

describe("a discriminated union's tag", () => {
  it("without an enum: an unknown value, a value that is no string, a missing tag, each once at the tag", () => {
    expect(diagnose(WITHOUT_ENUM, YAML)).toEqual([
      '2:11 SCHEMA004 items.0.kind has an unknown value the string "c"',
      "3:11 SCHEMA003 items.1.kind must be a string, not the number 7",
      '4:5 SCHEMA002 missing required key "kind" in items.2',
    ]);
  });

  it("with an enum: the enum's or required's diagnostic alone", () => {
    expect(diagnose(WITH_ENUM, YAML)).toEqual([
      '2:11 SCHEMA004 items.0.kind must be one of "a", "b", not the string "c" (did you mean "a"?)',
      '3:11 SCHEMA004 items.1.kind must be one of "a", "b", not the number 7',
      '4:5 SCHEMA002 missing required key "kind" in items.2',
    ]);
  });
});
