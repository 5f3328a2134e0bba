import { defineHandler, ToolError } from "../toolgate.js";

/**
 * codebase.search — Search the codebase
 * Declared in tools.yaml#/tools/codebase.search. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the caller when one signed in (undefined for anonymous callers).
 */
export default defineHandler("codebase.search", async (input, ctx) => {
  void input;
  void ctx;
  throw new ToolError("not implemented: codebase.search");
});
