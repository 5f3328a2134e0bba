/** SEP-2243 `Mcp-Param-*` headers against the body: strings exactly, numbers numerically (as the SDK's validator). */
import { describe, expect, it } from "vitest";
import { paramHeaderMismatch, type RpcCall } from "../../src/http/jsonrpc.js";

const call: RpcCall = { id: 1, method: "tools/call", target: "t" };
const check = (header: string | undefined, value: unknown) =>
  paramHeaderMismatch(
    { "mcp-protocol-version": "2026-07-28", ...(header !== undefined ? { "mcp-param-x": header } : {}) },
    [call],
    () => [{ header: "mcp-param-x", property: "x" }],
    () => ({ x: value }),
  );
const b64 = (s: string) => `=?base64?${Buffer.from(s).toString("base64")}?=`;

describe("Mcp-Param-* headers", () => {
  it.each(["42", "42.0", "042", "42.000", b64("42.0")])("%s carries the number 42", (header) => {
    expect(check(header, 42)).toBeUndefined();
  });

  it.each(["43", "4.2e1", "42abc", "0x2a", " 42", "", "4 2", "42."])("%j does not carry the number 42", (header) => {
    expect(check(header, 42)).toMatch(/does not match/);
  });

  it("a string argument is compared exactly, even when it looks like a number", () => {
    expect(check("42", "42")).toBeUndefined();
    expect(check("42.0", "42")).toMatch(/does not match/);
  });

  it("booleans are written in lower case; a missing header on 2026-07-28 is refused", () => {
    expect(check("true", true)).toBeUndefined();
    expect(check("True", true)).toMatch(/does not match/);
    expect(check(undefined, 1)).toMatch(/absent/);
  });
});
