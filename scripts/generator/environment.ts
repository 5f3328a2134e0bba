import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import type { DiagnosticCode } from "../../src/config/diagnostic-codes.js";
import type { Diagnostic } from "../../src/config/diagnostics.js";
import { type SchemaError, schemaErrorsToDiagnostics } from "../../src/config/schema-diagnostics.js";
import { parseYamlSource } from "../../src/config/yaml-source.js";
import { CONFIG_AJV_OPTIONS } from "./validate.js";

/** Where the list of environment variables lives, relative to the project root. */
export const ENVIRONMENT_FILE = "schema/environment.json";

/** Who reads a variable: the server itself, a `${VAR}` placeholder of the shipped auth.yaml, or the shipped tools. */
export type EnvironmentReader = "server" | "auth.yaml" | "tools";

export interface EnvironmentVariable {
  name: string;
  readBy: EnvironmentReader[];
  /** The literal value used when the variable is unset. */
  default?: string;
  /** The default in words, when it is computed (`the same as CODEBASE_ROOT`). */
  defaultText?: string;
  description: string;
}

export interface Environment {
  description?: string;
  variables: EnvironmentVariable[];
}

/** The shape of schema/environment.json. */
export const ENVIRONMENT_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  additionalProperties: false,
  required: ["variables"],
  properties: {
    description: { type: "string", minLength: 1 },
    variables: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "readBy", "description"],
        properties: {
          name: { type: "string", pattern: "^[A-Z][A-Z0-9_]*$" },
          readBy: {
            type: "array",
            minItems: 1,
            uniqueItems: true,
            items: { enum: ["server", "auth.yaml", "tools"] },
          },
          default: { type: "string" },
          defaultText: { type: "string", minLength: 1 },
          description: { type: "string", minLength: 1 },
        },
      },
    },
  },
} as const;

/** Compiled on first use, once per process. */
let checkEnvironment: ValidateFunction | undefined;

export interface LoadedEnvironment {
  /** Undefined when the file has errors. */
  value: Environment | undefined;
  diagnostics: Diagnostic[];
}

/**
 * Stages 1 and 2 for schema/environment.json, load and validate: parses it (JSON is YAML, so the
 * positioned loader gives every problem a line and column) and checks it against its schema, then
 * ENV010 a variable listed twice, ENV011 both `default` and `defaultText`.
 */
export function loadEnvironment(text: string): LoadedEnvironment {
  // The file rarely changes between runs of one process (tests run the generator hundreds of times).
  if (lastLoaded?.text !== text) lastLoaded = { text, result: readEnvironment(text) };
  return lastLoaded.result;
}

let lastLoaded: { text: string; result: LoadedEnvironment } | undefined;

function readEnvironment(text: string): LoadedEnvironment {
  const source = parseYamlSource(ENVIRONMENT_FILE, text);
  const diagnostics = [...source.diagnostics];
  if (source.value === undefined) return { value: undefined, diagnostics };
  checkEnvironment ??= new Ajv2020(CONFIG_AJV_OPTIONS).compile(ENVIRONMENT_SCHEMA);
  const check = checkEnvironment;
  if (!check(source.value)) {
    diagnostics.push(...schemaErrorsToDiagnostics(source, (check.errors ?? []) as SchemaError[]));
    return { value: undefined, diagnostics };
  }
  const environment = source.value as Environment;
  const seen = new Set<string>();
  environment.variables.forEach((v, i) => {
    const error = (path: (string | number)[], key: boolean, code: DiagnosticCode, message: string) =>
      diagnostics.push({ file: ENVIRONMENT_FILE, ...source.locate(path, { key }), severity: "error", code, message });
    if (seen.has(v.name)) error(["variables", i, "name"], false, "ENV010", `${v.name} is listed twice`);
    seen.add(v.name);
    if (v.default !== undefined && v.defaultText !== undefined)
      error(
        ["variables", i, "defaultText"],
        true,
        "ENV011",
        `${v.name} has both "default" and "defaultText": keep one`,
      );
  });
  return { value: diagnostics.some((d) => d.severity === "error") ? undefined : environment, diagnostics };
}
