import { defineHandler, toolResult } from "../toolgate.js";

/**
 * test_embedded_resource — Embedded resource
 * Declared in tools.yaml#/tools/test_embedded_resource. Scenario tools-call-embedded-resource of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_embedded_resource", () =>
  toolResult({
    content: [
      {
        type: "resource",
        resource: {
          uri: "test://embedded-resource",
          mimeType: "text/plain",
          text: "This is an embedded resource content.",
        },
      },
    ],
  }),
);
