/**
 * Thrown by a handler to tell the model what went wrong: its message is shown as the tool result
 * (`isError: true`). Any other error is logged with its stack and answered with a generic message.
 */
export class ToolError extends Error {
  override readonly name = "ToolError";
}

/**
 * Thrown by `ctx.requireScopes()` when the caller lacks scopes: the server turns it into the same
 * challenge the per-tool check produces (401 for an anonymous caller, 403 insufficient_scope otherwise).
 */
export class ScopeRequiredError extends Error {
  override readonly name = "ScopeRequiredError";
  constructor(
    readonly tool: string,
    /** Every scope the operation needs. */
    readonly scopes: readonly string[],
    /** Those the caller lacks. */
    readonly missing: readonly string[],
  ) {
    // Nothing missing: an anonymous caller of `ctx.requireScopes()` with no scope named (as decide.ts words it).
    super(
      missing.length > 0 ? `Unauthorized: scope ${missing.join(" ")} required` : `Unauthorized: sign in to use ${tool}`,
    );
  }
}

/**
 * A tools/call naming no tool of the catalogue (or one the mode hides): a protocol error, not a tool
 * result — the spec (tools, "Error Handling") lists unknown tools among the JSON-RPC errors, -32602
 * "Unknown tool: …". Thrown by `callTool`; src/mcp/ answers it.
 */
export class UnknownToolError extends Error {
  override readonly name = "UnknownToolError";
  constructor(tool: string) {
    super(`Unknown tool: ${JSON.stringify(tool.slice(0, 128))}`);
  }
}
