/**
 * The messages a tool's argument check gives the model: each issue with its path, and for the
 * keywords whose message alone does not say what is expected, the expected value(s).
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { formatIssues, standardSchema } from "../../src/tools/standard-schema.js";

const checked = (schema: object, value: unknown) => {
  const validator = new Ajv2020({ allErrors: true }).compile(schema);
  const result = standardSchema(validator, schema)["~standard"].validate(value);
  return "issues" in result && result.issues ? formatIssues(result.issues) : "valid";
};

describe("argument issues", () => {
  it("enum lists the allowed values; const names the one value (it said only 'must be equal to constant')", () => {
    const schema = {
      type: "object",
      properties: { kind: { const: "admin" }, level: { enum: ["low", "high", 3] } },
    };
    expect(checked(schema, { kind: "admin", level: "low" })).toBe("valid");
    expect(checked(schema, { kind: "user", level: "mid" })).toBe(
      '/kind must be equal to constant "admin"; /level must be equal to one of the allowed values: "low", "high", 3',
    );
    expect(checked({ const: { a: [1] } }, { a: [2] })).toBe('(root) must be equal to constant {"a":[1]}');
  });

  it("additionalProperties names the property", () => {
    expect(checked({ type: "object", additionalProperties: false }, { extra: 1 })).toBe(
      '(root) must NOT have additional properties "extra"',
    );
  });
});
