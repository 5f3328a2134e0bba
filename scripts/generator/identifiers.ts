/** `codebase.search` → `CodebaseSearch`: the stem of every generated name for a tool. */
export function toolIdentifier(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const pascal = words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
  return /^[A-Za-z]/.test(pascal) ? pascal : `Tool${pascal}`;
}

/**
 * `codebase.search` → `handler_CodebaseSearch`, the import binding of a tool's handler. The prefix
 * keeps it apart from every name the emitters declare (`handlers`, `HandlerMap`, …); identifiers
 * are unique per tool (TOOLS005), so bindings are too.
 */
export function toolBinding(name: string): string {
  return `handler_${toolIdentifier(name)}`;
}

/** The module of one tool's validators, relative to generated/. */
export const validatorModule = (ident: string): string => `validators/${ident}.ts`;

/** The MCP tool-name rule (2025-11-25): 1–128 characters of A-Z a-z 0-9 _ . - */
export const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/**
 * Tool names whose handler file `src/handlers/<name>.ts` TypeScript takes for a declaration file:
 * `x.d.ts`, and since TypeScript 5 any `*.d.*.ts` (`x.d.v2.ts`). Such a file is never type-checked
 * (skipLibCheck) nor compiled into dist/. TypeScript compares case-sensitively (`x.D.ts` is code).
 */
export const DECLARATION_FILE_NAME = /\.d(\.|$)/;

/**
 * File names Windows reserves for devices: CON, PRN, AUX, NUL, COM1–COM9 and LPT1–LPT9, in any case
 * and followed by any extension (`con.ts`, `Con.x.ts`: what counts is the name up to its first dot).
 * Such a file cannot be created, and a checkout holding one fails, on Windows.
 */
export const WINDOWS_DEVICE_NAME = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\.|$)/i;

/** The names every plain object inherits from Object.prototype: `__proto__`, `constructor`, `toString`, … */
export const OBJECT_PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Names every JavaScript object inherits (`__proto__`, `constructor`, `toString`, …) and
 * `prototype`: as keys of the generated object literals they are no ordinary entries (`"__proto__": …`
 * sets the prototype), and any lookup that forgets `Object.hasOwn` finds them on every map.
 */
export const INHERITED_NAMES: ReadonlySet<string> = new Set([...OBJECT_PROTOTYPE_NAMES, "prototype"]);
