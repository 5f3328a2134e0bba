/**
 * ConnectionCallers (src/auth/connection-callers.ts) compares a request's credential header with the
 * one remembered for its connection as latin1 bytes (node:http's header values are one byte per
 * character) in constant time. Only the identical string may match.
 */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { ConnectionCallers } from "../../src/auth/connection-callers.js";
import type { Principal } from "../../src/tools/handler-api.js";

const principal = Object.freeze({ subject: "u", userId: "u1", scopes: [], claims: {}, via: "oauth2" }) as Principal;
const on = (socket: object) => ({ socket }) as unknown as IncomingMessage;

describe("ConnectionCallers", () => {
  it("recalls the caller for the identical header on the same connection only", () => {
    const callers = new ConnectionCallers();
    const socket = {};
    callers.remember(on(socket), "authorization", "Bearer abc.def.ghi", principal, () => true);
    expect(callers.recall(on(socket), "authorization", "Bearer abc.def.ghi")).toBe(principal);
    expect(callers.recall(on({}), "authorization", "Bearer abc.def.ghi")).toBeUndefined();
    expect(callers.recall(on(socket), "api-key", "Bearer abc.def.ghi")).toBeUndefined();
    expect(callers.recall(on(socket), "authorization", "Bearer abc.def.ghj")).toBeUndefined();
    expect(callers.recall(on(socket), "authorization", "Bearer abc.def.gh")).toBeUndefined();
  });

  it("compares a header whose length is not a whole number of words after a longer one (the padding is cleared)", () => {
    const callers = new ConnectionCallers();
    const short = {};
    const long = {};
    callers.remember(on(short), "authorization", "Bearer abc", principal, () => true);
    callers.remember(on(long), "authorization", `Bearer ${"z".repeat(40)}`, principal, () => true);
    // The long recall leaves non-zero bytes where the short header's last word is padded.
    expect(callers.recall(on(long), "authorization", `Bearer ${"z".repeat(40)}`)).toBe(principal);
    expect(callers.recall(on(short), "authorization", "Bearer abc")).toBe(principal);
    expect(callers.recall(on(short), "authorization", "Bearer abd")).toBeUndefined();
  });

  it("refuses a string whose characters beyond latin1 are cut to the remembered bytes", () => {
    const callers = new ConnectionCallers();
    const socket = {};
    callers.remember(on(socket), "authorization", "Bearer a", principal, () => true);
    // U+0161 written as latin1 is 0x61 ("a"): the same bytes, not the same credential.
    expect(Buffer.from("Bearer \u0161", "latin1").equals(Buffer.from("Bearer a", "latin1"))).toBe(true);
    expect(callers.recall(on(socket), "authorization", "Bearer \u0161")).toBeUndefined();
  });

  it("forgets a caller whose authentication no longer holds", () => {
    const callers = new ConnectionCallers();
    const socket = {};
    let current = true;
    callers.remember(on(socket), "authorization", "Bearer t", principal, () => current);
    current = false;
    expect(callers.recall(on(socket), "authorization", "Bearer t")).toBeUndefined();
    current = true;
    expect(callers.recall(on(socket), "authorization", "Bearer t")).toBeUndefined(); // forgotten, not re-checked
  });
});
