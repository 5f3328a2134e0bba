import { TEST_IMAGE_PNG_BASE64 } from "../fixtures.js";
import { defineHandler, toolResult } from "../toolgate.js";

/**
 * test_multiple_content_types — Multiple content types
 * Declared in tools.yaml#/tools/test_multiple_content_types. Scenario tools-call-mixed-content of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_multiple_content_types", () =>
  toolResult({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: TEST_IMAGE_PNG_BASE64, mimeType: "image/png" },
      {
        type: "resource",
        resource: {
          uri: "test://mixed-content-resource",
          mimeType: "application/json",
          text: JSON.stringify({ test: "data", value: 123 }),
        },
      },
    ],
  }),
);
