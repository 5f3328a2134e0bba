import type { ToolInfo } from "./catalogue.js";
import type { StandardSchemaWithJson } from "./standard-schema.js";

/**
 * A generated project as the runtime serves it (`generated/project.ts`): the runtime imports no
 * project statically, so one runtime serves the shipped tools, an example, or a benchmark project.
 */
export interface ToolProject {
  readonly registry: { readonly [name: string]: ToolInfo };
  readonly toolNames: readonly string[];
  readonly server: {
    readonly name: string;
    readonly version?: string;
    readonly title?: string;
    readonly instructions?: string;
  };
  /** Per tool, a loader of its validators (generated/validators/<Tool>.ts), called on its first call. */
  readonly schemas: {
    readonly [name: string]: () => Promise<{
      readonly input: StandardSchemaWithJson<unknown>;
      readonly output: StandardSchemaWithJson<unknown> | undefined;
    }>;
  };
  readonly tools: readonly { readonly name: string; readonly [key: string]: unknown }[];
  /** Per tool, a loader of its handler (src/handlers/<tool>.ts), called on its first call. */
  readonly handlers: {
    readonly [name: string]: () => Promise<{
      readonly tool: string;
      readonly run: (input: never, ctx: never) => unknown;
    }>;
  };
}
