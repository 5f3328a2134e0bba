import { defineHandler, ToolError } from "../toolgate.js";

/**
 * local_memory_search — Search memories
 * Declared in tools.yaml#/tools/local_memory_search. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 */
export default defineHandler("local_memory_search", async (input, ctx) => {
  void input;
  void ctx;
  throw new ToolError("not implemented: local_memory_search");
});
