/** The handler API bound to this project's tools (see the root src/toolgate.ts). */

export { ToolError } from "../../../src/tools/errors.js";
export { defineHandler, type HandlerContext, type ToolInput, type ToolName } from "../generated/define-handler.js";
