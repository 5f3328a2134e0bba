import { defineHandler, ToolError } from "../toolgate.js";

/**
 * test_error_handling — Error
 * Declared in tools.yaml#/tools/test_error_handling. Scenario tools-call-error of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_error_handling", () => {
  throw new ToolError("This tool intentionally returns an error for testing");
});
