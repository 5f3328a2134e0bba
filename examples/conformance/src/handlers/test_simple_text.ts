import { defineHandler } from "../toolgate.js";

/**
 * test_simple_text — Simple text
 * Declared in tools.yaml#/tools/test_simple_text. Scenario tools-call-simple-text of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_simple_text", () => "This is a simple text response for testing.");
