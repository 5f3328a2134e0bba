/**
 * The API for handler authors: `import { defineHandler, ToolError } from "../toolgate.js"`.
 * `defineHandler` and the types come from generated/define-handler.ts, bound to this project's tools.
 */
export {
  defineHandler,
  type HandlerContext,
  type ToolInput,
  type ToolName,
  type ToolOutput,
} from "../generated/define-handler.js";
export { ScopeRequiredError, ToolError } from "./tools/errors.js";
export {
  type ContentBlock,
  type MarkedToolResult,
  type Principal,
  type StructuredResult,
  type ToolResult,
  toolResult,
} from "./tools/handler-api.js";
