import type { Model } from "../normalise.js";
import { header, str } from "./header.js";

/** The handler file of a tool, relative to the project root. */
export const handlerPath = (name: string): string => `src/handlers/${name}.ts`;

/**
 * \`generated/handlers.ts\`: imports every handler and checks, at compile time, that the map is
 * complete and each handler was defined for its own tool.
 */
export function emitHandlerMap(model: Model): string {
  const imports = model.tools.map((t) => `import ${t.binding} from ${str(`../src/handlers/${t.name}.js`)};`);
  const entries = model.tools.map((t) => `  ${str(t.name)}: ${t.binding},`);
  return `${header(model, "The handler of every tool.")}import type { HandlerMap } from "../src/tools/handler-api.js";
${imports.join("\n")}

export const handlers = {
${entries.join("\n")}
} satisfies HandlerMap;
`;
}
