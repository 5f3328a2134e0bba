/**
 * callTool's last step: a handler's plain result that cannot be serialised (a cycle, a BigInt) is a
 * generic internal error with the request id, logged with its cause — as for a handler that throws —
 * not the serialiser's message sent to the client.
 */
import { describe, expect, it } from "vitest";
import { type CallEnvironment, callTool } from "../../src/tools/call-tool.js";
import type { ToolCatalogue } from "../../src/tools/catalogue.js";
import { toolResult } from "../../src/tools/handler-api.js";

function catalogueReturning(value: () => unknown): ToolCatalogue {
  const accept = { "~standard": { version: 1, vendor: "test", validate: (v: unknown) => ({ value: v }) } };
  return {
    get: (name) =>
      name === "t"
        ? {
            name: "t",
            meta: { name: "t", auth: "none", scopes: [], allowsAnonymous: true } as never,
            load: async () => ({ input: accept as never, output: undefined, run: async () => value() }),
          }
        : undefined,
  } as ToolCatalogue;
}

function environment() {
  const errors: { obj: unknown; msg: string }[] = [];
  const log = {
    error: (obj: unknown, msg: string) => void errors.push({ obj, msg }),
    warn() {},
    info() {},
    debug() {},
    child: () => log,
  };
  const env = {
    principal: undefined,
    requestId: "req-1",
    log,
    signal: new AbortController().signal,
    progress: async () => {},
    notify: async () => {},
  } as unknown as CallEnvironment;
  return { env, errors };
}

const cyclic = () => {
  const o: Record<string, unknown> = { a: 1 };
  o.self = o;
  return o;
};
const FAILED = "Tool t failed with an internal error (request id req-1).";
const MALFORMED = "Tool t returned a malformed result (request id req-1).";

// Neither reaches the client as the serialiser's message nor as the SDK's -32602 blaming the client.
describe("callTool with a result that cannot be serialised or is not a CallToolResult", () => {
  it.each([
    ["a cycle", cyclic, FAILED, "tool handler failed"],
    ["a BigInt", () => ({ n: 10n }), FAILED, "tool handler failed"],
    ["a function", () => () => 1, MALFORMED, "tool result is malformed"],
    ["a symbol", () => Symbol("s"), MALFORMED, "tool result is malformed"],
    ["content that is a string", () => toolResult({ content: "hi" } as never), MALFORMED, "tool result is malformed"],
    [
      "a text block whose text is a number",
      () => toolResult({ content: [{ type: "text", text: 5 }] } as never),
      MALFORMED,
      "tool result is malformed",
    ],
  ])("%s → an internal error naming the request id, the cause logged", async (_, value, text, logged) => {
    const { env, errors } = environment();
    const result = await callTool(catalogueReturning(value), { name: "t", arguments: {} }, env);
    expect(result).toEqual({ content: [{ type: "text", text }], isError: true });
    expect(errors.map((e) => e.msg)).toEqual([logged]);
  });
});
