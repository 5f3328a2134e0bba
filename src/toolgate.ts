/**
 * The API for handler authors: `import { defineHandler, ToolError } from "../toolgate.js"`.
 */
export { ScopeRequiredError, ToolError } from "./tools/errors.js";
export {
  type ContentBlock,
  defineHandler,
  type HandlerContext,
  type Principal,
  type ToolInput,
  type ToolOutput,
  type ToolResult,
  toolResult,
} from "./tools/handler-api.js";
