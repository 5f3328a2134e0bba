import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { type Diagnostic, didYouMean, type Severity } from "../../src/config/diagnostics.js";
import type { YamlSource } from "../../src/config/yaml-source.js";
import { TOOL_NAME, toolIdentifier } from "./identifiers.js";
import type { LoadedSources } from "./load.js";

/** Options of the ajv that compiles tool schemas, at generate time and in the emitted validators alike. */
export const TOOL_AJV_OPTIONS = { strict: true, allErrors: true, useDefaults: true } as const;

interface RuleContext {
  tools: YamlSource;
  auth: YamlSource;
  /** Tool entries that are mappings (whatever else is wrong with them). */
  entries: [string, Record<string, unknown>][];
  catalogue: Set<string> | undefined;
  mode: unknown;
}

/** A named cross-file rule: a stable code, one sentence saying what it checks, and the check. */
export interface Rule {
  code: string;
  title: string;
  check(ctx: RuleContext): Diagnostic[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function at(
  source: YamlSource,
  path: (string | number)[],
  severity: Severity,
  code: string,
  message: string,
  key = false,
) {
  return { file: source.file, ...source.locate(path, { key }), severity, code, message };
}

function schemes(tool: Record<string, unknown>): Record<string, unknown>[] {
  return Array.isArray(tool.securitySchemes) ? tool.securitySchemes.filter(isObject) : [];
}

function schemaCompileError(schema: unknown): { message: string; path: (string | number)[] } | undefined {
  const ajv = new Ajv2020({ ...TOOL_AJV_OPTIONS });
  addFormats.default(ajv);
  try {
    ajv.compile(schema as object);
    return undefined;
  } catch (error) {
    const message = (error as Error).message.split("\n")[0] ?? String(error);
    const keyword = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
    const format = /unknown format "([^"]+)" ignored in schema at path "#([^"]*)"/.exec(message);
    if (format) {
      const path = (format[2] ?? "").split("/").filter(Boolean);
      return {
        message: `unknown format "${format[1]}" (ajv strict mode; known formats come from ajv-formats)`,
        path: [...path, "format"],
      };
    }
    if (keyword) {
      const path = findKey(schema, keyword) ?? [];
      const suggestion = didYouMean(keyword, KNOWN_KEYWORDS);
      return {
        message: `unknown JSON Schema keyword "${keyword}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`,
        path,
      };
    }
    return {
      message: `the schema does not compile in ajv strict mode: ${message.replace(/^strict mode: /, "")}`,
      path: [],
    };
  }
}

const KNOWN_KEYWORDS = [
  "type",
  "properties",
  "required",
  "additionalProperties",
  "items",
  "prefixItems",
  "enum",
  "const",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "minLength",
  "maxLength",
  "pattern",
  "format",
  "minItems",
  "maxItems",
  "uniqueItems",
  "description",
  "title",
  "default",
  "examples",
  "oneOf",
  "anyOf",
  "allOf",
  "not",
  "$defs",
  "$ref",
  "patternProperties",
  "propertyNames",
  "minProperties",
  "maxProperties",
  "dependentRequired",
  "contains",
  "if",
  "then",
  "else",
  "multipleOf",
  "deprecated",
  "readOnly",
  "writeOnly",
];

function findKey(node: unknown, key: string, path: (string | number)[] = []): (string | number)[] | undefined {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const found = findKey(node[i], key, [...path, i]);
      if (found) return found;
    }
  } else if (isObject(node)) {
    if (Object.hasOwn(node, key)) return [...path, key];
    for (const [k, v] of Object.entries(node)) {
      const found = findKey(v, key, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

export const RULES: Rule[] = [
  {
    code: "TOOLS001",
    title: "A tool name follows the MCP rule: 1–128 characters of A-Z a-z 0-9 _ . -",
    check: ({ tools, entries }) =>
      entries
        .filter(([name]) => !TOOL_NAME.test(name))
        .map(([name]) =>
          at(
            tools,
            ["tools", name],
            "error",
            "TOOLS001",
            `tool name "${name}" breaks the MCP rule: use 1-128 characters of A-Z a-z 0-9 _ . -`,
            true,
          ),
        ),
  },
  {
    code: "TOOLS002",
    title: "A tool's input schema has `type: object` at its root",
    check: ({ tools, entries }) =>
      entries
        .filter(([, t]) => isObject(t.input) && t.input.type !== "object")
        .map(([name, t]) =>
          at(
            tools,
            ["tools", name, "input", ...((t.input as Record<string, unknown>).type === undefined ? [] : ["type"])],
            "error",
            "TOOLS002",
            `input of "${name}" must have "type: object" at its root (MCP tool arguments are an object)`,
          ),
        ),
  },
  {
    code: "TOOLS003",
    title: "A tool's output schema has `type: object` at its root",
    check: ({ tools, entries }) =>
      entries
        .filter(([, t]) => isObject(t.output) && t.output.type !== "object")
        .map(([name, t]) =>
          at(
            tools,
            ["tools", name, "output", ...((t.output as Record<string, unknown>).type === undefined ? [] : ["type"])],
            "error",
            "TOOLS003",
            `output of "${name}" must have "type: object" at its root (structuredContent is an object)`,
          ),
        ),
  },
  {
    code: "TOOLS004",
    title: "Every tool schema compiles in ajv 2020 strict mode",
    check: ({ tools, entries }) => {
      const out: Diagnostic[] = [];
      for (const [name, t] of entries) {
        for (const part of ["input", "output"] as const) {
          if (!isObject(t[part])) continue;
          const problem = schemaCompileError(t[part]);
          if (problem)
            out.push(
              at(
                tools,
                ["tools", name, part, ...problem.path],
                "error",
                "TOOLS004",
                `${part} of "${name}": ${problem.message}`,
                problem.path.length > 0,
              ),
            );
        }
      }
      return out;
    },
  },
  {
    code: "TOOLS005",
    title: "No two tools share a generated identifier",
    check: ({ tools, entries }) => {
      const seen = new Map<string, string>();
      const out: Diagnostic[] = [];
      for (const [name] of entries) {
        const ident = toolIdentifier(name);
        const first = seen.get(ident);
        if (first !== undefined)
          out.push(
            at(
              tools,
              ["tools", name],
              "error",
              "TOOLS005",
              `tool "${name}" and tool "${first}" both generate the identifier ${ident}: rename one`,
              true,
            ),
          );
        else seen.set(ident, name);
      }
      return out;
    },
  },
  {
    code: "TOOLS006",
    title: "A noauth scheme carries no scopes",
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
    title: "Each scheme type appears at most once per tool",
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
              `tool "${name}" lists the ${String(s.type)} scheme twice; merge the scopes into one`,
            ),
          ];
        });
      }),
  },
  {
    code: "TOOLS010",
    title: "Every scope a tool requires is declared in auth.yaml's scope catalogue",
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
    title: "An oauth2 scheme names the scopes it needs (warning)",
    check: ({ tools, entries }) =>
      entries.flatMap(([name, t]) =>
        schemes(t).flatMap((s, i) =>
          s.type === "oauth2" && (!Array.isArray(s.scopes) || s.scopes.length === 0)
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
    title: "Every tool can be called in the configured auth mode (warning)",
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
    code: "AUTH001",
    title: "requiredScopes are declared in the scope catalogue (warning)",
    check: ({ auth, catalogue }) => {
      const value = (auth.value as Record<string, unknown> | undefined)?.requiredScopes;
      const list = typeof value === "string" ? value.split(/\s+/).filter(Boolean) : Array.isArray(value) ? value : [];
      if (!catalogue) return [];
      return list
        .filter(
          (s): s is string => typeof s === "string" && !catalogue.has(s) && s !== "openid" && s !== "offline_access",
        )
        .map((s) =>
          at(auth, ["requiredScopes"], "warning", "AUTH001", `required scope "${s}" is not in the scope catalogue`),
        );
    },
  },
];

/** Stage 3 — rules: the named cross-file checks. Defensive: they run even when the schema check failed. */
export function checkRules(sources: LoadedSources): Diagnostic[] {
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
  };
  return RULES.flatMap((rule) => rule.check(ctx));
}
