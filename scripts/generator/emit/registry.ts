import type { Model } from "../normalise.js";
import { header, literal, str } from "./header.js";

/** `generated/registry.ts`: each tool's metadata as const — the one place the runtime reads it from. */
export function emitRegistry(model: Model): string {
  const entries = model.tools.map((t) => {
    const fields = [
      `name: ${str(t.name)}`,
      `ident: ${str(t.ident)}`,
      `source: ${str(t.source)}`,
      `title: ${str(t.title)}`,
      `securitySchemes: ${JSON.stringify(t.securitySchemes)}`,
      `scopes: ${JSON.stringify(t.scopes)}`,
      `allowsAnonymous: ${t.allowsAnonymous}`,
      `auth: ${str(t.auth)}`,
      `hasOutputSchema: ${t.output !== undefined}`,
    ];
    return `  /** @generated from ${t.source} */\n  ${str(t.name)}: {\n${fields.map((f) => `    ${f},`).join("\n")}\n  },`;
  });
  return `${header(model, "Tool metadata, as const.")}
export const registry = {
${entries.join("\n")}
} as const;

export type ToolName = keyof typeof registry;
export type ToolMeta<N extends ToolName = ToolName> = (typeof registry)[N];

/** Tool names in tools.yaml order. */
export const toolNames = Object.freeze(Object.keys(registry)) as readonly ToolName[];

/** \`serverInfo\` and \`instructions\` (${model.toolsFile}#/server). */
export const server = ${literal(model.server)} as const;

/** The scope catalogue of ${model.authFile}, as it stood at generate time (the server reads the file again at startup). */
export const scopeCatalogue = ${literal(model.scopes)} as const;
`;
}

/** \`generated/tools-list.ts\`: the \`tools/list\` answer, computed once, deep-frozen by the server. */
export function emitToolsList(model: Model): string {
  const tools = model.tools.map((t) => ({
    name: t.name,
    title: t.title,
    description: t.description,
    inputSchema: t.input,
    ...(t.output ? { outputSchema: t.output } : {}),
    ...(t.annotations ? { annotations: t.annotations } : {}),
    securitySchemes: t.securitySchemes,
    _meta: { ...(t.meta ?? {}), securitySchemes: t.securitySchemes },
  }));
  // Typed, not inferred: an inferred element type merges every tool's schemas, and a property named
  // `constructor` or `toString` in one tool then clashes with the member every object inherits (TS2322).
  return `${header(model, "The tools/list answer: every tool as clients see it, securitySchemes top-level and in _meta.")}import type { ListedTool } from ${str(`${model.runtime}/src/tools/project.js`)};

export const tools: readonly ListedTool[] = ${literal(tools)};
`;
}
