import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
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
  /**
   * tools.yaml as it stood when this project was generated (`toolsDigest` of its text): the server
   * compares it with the file at startup, so an edit without `npm run generate` does not go unnoticed.
   */
  readonly toolsDigest: string;
  /** Per tool, a loader of its handler (src/handlers/<tool>.ts), called on its first call. */
  readonly handlers: {
    readonly [name: string]: () => Promise<{
      readonly tool: string;
      readonly run: (input: never, ctx: never) => unknown;
    }>;
  };
}

/**
 * One tool as `tools/list` publishes it: the type of generated/tools-list.ts. Declared rather than
 * inferred: TypeScript infers one element type for an array literal, merging the schemas of all
 * tools, and a property named like a member of Object.prototype (`constructor`, `toString`…) in one
 * tool's schema then clashed with the inherited member in another's (TS2322). A type alias, not an
 * interface, so it has the implicit index signature `ToolProject["tools"]` asks for.
 */
export type ListedTool = {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly inputSchema: { readonly [keyword: string]: unknown };
  readonly outputSchema?: { readonly [keyword: string]: unknown };
  readonly annotations?: { readonly [hint: string]: boolean };
  readonly securitySchemes: readonly { readonly type: string; readonly scopes?: readonly string[] }[];
  readonly _meta: { readonly [key: string]: unknown };
};

/**
 * What generated/project.ts records of tools.yaml: SHA-256 of its text with CRLF line ends read as
 * LF and without a byte order mark, as the generator reads it: a Windows checkout (git's autocrlf)
 * hashes as the file that was generated from.
 */
export function toolsDigest(text: string): string {
  return createHash("sha256")
    .update(text.replace(/^\uFEFF/, "").replace(/\r\n/g, "\n"), "utf8")
    .digest("hex");
}

/**
 * Whether `file` (tools.yaml) still is what `project` was generated from: "changed" when it differs,
 * "same" when not, "absent" when there is no such file (a deployment of the built files only). One
 * read and one hash: nothing else of the project is loaded for it.
 */
export function toolsFileState(project: Pick<ToolProject, "toolsDigest">, file: string): "same" | "changed" | "absent" {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
  return toolsDigest(text) === project.toolsDigest ? "same" : "changed";
}
