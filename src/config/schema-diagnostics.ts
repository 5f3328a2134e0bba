import type { DiagnosticCode } from "./diagnostic-codes.js";
import { type Diagnostic, didYouMean } from "./diagnostics.js";
import { isSecretValue } from "./literal-secrets.js";
import type { YamlSource } from "./yaml-source.js";

/** The subset of an ajv `ErrorObject` (with `verbose: true`) this module reads. */
export interface SchemaError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
  parentSchema?: unknown;
  data?: unknown;
  /** Set by ajv on the errors of a `propertyNames` subschema: the key that failed it. */
  propertyName?: string;
}

export function pointerToPath(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/**
 * How a message names a value: shown, unless it is a secret's (`hidden`), then described by its kind
 * only — these messages reach logs and CI annotations.
 */
function describe(value: unknown, hidden = false): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (hidden) {
    return typeof value === "number"
      ? "a number"
      : typeof value === "boolean"
        ? "true or false"
        : typeof value === "string"
          ? "a string"
          : "a value";
  }
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === "number" ? "the number" : "the value"} ${String(value)}`;
}

/** Patterns of toolgate's schemas, in words: a raw regular expression explains little. */
const PATTERN_WORDS: Record<string, string> = {
  "^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$":
    "printable ASCII without spaces, double quotes or backslashes (an OAuth scope token, RFC 6749 §3.3)",
  "^https://": "an https:// URL",
};

const patternMessage = (pattern: unknown): string =>
  PATTERN_WORDS[String(pattern)] !== undefined
    ? `must be ${PATTERN_WORDS[String(pattern)]}`
    : `must match pattern ${JSON.stringify(pattern)}`;

/** What the keys of a mapping are called in messages, by the mapping's key. */
const KEY_NOUNS: Record<string, string> = {
  scopes: "scope name",
  meta: "meta key",
  clientMetadataDocuments: "client_id URL",
};

const TYPE_NAMES: Record<string, string> = {
  object: "a mapping",
  array: "a list",
  string: "a string",
  integer: "an integer",
  number: "a number",
  boolean: "true or false",
  null: "null",
};

/**
 * Turns JSON Schema errors for a YAML file into diagnostics that point at the offending key or value
 * in the user's file and say what to write instead. Codes: SCHEMA001 unknown key, SCHEMA002 missing
 * key, SCHEMA003 wrong type, SCHEMA004 value not allowed.
 */
export function schemaErrorsToDiagnostics(source: YamlSource, errors: readonly SchemaError[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const emit = (path: string[], key: boolean, code: DiagnosticCode, message: string) =>
    out.push({ file: source.file, ...source.locate(path, { key }), severity: "error", code, message });
  // A failed `propertyNames` comes as the errors of its subschema (each carrying `propertyName`)
  // followed by the propertyNames error itself: one diagnostic per failed key, at that key.
  const nameErrors = errors.filter((e) => e.propertyName !== undefined);
  for (const e of errors) {
    if (e.propertyName !== undefined || repeatsAnother(e, errors)) continue;
    const path = pointerToPath(e.instancePath);
    // An empty key (a tool named "") would vanish from a dotted path ("in tools."): written "" instead.
    const where = path.length ? path.map((p) => (p === "" ? '""' : p)).join(".") : "the top level";
    const secret = isSecretValue(path);
    switch (e.keyword) {
      case "additionalProperties": {
        const name = String(e.params.additionalProperty);
        const props = (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
        const suggestion = props ? didYouMean(name, Object.keys(props)) : undefined;
        const allowed = props ? Object.keys(props) : [];
        emit(
          [...path, name],
          true,
          "SCHEMA001",
          `unknown key "${name}" in ${where}${suggestion ? ` (did you mean "${suggestion}"?)` : allowed.length ? `; allowed: ${allowed.join(", ")}` : ""}`,
        );
        break;
      }
      case "required": {
        const name = String(e.params.missingProperty);
        const dropped = source.droppedPlaceholder([...path, name]);
        // Its `${VAR}` is unset: ENV002 at the placeholder says so (a warning when generating, which
        // needs no secrets; at startup an error, and the schema is not checked).
        if (dropped?.unset) break;
        if (dropped)
          out.push({
            file: source.file,
            line: dropped.line,
            col: dropped.col,
            severity: "error",
            code: "SCHEMA002",
            message: `missing required key "${name}" in ${where}: its placeholder came out empty, which counts as not written`,
          });
        else emit(path, path.length > 0, "SCHEMA002", `missing required key "${name}" in ${where}`);
        break;
      }
      case "type": {
        const expected = String(e.params.type)
          .split(",")
          .map((t) => TYPE_NAMES[t] ?? t)
          .join(" or ");
        // A string where only a list of strings goes (`scopes: docs.write`, `algorithms: RS256`, whose
        // items are an enum of strings): show the list form of its words.
        const items = (e.parentSchema as { items?: { type?: unknown; enum?: unknown[] } } | undefined)?.items;
        const ofStrings =
          items?.type === "string" || (Array.isArray(items?.enum) && items.enum.every((v) => typeof v === "string"));
        const asList =
          !secret && e.params.type === "array" && ofStrings && typeof e.data === "string" && e.data.trim() !== ""
            ? ` (write [${e.data
                .trim()
                .split(/[\s,]+/)
                .filter(Boolean)
                .join(", ")}])`
            : "";
        emit(path, false, "SCHEMA003", `${where} must be ${expected}, not ${describe(e.data, secret)}${asList}`);
        break;
      }
      case "enum": {
        const allowed = (e.params.allowedValues as unknown[]) ?? [];
        const suggestion =
          typeof e.data === "string" && !secret
            ? didYouMean(e.data, allowed.filter((a) => typeof a === "string") as string[])
            : undefined;
        emit(
          path,
          false,
          "SCHEMA004",
          `${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, not ${describe(e.data, secret)}${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
        );
        break;
      }
      case "const":
        emit(
          path,
          false,
          "SCHEMA004",
          `${where} must be ${JSON.stringify(e.params.allowedValue)}, not ${describe(e.data, secret)}`,
        );
        break;
      case "discriminator": {
        // Only where no enum, const, type or required error said it already (repeatsAnother).
        const tag = String(e.params.tag);
        const value = e.params.tagValue;
        if (value === undefined) emit(path, path.length > 0, "SCHEMA002", `missing required key "${tag}" in ${where}`);
        else if (typeof value !== "string")
          emit([...path, tag], false, "SCHEMA003", `${where}.${tag} must be a string, not ${describe(value)}`);
        else emit([...path, tag], false, "SCHEMA004", `${where}.${tag} has an unknown value ${describe(value)}`);
        break;
      }
      case "propertyNames": {
        const name = String(e.params.propertyName);
        const causes = nameErrors.filter((n) => n.instancePath === e.instancePath && n.propertyName === name);
        const noun = KEY_NOUNS[path[path.length - 1] ?? ""] ?? "key";
        emit(
          [...path, name],
          true,
          "SCHEMA004",
          `${noun} ${JSON.stringify(name)} in ${where} ${whyNotAllowed(causes)}`,
        );
        break;
      }
      case "pattern":
        emit(path, false, "SCHEMA004", `${where} ${patternMessage(e.params.pattern)}, not ${describe(e.data, secret)}`);
        break;
      case "format":
      case "minLength":
      case "maxLength":
      case "minItems":
      case "maxItems":
      case "minimum":
      case "maximum":
      case "uniqueItems":
      case "minProperties":
      case "not":
        emit(path, false, "SCHEMA004", `${where} ${e.message ?? "is not allowed"}`);
        break;
      default:
        // "if" reports its branch, oneOf/anyOf the branches' own errors: noise here.
        if (e.keyword === "if" || e.keyword === "oneOf" || e.keyword === "anyOf") break;
        emit(path, false, "SCHEMA004", `${where} ${e.message ?? "is not allowed"}`);
    }
  }
  return out;
}

/**
 * Whether `e` is a discriminator error about a tag another error reports already: a missing tag
 * (`required`) or a tag value its own schema refuses (`enum`, `const`, `type`). One problem, one
 * diagnostic, at the tag.
 */
function repeatsAnother(e: SchemaError, errors: readonly SchemaError[]): boolean {
  if (e.keyword !== "discriminator") return false;
  const tag = String(e.params.tag);
  const tagPointer = `${e.instancePath}/${tag.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  return errors.some(
    (other) =>
      (other.keyword === "required" &&
        other.instancePath === e.instancePath &&
        String(other.params.missingProperty) === tag) ||
      (["enum", "const", "type"].includes(other.keyword) && other.instancePath === tagPointer),
  );
}

/** Why a key failed `propertyNames`, from the errors of its subschema. */
function whyNotAllowed(causes: readonly SchemaError[]): string {
  // `not` (a name the schema excludes) is a reserved name; a failed branch of it is no reason.
  if (causes.some((c) => c.keyword === "not")) return "is reserved";
  const reasons = causes
    .filter((c) => c.keyword !== "anyOf" && c.keyword !== "oneOf" && c.keyword !== "if")
    .map((c) => (c.keyword === "pattern" ? patternMessage(c.params.pattern) : (c.message ?? "is not valid")));
  return `is not allowed: it ${reasons.length > 0 ? [...new Set(reasons)].join(", and ") : "is not valid"}`;
}
