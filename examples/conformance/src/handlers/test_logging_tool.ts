import { defineHandler } from "../toolgate.js";

/**
 * test_logging_tool — Logging without a log level
 * Declared in tools.yaml#/tools/test_logging_tool. Scenario server-stateless of
 * @modelcontextprotocol/conformance: the log message must be dropped when the request sets no log level.
 */
export default defineHandler("test_logging_tool", async (_input, ctx) => {
  await ctx.notify("info", "Diagnostic trace logging activated");
  return "Logging evaluated";
});
