import { defineHandler, ToolError } from "../toolgate.js";

/**
 * docs.create — Create a document
 * Declared in tools.yaml#/tools/docs.create. This file is yours: `npm run generate` created it and never touches it again.
 * `input` is already validated against the tool's input schema. ctx.auth is the signed-in caller (subject, userId, scopes, ...).
 */
export default defineHandler("docs.create", async (input, ctx) => {
  void input;
  void ctx;
  throw new ToolError("not implemented: docs.create");
});
