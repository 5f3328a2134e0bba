import { fixedAuthProblems } from "../../src/config/auth-resolve.js";
import { type Diagnostic, hasErrors } from "../../src/config/diagnostics.js";
import { parseYamlSource, type YamlSource } from "../../src/config/yaml-source.js";
import { toolsDigest } from "../../src/tools/project.js";

export interface LoadedSources {
  tools: YamlSource;
  auth: YamlSource;
  diagnostics: Diagnostic[];
  /** `toolsDigest` of tools.yaml's text: generated/project.ts records it, the server compares it at startup. */
  toolsDigest: string;
}

export interface SourceTexts {
  /** Paths as printed in diagnostics, relative to the project root. */
  toolsFile: string;
  toolsText: string;
  authFile: string;
  authText: string;
  env: Readonly<Record<string, string | undefined>>;
  /** auth.yaml's JSON Schema: where a substituted value may become a boolean or number. */
  authSchema?: unknown;
}

/**
 * Stage 1 — load: parse both files with positions. auth.yaml's placeholders are substituted so the
 * checks see what the server will see; an unset variable is only a warning here, because generating
 * code needs no secrets (the server refuses to start without it). A required setting whose variable
 * is unset is not reported missing as well (schemaErrorsToDiagnostics): the warning at its
 * placeholder says what to set.
 */
export function load(texts: SourceTexts): LoadedSources {
  const tools = parseYamlSource(texts.toolsFile, texts.toolsText);
  const auth = parseYamlSource(texts.authFile, texts.authText, {
    env: texts.env,
    unsetSeverity: "warning",
    schema: texts.authSchema,
  });
  return {
    tools,
    auth,
    diagnostics: [...tools.diagnostics, ...auth.diagnostics],
    toolsDigest: toolsDigest(texts.toolsText),
  };
}

/**
 * After the schema check (stage 2): what the server would refuse in auth.yaml whatever its
 * environment (an `api-key` mode without keys, a malformed sha256 or issuer, comma-separated
 * scopes…), by the server's own rules (fixedAuthProblems). Values from `${VAR}` placeholders are
 * left to startup, as are the production-only checks. Nothing when auth.yaml has errors already:
 * the rules read data the schema accepted.
 */
export function checkAuthSettings(sources: LoadedSources, earlier: readonly Diagnostic[]): Diagnostic[] {
  const { auth } = sources;
  if (auth.value === undefined || hasErrors(earlier.filter((d) => d.file === auth.file))) return [];
  return fixedAuthProblems(auth);
}
