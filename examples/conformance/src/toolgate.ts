/**
 * The handler API of this example, bound to its own tools: the same exports as toolgate's
 * src/toolgate.ts, with `defineHandler` and the types from this project's generated/ folder.
 */
export { ScopeRequiredError, ToolError } from "../../../src/tools/errors.js";
export { type ContentBlock, type Principal, type ToolResult, toolResult } from "../../../src/tools/handler-api.js";
export {
  defineHandler,
  type HandlerContext,
  type ToolInput,
  type ToolName,
  type ToolOutput,
} from "../generated/define-handler.js";
