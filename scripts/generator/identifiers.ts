/** `codebase.search` → `CodebaseSearch`: the stem of every generated name for a tool. */
export function toolIdentifier(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z]/.test(pascal) ? pascal : `Tool${pascal}`;
}

/** `codebase.search` → `codebaseSearch`, for import bindings. */
export function toolBinding(name: string): string {
  const ident = toolIdentifier(name);
  return ident[0]!.toLowerCase() + ident.slice(1);
}

/** The MCP tool-name rule (2025-11-25): 1–128 characters of A-Z a-z 0-9 _ . - */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
