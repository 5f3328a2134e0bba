import type { Model } from "../normalise.js";
import { header, str } from "./header.js";

/** The handler file of a tool, relative to the project root. */
export const handlerPath = (name: string): string => `src/handlers/${name}.ts`;

/**
 * `generated/handlers.ts`: a loader for every tool's handler (the runtime imports a handler on its
 * tool's first call), and the compile-time check that the map is complete and each handler was
 * defined for its own tool.
 */
export function emitHandlerMap(model: Model): string {
  const entries = model.tools.map(
    (t) => `  ${str(t.name)}: () => import(${str(`../src/handlers/${t.name}.js`)}).then((m) => m.default),`,
  );
  return `${header(model, "The handler of every tool, loaded on the tool's first call.")}// A type error on a line below is a mistake in that tool's src/handlers/<tool>.ts, not here: it must
// \`export default defineHandler("<tool>", …)\` — a default export, defineHandler, its own tool's name.
import type { HandlerLoaders } from "./define-handler.js";

export const handlers = {
${entries.join("\n")}
} satisfies HandlerLoaders;
`;
}

/**
 * `generated/define-handler.ts`: the handler API bound to this project's tools. It imports no
 * handler, so handlers can import it without a cycle.
 */
export function emitDefineHandler(model: Model): string {
  const api = `${model.runtime}/src/tools/handler-api.js`;
  return `${header(model, "defineHandler and the handler types, bound to these tools.")}import {
  createDefineHandler,
  type HandlerContextOf,
  type HandlerMapOf,
  type ToolInputOf,
  type ToolOutputOf,
} from ${str(api)};
import type { registry, scopeCatalogue } from "./registry.js";
import type { ToolTypes } from "./types.js";

export type Project = { registry: typeof registry; types: ToolTypes; scopes: typeof scopeCatalogue };
export type ToolName = keyof ToolTypes & keyof typeof registry;
export type HandlerContext<N extends ToolName> = HandlerContextOf<Project, N>;
export type ToolInput<N extends ToolName> = ToolInputOf<Project, N>;
export type ToolOutput<N extends ToolName> = ToolOutputOf<Project, N>;
export type HandlerMap = HandlerMapOf<Project>;
export type HandlerLoaders = { readonly [N in keyof HandlerMap]: () => Promise<HandlerMap[N]> };

/** Defines the handler of tool \`name\`; see ${model.runtime === ".." ? "src/toolgate.ts" : "the toolgate README"}. */
export const defineHandler = createDefineHandler<Project>();
`;
}

/** `generated/project.ts`: everything the runtime needs to serve these tools, in one object. */
export function emitProject(model: Model): string {
  return `${header(model, "The project as the runtime serves it: pass it to startServer({ project }).")}import type { ToolProject } from ${str(`${model.runtime}/src/tools/project.js`)};
import { handlers } from "./handlers.js";
import { registry, server, toolNames } from "./registry.js";
import { schemas } from "./schemas.js";
import { tools } from "./tools-list.js";

export const project: ToolProject = {
  registry,
  toolNames,
  server,
  schemas,
  tools,
  handlers,
  /** SHA-256 of ${model.toolsFile} (line ends as LF) at generate time: the server compares it at startup. */
  toolsDigest: ${str(model.toolsDigest)},
};
`;
}
