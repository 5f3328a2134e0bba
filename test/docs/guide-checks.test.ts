/** The comparisons the guide test relies on: they must fail when the output differs. */
import { describe, expect, it } from "vitest";
import { httpMismatches, jsonMismatches, mentionedVariables } from "./guide-checks.js";

const RESPONSE = [
  "HTTP/1.1 403 Forbidden",
  "X-Request-Id: 1",
  'www-authenticate: Bearer realm="mcp", scope="docs.write search.read"',
  "content-type: application/json",
  "",
  '{"jsonrpc":"2.0","id":1,"error":{"code":-32001,"message":"Unauthorized: scope docs.write required"}}',
].join("\r\n");

describe("guide output comparison", () => {
  it("accepts the status, the listed headers (any case) and a body subset", () => {
    const expected = [
      "HTTP/2 403",
      'WWW-Authenticate: Bearer realm="mcp", scope="docs.write search.read"',
      "",
      '{"error":{"message":"Unauthorized: scope docs.write required"}}',
    ].join("\n");
    expect(httpMismatches(expected, RESPONSE)).toEqual([]);
  });

  it("reports another status, a missing or different header, a different body", () => {
    const expected = [
      "HTTP/1.1 401 Unauthorized",
      'www-authenticate: Bearer realm="mcp", scope="docs.write"',
      "retry-after: 30",
      "",
      '{"error":{"code":-32600}}',
    ].join("\n");
    expect(httpMismatches(expected, RESPONSE)).toEqual([
      "status: expected 401, got 403",
      'header www-authenticate: expected Bearer realm="mcp", scope="docs.write"\n  got Bearer realm="mcp", scope="docs.write search.read"',
      "header retry-after: missing",
      "body.error.code: expected -32600, got -32001",
    ]);
  });

  it("reads SSE data lines; … matches anything inside a string", () => {
    const sse =
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\nevent: message\r\ndata: {"result":{"n":[1,2]}}\r\n';
    expect(httpMismatches('HTTP/1.1 200 OK\n\nevent: message\ndata: {"result":{"n":[1,2]}}', sse)).toEqual([]);
    expect(httpMismatches('HTTP/1.1 200 OK\n\ndata: {"result":{"n":[1]}}', sse)).toEqual([
      "data.result.n: expected [1], got [1,2]",
    ]);
    expect(jsonMismatches({ a: 'Bearer …, scope="x"' }, { a: 'Bearer realm="mcp", scope="x"' })).toEqual([]);
    expect(jsonMismatches({ a: 'Bearer …, scope="x"' }, { a: 'Bearer realm="mcp", scope="y"' })).toHaveLength(1);
  });

  it("finds environment variables in prose and in commands, not error codes or algorithms", () => {
    const text = [
      "Set `AUTH0_DOMAIN`, `PORT=3000` and `NODE_ENV=production`; errors like `AUTH005`; `RS256`; `HOST`.",
      "```sh",
      "TOKEN=$(npm run token)",
      "AUTH_MODE=oauth2 npm start",
      "```",
    ].join("\n");
    expect([...mentionedVariables(text)].sort()).toEqual(["AUTH0_DOMAIN", "AUTH_MODE", "NODE_ENV", "PORT", "TOKEN"]);
  });
});
