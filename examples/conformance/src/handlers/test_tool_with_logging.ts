import { sleep } from "../fixtures.js";
import { defineHandler } from "../toolgate.js";

/**
 * test_tool_with_logging — Logging
 * Declared in tools.yaml#/tools/test_tool_with_logging. Scenario tools-call-with-logging of @modelcontextprotocol/conformance.
 */
export default defineHandler("test_tool_with_logging", async (_input, ctx) => {
  await ctx.notify("info", "Tool execution started");
  await sleep(50, ctx.signal);
  await ctx.notify("info", "Tool processing data");
  await sleep(50, ctx.signal);
  await ctx.notify("info", "Tool execution completed");
  return "Tool with logging executed successfully";
});
