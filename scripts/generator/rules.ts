import { isDeepStrictEqual } from "node:util";
import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import addFormats from "ajv-formats";
import type { DiagnosticCode } from "../../src/config/diagnostic-codes.js";
import { type Diagnostic, didYouMean, type Severity } from "../../src/config/diagnostics.js";
import { literalSecrets } from "../../src/config/literal-secrets.js";
import type { YamlSource } from "../../src/config/yaml-source.js";
import { handlerPath } from "./emit/handlers.js";
import {
  DECLARATION_FILE_NAME,
  INHERITED_NAMES,
  OBJECT_PROTOTYPE_NAMES,
  TOOL_NAME,
  toolIdentifier,
  validatorModule,
  WINDOWS_DEVICE_NAME,
} from "./identifiers.js";
import type { LoadedSources } from "./load.js";
import { LIST_OF_SUBSCHEMAS, MAP_OF_SUBSCHEMAS, ONE_SUBSCHEMA, subschemas } from "./subschemas.js";
import { ANNOTATION_KEYWORDS, rootTypeName, type TypeSchema, typeSchema } from "./type-schema.js";

/** Options of the ajv that compiles tool schemas, at generate time and in the emitted validators alike. */
export const TOOL_AJV_OPTIONS = {
  strict: true,
  allErrors: true,
  useDefaults: true,
  // strictRequired wrongly refuses `required` in allOf/anyOf/then/else for a property declared by
  // the parent schema — valid JSON Schema that MCP clients send (the conformance 2020-12 fixture).
  strictRequired: false,
  // A property is there when the object has it as its own: without this, ajv reads `data.constructor`
  // (or toString, valueOf…) of an object without that property as the inherited member, so an
  // optional `constructor: {type: string}` refused every call leaving it out ("must be string").
  ownProperties: true,
  // A decimal multipleOf compared by floating-point division refused valid values: 19.99 / 0.01 is
  // 1998.9999999999998. With this, a quotient within 1e-6 of a whole number is one. The division's
  // error grows with the quotient (about quotient × 2⁻⁵²: measured 1.2e-7 for cents up to 10⁷), so 1e-9
  // still refused cents above about 10⁵ (7% of the amounts up to 200,000.00), while 1e-6 refuses none
  // up to 10⁷; a value accepted by it lies within a millionth of a step of a multiple (19.995 is half a
  // step off and is refused).
  multipleOfPrecision: 6,
  // `type: [integer, string]` is JSON Schema; strict mode refuses it unless this is set ("use
  // allowUnionTypes to allow union type keyword", an option tools.yaml cannot set). The types are the
  // union (number | string), and each keyword still applies to its own type.
  allowUnionTypes: true,
} as const;

/** An ajv for tool schemas: ajv-formats, and `$anchor` (2020-12 core, resolved by ajv but not registered as a keyword). */
export function createToolAjv(extra: Record<string, unknown> = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...TOOL_AJV_OPTIONS, ...extra } as never);
  addFormats.default(ajv);
  ajv.addKeyword({ keyword: "$anchor", schemaType: "string" });
  // SEP-2243: a top-level argument mirrored in an `Mcp-Param-<name>` header (checked by TOOLS013).
  ajv.addKeyword({ keyword: "x-mcp-header", schemaType: "string" });
  return ajv;
}

interface RuleContext {
  tools: YamlSource;
  auth: YamlSource;
  /** Tool entries that are mappings (whatever else is wrong with them). */
  entries: [string, Record<string, unknown>][];
  catalogue: Set<string> | undefined;
  mode: unknown;
  /** Where TOOLS004 keeps the schemas it compiled, for the emitter. */
  compiled: CompiledToolSchemas | undefined;
  /** Each tool schema (that is a mapping) as the types emitter prepares it. */
  typeSchemas: { tool: string; part: "input" | "output"; prepared: TypeSchema }[];
}

/** A named cross-file rule: a stable code, one sentence saying what it checks, and the check. */
/** A named check; what it requires is its code's entry in src/config/diagnostic-codes.ts. */
export interface Rule {
  code: DiagnosticCode;
  check(ctx: RuleContext): Diagnostic[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function at(
  source: YamlSource,
  path: (string | number)[],
  severity: Severity,
  code: DiagnosticCode,
  message: string,
  key = false,
) {
  return { file: source.file, ...source.locate(path, { key }), severity, code, message };
}

function schemes(tool: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(tool.securitySchemes) ? tool.securitySchemes.filter(isObject) : [];
}

/** The reference for TOOLS004: what ajv 2020 with ajv-formats and toolgate's options knows. */
const reference = createToolAjv();
const KNOWN_KEYWORDS = Object.keys(reference.RULES.keywords);
const KNOWN_FORMATS = Object.keys(reference.formats);

interface SchemaProblem {
  message: string;
  /** Below the schema's root. */
  path: (string | number)[];
  /** Point at the key at `path` rather than at its value. */
  key: boolean;
}

const describeValue = (value: unknown): string =>
  typeof value === "string" ? `the string ${JSON.stringify(value)}` : `${JSON.stringify(value) ?? String(value)}`;

function valueAt(node: unknown, path: readonly (string | number)[]): unknown {
  let current = node;
  for (const segment of path) {
    if (!isObject(current) && !Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

const pointerPath = (pointer: string): string[] =>
  pointer === "" || pointer === "#"
    ? []
    : pointer
        .replace(/^#/, "")
        .slice(1)
        .split("/")
        .map((s) => safeDecode(s).replace(/~1/g, "/").replace(/~0/g, "~"));

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Every problem that keeps a tool schema from compiling in ajv strict mode, at once: ajv's compile
 * stops at the first. In order: errors against the JSON Schema 2020-12 meta-schema; numbers JSON
 * cannot carry (YAML `.inf`, `.nan`), unknown keywords, unknown formats and invalid regular
 * expressions anywhere in the schema (walked here); then whatever else strict mode rejects
 * (strictTypes, strictTuples, an unresolvable $ref…), from compiling the schema without what was
 * already reported, again without each problem found, as long as the problem can be taken out.
 */
function schemaProblems(
  schema: Record<string, unknown>,
  keep?: { compiled: CompiledToolSchemas; tool: string; key: string },
): SchemaProblem[] {
  let metaErrors: readonly SchemaErrorLike[];
  let unknownMetaSchema: SchemaProblem | undefined;
  try {
    metaErrors = reference.validateSchema(schema) ? [] : ((reference.errors ?? []) as SchemaErrorLike[]);
  } catch (error) {
    // An unknown $schema ("no schema with key or ref …"), reported here: the validators' ajv does not
    // check schemas against their meta-schema again, so compiling would not say so.
    metaErrors = [];
    unknownMetaSchema = {
      message: `${(error as Error).message.split("\n")[0]}: toolgate reads tool schemas as JSON Schema 2020-12 only; write "$schema: https://json-schema.org/draft/2020-12/schema" or leave $schema out`,
      path: typeof schema.$schema === "string" ? ["$schema"] : [],
      key: false,
    };
  }
  const nonFinite = nonFiniteNumbers(schema, []);
  // The meta-schema refuses .inf where it wants a number ("must be number"): said once, as a non-finite number.
  const pointers = new Set(nonFinite.map((p) => p.path.map((s) => `/${String(s)}`).join("")));
  metaErrors = metaErrors.filter(
    (e) =>
      !pointers.has(
        pointerPath(e.instancePath)
          .map((s) => `/${s}`)
          .join(""),
      ),
  );
  const problems = metaSchemaProblems(schema, metaErrors);
  problems.push(...nonFinite);
  problems.push(...unappliedDefaults(schema, []));
  // Compiled with 0 in their place: the checking ajv refuses them where the meta-schema wants a number.
  const cleaned = withoutUnknown(nonFinite.length > 0 ? finite(schema) : schema, [], problems);
  if (unknownMetaSchema) problems.push(unknownMetaSchema);
  else if (metaErrors.length === 0) {
    // Kept for the emitter only when nothing was cleaned out (then `cleaned` is the schema itself).
    problems.push(...compileProblems(cleaned, keep, problems.length === 0));
  }
  return problems;
}

/**
 * Numbers JSON has no notation for (YAML `.inf`, `-.inf`, `.nan`), anywhere in a schema: JSON.stringify
 * writes them as `null`, so tools/list and the types would say `null` while the validator compares
 * with the number itself.
 */
function nonFiniteNumbers(node: unknown, path: (string | number)[]): SchemaProblem[] {
  if (typeof node === "number" && !Number.isFinite(node)) {
    const yaml = yamlNonFinite(node);
    return [
      {
        path,
        key: false,
        message: `${path.join(".")} is ${yaml}, which JSON cannot carry: tools/list and the generated types would say null, while the validator compares with ${String(node)}; use a finite number`,
      },
    ];
  }
  if (Array.isArray(node)) return node.flatMap((v, i) => nonFiniteNumbers(v, [...path, i]));
  if (isObject(node)) return Object.entries(node).flatMap(([k, v]) => nonFiniteNumbers(v, [...path, k]));
  return [];
}

/**
 * Defaults the validators would never fill in, which strict mode lets pass: one directly in a branch
 * of `anyOf` or `oneOf` (ajv fills in the defaults of `properties` only, and refuses those inside a
 * branch's properties, "default is ignored"); the `default` of a property named like a member of
 * Object.prototype (`constructor`, `toString`, `__proto__`…), as ajv fills a default in where
 * `data.constructor === undefined`, never true of an object.
 */
function unappliedDefaults(node: unknown, path: (string | number)[]): SchemaProblem[] {
  if (!isObject(node)) return [];
  const problems: SchemaProblem[] = [];
  const branchOf = path.length >= 2 && typeof path[path.length - 1] === "number" ? path[path.length - 2] : undefined;
  if ((branchOf === "anyOf" || branchOf === "oneOf") && Object.hasOwn(node, "default"))
    problems.push({
      path: [...path, "default"],
      key: true,
      message: `${[...path, "default"].join(".")} is never filled in: the validator fills in the defaults of properties, and none directly in a branch of ${branchOf}; put it beside the ${branchOf} (on the property it describes), or remove it`,
    });
  const name = path.length >= 2 && path[path.length - 2] === "properties" ? String(path[path.length - 1]) : undefined;
  if (name !== undefined && OBJECT_PROTOTYPE_NAMES.has(name) && Object.hasOwn(node, "default"))
    problems.push({
      path: [...path, "default"],
      key: true,
      message: `${[...path, "default"].join(".")} is never filled in: the validator fills a default in where the property is undefined, and every object inherits "${name}" from Object.prototype; remove the default, or rename the property`,
    });
  for (const [below, sub] of subschemas(node)) problems.push(...unappliedDefaults(sub, [...path, ...below]));
  return problems;
}

/** How YAML writes a number JSON cannot carry. */
const yamlNonFinite = (value: unknown) => (Number.isNaN(value) ? ".nan" : (value as number) > 0 ? ".inf" : "-.inf");

/** The value at `path` inside `node`. */
const getIn = (node: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], node);

/** A copy of `node` with 0 for each number JSON cannot carry. */
function finite(node: unknown): unknown {
  if (typeof node === "number") return Number.isFinite(node) ? node : 0;
  if (Array.isArray(node)) return node.map(finite);
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node))
    Object.defineProperty(out, k, { value: finite(v), enumerable: true, writable: true, configurable: true });
  return out;
}

/** Why `source` is no regular expression as ajv compiles it (with the `u` flag), or undefined. */
function regExpProblem(source: string): string | undefined {
  try {
    new RegExp(source, "u");
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.replace(/^Invalid regular expression: \/.*\/u?: /s, "");
    let plain = true;
    try {
      new RegExp(source);
    } catch {
      plain = false;
    }
    return `${JSON.stringify(source)} is not a valid regular expression: ${reason}${plain ? " (ajv compiles patterns with the u flag, where escaping a character that needs no escape, such as \\- outside a class, is an error)" : ""}`;
  }
}

interface SchemaErrorLike {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

/** One problem per meta-schema error path: the `enum` error when there is one (with a suggestion), else the others. */
function metaSchemaProblems(schema: unknown, errors: readonly SchemaErrorLike[]): SchemaProblem[] {
  const byPath = new Map<string, SchemaErrorLike[]>();
  for (const e of errors) byPath.set(e.instancePath, [...(byPath.get(e.instancePath) ?? []), e]);
  const problems: SchemaProblem[] = [];
  for (const [pointer, list] of byPath) {
    const path = pointerPath(pointer);
    const where = path.length > 0 ? path.join(".") : "the schema";
    const value = valueAt(schema, path);
    const enumError = list.find((e) => e.keyword === "enum");
    if (enumError) {
      const allowed = (enumError.params.allowedValues as unknown[]) ?? [];
      const suggestion =
        typeof value === "string"
          ? didYouMean(
              value,
              allowed.filter((a): a is string => typeof a === "string"),
            )
          : undefined;
      problems.push({
        path,
        key: false,
        message: `${where} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, not ${describeValue(value)}${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      });
      continue;
    }
    const messages = list
      .filter((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf" && e.keyword !== "if")
      .map((e) => e.message ?? "is not valid");
    for (const message of new Set(messages)) problems.push({ path, key: false, message: `${where} ${message}` });
  }
  return problems;
}

/**
 * A copy of `node` without unknown keywords, unknown formats and invalid regular expressions (a
 * `pattern`, a key of `patternProperties`), each reported in `problems`. Only
 * subschema positions are walked, so a property named like a keyword, or data under `enum`,
 * `const`, `default` or `examples`, is never mistaken for one.
 */
function withoutUnknown(node: unknown, path: (string | number)[], problems: SchemaProblem[]): unknown {
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    const at = [...path, key];
    if (!Object.hasOwn(reference.RULES.keywords, key)) {
      const suggestion = didYouMean(key, KNOWN_KEYWORDS);
      problems.push({
        path: at,
        key: true,
        message: `unknown JSON Schema keyword "${key}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
      });
      continue;
    }
    if (key === "format" && typeof value === "string" && !Object.hasOwn(reference.formats, value)) {
      const suggestion = didYouMean(value, KNOWN_FORMATS);
      problems.push({
        path: at,
        key: false,
        message: `unknown format "${value}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; ajv strict mode knows the formats of ajv-formats only`,
      });
      continue;
    }
    const badPattern = key === "pattern" && typeof value === "string" ? regExpProblem(value) : undefined;
    if (badPattern !== undefined) {
      problems.push({ path: at, key: false, message: `pattern ${badPattern}` });
      continue;
    }
    let copy = value;
    if (key === "patternProperties" && isObject(value)) {
      const kept: [string, unknown][] = [];
      for (const [pattern, sub] of Object.entries(value)) {
        const problem = regExpProblem(pattern);
        if (problem === undefined) kept.push([pattern, withoutUnknown(sub, [...at, pattern], problems)]);
        else problems.push({ path: [...at, pattern], key: true, message: `patternProperties key ${problem}` });
      }
      copy = Object.fromEntries(kept);
    } else if (ONE_SUBSCHEMA.has(key) && isObject(value)) copy = withoutUnknown(value, at, problems);
    else if (LIST_OF_SUBSCHEMAS.has(key) && Array.isArray(value))
      copy = value.map((v, i) => withoutUnknown(v, [...at, i], problems));
    else if (MAP_OF_SUBSCHEMAS.has(key) && isObject(value))
      copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutUnknown(v, [...at, k], problems)]));
    Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/**
 * One ajv for the compile checks of a run that cannot use the tool's own (see compileProblem): a new
 * instance (with ajv-formats) per schema that validates schemas against the meta-schema costs 10 ms.
 * Each schema is removed again after its check.
 */
let checker: Ajv2020 | undefined;

/**
 * An ajv for the validators of one tool (one module of generated/validators/), with the emitter's
 * code options. It does not validate schemas against the meta-schema, which TOOLS004 did with
 * `reference`: compiling the meta-schema made each instance 20 times dearer.
 */
export function createToolValidatorAjv(): Ajv2020 {
  return createToolAjv({ code: { source: true, esm: true, optimize: 1 }, validateSchema: false });
}

/**
 * The tool schemas of one run, compiled by TOOLS004 for its check and kept, under the keys the
 * validators emitter exports (`tool:<name>#input|output`), with the emitter's code options: the
 * emitter then writes them out without compiling each schema a second time (a third of `generate`
 * for 1,000 tools). One ajv per tool, whose standalone code is the tool's module: an `$id` or key of
 * one tool is never seen by another, and a `$ref` into another tool's schema does not resolve
 * (TOOLS004), as it does not for the types. The validators would let two tools use one `$id`, but
 * MCP clients keep compiled schemas by their root `$id`: TOOLS016 refuses a root `$id` that names
 * another schema in another tool.
 */
export class CompiledToolSchemas {
  readonly #ajvs = new Map<string, Ajv2020>();
  /** Each sealed tool's standalone code (ajv's raw output) and the exports it was made for. */
  readonly #code = new Map<string, { exports: Record<string, string>; code: string }>();
  readonly keys = new Set<string>();
  /** The ajv of `tool`'s validators (created on first use). */
  ajv(tool: string): Ajv2020 {
    let ajv = this.#ajvs.get(tool);
    if (!ajv) {
      ajv = createToolValidatorAjv();
      this.#ajvs.set(tool, ajv);
    }
    return ajv;
  }
  /**
   * Done with `tool`'s schemas: its standalone code is made now and its ajv let go. Kept until the
   * emitter, one ajv per tool (each with its compiled functions and their source) was ~250 KB:
   * 2.6 GiB at the peak of `generate` for 10,000 tools.
   */
  seal(tool: string): void {
    const ajv = this.#ajvs.get(tool);
    if (!ajv) return;
    this.#ajvs.delete(tool);
    const exports: Record<string, string> = {};
    for (const part of ["input", "output"] as const) {
      const key = CompiledToolSchemas.key(tool, part);
      if (this.keys.has(key)) exports[part] = key;
    }
    if (Object.keys(exports).length > 0)
      this.#code.set(tool, { exports, code: flatten(standaloneCode.default(ajv, exports)) });
  }
  /** ajv's standalone code of `tool`'s validators, when it was sealed with exactly these exports. */
  code(tool: string, exports: Record<string, string>): string | undefined {
    const sealed = this.#code.get(tool);
    if (!sealed) return undefined;
    const names = Object.keys(exports);
    const same =
      names.length === Object.keys(sealed.exports).length && names.every((n) => sealed.exports[n] === exports[n]);
    return same ? sealed.code : undefined;
  }
  static key(tool: string, part: "input" | "output"): string {
    return `tool:${tool}#${part}`;
  }
}

/**
 * The same text as one flat string. ajv builds its code with `+`, which V8 keeps as a tree of
 * pieces (a 32-byte node per `+`): kept until the emitter, 1,000 tools' standalone code held
 * 2.5 million such nodes, 76 MiB besides the text itself. Taking a slice copies the text out flat.
 */
const flatten = (text: string): string => ` ${text}`.slice(1);

/** A compile error as a problem, and the keyword to take out to look for the next (none: stop there). */
interface CompileFinding {
  problem: SchemaProblem;
  remove?: (string | number)[];
}

/** At most this many compiles per schema looking for one more problem (each costs a compile). */
const MAX_COMPILE_ROUNDS = 20;

/**
 * What else ajv strict mode rejects: ajv's compile stops at its first error, so the schema is compiled
 * again without the keyword each error names, until it compiles or an error names nothing that can be
 * taken out. Each compile is in the tool's ajv (`keep`) when there is one; the first is kept for the
 * emitter when `retain` (nothing was reported before) and it compiles.
 */
function compileProblems(
  schema: unknown,
  keep: { compiled: CompiledToolSchemas; tool: string; key: string } | undefined,
  retain: boolean,
): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  let current = schema;
  const removed = new Set<string>();
  for (let round = 0; round < MAX_COMPILE_ROUNDS; round++) {
    const finding = compileProblem(current, keep, retain && round === 0);
    if (!finding) break;
    problems.push(finding.problem);
    // The same keyword named again: taking it out did not take (a safeguard; compiling once more
    // would only find it again).
    const key = JSON.stringify(finding.remove?.map(String));
    if (!finding.remove || removed.has(key)) break;
    removed.add(key);
    current = without(current, finding.remove);
  }
  return problems;
}

/** A copy of `node` without the key at `path` (objects along the path copied, the rest shared). */
function without(node: unknown, path: readonly (string | number)[]): unknown {
  if (path.length === 0 || (!isObject(node) && !Array.isArray(node))) return node;
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  // An index may come as a string (a JSON pointer's segment) or a number.
  if (Array.isArray(node)) return node.map((v, i) => (String(i) === String(head) ? without(v, rest) : v));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === String(head) && rest.length === 0) continue;
    Object.defineProperty(out, k, {
      value: k === String(head) ? without(v, rest) : v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * The first thing ajv strict mode rejects in `schema`, compiled in the tool's own ajv when there is
 * one (an output schema may refer to the input's $id), else in `checker`. Kept for the emitter only
 * when `retain` and it compiles.
 */
function compileProblem(
  schema: unknown,
  keep: { compiled: CompiledToolSchemas; tool: string; key: string } | undefined,
  retain: boolean,
): CompileFinding | undefined {
  if (keep) {
    const ajv = keep.compiled.ajv(keep.tool);
    let added = false;
    try {
      ajv.addSchema(schema as object, keep.key);
      added = true;
      ajv.getSchema(keep.key); // compiles; throws what strict mode rejects
      if (retain) keep.compiled.keys.add(keep.key);
      else {
        ajv.removeSchema(keep.key);
        ajv.removeSchema(schema as object);
      }
      return undefined;
    } catch (error) {
      if (added) {
        ajv.removeSchema(keep.key);
        ajv.removeSchema(schema as object); // and its $id
        // ajv names the schema by its key ("at \"tool:x#input#/…\""): the user's pointer is the rest.
        return strictModeProblem(schema, error, keep.key);
      }
      // Not added. The output schema's $id may be the input's: both live in the tool's one ajv.
      const id = /^schema with key or id "(.*)" already exists$/.exec((error as Error).message)?.[1];
      if (id !== undefined)
        return {
          problem: {
            path: isObject(schema) && schema.$id !== undefined ? ["$id"] : [],
            key: false,
            message: `its $id "${id}" is also the $id of the tool's input schema: both are compiled into one module of validators, where an $id names one schema; give them different $ids`,
          },
        };
      // Otherwise (an $id twice in this schema…): checked alone below, for ajv's message.
    }
  }
  if (!checker) {
    checker = createToolAjv({ code: { optimize: false } });
  }
  const ajv = checker;
  try {
    ajv.compile(schema as object);
    return undefined;
  } catch (error) {
    return strictModeProblem(schema, error);
  } finally {
    ajv.removeSchema(schema as object);
  }
}

/** Every `$ref` in the subschema positions of `node`, with the path of the schema holding it. */
function* refsOf(node: unknown, path: (string | number)[] = []): Generator<[(string | number)[], unknown]> {
  if (!isObject(node)) return;
  if (node.$ref !== undefined) yield [path, node.$ref];
  for (const [below, sub] of subschemas(node)) yield* refsOf(sub, [...path, ...below]);
}

/**
 * A compile error as a problem at the keyword it concerns: the `$ref` that does not resolve, the
 * keyword strictTypes finds without its type, the tuple strictTuples finds open; at the subschema
 * a message names otherwise, at the root when it names none.
 */
function strictModeProblem(schema: unknown, error: unknown, key?: string): CompileFinding {
  let message = (error as Error).message.split("\n")[0] ?? String(error);
  if (key !== undefined) message = message.replaceAll(`"${key}#`, '"#').replaceAll(key, "#");
  const exists = (path: (string | number)[]) => valueAt(schema, path) !== undefined;
  if (typeof (error as { missingRef?: unknown }).missingRef === "string") {
    const ref = /^can't resolve reference (.*) from id /.exec(message)?.[1];
    const holder = [...refsOf(schema)].find(([, value]) => value === ref)?.[0];
    if (ref !== undefined && holder !== undefined)
      return {
        problem: {
          path: [...holder, "$ref"],
          key: false,
          message: `$ref "${ref}" does not resolve: nothing in this schema has that $id, $anchor or path, and no schema is fetched; refer to a $defs entry, a JSON pointer, an $anchor or an $id of this schema`,
        },
        remove: [...holder, "$ref"],
      };
  }
  const pointer = /\bat (?:path )?"[^"#]*(#[^"]*)"/.exec(message)?.[1];
  const path = pointer ? pointerPath(pointer) : [];
  const text = `the schema does not compile in ajv strict mode: ${message.replace(/^strict mode: /, "")}`;
  const keyword =
    /^strict mode: missing type "[^"]*" for keyword "([^"]+)"/.exec(message)?.[1] ??
    /^strict mode: "([^"]+)" is \d+-tuple/.exec(message)?.[1] ??
    (/^strict mode: default is ignored in the schema root/.test(message) ? "default" : undefined);
  if (keyword !== undefined && exists([...path, keyword]))
    return { problem: { message: text, path: [...path, keyword], key: true }, remove: [...path, keyword] };
  return { problem: { message: text, path: exists(path) ? path : [], key: false } };
}

/** Every `default` in the subschema positions of `node`: the path of the schema that holds it. */
function* defaultHolders(node: unknown, path: (string | number)[] = []): Generator<(string | number)[]> {
  if (!isObject(node)) return;
  if (Object.hasOwn(node, "default")) yield path;
  for (const [below, sub] of subschemas(node)) yield* defaultHolders(sub, [...path, ...below]);
}

/** The ajv of TOOLS015: not strict (TOOLS004 reports what strict mode refuses), defaults filled in as at run time. */
let defaultsChecker: Ajv2020 | undefined;

interface DefaultsCheck {
  schema: Record<string, unknown>;
  /** The paths of the subschemas that hold a default. */
  holders: (string | number)[][];
  /** The URI the schema is embedded under: its own `$id`, else one of its own. */
  base: string;
}

/**
 * The ajv errors of each default of each schema (by schema, then by default), from one compile: each
 * schema is embedded under its base URI and each default is checked through a `$ref` to the subschema
 * that holds it, so `$ref`s inside a schema resolve as they do in the validators. Throws when the
 * schemas do not compile even without strict mode (TOOLS004 says why).
 */
function defaultErrors(checks: DefaultsCheck[]): SchemaErrorLike[][][] {
  const pointer = (path: (string | number)[]) =>
    `#${path.map((s) => `/${encodeURIComponent(String(s).replace(/~/g, "~0").replace(/\//g, "~1"))}`).join("")}`;
  const wrapper = {
    $defs: Object.fromEntries(checks.map((c, i) => [`s${i}`, { ...c.schema, $id: c.base }])),
    type: "object",
    properties: Object.fromEntries(
      checks.flatMap((c, i) =>
        c.holders.map((path, j) => [`${i}-${j}`, { $ref: `${c.base.replace(/#.*$/s, "")}${pointer(path)}` }]),
      ),
    ),
  };
  const data = Object.fromEntries(
    checks.flatMap((c, i) =>
      c.holders.map((path, j) => [`${i}-${j}`, structuredClone(valueAt(c.schema, [...path, "default"]))]),
    ),
  );
  defaultsChecker ??= createToolAjv({ strict: false, validateSchema: false, code: { optimize: false } });
  const ajv = defaultsChecker;
  try {
    const validate = ajv.compile(wrapper);
    const errors = validate(data) ? [] : ((validate.errors ?? []) as SchemaErrorLike[]);
    return checks.map((c, i) =>
      c.holders.map((_, j) =>
        errors
          .filter((e) => e.instancePath === `/${i}-${j}` || e.instancePath.startsWith(`/${i}-${j}/`))
          .map((e) => ({ ...e, instancePath: e.instancePath.slice(`/${i}-${j}`.length) })),
      ),
    );
  } finally {
    ajv.removeSchema(wrapper);
  }
}

/**
 * TOOLS015's check: each `default` of each schema validated against the subschema that holds it, as
 * the validators fill it in (ajv's `useDefaults`, nested defaults included): one compile per schema
 * that has a default (about 0.7 ms; compiling several tools' schemas at once measured no faster).
 */
function invalidDefaults(
  schemas: Record<string, unknown>[],
): { schema: number; path: (string | number)[]; message: string }[] {
  const checks = schemas.map((schema, i): DefaultsCheck | undefined => {
    const holders = [...defaultHolders(schema)];
    // .inf and .nan are TOOLS004's: the schema is not checked until they are gone.
    if (holders.length === 0 || nonFiniteNumbers(schema, []).length > 0) return undefined;
    const base = typeof schema.$id === "string" ? schema.$id : `toolgate://schema/${i}/defaults-check.json`;
    return { schema, holders, base };
  });
  const results = checks.map((c) => {
    if (!c) return undefined;
    try {
      return defaultErrors([c])[0];
    } catch {
      return undefined; // does not compile: TOOLS004 says why
    }
  });
  return checks.flatMap((c, i) =>
    !c
      ? []
      : c.holders.flatMap((path, j) => {
          const own = results[i]?.[j] ?? [];
          if (own.length === 0) return [];
          const reasons = new Set(
            own
              .filter((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf" && e.keyword !== "if")
              .map((e) => {
                const below = pointerPath(`#${e.instancePath}`).join(".");
                const allowed = e.keyword === "enum" ? (e.params.allowedValues as unknown[]) : undefined;
                const reason = allowed
                  ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`
                  : (e.message ?? "is not valid");
                return below ? `${below} ${reason}` : reason;
              }),
          );
          return [{ schema: i, path: [...path, "default"], message: [...reasons].join("; ") || "is not valid" }];
        }),
  );
}

/** Keywords beside `unevaluatedProperties` that may evaluate properties of the same object. */
const EVALUATING_APPLICATORS = [
  "allOf",
  "anyOf",
  "oneOf",
  "if",
  "then",
  "else",
  "dependentSchemas",
  "dependencies",
  "$ref",
  "$dynamicRef",
  "additionalProperties",
];

/**
 * TOOLS017's findings: each `required` entry of an object schema that allows no property but those it
 * declares (`additionalProperties: false`, or `unevaluatedProperties: false` with nothing else that
 * could evaluate a property) and names none of them (`properties`, `patternProperties`). No object
 * can have it and lack it at once: ajv compiles such a schema, and every call or result is refused.
 * The message ends where the caller says who is refused.
 */
function unsatisfiableRequired(
  node: unknown,
  path: (string | number)[],
): { path: (string | number)[]; message: string }[] {
  if (!isObject(node)) return [];
  const out: { path: (string | number)[]; message: string }[] = [];
  const closedBy =
    node.additionalProperties === false
      ? "additionalProperties: false"
      : node.unevaluatedProperties === false && !EVALUATING_APPLICATORS.some((k) => Object.hasOwn(node, k))
        ? "unevaluatedProperties: false"
        : undefined;
  if (closedBy && Array.isArray(node.required)) {
    const declared = isObject(node.properties) ? Object.keys(node.properties) : [];
    const patterns = (isObject(node.patternProperties) ? Object.keys(node.patternProperties) : []).flatMap((p) => {
      try {
        return [new RegExp(p, "u")];
      } catch {
        return []; // TOOLS004 reports it
      }
    });
    node.required.forEach((entry, i) => {
      if (typeof entry !== "string" || declared.includes(entry) || patterns.some((p) => p.test(entry))) return;
      const suggestion = didYouMean(entry, declared);
      out.push({
        path: [...path, "required", i],
        message: `required "${entry}" is not a declared property${suggestion ? ` (did you mean "${suggestion}"?)` : ""}; with ${closedBy} no object can have it, so `,
      });
    });
  }
  for (const [below, sub] of subschemas(node)) out.push(...unsatisfiableRequired(sub, [...path, ...below]));
  return out;
}

/**
 * TOOLS018's findings in an output schema: what the official SDK clients, which check
 * `structuredContent` against the published schema with an ajv of their own, refuse although the
 * server's validators accept it. An optional property named like a member of Object.prototype
 * (`constructor`, `toString`…): their ajv reads the inherited member of a result without it. A
 * `multipleOf` that is no binary fraction (0.01, 0.1; not 0.5): their ajv has no multipleOfPrecision.
 * `items` beside `prefixItems`: the v1 client's ajv reads draft-07, where `items` is every item's schema.
 */
function clientValidatorProblems(node: unknown, path: (string | number)[]): SchemaProblem[] {
  if (!isObject(node)) return [];
  const problems: SchemaProblem[] = [];
  if (isObject(node.properties)) {
    const required = Array.isArray(node.required) ? node.required : [];
    for (const [key, sub] of Object.entries(node.properties)) {
      const constrains = sub === false || (isObject(sub) && Object.keys(sub).some((k) => !ANNOTATION_KEYWORDS.has(k)));
      if (OBJECT_PROTOTYPE_NAMES.has(key) && !required.includes(key) && constrains)
        problems.push({
          path: [...path, "properties", key],
          key: true,
          message: `an optional property named "${key}" makes MCP clients refuse a result that leaves it out: their validators (the official SDK clients' ajv) take the "${key}" every object inherits from Object.prototype for it, and refuse it; make it required, or rename it`,
        });
    }
  }
  const step = node.multipleOf;
  if (typeof step === "number" && Number.isFinite(step) && step > 0 && !Number.isInteger(step * 2 ** 32)) {
    const example = inexactMultiple(step);
    problems.push({
      path: [...path, "multipleOf"],
      key: true,
      message: `multipleOf ${step} makes MCP clients refuse valid results: their validators (the official SDK clients' ajv) divide in floating point${example ? `, and ${example.value} / ${step} gives ${example.quotient}, not a whole number` : ""}; toolgate's validators allow for that, theirs do not; prefer integers in the smallest unit (an amount in cents, type: integer), or no multipleOf`,
    });
  }
  if (Array.isArray(node.prefixItems) && node.items !== undefined && node.items !== true)
    problems.push({
      path: [...path, "items"],
      key: true,
      message: `items beside prefixItems makes the v1 MCP SDK client (@modelcontextprotocol/sdk, still what most hosts run) refuse valid results: its ajv reads JSON Schema draft-07, which has no prefixItems and takes items for the schema of every item${node.items === false ? " (items: false: no item at all)" : ", the tuple's too"}; close the tuple with minItems and maxItems both equal to the number of prefixItems (strict mode wants both) and leave items out`,
    });
  for (const [below, sub] of subschemas(node)) problems.push(...clientValidatorProblems(sub, [...path, ...below]));
  return problems;
}

/** A multiple of `step`, written as a decimal, whose floating-point division by `step` is no whole number. */
function inexactMultiple(step: number): { value: number; quotient: number } | undefined {
  const decimals = Math.min(20, Math.max(0, -Math.floor(Math.log10(step)) + 6));
  for (let k = 1; k <= 10_000; k++) {
    const value = Number((k * step).toFixed(decimals));
    const quotient = value / step;
    if (!Number.isInteger(quotient)) return { value, quotient };
  }
  return undefined;
}

/**
 * Every `$id` of a schema, the root's first, each resolved as ajv keys it (against the `$id` of the
 * schema around it, without a trailing "#"), with the subschema it names and that subschema's path.
 */
function* schemaIds(
  node: unknown,
  path: (string | number)[] = [],
  base?: string,
): Generator<{ id: string; written: string; path: (string | number)[]; schema: unknown }> {
  if (!isObject(node)) return;
  let here = base;
  if (typeof node.$id === "string") {
    let id = node.$id;
    try {
      id = new URL(node.$id, base).href;
    } catch {
      // relative, with no absolute $id around it: ajv keys it as written
    }
    here = id.replace(/#.*$/s, "");
    yield { id: id.replace(/#\/?$/, ""), written: node.$id, path, schema: node };
  }
  for (const [below, sub] of subschemas(node)) yield* schemaIds(sub, [...path, ...below], here);
}

/** TOOLS002 / TOOLS003: the input or output schema of a tool has `type: object` at its root. */
function rootObjectRule(code: DiagnosticCode, part: "input" | "output", why: string): Rule {
  return {
    code,
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) => {
        const schema = t[part];
        if (!isObject(schema) || schema.type === "object") return [];
        const path = ["tools", name, part, ...(schema.type === undefined ? [] : ["type"])];
        return [at(tools, path, "error", code, `${part} of "${name}" must have "type: object" at its root (${why})`)];
      }),
  };
}

/**
 * TOOLS005 for the types: generated/types.ts is one module, so a type name two tools generate (tool
 * `report`'s `$defs: {input}` and tool `report.input` both give ReportInputInput) would be one merged
 * interface, while each validator checks its own schema. Each place is reported, naming the other
 * tool; tools already reported for their identifier are skipped (all their names collide).
 */
function typeNameCollisions(
  tools: YamlSource,
  typeSchemas: RuleContext["typeSchemas"],
  skip: ReadonlySet<string>,
): Diagnostic[] {
  const owners = new Map<string, { tool: string; part: "input" | "output"; path: (string | number)[] }[]>();
  for (const { tool, part, prepared } of typeSchemas) {
    if (skip.has(tool)) continue;
    for (const { name, path } of prepared.names) owners.set(name, [...(owners.get(name) ?? []), { tool, part, path }]);
  }
  const origin = (o: { part: string; path: (string | number)[] }) =>
    o.path.length === 0 ? `its ${o.part} type` : `${o.part}.${o.path.join(".")}`;
  const out: Diagnostic[] = [];
  for (const [name, list] of owners)
    for (const self of list) {
      const other = list.find((o) => o.tool !== self.tool);
      if (!other) continue;
      out.push(
        at(
          tools,
          self.path.length === 0 ? ["tools", self.tool] : ["tools", self.tool, self.part, ...self.path],
          "error",
          "TOOLS005",
          `tool "${self.tool}" (${origin(self)}) and tool "${other.tool}" (${origin(other)}) both generate the type ${name}: rename one`,
          true,
        ),
      );
    }
  return out;
}

/** TOOLS001's problem with a tool whose handler or validator file has a name Windows reserves for a device. */
function windowsDeviceFiles(name: string): string | undefined {
  const ident = toolIdentifier(name);
  const files = [
    ...(WINDOWS_DEVICE_NAME.test(name) ? [`the handler file ${handlerPath(name)}`] : []),
    ...(WINDOWS_DEVICE_NAME.test(ident) ? [`the validator file generated/${validatorModule(ident)}`] : []),
  ];
  if (files.length === 0) return undefined;
  return `tool name "${name}" gives ${files.join(" and ")}, whose ${files.length > 1 ? "names" : "name"} Windows reserves for a device (CON, PRN, AUX, NUL, COM1-COM9, LPT1-LPT9, in any case and with any extension): it could not be created or checked out on Windows; choose another name`;
}

export const RULES: Rule[] = [
  {
    code: "TOOLS001",
    check: ({ tools, entries }) =>
      entries.flatMap(([name]) => {
        const problem = !TOOL_NAME.test(name)
          ? `tool name "${name}" breaks the MCP rule: use 1-128 characters of A-Z a-z 0-9 _ . -`
          : name === "__proto__"
            ? `tool name "__proto__" cannot be a key of the generated maps: in an object literal it sets the prototype instead of adding an entry; choose another name`
            : INHERITED_NAMES.has(name)
              ? `tool name "${name}" is a built-in JavaScript property name (every object inherits "constructor", "toString", …; functions have "prototype"): a lookup in the generated maps could find it where there is no tool; choose another name`
              : DECLARATION_FILE_NAME.test(name)
                ? `tool name "${name}" gives the handler file ${handlerPath(name)}, which TypeScript takes for a declaration file (a file name ending in ".d.ts" or holding ".d." and ending in ".ts"): it would be neither type-checked nor built into dist/ (the server could not load it); choose another name`
                : windowsDeviceFiles(name);
        return problem ? [at(tools, ["tools", name], "error", "TOOLS001", problem, true)] : [];
      }),
  },
  rootObjectRule("TOOLS002", "input", "MCP tool arguments are an object"),
  rootObjectRule("TOOLS003", "output", "structuredContent is an object"),
  {
    code: "TOOLS004",
    check: ({ tools, entries, compiled }) => {
      const out: Diagnostic[] = [];
      for (const [name, t] of entries) {
        for (const part of ["input", "output"] as const) {
          if (!isObject(t[part])) continue;
          const keep = compiled ? { compiled, tool: name, key: CompiledToolSchemas.key(name, part) } : undefined;
          for (const problem of schemaProblems(t[part] as Record<string, unknown>, keep))
            out.push(
              at(
                tools,
                ["tools", name, part, ...problem.path],
                "error",
                "TOOLS004",
                `${part} of "${name}": ${problem.message}`,
                problem.key,
              ),
            );
        }
        compiled?.seal(name);
        // A tool's `_meta` is published as written: JSON.stringify would turn .inf into null.
        if (isObject(t.meta))
          for (const { path } of nonFiniteNumbers(t.meta, []))
            out.push(
              at(
                tools,
                ["tools", name, "meta", ...path],
                "error",
                "TOOLS004",
                `meta of "${name}": ${path.join(".")} is ${yamlNonFinite(getIn(t.meta, path))}, which JSON cannot carry: tools/list would publish null; use a finite number or a string`,
              ),
            );
      }
      return out;
    },
  },
  {
    code: "TOOLS005",
    check: ({ tools, entries, typeSchemas }) => {
      const byIdent = new Map<string, string>();
      const byFile = new Map<string, string>();
      const out: Diagnostic[] = [];
      const reported = new Set<string>();
      for (const [name] of entries) {
        const ident = toolIdentifier(name);
        const sameIdent = byIdent.get(ident.toLowerCase());
        const sameFile = byFile.get(name.toLowerCase());
        const message =
          sameIdent !== undefined && toolIdentifier(sameIdent) === ident
            ? `tool "${name}" and tool "${sameIdent}" both generate the identifier ${ident}: rename one`
            : sameFile !== undefined
              ? `tool "${name}" and tool "${sameFile}" differ only in case: their handler files ${handlerPath(name)} and ${handlerPath(sameFile)} are one file on macOS and Windows; rename one`
              : sameIdent !== undefined
                ? `tool "${name}" and tool "${sameIdent}" generate the identifiers ${ident} and ${toolIdentifier(sameIdent)}, which differ only in case: generated/${validatorModule(ident)} and generated/${validatorModule(toolIdentifier(sameIdent))} are one file on macOS and Windows; rename one`
                : undefined;
        if (message) {
          out.push(at(tools, ["tools", name], "error", "TOOLS005", message, true));
          reported.add(name);
        }
        if (sameIdent === undefined) byIdent.set(ident.toLowerCase(), name);
        if (sameFile === undefined) byFile.set(name.toLowerCase(), name);
      }
      out.push(...typeNameCollisions(tools, typeSchemas, reported));
      return out;
    },
  },
  {
    code: "TOOLS006",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) =>
        schemes(t).flatMap((s, i) =>
          s.type === "noauth" && s.scopes !== undefined
            ? [
                at(
                  tools,
                  ["tools", name, "securitySchemes", i, "scopes"],
                  "error",
                  "TOOLS006",
                  `a noauth scheme takes no scopes (tool "${name}"); put them on an oauth2 scheme`,
                  true,
                ),
              ]
            : [],
        ),
      ),
  },
  {
    code: "TOOLS007",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) => {
        const seen = new Set<unknown>();
        return schemes(t).flatMap((s, i) => {
          if (!seen.has(s.type)) {
            seen.add(s.type);
            return [];
          }
          return [
            at(
              tools,
              ["tools", name, "securitySchemes", i],
              "error",
              "TOOLS007",
              s.type === "oauth2"
                ? `tool "${name}" lists the oauth2 scheme twice; merge the scopes into one`
                : `tool "${name}" lists the ${String(s.type)} scheme twice; remove one`,
            ),
          ];
        });
      }),
  },
  {
    code: "TOOLS013",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) => {
        const out: Diagnostic[] = [];
        const input = isObject(t.input) ? t.input : {};
        const properties = isObject(input.properties) ? input.properties : {};
        const seen = new Map<string, string>();
        for (const [prop, schema] of Object.entries(properties)) {
          if (!isObject(schema) || schema["x-mcp-header"] === undefined) continue;
          const header = schema["x-mcp-header"];
          const path = ["tools", name, "input", "properties", prop, "x-mcp-header"];
          if (typeof header !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
            out.push(
              at(
                tools,
                path,
                "error",
                "TOOLS013",
                `x-mcp-header of "${prop}" must be an HTTP header token (letters, digits, - …)`,
              ),
            );
            continue;
          }
          if (!["string", "number", "integer", "boolean"].includes(String(schema.type)))
            out.push(
              at(
                tools,
                path,
                "error",
                "TOOLS013",
                `x-mcp-header needs a string, number, integer or boolean argument; "${prop}" is not one`,
              ),
            );
          const other = seen.get(header.toLowerCase());
          if (other)
            out.push(
              at(
                tools,
                path,
                "error",
                "TOOLS013",
                `x-mcp-header "${header}" of "${prop}" is already the header of "${other}" (header names ignore case)`,
              ),
            );
          else seen.set(header.toLowerCase(), prop);
        }
        return out;
      }),
  },
  {
    code: "TOOLS014",
    check: ({ tools, typeSchemas, compiled }) =>
      typeSchemas
        // A schema TOOLS004 rejected (an unresolvable $ref among them) is not reported twice.
        .filter(({ tool, part }) => !compiled || compiled.keys.has(CompiledToolSchemas.key(tool, part)))
        .flatMap(({ tool, part, prepared }) =>
          prepared.problems.map((p) =>
            at(tools, ["tools", tool, part, ...p.path], "error", "TOOLS014", `${part} of "${tool}": ${p.message}`),
          ),
        ),
  },
  {
    code: "TOOLS015",
    check: ({ tools, entries }) => {
      const parts = entries.flatMap(([name, t]) =>
        (["input", "output"] as const).flatMap((part) => (isObject(t[part]) ? [{ name, part, schema: t[part] }] : [])),
      );
      return invalidDefaults(parts.map((p) => p.schema)).map(({ schema, path, message }) => {
        const { name, part } = parts[schema]!;
        const holder = path.slice(0, -1);
        const property =
          holder.length >= 2 && holder[holder.length - 2] === "properties" ? holder[holder.length - 1] : undefined;
        const who = part === "input" ? "call" : "result";
        // ajv fills in no default under a conditional (it says so: "default is ignored", TOOLS004).
        const conditional = holder.some((k) => ["anyOf", "oneOf", "not", "if", "then", "else"].includes(String(k)));
        const why =
          property === undefined || conditional
            ? ""
            : `: the validator fills a default in before it checks, so every ${who} that leaves "${String(property)}" out would be refused`;
        return at(
          tools,
          ["tools", name, part, ...path],
          "error",
          "TOOLS015",
          `${part} of "${name}": the default ${JSON.stringify(valueAt(parts[schema]!.schema, path))} is not valid against its own schema (${message})${why}`,
          true,
        );
      });
    },
  },
  {
    code: "TOOLS016",
    check: ({ tools, entries }) => {
      interface IdAt {
        name: string;
        part: "input" | "output";
        path: (string | number)[];
        schema: unknown;
      }
      const seen = new Map<string, IdAt[]>();
      const out: Diagnostic[] = [];
      for (const [name, t] of entries)
        for (const part of ["input", "output"] as const) {
          if (!isObject(t[part])) continue;
          for (const { id, written, path, schema } of schemaIds(t[part])) {
            const earlier = seen.get(id) ?? [];
            if (earlier.length === 0) seen.set(id, earlier);
            // A client keeps a schema under its root $id and finds it by that $id (getSchema): a root
            // $id must name one schema across tools. Two nested ones resolve inside their own schemas.
            // One tool's input and output: TOOLS004 says so (one module of validators). The same
            // schema twice (a YAML alias) is checked alike wherever a client compiled it.
            const other = earlier.find((e) => e.name !== name && (path.length === 0 || e.path.length === 0));
            earlier.push({ name, part, path, schema });
            if (!other || isDeepStrictEqual(other.schema, schema)) continue;
            const where = tools.locate(["tools", other.name, other.part, ...other.path, "$id"]);
            const what =
              other.path.length === 0
                ? `the ${other.part} schema of "${other.name}"`
                : `${other.path.join(".")} in the ${other.part} schema of "${other.name}"`;
            out.push(
              at(
                tools,
                ["tools", name, part, ...path, "$id"],
                "error",
                "TOOLS016",
                `${part} of "${name}": ${path.length === 0 ? "its $id" : `the $id of ${path.join(".")}`} "${written}" is also the $id of ${what} (${tools.file}:${where.line}:${where.col}), which says something else: MCP clients keep each schema they compile under its root $id and look it up by that $id (the official SDK clients' ajv does), so a client checks one tool's results against the other's schema, or fails to compile it; give each its own $id, or leave $id out`,
              ),
            );
          }
        }
      return out;
    },
  },
  {
    code: "TOOLS017",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) =>
        (["input", "output"] as const).flatMap((part) =>
          isObject(t[part])
            ? unsatisfiableRequired(t[part], []).map((p) =>
                at(
                  tools,
                  ["tools", name, part, ...p.path],
                  "error",
                  "TOOLS017",
                  `${part} of "${name}": ${p.message}${part === "input" ? "the tool could never be called" : "every result would be refused"}`,
                ),
              )
            : [],
        ),
      ),
  },
  {
    code: "TOOLS018",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) =>
        isObject(t.output)
          ? clientValidatorProblems(t.output, []).map((p) =>
              at(
                tools,
                ["tools", name, "output", ...p.path],
                "warning",
                "TOOLS018",
                `output of "${name}": ${p.message}`,
                p.key,
              ),
            )
          : [],
      ),
  },
  {
    code: "TOOLS010",
    check: ({ tools, auth, entries, catalogue }) => {
      if (!catalogue) return [];
      return entries.flatMap(([name, t]) =>
        schemes(t).flatMap((s, i) =>
          (Array.isArray(s.scopes) ? s.scopes : []).flatMap((scope, j) => {
            if (typeof scope !== "string" || catalogue.has(scope)) return [];
            const suggestion = didYouMean(scope, catalogue);
            return [
              at(
                tools,
                ["tools", name, "securitySchemes", i, "scopes", j],
                "error",
                "TOOLS010",
                `scope "${scope}" is not declared in ${auth.file}${suggestion ? ` (did you mean "${suggestion}"?)` : `; add it under "scopes"`}`,
              ),
            ];
          }),
        ),
      );
    },
  },
  {
    code: "TOOLS011",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) =>
        schemes(t).flatMap((s, i) =>
          // Only when absent or an empty list: scopes of another type are a schema error (SCHEMA003) already.
          s.type === "oauth2" && (s.scopes === undefined || (Array.isArray(s.scopes) && s.scopes.length === 0))
            ? [
                at(
                  tools,
                  ["tools", name, "securitySchemes", i],
                  "warning",
                  "TOOLS011",
                  `the oauth2 scheme of "${name}" names no scopes: any signed-in caller may call it`,
                ),
              ]
            : [],
        ),
      ),
  },
  {
    code: "TOOLS012",
    check: ({ tools, auth, entries, mode }) => {
      if (mode !== "anonymous") return [];
      return entries
        .filter(([, t]) => schemes(t).length > 0 && !schemes(t).some((s) => s.type === "noauth"))
        .map(([name]) =>
          at(
            tools,
            ["tools", name, "securitySchemes"],
            "warning",
            "TOOLS012",
            `tool "${name}" needs a signed-in caller but ${auth.file} sets mode "anonymous": it will not be listed or callable`,
          ),
        );
    },
  },
  {
    code: "AUTH011",
    check: ({ auth, catalogue }) => {
      const value = (auth.value as Record<string, unknown> | undefined)?.requiredScopes;
      const list = typeof value === "string" ? value.split(/\s+/).filter(Boolean) : Array.isArray(value) ? value : [];
      if (!catalogue) return [];
      return list
        .filter(
          (s): s is string =>
            typeof s === "string" &&
            !catalogue.has(s) &&
            s !== "openid" &&
            s !== "offline_access" &&
            // An undeclared scope with a comma is AUTH014's error (separate with spaces): one finding, not two.
            !s.includes(","),
        )
        .map((s) =>
          at(auth, ["requiredScopes"], "warning", "AUTH011", `required scope "${s}" is not in the scope catalogue`),
        );
    },
  },
  {
    code: "AUTH012",
    check: ({ auth }) => (auth.value === undefined ? [] : literalSecrets(auth, "warning")),
  },
];

/** Stage 3 — rules: the named cross-file checks. Defensive: they run even when the schema check failed. */
export function checkRules(sources: LoadedSources, compiled?: CompiledToolSchemas): Diagnostic[] {
  const toolsValue = sources.tools.value;
  const authValue = sources.auth.value;
  const toolsMap = isObject(toolsValue) && isObject(toolsValue.tools) ? toolsValue.tools : {};
  const entries = Object.entries(toolsMap).filter((e): e is [string, Record<string, unknown>] => isObject(e[1]));
  const scopes = isObject(authValue) && isObject(authValue.scopes) ? authValue.scopes : undefined;
  const ctx: RuleContext = {
    tools: sources.tools,
    auth: sources.auth,
    entries,
    catalogue: scopes ? new Set(Object.keys(scopes)) : undefined,
    mode: isObject(authValue) ? authValue.mode : undefined,
    compiled,
    typeSchemas: entries.flatMap(([tool, t]) =>
      (["input", "output"] as const)
        .filter((part) => isObject(t[part]))
        .map((part) => ({ tool, part, prepared: typeSchema(t[part], rootTypeName(toolIdentifier(tool), part)) })),
    ),
  };
  return RULES.flatMap((rule) => rule.check(ctx));
}
