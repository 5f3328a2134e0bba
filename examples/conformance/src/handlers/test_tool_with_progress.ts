import { sleep } from "../fixtures.js";
import { defineHandler } from "../toolgate.js";

/**
 * test_tool_with_progress — Progress
 * Declared in tools.yaml#/tools/test_tool_with_progress. Scenario tools-call-with-progress of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_tool_with_progress", async (_input, ctx) => {
  for (const step of [0, 50, 100]) {
    if (step > 0) await sleep(50, ctx.signal);
    await ctx.progress(step, 100, `Completed step ${step} of 100`);
  }
  return "Progress reported: 0, 50 and 100 of 100";
});
