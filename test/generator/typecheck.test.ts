/**
 * Type tests (in the spirit of jose's test-d/): tsc, not vitest, decides. The files under
 * test/fixtures/generator/typecheck/ pin the generated types of the shipped tools; a temporary project
 * pins what only another tools.yaml can show (a noauth-only tool, a removed tool).
 */
import { execFile } from "node:child_process";
import { readdir, readFile, rm, symlink } from "node:fs/promises";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTempProject, REPO, type TempProject } from "../helpers/temp-project.js";
import { FIXTURES, generate } from "./harness.js";

const TSC = join(REPO, "node_modules", "typescript", "bin", "tsc");

interface TscError {
  file: string;
  line: number;
  code: string;
  message: string;
}

/** Runs tsc on a project file and returns its errors (first message line each), paths relative to `cwd`. */
async function tsc(project: string, cwd: string): Promise<TscError[]> {
  const output = await promisify(execFile)(process.execPath, [TSC, "-p", project, "--pretty", "false"], {
    cwd,
    timeout: 60_000,
  }).then(
    (r) => r.stdout,
    (e: { stdout?: string; code?: number }) => {
      // tsc exits non-zero when it reports errors; anything else (not found, killed) is a real failure
      if (typeof e.stdout !== "string" || typeof e.code !== "number" || !/error TS\d+/.test(e.stdout)) throw e;
      return e.stdout;
    },
  );
  return [...output.matchAll(/^(.+?)\((\d+),\d+\): error (TS\d+): (.*)$/gm)].map((m) => ({
    file: relative(cwd, join(cwd, m[1]!)).split("\\").join("/"),
    line: Number(m[2]),
    code: m[3]!,
    message: m[4]!,
  }));
}

/** `// error TSnnnn` markers of a source file, as the errors tsc must report. */
async function markers(path: string, file: string): Promise<Omit<TscError, "message">[]> {
  const lines = (await readFile(path, "utf8")).split("\n");
  return lines.flatMap((l, i) => {
    const m = /\/\/ error (TS\d+)\s*$/.exec(l);
    return m ? [{ file, line: i + 1, code: m[1]! }] : [];
  });
}

const withoutMessage = (errors: TscError[]) => errors.map(({ message: _, ...rest }) => rest);

describe("generated types of the shipped tools", () => {
  const dir = join(FIXTURES, "typecheck");
  let errors: TscError[];
  beforeAll(async () => {
    errors = await tsc(join(dir, "tsconfig.json"), REPO);
  });

  it("handler-context.ts compiles, so every @ts-expect-error in it is a real error", () => {
    expect(errors.filter((e) => e.file.endsWith("handler-context.ts"))).toEqual([]);
  });

  it("generated/ itself compiles", () => {
    expect(errors.filter((e) => e.file.startsWith("generated/"))).toEqual([]);
  });

  it("expected-errors.ts fails exactly where its markers say, with those codes", async () => {
    const file = "test/fixtures/generator/typecheck/expected-errors.ts";
    expect(withoutMessage(errors.filter((e) => e.file === file))).toEqual(await markers(join(REPO, file), file));
    expect(errors.find((e) => e.code === "TS2345")?.message).toContain('"no.such.tool"');
    // nothing else in the program failed
    expect(errors.filter((e) => e.file !== file)).toEqual([]);
  });
});

const TOOLS_V1 = `tools:
  public.echo:
    title: Echo
    description: Echo the text back; anyone may call it.
    input:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {type: string}
    output:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        text: {type: string}
    securitySchemes:
      - type: noauth
  old.tool:
    title: Old
    description: A tool that is about to be removed.
    input: {type: object}
    securitySchemes:
      - type: noauth
`;
const TOOLS_V2 = TOOLS_V1.slice(0, TOOLS_V1.indexOf("  old.tool:"));

const ECHO_READING_AUTH = `import { defineHandler } from "../toolgate.js";

export default defineHandler("public.echo", async (input, ctx) => {
  const who = ctx.auth; // error TS2339
  return { text: \`\${input.text} \${String(who)}\` };
});
`;

/** A project of its own: the repository's src/ (without its handlers), tsconfig and package.json, node_modules linked. */
async function typeProject(tools: string): Promise<TempProject> {
  const project = await createTempProject({ tools, copy: ["src", "tsconfig.json", "package.json"] });
  await rm(join(project.root, "src", "handlers"), { recursive: true });
  await project.write("src/handlers/.keep", "");
  await symlink(join(REPO, "node_modules"), join(project.root, "node_modules"), "junction");
  // only what the handlers and generated/ reach, so unrelated work in src/ cannot interfere
  await project.write(
    "tsconfig.typetest.json",
    JSON.stringify({ extends: "./tsconfig.json", include: ["src/handlers", "generated"], exclude: [] }),
  );
  return project;
}

describe("a project with a noauth-only tool and a removed tool", () => {
  let project: TempProject;
  beforeAll(async () => {
    project = await typeProject(TOOLS_V1);
  });
  afterAll(() => project?.remove());

  it("generated stubs compile as they are", async () => {
    const result = await generate(project.root);
    expect(result.ok).toBe(true);
    expect(result.handlers).toEqual(["src/handlers/public.echo.ts", "src/handlers/old.tool.ts"]);
    expect(await tsc("tsconfig.typetest.json", project.root)).toEqual([]);
  });

  it("reading ctx.auth in a noauth tool fails (TS2339), and so does the handler of a removed tool", async () => {
    await project.write("src/handlers/public.echo.ts", ECHO_READING_AUTH);
    const result = await generate(project.root, { toolsText: TOOLS_V2 });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => `${d.file} ${d.code}`)).toEqual(["src/handlers/old.tool.ts HANDLER001"]);
    expect(await readdir(join(project.root, "src", "handlers"))).toContain("old.tool.ts");

    const errors = await tsc("tsconfig.typetest.json", project.root);
    const echo = "src/handlers/public.echo.ts";
    expect(withoutMessage(errors.filter((e) => e.file === echo))).toEqual(
      await markers(join(project.root, echo), echo),
    );
    expect(errors.find((e) => e.file === echo)?.message).toMatch(/Property 'auth' does not exist/);
    const orphan = errors.filter((e) => e.file === "src/handlers/old.tool.ts");
    expect(orphan).toHaveLength(1);
    expect(orphan[0]).toMatchObject({ code: "TS2345", line: 8 });
    expect(orphan[0]!.message).toContain('"old.tool"');
    expect(errors.filter((e) => e.file !== echo && e.file !== "src/handlers/old.tool.ts")).toEqual([]);
  });
});

// Was a bug (scripts/generator/emit/handlers.ts): generated/handlers.ts imported each handler under
// the tool's camel-cased name next to `export const handlers`, so a tool named `handlers` gave TS2440
// "Import declaration conflicts with local declaration of 'handlers'". Handler imports are now
// aliased `handler_<Ident>`, a prefix no emitter declares.
describe("a tool whose binding is a generated name", () => {
  it("tools named like the emitters' own identifiers compile", async () => {
    const names = ["handlers", "HandlerMap", "registry", "schemas", "tools", "validators", "standardSchema"];
    const project = await typeProject(
      `tools:\n${names.map((n) => `  ${n}:\n    title: T\n    description: D\n    input: {type: object}\n    securitySchemes: [{type: noauth}]\n`).join("")}`,
    );
    try {
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      expect(result.ok).toBe(true);
      expect(await tsc("tsconfig.typetest.json", project.root)).toEqual([]);
    } finally {
      await project.remove();
    }
  });
});

// Were bugs (scripts/generator/emit/types.ts): json-schema-to-typescript 16 knows no `prefixItems`, so a
// 2020-12 tuple was `never[]`; it typed a `$ref` with constraints beside it as the `$ref` alone (here
// without `b`… and a merged copy without `a`), looser than the validator, which applies both; and it
// declares `Report2GoInput` for tool report2go, where ToolTypes named `Report2goInput` (TS2552).
const TOOLS_TYPED = `tools:
  tuples:
    title: Tuples
    description: A 2020-12 tuple, closed by items false or by maxItems.
    input:
      type: object
      required: [pair, single]
      properties:
        pair: {type: array, prefixItems: [{type: string}, {type: number}], minItems: 2, items: false}
        single: {type: array, prefixItems: [{type: boolean}], minItems: 1, maxItems: 1, items: {type: string}}
    securitySchemes: [{type: noauth}]
  extended:
    title: Extended
    description: A $ref with more constraints beside it.
    input:
      type: object
      required: [x]
      $defs:
        base: {type: object, required: [a], properties: {a: {type: string}}}
      properties:
        x: {$ref: "#/$defs/base", type: object, required: [b], properties: {b: {type: number}}}
    securitySchemes: [{type: noauth}]
  report2go:
    title: Digits
    description: A letter after a digit.
    input: {type: object}
    securitySchemes: [{type: noauth}]
`;

const TYPED_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("tuples", async (input) => {
  const pair: [string, number] = input.pair;
  const single: [boolean] = input.single;
  const third = input.pair[2]; // error TS2493
  return JSON.stringify([pair, single, third]);
});
`;

const EXTENDED_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("extended", async (input) => {
  const a: string = input.x.a;
  const b: number = input.x.b;
  const wrong: string = input.x.b; // error TS2322
  return JSON.stringify([a, b, wrong]);
});
`;

describe("schemas json-schema-to-typescript once typed wrongly", () => {
  it("tuples are tuples, a $ref with constraints beside it has both, and ToolTypes names the declared types", async () => {
    const project = await typeProject(TOOLS_TYPED);
    try {
      await project.write("src/handlers/tuples.ts", TYPED_HANDLER);
      await project.write("src/handlers/extended.ts", EXTENDED_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      const expected = [
        ...(await markers(join(project.root, "src/handlers/extended.ts"), "src/handlers/extended.ts")),
        ...(await markers(join(project.root, "src/handlers/tuples.ts"), "src/handlers/tuples.ts")),
      ];
      const order = (e: Omit<TscError, "message">) => `${e.file}:${String(e.line).padStart(4, "0")}`;
      expect(withoutMessage(errors).sort((x, y) => order(x).localeCompare(order(y)))).toEqual(expected);
    } finally {
      await project.remove();
    }
  });
});

// Was a bug (scripts/generator/type-schema.ts): a subschema that constrains no type (annotations only,
// only a `default`, only `not`…) accepts any JSON value in the validator, but json-schema-to-typescript
// typed it `{[k: string]: unknown}`, or from its default (`{default: 3}` was `number`): a handler
// returning `{payload: "a string"}` failed tsc. Such a subschema is now `unknown`; typed ones stay exact.
const TOOLS_TYPELESS = `tools:
  echo:
    title: Echo
    description: Subschemas without a type.
    input:
      type: object
      $defs:
        anything: {description: Whatever the caller sends}
      properties:
        payload: {description: Any JSON value}
        count: {default: 3}
        flag: {default: true}
        label: {default: x}
        notString: {not: {type: string}}
        noted: {$comment: c, examples: [1], deprecated: true, readOnly: true, title: T}
        nested: {$defs: {x: {type: string}}}
        viaDefs: {$ref: "#/$defs/anything"}
        list: {type: array, items: {description: any item}}
        typed: {type: integer, default: 3}
    output:
      type: object
      required: [payload, typed]
      properties:
        payload: {description: Any JSON value}
        typed: {type: string, default: x}
    securitySchemes: [{type: noauth}]
`;

const TYPELESS_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("echo", async (input) => {
  const values: unknown[] = [input.payload, input.count, input.flag, input.label, input.notString];
  values.push(input.noted, input.nested, input.viaDefs, ...(input.list ?? []));
  const typed: number | undefined = input.typed;
  const wrong: string | undefined = input.typed; // error TS2322
  return { payload: values.length > 0 ? "a string" : 42, typed: String(typed ?? wrong) };
});
export const other = defineHandler("echo", async () => ({ payload: null, typed: "x" }));
export const badTyped = defineHandler("echo", async () => ({ payload: 1, typed: 1 })); // error TS2322
`;

describe("subschemas that constrain no type", () => {
  it("are unknown in the types, as in the validators (a default does not decide); typed ones stay exact", async () => {
    const project = await typeProject(TOOLS_TYPELESS);
    try {
      await project.write("src/handlers/echo.ts", TYPELESS_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/echo.ts"), "src/handlers/echo.ts"),
      );
      const types = await project.read("generated/types.ts");
      for (const key of ["payload", "notString", "noted", "nested"])
        expect(types).toMatch(new RegExp(`\\n {2}${key}\\?: unknown\\n`));
      // with a default, present: the input validator fills it in (see "defaults the input validator fills in")
      for (const key of ["count", "flag", "label"]) expect(types).toMatch(new RegExp(`\\n {2}${key}: unknown\\n`));
      expect(types).toContain("export type EchoInputAnything = unknown\n");
    } finally {
      await project.remove();
    }
  });
});

// Was a bug (scripts/generator/type-schema.ts): the input validators fill each default in (ajv
// `useDefaults`), yet a defaulted argument was typed optional (`limit?: number`), so handlers repeated
// the default (`input.limit ?? 10`). It is now present in the input type wherever ajv always fills it
// in: `properties` of the arguments, of a nested object (when that object is there), of array items,
// under allOf and through a $ref. Not under anyOf/oneOf (a default directly there does not compile in
// strict mode, TOOLS004; whether one in a $ref'd subschema that ajv compiles apart is filled in depends
// on how ajv tries the branches), and not in the output type: a handler may leave a defaulted result
// property out.
const TOOLS_DEFAULTS = `tools:
  defaults:
    title: Defaults
    description: Defaulted arguments, where the validator always fills them in and where not.
    input:
      type: object
      additionalProperties: false
      required: [query]
      $defs:
        page: {type: object, properties: {size: {type: integer, default: 20}, cursor: {type: string}}}
        tree:
          type: object
          properties:
            depth: {type: integer, default: 1}
            child: {$ref: "#/$defs/tree"}
      properties:
        query: {type: string}
        limit: {type: integer, default: 10}
        mode: {enum: [fast, full], default: fast}
        nothing: {type: [string, "null"], default: null}
        options:
          type: object
          properties:
            verbose: {type: boolean, default: false}
            note: {type: string}
        page: {$ref: "#/$defs/page"}
        list: {type: array, items: {type: object, properties: {weight: {type: number, default: 1}}}}
        both: {allOf: [{type: object, properties: {a: {type: string, default: x}}}]}
        choice:
          anyOf:
            - $ref: "#/$defs/tree"
            - {type: string}
    output:
      type: object
      properties:
        count: {type: integer, default: 0}
    securitySchemes: [{type: noauth}]
`;

const DEFAULTS_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("defaults", async (input) => {
  const limit: number = input.limit;
  const mode: "fast" | "full" = input.mode;
  const nothing: string | null = input.nothing;
  const verbose: boolean = input.options ? input.options.verbose : false;
  const size: number = input.page ? input.page.size : 0;
  const weights: number[] = (input.list ?? []).map((item) => item.weight);
  const a: string = input.both ? input.both.a : "";
  const note: string = input.options ? input.options.note : ""; // error TS2322
  const options: object = input.options; // error TS2322
  const tree = input.choice as Exclude<typeof input.choice, string | undefined>;
  const depth: number = tree.depth; // error TS2322
  return { count: [limit, mode, nothing, verbose, size, weights, a, note, options, depth].length };
});
export const noCount = defineHandler("defaults", async () => ({}));
export const badCount = defineHandler("defaults", async () => ({ count: "1" })); // error TS2322
`;

describe("defaults the input validator fills in", () => {
  it("a defaulted argument is present in the input type where ajv always fills it in, optional elsewhere", async () => {
    const project = await typeProject(TOOLS_DEFAULTS);
    try {
      await project.write("src/handlers/defaults.ts", DEFAULTS_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/defaults.ts"), "src/handlers/defaults.ts"),
      );
      const types = await project.read("generated/types.ts");
      expect(types).toMatch(/\n {2}limit: number\n/);
      expect(types).toMatch(/\n {2}depth\?: number\n/); // under anyOf
      expect(types).toMatch(/\n {2}count\?: number\n/); // output
    } finally {
      await project.remove();
    }
  });
});

// Were bugs: a tool without an output schema could return only text or toolResult(...) as typed
// (`{ bye: "…" }` was TS2345), while the runtime sent a plain `{ content: [...] }` as JSON text; and
// literal types in a handler's result were widened while TypeScript inferred the tool name
// (`type: "text"` became string: TS2322), for an enum of an output schema too. The types accept what
// the runtime sends as it is (src/tools/call-tool.ts), and nothing else.
const TOOLS_RESULTS = `tools:
  greet.bye:
    title: Bye
    description: Says goodbye; no output schema.
    input: {type: object}
    securitySchemes: [{type: noauth}]
  status.get:
    title: Status
    description: An enum in its output schema.
    input: {type: object}
    output:
      type: object
      required: [status]
      properties:
        status: {enum: [ok, failing]}
    securitySchemes: [{type: noauth}]
`;

const BYE_HANDLER = `import { defineHandler, toolResult } from "../toolgate.js";

export default defineHandler("greet.bye", async () => "Bye!");
export const blocks = defineHandler("greet.bye", async () => ({ content: [{ type: "text", text: "Bye!" }] }));
export const marked = defineHandler("greet.bye", () => toolResult({ content: [{ type: "text", text: "Bye!" }] }));
export const rich = defineHandler("greet.bye", () => ({
  content: [{ type: "image", data: "AAAA", mimeType: "image/png" }],
  isError: false,
}));
export const object = defineHandler("greet.bye", async () => ({ bye: "see you", loud: true }));
export const textField = defineHandler("greet.bye", async () => ({ title: "note", content: "no blocks" })); // error TS2322
export const badBlock = defineHandler("greet.bye", async () => ({ content: [{ type: "text", text: 5 }] })); // error TS2322
export const number = defineHandler("greet.bye", async () => 42); // error TS2322
export const list = defineHandler("greet.bye", async () => ["a"]); // error TS2322
export const nothing = defineHandler("greet.bye", async () => {}); // error TS2345
`;

const STATUS_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("status.get", async () => ({ status: "ok" }));
export const other = defineHandler("status.get", async () => ({ status: "fine" })); // error TS2322
`;

describe("what a handler returns", () => {
  it("without an output schema: text, a CallToolResult (marked or plain) or a JSON object; literals stay literal", async () => {
    const project = await typeProject(TOOLS_RESULTS);
    try {
      await project.write("src/handlers/greet.bye.ts", BYE_HANDLER);
      await project.write("src/handlers/status.get.ts", STATUS_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      const expected = [
        ...(await markers(join(project.root, "src/handlers/greet.bye.ts"), "src/handlers/greet.bye.ts")),
        ...(await markers(join(project.root, "src/handlers/status.get.ts"), "src/handlers/status.get.ts")),
      ];
      expect(withoutMessage(errors)).toEqual(expected);
    } finally {
      await project.remove();
    }
  });
});

// Was a bug (scripts/generator/emit/types.ts): json-schema-to-typescript turned an array with
// `maxItems` ≤ 20 into a union of tuples (`[] | [string] | … `, 21 of them; for rows of an object type,
// 210 copies of the row) and one with `minItems` ≥ 1 into `[string, ...string[]]`, so a handler
// returning a `string[]` failed tsc. Such arrays are `T[]` now (the validators check the bounds);
// prefixItems tuples stay tuples (above).
const TOOLS_BOUNDED = `tools:
  toplist:
    title: Top list
    description: Arrays with size bounds.
    input:
      type: object
      required: [rows]
      properties:
        rows:
          type: array
          maxItems: 20
          items: {type: object, additionalProperties: false, properties: {a: {type: string}, b: {type: integer}}}
    output:
      type: object
      required: [top, tags]
      additionalProperties: false
      properties:
        top: {type: array, maxItems: 10, items: {type: string}}
        tags: {type: array, minItems: 1, items: {type: string}}
        any: {type: array, minItems: 2}
    securitySchemes: [{type: noauth}]
`;

const BOUNDED_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("toplist", async (input) => {
  const names: string[] = input.rows.map((row) => row.a ?? "");
  const counts: number[] = input.rows.map((row) => row.b ?? 0);
  return { top: names.slice(0, 10), tags: names, any: counts };
});
export const wrong = defineHandler("toplist", async () => ({ top: [1], tags: [] })); // error TS2322
`;

describe("arrays with minItems or maxItems", () => {
  it("are plain T[] in the types: a handler returning a string[] compiles", async () => {
    const project = await typeProject(TOOLS_BOUNDED);
    try {
      await project.write("src/handlers/toplist.ts", BOUNDED_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/toplist.ts"), "src/handlers/toplist.ts"),
      );
      const types = await project.read("generated/types.ts");
      expect(types).toMatch(/\n {2}top: string\[\]\n/);
      expect(types).toMatch(/\n {2}tags: string\[\]\n/);
      expect(types).toMatch(/\n {2}any\?: unknown\[\]\n/);
      expect(types).not.toContain("[]|[");
      expect(types.split("a?: string").length - 1).toBe(1);
    } finally {
      await project.remove();
    }
  });
});

// Were bugs: a property named after a member of Object.prototype passed generate, then tsc failed in
// generated/tools-list.ts (TS2322: the untyped array literal merged the tools' schemas into one element
// type, where `constructor` met the inherited member); `hasOwnProperty` stopped the types emitter
// ("schema.hasOwnProperty is not a function", TOOLS014, json-schema-to-typescript's linker); and the
// validators read the inherited member of an object without such a property ("must be string"). The
// tools list is typed (ListedTool), the types emitter renames `hasOwnProperty` while it compiles, and
// the validators look at own properties only (ajv ownProperties).
const PROTOTYPE_NAMES = ["constructor", "toString", "valueOf", "isPrototypeOf", "hasOwnProperty"];
const TOOLS_PROTOTYPE_NAMES = `tools:
  proto:
    title: Prototype names
    description: Properties named after members of Object.prototype.
    input:
      type: object
      additionalProperties: false
      required: [constructor, hasOwnProperty]
      $defs:
        hasOwnProperty: {type: object, required: [hasOwnProperty], properties: {hasOwnProperty: {type: integer}}}
      properties:
        constructor: {type: string}
        toString: {type: boolean}
        valueOf: {type: integer}
        isPrototypeOf: {type: string}
        hasOwnProperty: {type: string, enum: [hasOwnProperty, other]}
        nested: {$ref: "#/$defs/hasOwnProperty"}
    output:
      type: object
      additionalProperties: false
      required: [${PROTOTYPE_NAMES.join(", ")}]
      properties:
${PROTOTYPE_NAMES.map((n, i) => `        ${n}: {type: ${i % 2 === 0 ? "string" : "number"}}`).join("\n")}
    securitySchemes: [{type: noauth}]
  plain:
    title: Plain
    description: An ordinary tool listed beside it.
    input: {type: object, properties: {a: {type: string}}}
    output: {type: object, properties: {b: {type: string}}}
    securitySchemes: [{type: noauth}]
`;

const PROTOTYPE_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("proto", async (input) => {
  const name: string = input.constructor;
  const flag: boolean | undefined = input.toString;
  const count: number | undefined = input.valueOf;
  const own: "hasOwnProperty" | "other" = input.hasOwnProperty;
  const deep: number | undefined = input.nested?.hasOwnProperty;
  const wrong: number = input.isPrototypeOf; // error TS2322
  return {
    constructor: name,
    toString: Number(flag),
    valueOf: String(count ?? deep ?? wrong),
    isPrototypeOf: 1,
    hasOwnProperty: own,
  };
});
export const missing = defineHandler("proto", async () => ({ constructor: "x" })); // error TS2322
`;

describe("properties named after members of Object.prototype", () => {
  it("generate, type-check in generated/ and in a handler, and validate as own properties", async () => {
    const project = await typeProject(TOOLS_PROTOTYPE_NAMES);
    try {
      await project.write("src/handlers/proto.ts", PROTOTYPE_HANDLER);
      await project.write(
        "src/handlers/plain.ts",
        'import { defineHandler } from "../toolgate.js";\n\nexport default defineHandler("plain", async (input) => ({ b: input.a }));\n',
      );
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/proto.ts"), "src/handlers/proto.ts"),
      );
      const types = await project.read("generated/types.ts");
      expect(types).toMatch(/\n {2}hasOwnProperty: \("hasOwnProperty" \| "other"\)\n/);
      expect(types).toMatch(/\n {2}nested\?: ProtoInputHasOwnProperty\n/);
      expect(types).not.toContain("toolgateHasOwnProperty");
      const validators = await import(pathToFileURL(join(project.root, "generated", "validators", "Proto.ts")).href);
      const own = { constructor: "x", hasOwnProperty: "other" };
      expect([validators.input({ ...own }), validators.input({ constructor: "x" }), validators.input({})]).toEqual([
        true,
        false,
        false,
      ]);
      expect(validators.input({ ...own, toString: "yes" })).toBe(false);
      expect(validators.input({ ...own, nested: {} })).toBe(false);
    } finally {
      await project.remove();
    }
  });
});

// Was a bug (scripts/generator/type-schema.ts): a required output property with a default was required
// in the output type, although the output validator fills the default in after the handler returns,
// so a result may leave it out (README). It is optional in the output type now, where the validator
// always fills it in.
const TOOLS_OUTPUT_DEFAULTS = `tools:
  outdef:
    title: Output default
    description: A required output property with a default.
    input: {type: object}
    output:
      type: object
      additionalProperties: false
      required: [status, count, detail]
      properties:
        status: {enum: [ok, warn], default: ok}
        count: {type: integer}
        detail:
          type: object
          required: [level, note]
          properties:
            level: {type: integer, default: 0}
            note: {type: string}
    securitySchemes: [{type: noauth}]
`;

const OUTPUT_DEFAULTS_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("outdef", async () => ({ count: 1, detail: { note: "n" } }));
export const full = defineHandler("outdef", async () => ({ status: "warn", count: 1, detail: { level: 2, note: "n" } }));
export const noCount = defineHandler("outdef", async () => ({ detail: { note: "n" } })); // error TS2322
export const noNote = defineHandler("outdef", async () => ({ count: 1, detail: { level: 1 } })); // error TS2322
export const badStatus = defineHandler("outdef", async () => ({ status: "bad", count: 1, detail: { note: "n" } })); // error TS2322
`;

describe("defaults the output validator fills in", () => {
  it("a required result property with a default may be left out by the handler", async () => {
    const project = await typeProject(TOOLS_OUTPUT_DEFAULTS);
    try {
      await project.write("src/handlers/outdef.ts", OUTPUT_DEFAULTS_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/outdef.ts"), "src/handlers/outdef.ts"),
      );
      const types = await project.read("generated/types.ts");
      expect(types).toMatch(/\n {2}status\?: \("ok" \| "warn"\)\n {2}count: number\n/);
    } finally {
      await project.remove();
    }
  });
});

// Was a bug (scripts/generator/rules.ts TOOL_AJV_OPTIONS): `type: [integer, string]` was refused with
// ajv's "use allowUnionTypes to allow union type keyword", an option tools.yaml cannot set. It is
// accepted: the type is the union, and the validators apply each keyword to its own type.
const TOOLS_UNION_TYPES = `tools:
  lookup:
    title: Lookup
    description: An id that is a number or a name.
    input:
      type: object
      additionalProperties: false
      required: [id]
      properties:
        id: {type: [integer, string], minimum: 1, minLength: 2}
        tags: {type: [array, "null"], items: {type: string}}
    output:
      type: object
      required: [id]
      properties:
        id: {type: [integer, string]}
    securitySchemes: [{type: noauth}]
`;

const UNION_HANDLER = `import { defineHandler } from "../toolgate.js";

export default defineHandler("lookup", async (input) => {
  const id: number | string = input.id;
  const tags: string[] | null | undefined = input.tags;
  const wrong: number = input.id; // error TS2322
  return { id: typeof id === "number" ? id + wrong : \`\${id}\${tags?.length ?? 0}\` };
});
export const bad = defineHandler("lookup", async () => ({ id: true })); // error TS2322
`;

describe("union types", () => {
  it("type: [integer, string] generates, is number | string, and each keyword checks its own type", async () => {
    const project = await typeProject(TOOLS_UNION_TYPES);
    try {
      await project.write("src/handlers/lookup.ts", UNION_HANDLER);
      const result = await generate(project.root);
      expect(result.diagnostics).toEqual([]);
      const errors = await tsc("tsconfig.typetest.json", project.root);
      expect(withoutMessage(errors)).toEqual(
        await markers(join(project.root, "src/handlers/lookup.ts"), "src/handlers/lookup.ts"),
      );
      const validators = await import(pathToFileURL(join(project.root, "generated", "validators", "Lookup.ts")).href);
      const ids = [1, "ab", 0, "a", 1.5, true, null];
      expect(ids.map((id) => validators.input({ id }))).toEqual([true, true, false, false, false, false, false]);
      expect([["x"], null, [1]].map((tags) => validators.input({ id: 1, tags }))).toEqual([true, true, false]);
      expect([{ id: 3 }, { id: "x" }, { id: false }].map((r) => validators.output(r))).toEqual([true, true, false]);
    } finally {
      await project.remove();
    }
  });
});
