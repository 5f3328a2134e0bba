import type { ToolProject } from "./project.js";
import type { StandardSchemaWithJson } from "./standard-schema.js";

/** A tool's metadata with the literal types widened, for code that handles every tool alike. */
export interface ToolInfo {
  readonly name: string;
  readonly title: string;
  readonly securitySchemes: readonly (
    | { readonly type: "noauth" }
    | { readonly type: "oauth2"; readonly scopes: readonly string[] }
  )[];
  /** Scopes of the oauth2 scheme: all required. */
  readonly scopes: readonly string[];
  readonly allowsAnonymous: boolean;
  readonly auth: "none" | "optional" | "required";
  readonly hasOutputSchema: boolean;
}

/** A tool's code: its validators and handler, loaded on its first call and kept. */
export interface LoadedTool {
  readonly input: StandardSchemaWithJson<unknown>;
  readonly output: StandardSchemaWithJson<unknown> | undefined;
  readonly run: (input: never, ctx: never) => unknown;
}

/**
 * Everything the server needs about one tool. The metadata is there from startup; the code is loaded
 * by `load()` on the first call, so start-up time and memory do not grow with the tools never called.
 */
export interface PreparedTool {
  readonly name: string;
  readonly meta: ToolInfo;
  load(): Promise<LoadedTool>;
}

export interface ToolCatalogue {
  /** Tools callable by anybody in this deployment (in `anonymous` mode: only those allowing noauth). */
  get(name: string): PreparedTool | undefined;
  /** The frozen `tools/list` result for a caller who is (not) authenticated. */
  list(authenticated: boolean): ListToolsResultBody;
  /** Arguments a tool mirrors in `Mcp-Param-*` headers (SEP-2243 `x-mcp-header`), derived once. */
  paramHeaders(name: string): readonly { header: string; property: string }[];
  /** Metadata of every tool in the catalogue, in tools.yaml order. */
  readonly infos: readonly ToolInfo[];
  readonly size: number;
  /** auth.yaml's scope catalogue as the server read it: the scopes `ctx.requireScopes()` may ask for. */
  readonly scopeCatalogue: ScopeCatalogue;
}

export interface ScopeCatalogue {
  /** The file that declares them (auth.yaml), for messages. */
  readonly file: string;
  readonly scopes: ReadonlySet<string>;
}

export interface ListToolsResultBody {
  readonly tools: readonly Readonly<Record<string, unknown>>[];
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A handler module that does not give the runtime its tool's handler: what is wrong, and where. */
export class HandlerModuleError extends Error {
  override readonly name = "HandlerModuleError";
}

const handlerFile = (tool: string) => `src/handlers/${tool}.ts`;

/**
 * Throws unless `handler` (a handler module's default export) is what `defineHandler(tool, …)`
 * returns. Under `npm run dev` nothing type-checks the handler before it runs; `tsc` reports the same
 * mistakes in generated/handlers.ts.
 */
function checkHandler(tool: string, handler: unknown): asserts handler is { tool: string; run: unknown } {
  const defined = handler as { tool?: unknown; run?: unknown } | null | undefined;
  const problem =
    handler === undefined
      ? "it has no default export"
      : typeof handler === "function"
        ? "its default export is a plain function (wrap it in defineHandler)"
        : typeof defined?.tool !== "string" || typeof defined.run !== "function"
          ? `its default export is not a handler (${handler === null ? "null" : typeof handler})`
          : defined.tool !== tool
            ? `it defines ${JSON.stringify(defined.tool)}`
            : undefined;
  if (problem)
    throw new HandlerModuleError(
      `${handlerFile(tool)} must \`export default defineHandler(${JSON.stringify(tool)}, …)\`; ${problem}`,
    );
}

/** A handler module that failed to load: when it is the file itself that is missing, says how to create it. */
function missingHandler(tool: string, error: unknown): never {
  // The module not found: Node (and tsx) name it in `url`; other loaders (vitest's) in the message
  // only. It must be this file, not one the handler imports.
  const { url, message } = (error ?? {}) as { url?: unknown; message?: unknown };
  const missing =
    typeof url === "string"
      ? url
      : /^Cannot find module '([^']+)'/.exec(typeof message === "string" ? message : "")?.[1];
  if (missing?.endsWith(`/src/handlers/${tool}.js`) || missing?.endsWith(`/src/handlers/${tool}.ts`))
    throw new HandlerModuleError(`${handlerFile(tool)} is missing: npm run generate creates its stub`);
  throw error;
}

/**
 * Builds the catalogue (no tool code is loaded here). `anonymousOnly` (mode `anonymous`) hides every tool that does not allow
 * `noauth`: it is neither listed nor callable, exactly as if it did not exist.
 */
export function createToolCatalogue(
  project: ToolProject,
  options: { anonymousOnly: boolean; scopeCatalogue: ScopeCatalogue },
): ToolCatalogue {
  const byName = new Map<string, PreparedTool>();
  for (const name of project.toolNames) {
    const meta = project.registry[name] as ToolInfo;
    if (options.anonymousOnly && !meta.allowsAnonymous) continue;
    const loadHandler = project.handlers[name];
    const loadSchemas = project.schemas[name];
    if (typeof loadHandler !== "function" || typeof loadSchemas !== "function")
      throw new Error(`generated project is inconsistent for tool ${name}: run npm run generate`);
    let loading: Promise<LoadedTool> | undefined;
    // Concurrent first calls share one load. A failed load is forgotten, so the next call tries again:
    // a module that threw while running fails again (ES modules cache that), but a file that was
    // missing or unreadable (being deployed, say) loads once it is there.
    const load = () =>
      (loading ??= Promise.all([loadHandler().catch((error) => missingHandler(name, error)), loadSchemas()]).then(
        ([handler, s]) => {
          checkHandler(name, handler);
          return Object.freeze({ input: s.input, output: s.output, run: handler.run as LoadedTool["run"] });
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      ));
    byName.set(name, Object.freeze({ name, meta, load }));
  }
  const visible = project.tools.filter((t) => byName.has(t.name));
  const headers = new Map<string, { header: string; property: string }[]>();
  for (const tool of visible) {
    const properties =
      (tool.inputSchema as { properties?: Record<string, { "x-mcp-header"?: unknown }> } | undefined)?.properties ?? {};
    const list = Object.entries(properties)
      .filter(([, p]) => typeof p?.["x-mcp-header"] === "string")
      .map(([property, p]) => ({ header: `mcp-param-${String(p["x-mcp-header"]).toLowerCase()}`, property }));
    if (list.length > 0) headers.set(tool.name, list);
  }
  const all = deepFreeze({ tools: visible });
  return {
    get: (name) => byName.get(name),
    list: () => all,
    paramHeaders: (name) => headers.get(name) ?? [],
    infos: Object.freeze([...byName.values()].map((t) => t.meta)),
    size: byName.size,
    scopeCatalogue: options.scopeCatalogue,
  };
}
