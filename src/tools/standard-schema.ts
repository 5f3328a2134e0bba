/**
 * Standard Schema (https://standardschema.dev) with JSON Schema: the shape the MCP SDK accepts for
 * tool schemas. toolgate's objects wrap ajv validators precompiled by the generator, so validating
 * a call compiles nothing, and their JSON Schema is the very schema published in `tools/list`.
 */
export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey>;
}

export type StandardResult<T> =
  | { readonly value: T; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardSchemaWithJson<T> {
  readonly "~standard": {
    readonly version: 1;
    readonly vendor: "toolgate";
    validate(value: unknown): StandardResult<T>;
    readonly jsonSchema: {
      input(options?: { target?: string }): Record<string, unknown>;
      output(options?: { target?: string }): Record<string, unknown>;
    };
    readonly types?: { readonly input: T; readonly output: T };
  };
}

/** What an ajv standalone validator looks like from outside. */
export interface PrecompiledValidator {
  (data: unknown): boolean;
  errors?: { instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }[] | null;
}

/** Counts validations, so a test can show that serving calls compiles nothing and validates everything. */
export const validationStats = { calls: 0 };

function issuesOf(validator: PrecompiledValidator): StandardIssue[] {
  return (validator.errors ?? []).map((e) => {
    const path = e.instancePath === "" ? [] : e.instancePath.slice(1).split("/").map(unescapePointer);
    const extra =
      e.keyword === "additionalProperties"
        ? ` "${String(e.params.additionalProperty)}"`
        : e.keyword === "enum"
          ? `: ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`
          : e.keyword === "const"
            ? ` ${JSON.stringify(e.params.allowedValue)}`
            : "";
    return { message: `${e.message ?? "is invalid"}${extra}`, path };
  });
}

const unescapePointer = (s: string) => s.replace(/~1/g, "/").replace(/~0/g, "~");

export function standardSchema<T>(validator: PrecompiledValidator, jsonSchema: unknown): StandardSchemaWithJson<T> {
  const published = Object.freeze(jsonSchema as Record<string, unknown>);
  return Object.freeze({
    "~standard": Object.freeze({
      version: 1 as const,
      vendor: "toolgate" as const,
      validate(value: unknown): StandardResult<T> {
        validationStats.calls++;
        return validator(value) ? { value: value as T } : { issues: issuesOf(validator) };
      },
      jsonSchema: Object.freeze({ input: () => published, output: () => published }),
    }),
  });
}

/** "/limit must be <= 500; (root) must have required property 'query'" — issues as one line for the model. */
export function formatIssues(issues: ReadonlyArray<StandardIssue>, max = 10): string {
  const shown = issues
    .slice(0, max)
    .map((i) => `${i.path?.length ? `/${i.path.map(String).join("/")}` : "(root)"} ${i.message}`);
  if (issues.length > max) shown.push(`… and ${issues.length - max} more`);
  return shown.join("; ");
}
