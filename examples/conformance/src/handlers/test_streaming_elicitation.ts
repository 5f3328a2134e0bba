import { defineHandler } from "../toolgate.js";

/**
 * test_streaming_elicitation — Response stream
 * Declared in tools.yaml#/tools/test_streaming_elicitation. Scenario server-stateless of
 * @modelcontextprotocol/conformance: the response stream carries notifications and the result only.
 */
export default defineHandler("test_streaming_elicitation", async (_input, ctx) => {
  await ctx.progress(50, 100, "Halfway");
  return "Streaming complete";
});
