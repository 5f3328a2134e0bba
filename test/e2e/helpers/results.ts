/**
 * Checks on what clients get back, robust to the shipped handlers changing: "the call reached the
 * handler" means a tool result that is not an authorization refusal (it may be a real result, a
 * validation or "not implemented" error from the handler, or any other tool error).
 */
import { expect } from "vitest";

export interface ToolResultLike {
  content?: unknown;
  isError?: boolean;
  _meta?: Record<string, unknown>;
  structuredContent?: unknown;
  [key: string]: unknown;
}

/** Text of the result's text blocks. */
export function resultText(result: ToolResultLike): string {
  const blocks = Array.isArray(result.content) ? (result.content as { type?: string; text?: string }[]) : [];
  return blocks
    .filter((b) => b?.type === "text")
    .map((b) => b.text ?? "")
    .join("\n");
}

/** Why `result` is an authorization refusal, or undefined when it is not one. */
export function authRefusal(result: ToolResultLike): string | undefined {
  if (result._meta?.["mcp/www_authenticate"] !== undefined) return "the result carries _meta.mcp/www_authenticate";
  const text = resultText(result);
  if (result.isError && /^Unauthorized\b|insufficient_scope|invalid_token|sign in to use/i.test(text))
    return `refusal text: ${text}`;
  return undefined;
}

/** The tools/call got past authentication and authorization and was answered by the tool layer. */
export function expectReachedHandler(result: ToolResultLike): void {
  expect(result, "a CallToolResult").toHaveProperty("content");
  expect(authRefusal(result), `not an auth refusal: ${JSON.stringify(result).slice(0, 300)}`).toBeUndefined();
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parses a WWW-Authenticate value (RFC 9110 §11.6.1) into its challenges: `scheme` followed by
 * comma-separated `name=value` / `name="quoted \" value"` parameters; a new challenge starts at a
 * token that is not followed by `=`.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < header.length && chars.test(header.charAt(i))) i++;
  };
  const token = () => {
    const start = i;
    while (i < header.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(header.charAt(i))) i++;
    return header.slice(start, i);
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const scheme = token();
    if (!scheme) break;
    const challenge: Challenge = { scheme, params: {} };
    challenges.push(challenge);
    for (;;) {
      skip(/[\s,]/);
      const save = i;
      const name = token();
      skip(/\s/);
      if (!name || header.charAt(i) !== "=") {
        i = save; // the next challenge's scheme
        break;
      }
      i++;
      skip(/\s/);
      let value = "";
      if (header.charAt(i) === '"') {
        i++;
        while (i < header.length && header.charAt(i) !== '"') {
          if (header.charAt(i) === "\\") i++;
          value += header.charAt(i);
          i++;
        }
        i++;
      } else {
        const start = i;
        while (i < header.length && header.charAt(i) !== "," && !/\s/.test(header.charAt(i))) i++;
        value = header.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
    }
  }
  return challenges;
}

/** The single Bearer challenge of a header value (fails the test otherwise). */
export function bearerChallenge(header: string | null | undefined): Record<string, string> {
  expect(header, "a WWW-Authenticate header").toBeTruthy();
  const bearer = parseWwwAuthenticate(header ?? "").filter((c) => c.scheme.toLowerCase() === "bearer");
  expect(bearer, `one Bearer challenge in ${header}`).toHaveLength(1);
  return bearer[0]?.params ?? {};
}

export const scopeSet = (scope: string | undefined): string[] => (scope ?? "").split(/\s+/).filter(Boolean).sort();

/** docs.create reached its handler; when the handler wrote the document, its result says where. */
export function expectDocumentWritten(result: ToolResultLike): void {
  expectReachedHandler(result);
  if (!result.isError && result.structuredContent !== undefined)
    expect(result.structuredContent).toMatchObject({ path: expect.any(String), created: expect.any(Boolean) });
}
