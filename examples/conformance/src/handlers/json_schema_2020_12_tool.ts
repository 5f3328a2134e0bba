import { defineHandler } from "../toolgate.js";

/**
 * json_schema_2020_12_tool — JSON Schema 2020-12
 * Declared in tools.yaml#/tools/json_schema_2020_12_tool. Scenario json-schema-2020-12 of @modelcontextprotocol/conformance.
 */
export default defineHandler(
  "json_schema_2020_12_tool",
  (input) => `JSON Schema 2020-12 tool called with: ${JSON.stringify(input)}`,
);
