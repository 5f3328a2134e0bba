import { toolBinding, toolIdentifier } from "./identifiers.js";
import type { LoadedSources } from "./load.js";

export type SecurityScheme = { type: "noauth" } | { type: "oauth2"; scopes: string[] };

/** How a handler sees the caller: never (`none`), maybe (`optional`) or always (`required`). */
export type AuthPresence = "none" | "optional" | "required";

/** One tool, normalised: the single model every emitter reads, so types, validators and metadata agree. */
export interface ToolModel {
  name: string;
  /** `codebase.search` → `CodebaseSearch` */
  ident: string;
  /** `codebase.search` → `handler_CodebaseSearch`, the handler's import binding */
  binding: string;
  /** Provenance: a JSON pointer into tools.yaml, stable when lines move. */
  source: string;
  title: string;
  description: string;
  input: Record<string, unknown>;
  output?: Record<string, unknown>;
  annotations?: Record<string, boolean>;
  meta?: Record<string, unknown>;
  securitySchemes: SecurityScheme[];
  /** Scopes of the oauth2 scheme (all required), in declaration order. */
  scopes: string[];
  allowsAnonymous: boolean;
  auth: AuthPresence;
}

export interface ServerModel {
  name: string;
  version?: string;
  title?: string;
  instructions?: string;
}

export interface Model {
  /** The toolgate checkout, relative to generated/ ("..", or "../../.." for examples/x). */
  runtime: string;
  toolsFile: string;
  /** `toolsDigest` of tools.yaml, recorded in generated/project.ts. */
  toolsDigest: string;
  authFile: string;
  server: ServerModel;
  tools: ToolModel[];
  scopes: Record<string, string>;
}

const escapePointer = (s: string) => s.replace(/~/g, "~0").replace(/\//g, "~1");

/** Stage 4 — normalise: only called once validation and rules found no error, so the shapes hold. */
export function normalise(sources: LoadedSources, runtime = ".."): Model {
  const doc = sources.tools.value as { server?: Partial<ServerModel>; tools: Record<string, Record<string, unknown>> };
  const auth = sources.auth.value as { scopes: Record<string, string> };
  const tools = Object.entries(doc.tools).map(([name, t]): ToolModel => {
    const schemes = (t.securitySchemes as SecurityScheme[]).map(
      (s): SecurityScheme =>
        s.type === "noauth"
          ? { type: "noauth" }
          : { type: "oauth2", scopes: [...((s as { scopes?: string[] }).scopes ?? [])] },
    );
    const oauth2 = schemes.find((s) => s.type === "oauth2") as { scopes: string[] } | undefined;
    const allowsAnonymous = schemes.some((s) => s.type === "noauth");
    return {
      name,
      ident: toolIdentifier(name),
      binding: toolBinding(name),
      source: `${sources.tools.file}#/tools/${escapePointer(name)}`,
      title: t.title as string,
      description: t.description as string,
      input: t.input as Record<string, unknown>,
      ...(t.output ? { output: t.output as Record<string, unknown> } : {}),
      ...(t.annotations ? { annotations: t.annotations as Record<string, boolean> } : {}),
      ...(t.meta ? { meta: t.meta as Record<string, unknown> } : {}),
      securitySchemes: schemes,
      scopes: oauth2?.scopes ?? [],
      allowsAnonymous,
      auth: !oauth2 ? "none" : allowsAnonymous ? "optional" : "required",
    };
  });
  return {
    runtime,
    toolsFile: sources.tools.file,
    toolsDigest: sources.toolsDigest,
    authFile: sources.auth.file,
    server: {
      name: doc.server?.name ?? "toolgate",
      ...(doc.server?.version ? { version: doc.server.version } : {}),
      ...(doc.server?.title ? { title: doc.server.title } : {}),
      ...(doc.server?.instructions ? { instructions: doc.server.instructions } : {}),
    },
    tools,
    scopes: { ...auth.scopes },
  };
}
