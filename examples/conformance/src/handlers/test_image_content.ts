import { TEST_IMAGE_PNG_BASE64 } from "../fixtures.js";
import { defineHandler, toolResult } from "../toolgate.js";

/**
 * test_image_content — Image content
 * Declared in tools.yaml#/tools/test_image_content. Scenario tools-call-image of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_image_content", () =>
  toolResult({ content: [{ type: "image", data: TEST_IMAGE_PNG_BASE64, mimeType: "image/png" }] }),
);
