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

/**
 * Builds the catalogue (no tool code is loaded here). `anonymousOnly` (mode `anonymous`) hides every tool that does not allow
 * `noauth`: it is neither listed nor callable, exactly as if it did not exist.
 */
export function createToolCatalogue(project: ToolProject, options: { anonymousOnly: boolean }): ToolCatalogue {
  const byName = new Map<string, PreparedTool>();
  for (const name of project.toolNames) {
    const meta = project.registry[name] as ToolInfo;
    if (options.anonymousOnly && !meta.allowsAnonymous) continue;
    const loadHandler = project.handlers[name];
    const loadSchemas = project.schemas[name];
    const inconsistent = () => new Error(`generated project is inconsistent for tool ${name}: run npm run generate`);
    if (typeof loadHandler !== "function" || typeof loadSchemas !== "function") throw inconsistent();
    let loading: Promise<LoadedTool> | undefined;
    // Concurrent first calls share one load. A failed load is forgotten, so the next call tries again:
    // a module that threw while running fails again (ES modules cache that), but a file that was
    // missing or unreadable (being deployed, say) loads once it is there.
    const load = () =>
      (loading ??= Promise.all([loadHandler(), loadSchemas()]).then(
        ([handler, s]) => {
          if (handler.tool !== name) throw inconsistent();
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
  };
}
